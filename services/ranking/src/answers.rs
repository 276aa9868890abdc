//! What a ranking read answers — a page of a set, or one member's place in it — whether it is
//! read from the sorted sets in Redis ([`crate::sorted_sets`]) or from the cohort's mirror in
//! memory ([`crate::mirror`]). A leaf: it uses neither.

use dti_engine::Points;

/// One page of a ranking, best first (the default: an empty page of no version).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// Members of the set.
    pub members: u64,
    /// The page: unit id and score.
    pub entries: Vec<(String, Points)>,
    /// Members scoring strictly above the page's first entry.
    pub above_first: u64,
    /// The version the sets reflect; none when flushed.
    pub version: Option<u64>,
}

/// One member's place in a set (the default: absent from an empty set of no version).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    /// Members of the set.
    pub members: u64,
    /// Its score, none when it is not in the set.
    pub score: Option<Points>,
    /// Members scoring strictly above it.
    pub above: u64,
    /// The version the sets reflect; none when flushed.
    pub version: Option<u64>,
}
