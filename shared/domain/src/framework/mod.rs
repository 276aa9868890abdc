//! Indicator frameworks as versioned data.
//!
//! A framework file (TOML, format in `docs/frameworks.md`) lists a set's general-information
//! fields, groups and indicators with their points, rule kind and parameters, and variables.
//! [`load`] turns a file into a checked [`Framework`] or a [`FrameworkError`] that names the
//! file, the code and every problem; [`catalog`] holds the built-in frameworks and any that
//! operators add from a directory. Rules are interpreted by `dti-engine`; nothing here scores.

pub mod catalog;
pub mod load;
pub mod model;

pub use catalog::{content_hash, is_builtin, Added, FrameworkCatalog};
pub use load::{FrameworkError, FrameworkProblem};
pub use model::{
    Activities, Combine, FlagShare, Fraction, Framework, GeneralInfoField, GeneralInfoType, Group,
    Growth, Indicator, LevelKind, Levels, OneVariable, PortalPosts, PortalTech, PostsBand,
    RequiredType, Rule, SplitParts, ThresholdFraction, Tier, Tiers, UnitKind, Variable,
    VariableType, RULE_KINDS,
};
