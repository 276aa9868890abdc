//! The frameworks the platform lists (`ListFrameworks`) as a reader with its own catalogue sees
//! them: which of those operators stored it does not hold with the same content. `dtictl` and
//! the results site both load such frameworks before they read a round scored with one.

use dti_domain::FrameworkCatalog;

use crate::dti::submission::v1::{FrameworkOrigin, KnownFramework};

impl KnownFramework {
    /// Whether operators stored this framework on the platform and `local` does not hold it
    /// with the same content (an id new to `local`, or other content under a known one).
    pub fn is_stored_beyond(&self, local: &FrameworkCatalog) -> bool {
        self.origin() == FrameworkOrigin::Stored
            && !local.holds(&self.framework_id, &self.content_hash)
    }
}

/// The frameworks of `listed` (read with their files) that are stored beyond `local`, as
/// (id, file); those listed without a file are left out.
pub fn stored_files_beyond(
    local: &FrameworkCatalog,
    listed: Vec<KnownFramework>,
) -> Vec<(String, String)> {
    listed
        .into_iter()
        .filter(|known| known.is_stored_beyond(local) && !known.document_toml.is_empty())
        .map(|known| (known.framework_id, known.document_toml))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(id: &str, origin: FrameworkOrigin, hash: &str, file: &str) -> KnownFramework {
        KnownFramework {
            framework_id: id.into(),
            origin: origin as i32,
            content_hash: hash.into(),
            document_toml: file.into(),
            ..KnownFramework::default()
        }
    }

    #[test]
    fn only_stored_frameworks_with_other_content_and_a_file_are_beyond_the_catalogue() {
        let local = FrameworkCatalog::builtin().expect("frameworks");
        let district = "hcm-2023-district";
        let held = local
            .hash_of(&dti_domain::FrameworkId::parse(district).expect("id"))
            .expect("the district framework");
        let listed = vec![
            known(district, FrameworkOrigin::BuiltIn, "other", "x"),
            known(district, FrameworkOrigin::Stored, &held, "same content"),
            known(district, FrameworkOrigin::Stored, "other", "changed"),
            known("hcm-2025-district", FrameworkOrigin::Stored, "new", "new"),
            known("hcm-2026-district", FrameworkOrigin::Stored, "new", ""),
        ];
        assert!(!listed[0].is_stored_beyond(&local), "built in");
        assert!(
            !listed[1].is_stored_beyond(&local),
            "held with that content"
        );
        assert!(listed[2].is_stored_beyond(&local));
        assert!(listed[4].is_stored_beyond(&local));
        assert_eq!(
            stored_files_beyond(&local, listed),
            vec![
                (district.to_owned(), "changed".to_owned()),
                ("hcm-2025-district".to_owned(), "new".to_owned()),
            ]
        );
    }
}
