//! What the backends' schema migrations share: a migration's description and the refusal of a
//! database written by a newer release.
//!
//! Each backend keeps its migrations under `central/migrations/<backend>/`, numbered from 1
//! without gaps and recorded in a `schema_migrations` table (version, name, time applied); the
//! two lists change together, table for table.

use crate::store::StoreError;

/// One schema change.
pub(crate) struct Migration {
    /// Its version: 1, 2, ... without gaps.
    pub(crate) version: i64,
    /// A short name, recorded with the version.
    pub(crate) name: &'static str,
    /// The SQL (no transaction statements: the runner wraps it in one).
    pub(crate) sql: &'static str,
}

/// The newest version of a list of migrations (0 for none).
pub(crate) fn latest_version(migrations: &[Migration]) -> i64 {
    migrations.last().map_or(0, |m| m.version)
}

/// Refuses a database whose schema version is newer than the newest this build knows: a newer
/// release wrote it, and this build could write what that release does not expect.
pub(crate) fn refuse_newer(current: i64, latest: i64) -> Result<(), StoreError> {
    if current > latest {
        Err(StoreError::Database(format!(
            "the database has schema version {current}, newer than the newest this build \
             knows ({latest}): run a newer release"
        )))
    } else {
        Ok(())
    }
}

/// Checks a list of migrations: consecutive versions from 1, no transaction statements.
#[cfg(test)]
pub(crate) fn check_list(migrations: &[Migration]) {
    for (i, m) in migrations.iter().enumerate() {
        assert_eq!(usize::try_from(m.version).ok(), Some(i + 1), "{}", m.name);
        let upper = m.sql.to_ascii_uppercase();
        assert!(!upper.contains("BEGIN TRANSACTION"), "{}", m.name);
        assert!(!upper.contains("COMMIT"), "{}", m.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_version_is_refused_and_names_both_versions() {
        assert!(refuse_newer(2, 2).is_ok());
        assert!(refuse_newer(0, 2).is_ok());
        match refuse_newer(3, 2) {
            Err(StoreError::Database(message)) => {
                assert!(message.contains("version 3"), "{message}");
                assert!(message.contains("(2)"), "{message}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}
