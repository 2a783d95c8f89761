//! The per-kiosk secret: 32 random bytes in a file of the data directory (mode 0600), made once
//! on first start. It keys the hash that stands for a person wherever the kiosk must tell people
//! apart without holding their ID number ([`KioskSecret::person_key`]): the journal's attempts.
//!
//! The file holds the secret as 64 lowercase hex characters and a newline. It is created
//! atomically: written and synced under a temporary name, then linked to its final name, which
//! fails if another process got there first (that one's secret is then read). A file with looser
//! permissions than 0600 is tightened when read. `Debug` never shows the secret.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use protocol::IdNumber;
use protocol::hash::hmac_sm3;

/// The secret's length in bytes.
pub const SECRET_LEN: usize = 32;

/// The kiosk's own secret key.
#[derive(Clone)]
pub struct KioskSecret([u8; SECRET_LEN]);

impl fmt::Debug for KioskSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KioskSecret(..)")
    }
}

impl KioskSecret {
    /// A secret from its bytes (tests, and tools that restore a kiosk from a backup).
    pub const fn from_bytes(bytes: [u8; SECRET_LEN]) -> Self {
        Self(bytes)
    }

    /// Reads the secret at `path`, or makes a new random one there (mode 0600) when there is
    /// no file.
    ///
    /// # Errors
    /// I/O errors; `InvalidData` when the file does not hold 64 hex characters; `Other` when
    /// the system has no randomness.
    pub fn load_or_create(path: &Path) -> io::Result<KioskSecret> {
        match Self::load(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            other => return other,
        }
        let mut bytes = [0u8; SECRET_LEN];
        getrandom::fill(&mut bytes).map_err(|e| io::Error::other(format!("no randomness: {e}")))?;
        match Self::create(path, &bytes) {
            Ok(()) => Ok(Self(bytes)),
            // Another process created it between our read and our link: use theirs.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Self::load(path),
            Err(e) => Err(e),
        }
    }

    /// The keyed hash standing for a person: lowercase hex of HMAC-SM3 of the ID number under
    /// this secret (64 characters).
    pub fn person_key(&self, id: &IdNumber) -> String {
        hex::encode(hmac_sm3(&self.0, id.as_str().as_bytes()))
    }

    fn load(path: &Path) -> io::Result<KioskSecret> {
        let text = fs::read_to_string(path)?;
        let mut bytes = [0u8; SECRET_LEN];
        hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} does not hold a kiosk secret ({} hex characters)",
                    path.display(),
                    SECRET_LEN * 2
                ),
            )
        })?;
        let mode = fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format_args!("{:o}", mode & 0o777),
                "the kiosk secret was readable by others; setting its mode to 0600"
            );
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
        }
        Ok(Self(bytes))
    }

    /// Writes `bytes` to `path` atomically; `AlreadyExists` if the file exists.
    fn create(path: &Path, bytes: &[u8; SECRET_LEN]) -> io::Result<()> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&dir)?;
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix)
            .map_err(|e| io::Error::other(format!("no randomness: {e}")))?;
        let file_name = path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
        let mut temp_name = file_name.to_os_string();
        temp_name.push(format!(".{}.tmp", hex::encode(suffix)));
        let temp = dir.join(temp_name);
        let result = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temp)?;
            file.write_all(format!("{}\n", hex::encode(bytes)).as_bytes())?;
            file.sync_all()?;
            drop(file);
            fs::hard_link(&temp, path)?;
            File::open(&dir)?.sync_all()
        })();
        // The temporary name goes whether or not the link was made.
        let _ = fs::remove_file(&temp);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE_ID: &str = "310101194912310013";

    #[test]
    fn creates_a_0600_file_once_and_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("kiosk.secret");
        let first = KioskSecret::load_or_create(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.len(), 65);
        assert!(text.ends_with('\n'));
        let again = KioskSecret::load_or_create(&path).unwrap();
        assert_eq!(first.0, again.0);
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn two_kiosks_get_different_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let a = KioskSecret::load_or_create(&dir.path().join("a")).unwrap();
        let b = KioskSecret::load_or_create(&dir.path().join("b")).unwrap();
        assert_ne!(a.0, b.0);
    }

    #[test]
    fn person_key_is_hmac_sm3_hex() {
        let id = IdNumber::parse(SAMPLE_ID).unwrap();
        let secret = KioskSecret::from_bytes([7; SECRET_LEN]);
        let key = secret.person_key(&id);
        assert_eq!(
            key,
            hex::encode(hmac_sm3(&[7; SECRET_LEN], SAMPLE_ID.as_bytes()))
        );
        assert_eq!(key.len(), 64);
        assert!(key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        // Stable for one secret, different under another.
        assert_eq!(secret.person_key(&id), key);
        assert_ne!(
            KioskSecret::from_bytes([8; SECRET_LEN]).person_key(&id),
            key
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let secret = KioskSecret::from_bytes([0xab; SECRET_LEN]);
        let shown = format!("{secret:?}");
        assert_eq!(shown, "KioskSecret(..)");
        assert!(!shown.contains("ab"));
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_new_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kiosk.secret");
        fs::write(&path, "not hex\n").unwrap();
        let err = KioskSecret::load_or_create(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(fs::read_to_string(&path).unwrap(), "not hex\n");
    }

    #[test]
    fn loose_permissions_are_tightened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kiosk.secret");
        fs::write(&path, format!("{}\n", "11".repeat(SECRET_LEN))).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let secret = KioskSecret::load_or_create(&path).unwrap();
        assert_eq!(secret.0, [0x11; SECRET_LEN]);
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
