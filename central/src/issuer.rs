//! Issuer keys: SM2 key pairs, one file per kid under `<data>/keys/` (mode 0600), created at first
//! start. Rotation adds a kid; new codes are signed with the highest kid and every older kid keeps
//! verifying the codes it signed. The directory is re-read when it changes, so a key rotated by the
//! command line while `serve` runs is picked up without a restart.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use protocol::api::CodeId;
use protocol::code::{CODE_ID_LEN, OfflineCode};
use protocol::keys::{KeySet, Kid, PRIVATE_KEY_LEN, Signer, SoftwareSigner};
use time::Date;

use crate::model::NewCode;

/// Why the issuer keys could not be used.
#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    /// Reading or writing a key file failed.
    #[error("issuer key file {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A key file does not hold a valid key.
    #[error("issuer key file {0} is not a valid SM2 private key")]
    Invalid(PathBuf),
    /// A key file is readable by others.
    #[error("issuer key file {0} must not be readable by group or others (chmod 600)")]
    Permissions(PathBuf),
    /// All 255 kids are used.
    #[error("no kid left for a new issuer key")]
    Exhausted,
    /// No randomness.
    #[error("no randomness available: {0}")]
    Random(String),
}

/// The issuer keys of this service.
#[derive(Debug, Clone)]
pub struct IssuerKeys {
    dir: PathBuf,
    signers: BTreeMap<Kid, SoftwareSigner>,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> IssuerError + '_ {
    move |source| IssuerError::Io {
        path: path.to_owned(),
        source,
    }
}

impl IssuerKeys {
    /// Loads the keys in `dir`, creating the directory and a first key (kid 1) if there is none.
    pub fn load_or_create(dir: &Path) -> Result<Self, IssuerError> {
        fs::create_dir_all(dir).map_err(io_error(dir))?;
        let mut keys = Self::load(dir)?;
        if keys.signers.is_empty() {
            keys.rotate()?;
        }
        Ok(keys)
    }

    /// Loads the keys in `dir` (possibly none).
    pub fn load(dir: &Path) -> Result<Self, IssuerError> {
        let mut signers = BTreeMap::new();
        let entries = fs::read_dir(dir).map_err(io_error(dir))?;
        for entry in entries {
            let entry = entry.map_err(io_error(dir))?;
            let path = entry.path();
            let Some(kid) = kid_of(&path) else { continue };
            let meta = entry.metadata().map_err(io_error(&path))?;
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(IssuerError::Permissions(path));
            }
            let text = fs::read_to_string(&path).map_err(io_error(&path))?;
            let signer = SoftwareSigner::from_private_key_hex(kid, text.trim())
                .map_err(|_| IssuerError::Invalid(path.clone()))?;
            signers.insert(kid, signer);
        }
        Ok(Self {
            dir: dir.to_owned(),
            signers,
        })
    }

    /// Makes a new key with the next kid and makes it current; returns its kid.
    pub fn rotate(&mut self) -> Result<Kid, IssuerError> {
        let kid = match self.signers.keys().next_back() {
            None => 1,
            Some(&last) => last.checked_add(1).ok_or(IssuerError::Exhausted)?,
        };
        let signer = loop {
            let mut secret = [0u8; PRIVATE_KEY_LEN];
            getrandom::fill(&mut secret).map_err(|e| IssuerError::Random(e.to_string()))?;
            if let Ok(signer) = SoftwareSigner::from_private_key(kid, &secret) {
                break signer;
            }
        };
        let path = self.dir.join(format!("issuer-{kid}.key"));
        let tmp = self.dir.join(format!(".issuer-{kid}.key.tmp"));
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io_error(&tmp))?;
        file.write_all(hex::encode(signer.private_key_bytes()).as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.sync_all())
            .map_err(io_error(&tmp))?;
        if path.exists() {
            let _ = fs::remove_file(&tmp);
            return Err(IssuerError::Io {
                path,
                source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
            });
        }
        fs::rename(&tmp, &path).map_err(io_error(&path))?;
        self.signers.insert(kid, signer);
        Ok(kid)
    }

    /// Re-reads the directory if its set of key files changed.
    pub fn refresh(&mut self) -> Result<(), IssuerError> {
        let on_disk: Vec<Kid> = fs::read_dir(&self.dir)
            .map_err(io_error(&self.dir))?
            .filter_map(|e| e.ok().and_then(|e| kid_of(&e.path())))
            .collect();
        let mut sorted = on_disk;
        sorted.sort_unstable();
        if !sorted.iter().eq(self.signers.keys()) {
            *self = Self::load(&self.dir)?;
        }
        Ok(())
    }

    /// The key new codes are signed with: the highest kid.
    pub fn current(&self) -> Option<&SoftwareSigner> {
        self.signers.values().next_back()
    }

    /// Every public key, by kid.
    pub fn key_set(&self) -> KeySet {
        self.signers
            .iter()
            .map(|(kid, s)| (*kid, s.public_key()))
            .collect()
    }
}

/// Signs a new code with `signer`: a random code id, the given serial, valid from `today`.
/// Storage calls this inside its issuing transaction once the serial is known.
pub fn sign_new_code(signer: &SoftwareSigner, serial: u16, today: Date) -> Result<NewCode, String> {
    let mut code_id = [0u8; CODE_ID_LEN];
    getrandom::fill(&mut code_id).map_err(|e| e.to_string())?;
    let code = OfflineCode::issue(signer, code_id, serial, today).map_err(|e| e.to_string())?;
    Ok(NewCode {
        code_id: CodeId::from_bytes(code_id),
        kid: signer.kid(),
        issued_on: code.body().issued_on(),
        expires_on: code.body().expires_on(),
        qr_text: code.to_qr_text(),
    })
}

fn kid_of(path: &Path) -> Option<Kid> {
    let name = path.file_name()?.to_str()?;
    name.strip_prefix("issuer-")?
        .strip_suffix(".key")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn creates_once_rotates_and_keeps_old_kids() {
        let dir = tempfile::tempdir().unwrap();
        let keys = IssuerKeys::load_or_create(dir.path()).unwrap();
        let first = keys.current().unwrap().clone();
        assert_eq!(first.kid(), 1);
        let mode = fs::metadata(dir.path().join("issuer-1.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = IssuerKeys::load_or_create(dir.path()).unwrap();
        assert_eq!(again.current().unwrap().public_key(), first.public_key());

        let old_code = OfflineCode::issue(&first, [1; 16], 1, date!(2026 - 11 - 21)).unwrap();
        let mut rotated = again;
        assert_eq!(rotated.rotate().unwrap(), 2);
        assert_eq!(rotated.current().unwrap().kid(), 2);
        assert!(OfflineCode::verify(&old_code.to_qr_text(), &rotated.key_set()).is_ok());

        // A running service sees the rotation.
        let mut running = IssuerKeys::load(dir.path()).unwrap();
        IssuerKeys::load(dir.path()).unwrap().rotate().unwrap();
        running.refresh().unwrap();
        assert_eq!(running.current().unwrap().kid(), 3);
    }

    #[test]
    fn refuses_a_world_readable_key() {
        let dir = tempfile::tempdir().unwrap();
        IssuerKeys::load_or_create(dir.path()).unwrap();
        let path = dir.path().join("issuer-1.key");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            IssuerKeys::load(dir.path()),
            Err(IssuerError::Permissions(_))
        ));
    }
}
