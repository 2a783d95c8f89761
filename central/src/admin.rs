//! What an operator does on a data directory, whether or not `serve` is running on it: enrol a
//! kiosk, add token holders, enrol or remove hall staff, set the kiosks' home-screen notice,
//! import citizens, report a code lost, set
//! a colour, print a 随申码 token, delete venue entries past their retention. The command line
//! prints what these return; tests call them directly.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, Result, bail};
use protocol::IdNumber;
use protocol::api::{Color, STAFF_SALT_LEN, StaffEntry};
use time::OffsetDateTime;

use crate::model::{Citizen, CodeRecord, KioskRecord, Role};
use crate::server::DataDir;
use crate::store::{Store, StoreError};
use crate::tokens;

/// A kiosk's directory entry, as given at enrolment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KioskDetails {
    /// The hall's name.
    pub name: String,
    /// The street address.
    pub address: String,
    /// Opening hours in words.
    pub hours: String,
}

/// Enrols a kiosk: issues its client certificate, records it, and writes `ca.pem`, `kiosk.pem`
/// and `kiosk.key` (0600) into `out`. Enrolling the same kiosk again replaces its certificate.
pub fn provision_kiosk(
    data: &DataDir,
    kiosk_id: &str,
    out: &Path,
    details: KioskDetails,
) -> Result<()> {
    if kiosk_id.is_empty()
        || kiosk_id.len() > 32
        || !kiosk_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("a kiosk id is 1 to 32 letters, digits, '-' or '_'");
    }
    let pki = data.ca()?;
    let store = data.store()?;
    let bundle = pki.issue_client_cert(kiosk_id)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    write_file(&out.join("ca.pem"), pki.ca_pem().as_bytes(), 0o644)?;
    write_file(&out.join("kiosk.pem"), bundle.cert_pem.as_bytes(), 0o644)?;
    write_file(&out.join("kiosk.key"), bundle.key_pem.as_bytes(), 0o600)?;
    store.upsert_kiosk(&KioskRecord {
        kiosk_id: kiosk_id.to_owned(),
        name: details.name,
        address: details.address,
        hours: details.hours,
        cert_fingerprint: bundle.fingerprint,
    })?;
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// Adds a token holder and returns the token (only its hash is stored: it is shown once).
pub fn add_token(data: &DataDir, role: Role, name: &str, org: &str) -> Result<String> {
    if name.trim().is_empty() {
        bail!("a name is needed");
    }
    let store = data.store()?;
    let prefix = match role {
        Role::Verifier => "v_",
        Role::Portal => "p_",
        Role::Operator => "o_",
    };
    let token = tokens::random_token(prefix)?;
    store.add_principal(role, name.trim(), org.trim(), &tokens::token_hash(&token))?;
    Ok(token)
}

/// Imports citizens from CSV text (all or nothing); returns how many.
pub fn import_citizens(data: &DataDir, file: &Path) -> Result<usize> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let base = file.parent().unwrap_or(Path::new("."));
    let citizens = match crate::import::parse_citizens_csv(&text, base) {
        Ok(citizens) => citizens,
        Err(errors) => bail!("nothing was imported; fix these lines and run again:\n{errors}"),
    };
    let store = data.store()?;
    for citizen in &citizens {
        store.upsert_citizen(citizen)?;
    }
    Ok(citizens.len())
}

/// Parses an ID number given on the command line.
pub fn parse_id(text: &str) -> Result<IdNumber> {
    IdNumber::parse(text).map_err(|e| anyhow::anyhow!("the ID number is not valid: {e}"))
}

/// The citizen with this ID number.
pub fn find_citizen(store: &dyn Store, id_number: &str) -> Result<Citizen> {
    let id_number = parse_id(id_number)?;
    store
        .citizen_by_id_number(&id_number)?
        .context("no citizen with this ID number")
}

/// Makes the person's active code lost.
pub fn report_lost(data: &DataDir, id_number: &str, now: OffsetDateTime) -> Result<CodeRecord> {
    let store = data.store()?;
    let citizen = find_citizen(store.as_ref(), id_number)?;
    match store.report_lost(citizen.id, now) {
        Err(StoreError::NotFound) => bail!("this person holds no active offline code"),
        other => Ok(other?),
    }
}

/// Sets the person's health colour.
pub fn set_color(data: &DataDir, id_number: &str, color: Color) -> Result<()> {
    let store = data.store()?;
    let id_number = parse_id(id_number)?;
    match store.set_color(&id_number, color) {
        Err(StoreError::NotFound) => bail!("no citizen with this ID number"),
        other => Ok(other?),
    }
}

/// Deletes the venue entries older than 28 days at `now` (what `serve` does every hour);
/// returns how many.
pub fn purge_entries(data: &DataDir, now: OffsetDateTime) -> Result<u64> {
    let store = data.store()?;
    Ok(crate::venues::purge_expired_entries(store.as_ref(), now)?)
}

/// A current 随申码 token for the person.
pub fn suishen_code(data: &DataDir, id_number: &str, now: OffsetDateTime) -> Result<String> {
    let store = data.store()?;
    let citizen = find_citizen(store.as_ref(), id_number)?;
    Ok(data.suishen_secret()?.issue(citizen.id, now))
}

/// Enrols a hall staff member in the kiosk configuration (every kiosk pulls it: the version goes
/// up), replacing an earlier entry for the same ID number; returns the new config version.
///
/// Only a keyed hash of the ID number (under a random salt of the entry's own), the masked name
/// and an argon2id hash of the PIN are stored.
pub fn add_staff(data: &DataDir, id_number: &str, name: &str, pin: &str) -> Result<u64> {
    let id_number = parse_id(id_number)?;
    let mut salt = [0u8; STAFF_SALT_LEN];
    let mut pin_salt = [0u8; STAFF_SALT_LEN];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    getrandom::fill(&mut pin_salt).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let entry = StaffEntry::new(&id_number, name, pin, salt, pin_salt)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = data.store()?;
    let mut config = store.kiosk_config()?;
    config
        .staff
        .retain(|known| !known.matches_id_number(&id_number));
    config.staff.push(entry);
    Ok(store.set_kiosk_config(&config)?)
}

/// Removes the hall staff member with this ID number from the kiosk configuration; returns the
/// new config version.
pub fn remove_staff(data: &DataDir, id_number: &str) -> Result<u64> {
    let id_number = parse_id(id_number)?;
    let store = data.store()?;
    let mut config = store.kiosk_config()?;
    let before = config.staff.len();
    config
        .staff
        .retain(|known| !known.matches_id_number(&id_number));
    if config.staff.len() == before {
        bail!("no staff member with this ID number is enrolled");
    }
    Ok(store.set_kiosk_config(&config)?)
}

/// The longest home-screen notice, in characters: one line at body size on the kiosk, with room
/// left for the "central unreachable" notice below it.
pub const NOTICE_MAX_CHARS: usize = 40;

/// Sets the notice every kiosk shows on its home screen (`None` removes it), as free text shown
/// as written; kiosks pull it with the config (the version goes up). Returns the new config
/// version.
///
/// # Errors
/// An empty notice, one longer than [`NOTICE_MAX_CHARS`], or one with control characters
/// (line breaks included: the kiosk lays the text out itself) is refused and changes nothing.
pub fn set_notice(data: &DataDir, text: Option<&str>) -> Result<u64> {
    let notice = match text.map(str::trim) {
        None => None,
        Some("") => bail!("the notice is empty; use --clear to remove it"),
        Some(text) if text.chars().count() > NOTICE_MAX_CHARS => {
            bail!("the notice is longer than {NOTICE_MAX_CHARS} characters")
        }
        Some(text) if text.chars().any(char::is_control) => {
            bail!("the notice has a control character (a line break?); write it on one line")
        }
        Some(text) => Some(text.to_owned()),
    };
    let store = data.store()?;
    let mut config = store.kiosk_config()?;
    config.notice = notice;
    Ok(store.set_kiosk_config(&config)?)
}
