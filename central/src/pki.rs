//! The service's own certificate authority and the certificates it issues.
//!
//! The directory given to [`Pki::load_or_create`] holds four files:
//!
//! - `ca.pem` / `ca.key` — the CA (ECDSA P-256, about 20 years). Kiosks pin `ca.pem`; it is created
//!   once and never replaced, so it survives restarts and is shared by every instance that uses
//!   the same directory.
//! - `server.pem` / `server.key` — the TLS server certificate, signed by the CA, for `localhost`,
//!   `127.0.0.1`, `::1` and the extra names given at start. It is re-issued at start when the names
//!   changed, when it expires within 30 days, or when it does not belong to the CA or its key.
//!
//! Private keys are created with mode 0600 and every file is written atomically (a temporary file,
//! then a rename), so a crash never leaves half a key behind. Two processes starting on the same
//! empty directory agree on one CA: the CA files are published with a hard link, which never
//! replaces a file another process created first.
//!
//! Client certificates for kiosks come from [`Pki::issue_client_cert`]; the server identifies a
//! kiosk by the SM3 [`fingerprint`] of its certificate.
//!
//! The TLS layer is plain X.509 with ECDSA P-256 so any standard client can talk to it; SM2 is used
//! only for the signatures inside offline codes.

use std::collections::BTreeSet;
use std::fmt;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::net::IpAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, PublicKeyData, SanType,
};
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use sm3::{Digest, Sm3};
use time::{Duration, OffsetDateTime};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

/// File name of the CA certificate (PEM).
pub const CA_CERT_FILE: &str = "ca.pem";
/// File name of the CA private key (PEM, PKCS#8, mode 0600).
pub const CA_KEY_FILE: &str = "ca.key";
/// File name of the server certificate (PEM).
pub const SERVER_CERT_FILE: &str = "server.pem";
/// File name of the server private key (PEM, PKCS#8, mode 0600).
pub const SERVER_KEY_FILE: &str = "server.key";

/// Common name of the CA certificate.
pub const CA_COMMON_NAME: &str = "随申码 Central CA";
/// Organisation named in every certificate the CA issues.
const ORGANISATION: &str = "随申码";
/// Common name of the server certificate.
const SERVER_COMMON_NAME: &str = "随申码 Central";

/// Names every server certificate covers, besides the extra names given at start.
pub const DEFAULT_SERVER_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Validity of the CA certificate (about 20 years).
const CA_VALIDITY: Duration = Duration::days(20 * 365 + 5);
/// Validity of the server certificate (about 27 months).
const SERVER_VALIDITY: Duration = Duration::days(825);
/// Validity of a kiosk's client certificate (about 2 years).
const CLIENT_VALIDITY: Duration = Duration::days(2 * 365 + 1);
/// The server certificate is re-issued at start when it expires sooner than this.
const SERVER_RENEW_BEFORE: Duration = Duration::days(30);
/// Certificates are valid from a little before their issue, for clocks that run slow.
const BACKDATE: Duration = Duration::days(1);
/// Longest kiosk id accepted as a common name (the X.520 upper bound).
const MAX_KIOSK_ID_LEN: usize = 64;

/// What can go wrong while loading, creating or using the CA and its certificates.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A file exists but does not hold what it should.
    #[error("{}: {reason}", path.display())]
    Corrupt {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// `ca.pem` exists without `ca.key`: the CA cannot sign, and replacing it would break every
    /// kiosk that pins it.
    #[error("{}: the CA certificate exists but its private key is missing", path.display())]
    MissingCaKey {
        /// The missing key file.
        path: PathBuf,
    },
    /// An extra server name is neither an IP address nor a valid DNS name.
    #[error("invalid server name {0:?}")]
    InvalidServerName(String),
    /// A kiosk id cannot be used as a certificate's common name.
    #[error("invalid kiosk id {0:?}: 1 to 64 printable characters")]
    InvalidKioskId(String),
    /// This [`Pki`] was loaded without a server certificate ([`Pki::load_or_create_ca`]).
    #[error("no server certificate loaded")]
    NoServerCertificate,
    /// Certificate generation failed.
    #[error("certificate generation: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// Building the TLS configuration failed.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// Building the client-certificate verifier failed.
    #[error("client certificate verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

/// A client certificate issued to a kiosk, with its private key.
#[derive(Clone)]
pub struct ClientBundle {
    /// The certificate (PEM).
    pub cert_pem: String,
    /// The private key (PEM, PKCS#8). Secret: store with mode 0600.
    pub key_pem: String,
    /// SM3 over the certificate's DER: how the service recognises the kiosk.
    pub fingerprint: [u8; 32],
}

impl fmt::Debug for ClientBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBundle")
            .field("fingerprint", &hex::encode(self.fingerprint))
            .finish_non_exhaustive()
    }
}

/// The SM3 fingerprint of a certificate, over its DER encoding.
#[must_use]
pub fn fingerprint(der: &[u8]) -> [u8; 32] {
    Sm3::digest(der).into()
}

/// The server certificate with its key.
struct ServerIdentity {
    cert: CertificateDer<'static>,
    key_der: Vec<u8>,
}

/// The service's CA, and the server certificate when loaded with [`Pki::load_or_create`].
pub struct Pki {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    server: Option<ServerIdentity>,
}

impl fmt::Debug for Pki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pki")
            .field("ca_fingerprint", &hex::encode(fingerprint(&self.ca_der)))
            .field("server_certificate", &self.server.is_some())
            .finish_non_exhaustive()
    }
}

impl Pki {
    /// Loads the CA and the server certificate from `dir`, creating whatever is missing.
    ///
    /// The CA is created at first start and kept forever after. The server certificate covers
    /// `localhost`, `127.0.0.1`, `::1` and `extra_names` (host names or IP addresses); it is
    /// re-issued when these names changed, when it expires within 30 days, or when it was not
    /// signed by the CA.
    ///
    /// # Errors
    ///
    /// File-system errors, unreadable files, a CA certificate without its key, or an extra name
    /// that is neither an IP address nor a DNS name.
    pub fn load_or_create(dir: &Path, extra_names: &[String]) -> Result<Pki, PkiError> {
        let mut pki = Self::load_or_create_ca(dir)?;
        let names = server_names(extra_names)?;
        pki.server = Some(pki.load_or_create_server(dir, &names)?);
        Ok(pki)
    }

    /// Loads (or at first use creates) only the CA in `dir`, leaving the server certificate alone.
    ///
    /// For commands that run beside a serving instance, such as provisioning a kiosk: they issue
    /// client certificates but must not re-issue the certificate the server is using.
    /// [`Pki::server_config`] fails on a `Pki` loaded this way.
    ///
    /// # Errors
    ///
    /// File-system errors, unreadable files, or a CA certificate without its key.
    pub fn load_or_create_ca(dir: &Path) -> Result<Pki, PkiError> {
        ensure_dir(dir)?;
        let key_path = dir.join(CA_KEY_FILE);
        let cert_path = dir.join(CA_CERT_FILE);

        let key_pem = match read_optional(&key_path)? {
            Some(pem) => {
                check_private_mode(&key_path)?;
                pem
            }
            None => {
                if cert_path.exists() {
                    return Err(PkiError::MissingCaKey { path: key_path });
                }
                let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
                publish_once(&key_path, key.serialize_pem().as_bytes(), true)?
            }
        };
        let key = KeyPair::from_pem(&key_pem).map_err(|e| corrupt(&key_path, e))?;

        let cert_pem = match read_optional(&cert_path)? {
            Some(pem) => pem,
            None => {
                let cert = ca_params().self_signed(&key)?;
                tracing::info!(
                    fingerprint = %hex::encode(fingerprint(cert.der())),
                    "created the certificate authority"
                );
                publish_once(&cert_path, cert.pem().as_bytes(), false)?
            }
        };
        let ca_der = parse_cert_pem(&cert_path, &cert_pem)?;
        {
            let ca = parse_x509(&cert_path, &ca_der)?;
            if ca.public_key().raw != key.subject_public_key_info().as_slice() {
                return Err(corrupt(
                    &cert_path,
                    "the certificate does not belong to ca.key",
                ));
            }
            let is_ca = ca
                .basic_constraints()
                .ok()
                .flatten()
                .is_some_and(|bc| bc.value.ca);
            if !is_ca {
                return Err(corrupt(&cert_path, "not a CA certificate"));
            }
        }
        let issuer = Issuer::from_ca_cert_der(&ca_der, key).map_err(|e| corrupt(&cert_path, e))?;

        Ok(Pki {
            ca_pem: cert_pem,
            ca_der,
            issuer,
            server: None,
        })
    }

    /// The CA certificate (PEM): what kiosks and other clients pin.
    #[must_use]
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA certificate (DER).
    #[must_use]
    pub fn ca_der(&self) -> &CertificateDer<'static> {
        &self.ca_der
    }

    /// The server certificate (DER), when loaded with [`Pki::load_or_create`].
    #[must_use]
    pub fn server_cert_der(&self) -> Option<&CertificateDer<'static>> {
        self.server.as_ref().map(|s| &s.cert)
    }

    /// Issues a client certificate for a kiosk: CN = `kiosk_id`, extended key usage clientAuth,
    /// valid for about two years, signed by the CA, with a fresh P-256 key.
    ///
    /// # Errors
    ///
    /// An empty, over-long (more than 64 characters) or non-printable kiosk id, or a signing
    /// failure.
    pub fn issue_client_cert(&self, kiosk_id: &str) -> Result<ClientBundle, PkiError> {
        let valid_id = !kiosk_id.is_empty()
            && kiosk_id.chars().count() <= MAX_KIOSK_ID_LEN
            && kiosk_id.trim() == kiosk_id
            && !kiosk_id.chars().any(char::is_control);
        if !valid_id {
            return Err(PkiError::InvalidKioskId(kiosk_id.to_owned()));
        }
        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(kiosk_id);
        params.not_before = now - BACKDATE;
        params.not_after = now + CLIENT_VALIDITY;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;

        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(ClientBundle {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            fingerprint: fingerprint(cert.der()),
        })
    }

    /// A rustls server configuration: the server certificate and key, ALPN `h2` and `http/1.1`,
    /// and a client-certificate verifier that trusts only this CA.
    ///
    /// Client certificates are optional at the TLS level: a client that presents one must present
    /// a valid one from this CA (or the handshake fails), and a client without one still connects,
    /// so one listener serves both the kiosk routes (which require a certificate, checked at the
    /// HTTP layer) and the public and bearer-token routes.
    ///
    /// # Errors
    ///
    /// [`PkiError::NoServerCertificate`] when loaded with [`Pki::load_or_create_ca`]; rustls
    /// refusing the certificate or key.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, PkiError> {
        let server = self.server.as_ref().ok_or(PkiError::NoServerCertificate)?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());

        let mut roots = RootCertStore::empty();
        roots.add(self.ca_der.clone())?;
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .allow_unauthenticated()
                .build()?;

        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server.key_der.clone()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![server.cert.clone()], key)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// Loads the server certificate, re-issuing it when it is missing, stale or foreign.
    fn load_or_create_server(
        &self,
        dir: &Path,
        names: &[SanType],
    ) -> Result<ServerIdentity, PkiError> {
        let key_path = dir.join(SERVER_KEY_FILE);
        let cert_path = dir.join(SERVER_CERT_FILE);

        let existing = match (read_optional(&key_path)?, read_optional(&cert_path)?) {
            (Some(key_pem), Some(cert_pem)) => Some((key_pem, cert_pem)),
            _ => None,
        };
        let reason = match &existing {
            None => Some("missing".to_owned()),
            Some((key_pem, cert_pem)) => self.server_renewal_reason(key_pem, cert_pem, names),
        };
        if let (None, Some((key_pem, cert_pem))) = (&reason, &existing) {
            check_private_mode(&key_path)?;
            let key = KeyPair::from_pem(key_pem).map_err(|e| corrupt(&key_path, e))?;
            return Ok(ServerIdentity {
                cert: parse_cert_pem(&cert_path, cert_pem)?,
                key_der: key.serialize_der(),
            });
        }
        tracing::info!(
            reason = reason.as_deref().unwrap_or_default(),
            "issuing a new server certificate"
        );

        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(SERVER_COMMON_NAME);
        params.subject_alt_names = names.to_vec();
        params.not_before = now - BACKDATE;
        params.not_after = now + SERVER_VALIDITY;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;

        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let cert = params.signed_by(&key, &self.issuer)?;
        // Key first: a crash in between leaves a certificate that does not match its key, which
        // the next start detects and replaces.
        write_atomic(&key_path, key.serialize_pem().as_bytes(), true)?;
        write_atomic(&cert_path, cert.pem().as_bytes(), false)?;
        Ok(ServerIdentity {
            cert: cert.der().clone(),
            key_der: key.serialize_der(),
        })
    }

    /// Why the stored server certificate must be replaced, or `None` when it is still good.
    fn server_renewal_reason(
        &self,
        key_pem: &str,
        cert_pem: &str,
        names: &[SanType],
    ) -> Option<String> {
        let Ok(key) = KeyPair::from_pem(key_pem) else {
            return Some("unreadable key".to_owned());
        };
        let Ok(der) = cert_der_from_pem(cert_pem) else {
            return Some("unreadable certificate".to_owned());
        };
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(&der) else {
            return Some("unreadable certificate".to_owned());
        };
        let Ok((_, ca)) = x509_parser::parse_x509_certificate(&self.ca_der) else {
            return Some("unreadable CA certificate".to_owned());
        };
        if cert.public_key().raw != key.subject_public_key_info().as_slice() {
            return Some("the certificate does not match its key".to_owned());
        }
        if cert.issuer().as_raw() != ca.subject().as_raw()
            || cert.verify_signature(Some(ca.public_key())).is_err()
        {
            return Some("not signed by the current CA".to_owned());
        }
        let renew_at = OffsetDateTime::now_utc() + SERVER_RENEW_BEFORE;
        if cert.validity().not_after.timestamp() < renew_at.unix_timestamp() {
            return Some("expires within 30 days".to_owned());
        }
        let wanted: BTreeSet<String> = names.iter().filter_map(san_key).collect();
        if cert_san_keys(&cert) != Some(wanted) {
            return Some("server names changed".to_owned());
        }
        None
    }
}

/// Parameters of the CA certificate.
fn ca_params() -> CertificateParams {
    let now = OffsetDateTime::now_utc();
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(CA_COMMON_NAME);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = now - BACKDATE;
    params.not_after = now + CA_VALIDITY;
    params
}

fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, ORGANISATION);
    dn.push(DnType::CommonName, common_name);
    dn
}

/// The subject alternative names of the server certificate: the defaults plus `extra`, in order,
/// without duplicates.
fn server_names(extra: &[String]) -> Result<Vec<SanType>, PkiError> {
    let mut seen = BTreeSet::new();
    let mut names = Vec::new();
    let all = DEFAULT_SERVER_NAMES
        .iter()
        .copied()
        .chain(extra.iter().map(String::as_str));
    for name in all {
        let name = name.trim();
        let san = match name.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => {
                if !is_dns_name(name) {
                    return Err(PkiError::InvalidServerName(name.to_owned()));
                }
                let ia5 = name
                    .to_ascii_lowercase()
                    .try_into()
                    .map_err(|_| PkiError::InvalidServerName(name.to_owned()))?;
                SanType::DnsName(ia5)
            }
        };
        if let Some(key) = san_key(&san)
            && seen.insert(key)
        {
            names.push(san);
        }
    }
    Ok(names)
}

/// A DNS name as a certificate may hold it: ASCII letters, digits, `-` and `.`, with an optional
/// leading `*.` wildcard label.
fn is_dns_name(name: &str) -> bool {
    let body = name.strip_prefix("*.").unwrap_or(name);
    !body.is_empty()
        && name.len() <= 253
        && body.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A comparable form of a subject alternative name.
fn san_key(san: &SanType) -> Option<String> {
    match san {
        SanType::DnsName(name) => Some(format!("dns:{}", name.as_str().to_ascii_lowercase())),
        SanType::IpAddress(ip) => Some(format!("ip:{ip}")),
        _ => None,
    }
}

/// The DNS and IP subject alternative names of a parsed certificate, in the form of [`san_key`].
fn cert_san_keys(cert: &X509Certificate<'_>) -> Option<BTreeSet<String>> {
    let ext = cert.subject_alternative_name().ok()??;
    let mut keys = BTreeSet::new();
    for name in &ext.value.general_names {
        match name {
            GeneralName::DNSName(dns) => {
                keys.insert(format!("dns:{}", dns.to_ascii_lowercase()));
            }
            GeneralName::IPAddress(octets) => {
                let ip = match octets.len() {
                    4 => <[u8; 4]>::try_from(*octets).ok().map(IpAddr::from),
                    16 => <[u8; 16]>::try_from(*octets).ok().map(IpAddr::from),
                    _ => None,
                }?;
                keys.insert(format!("ip:{ip}"));
            }
            _ => {}
        }
    }
    Some(keys)
}

/// Parses a single PEM certificate.
fn cert_der_from_pem(pem: &str) -> Result<CertificateDer<'static>, String> {
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| e.to_string())
}

fn parse_cert_pem(path: &Path, pem: &str) -> Result<CertificateDer<'static>, PkiError> {
    cert_der_from_pem(pem).map_err(|e| corrupt(path, e))
}

fn parse_x509<'a>(path: &Path, der: &'a [u8]) -> Result<X509Certificate<'a>, PkiError> {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, cert)| cert)
        .map_err(|e| corrupt(path, e))
}

fn corrupt(path: &Path, reason: impl fmt::Display) -> PkiError {
    PkiError::Corrupt {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> PkiError + '_ {
    move |source| PkiError::Io {
        path: path.to_owned(),
        source,
    }
}

fn ensure_dir(dir: &Path) -> Result<(), PkiError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_error(dir))
}

/// Reads a text file, `None` when it does not exist.
fn read_optional(path: &Path) -> Result<Option<String>, PkiError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path)(e)),
    }
}

/// Tightens a private key file that others can read to mode 0600, with a warning. Best effort:
/// a file owned by another account stays as it is (and is warned about).
fn check_private_mode(path: &Path) -> Result<(), PkiError> {
    let meta = fs::metadata(path).map_err(io_error(path))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        let mode = format!("{mode:o}");
        match fs::set_permissions(path, fs::Permissions::from_mode(0o600)) {
            Ok(()) => tracing::warn!(
                path = %path.display(),
                %mode,
                "private key was readable by others; set its mode to 0600"
            ),
            Err(error) => tracing::warn!(
                path = %path.display(),
                %mode,
                %error,
                "private key is readable by others and its mode cannot be changed"
            ),
        }
    }
    Ok(())
}

/// Writes `data` to a new temporary file beside `path` and syncs it. Returns the temporary path.
fn write_temp(path: &Path, data: &[u8], private: bool) -> Result<PathBuf, PkiError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| io_error(path)(io::Error::other(e.to_string())))?;
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        hex::encode(nonce)
    ));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(if private { 0o600 } else { 0o644 })
            .open(&tmp)?;
        file.write_all(data)?;
        file.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(io_error(&tmp)(e))
        }
    }
}

/// Makes a rename or link in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), PkiError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))
}

/// Atomically replaces `path` with `data`.
fn write_atomic(path: &Path, data: &[u8], private: bool) -> Result<(), PkiError> {
    let tmp = write_temp(path, data, private)?;
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(io_error(path)(e));
    }
    sync_dir(path.parent().unwrap_or_else(|| Path::new(".")))
}

/// Atomically creates `path` with `data` unless another process created it first; returns the
/// content that ended up in the file.
fn publish_once(path: &Path, data: &[u8], private: bool) -> Result<String, PkiError> {
    let tmp = write_temp(path, data, private)?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_dir(path.parent().unwrap_or_else(|| Path::new(".")))?;
            Ok(String::from_utf8_lossy(data).into_owned())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            read_optional(path)?.ok_or_else(|| corrupt(path, "vanished while being created"))
        }
        Err(e) => Err(io_error(path)(e)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn server_names_dedup_and_validate() {
        let names = server_names(&[
            "LOCALHOST".into(),
            "kiosk.example.org".into(),
            "10.0.0.1".into(),
        ])
        .unwrap();
        let keys: Vec<_> = names.iter().filter_map(san_key).collect();
        assert_eq!(
            keys,
            [
                "dns:localhost",
                "ip:127.0.0.1",
                "ip:::1",
                "dns:kiosk.example.org",
                "ip:10.0.0.1"
            ]
        );
        assert!(server_names(&["bad name".into()]).is_err());
        assert!(server_names(&["例子.cn".into()]).is_err());
        assert!(server_names(&["*.example.org".into()]).is_ok());
    }

    #[test]
    fn kiosk_ids_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::load_or_create_ca(dir.path()).unwrap();
        assert!(pki.issue_client_cert("").is_err());
        assert!(pki.issue_client_cert(" k1").is_err());
        assert!(pki.issue_client_cert("k\n1").is_err());
        assert!(pki.issue_client_cert(&"k".repeat(65)).is_err());
        assert!(pki.issue_client_cert("徐汇-01").is_ok());
        assert!(matches!(
            pki.server_config(),
            Err(PkiError::NoServerCertificate)
        ));
    }
}
