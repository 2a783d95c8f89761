//! The `central` binary: `serve` runs the service; the other subcommands are what an operator does
//! on the data directory of a running service (enrol a kiosk or a verifier, enrol or remove hall
//! staff, set the kiosks' home-screen notice, import citizens, report a code lost, set a colour, print a 随申码 token, rotate the
//! issuer key, delete venue entries past their retention). The service sees
//! each change at once: they share the database and the key directory.
//!
//! The database is SQLite (`central.db` in the data directory) unless `--database` (or
//! `CENTRAL_DATABASE`) names a PostgreSQL database, which several instances of `serve` can share.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use central::admin::{self, KioskDetails};
use central::clock::{Clock, SystemClock};
use central::model::Role;
use central::server::{DataDir, ServeOptions};
use clap::{Parser, Subcommand, ValueEnum};
use protocol::api::Color;

/// The central service of the 随申码 offline-code system.
#[derive(Debug, Parser)]
#[command(name = "central", version, about)]
struct Cli {
    /// The database: a postgres:// (or postgresql://) URL for PostgreSQL, shared by several
    /// instances; without it, SQLite in the data directory (central.db).
    #[arg(
        long,
        global = true,
        env = "CENTRAL_DATABASE",
        hide_env_values = true,
        value_name = "URL"
    )]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct Data {
    /// The data directory (database, keys, certificates).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the service over HTTPS.
    Serve {
        #[command(flatten)]
        data: Data,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// Seeds fictional demo citizens covering every journey.
        #[arg(long)]
        demo: bool,
        /// Extra host names (or addresses) for the server certificate.
        #[arg(long = "name", value_name = "HOST")]
        names: Vec<String>,
    },
    /// Imports citizens from a CSV file: id_number,name,photo,color,realname_verified.
    ImportCitizens {
        #[command(flatten)]
        data: Data,
        /// The CSV file; photo paths are relative to its folder.
        file: PathBuf,
    },
    /// Enrols a kiosk: writes ca.pem, kiosk.pem and kiosk.key for it into OUT.
    ProvisionKiosk {
        #[command(flatten)]
        data: Data,
        /// The kiosk id, e.g. K001.
        #[arg(long)]
        kiosk_id: String,
        /// Where to write the files.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The hall's name, for the kiosk directory.
        #[arg(long, default_value = "")]
        name: String,
        /// The street address, for the kiosk directory.
        #[arg(long, default_value = "")]
        address: String,
        /// Opening hours in words, for the kiosk directory.
        #[arg(long, default_value = "")]
        hours: String,
    },
    /// Adds a verifier and prints their token on the last line.
    AddVerifier {
        #[command(flatten)]
        data: Data,
        /// The verifier's name (shown in the watermark).
        #[arg(long)]
        name: String,
        /// Their organisation.
        #[arg(long)]
        org: String,
    },
    /// Adds a token for the 一网通办 portal or an operator and prints it on the last line.
    AddToken {
        #[command(flatten)]
        data: Data,
        /// What the token may do.
        #[arg(long, value_enum)]
        role: TokenRole,
        /// Who holds it.
        #[arg(long)]
        name: String,
        /// Their organisation.
        #[arg(long, default_value = "")]
        org: String,
    },
    /// Enrols a hall staff member for maintenance mode on every kiosk (kiosks pull the change
    /// with their next heartbeat). The PIN (4 to 8 digits) is read from standard input, never
    /// from the command line. Enrolling the same ID number again replaces the entry.
    AddStaff {
        #[command(flatten)]
        data: Data,
        /// The staff member's ID number (only a keyed hash is stored).
        #[arg(long)]
        id_number: String,
        /// The staff member's name (only the masked form is stored).
        #[arg(long)]
        name: String,
    },
    /// Removes a hall staff member from maintenance mode on every kiosk.
    RemoveStaff {
        #[command(flatten)]
        data: Data,
        /// The staff member's ID number.
        #[arg(long)]
        id_number: String,
    },
    /// Sets the notice every kiosk shows on its home screen (kiosks pull the change with their
    /// next heartbeat), or removes it with --clear.
    SetNotice {
        #[command(flatten)]
        data: Data,
        /// The notice, one line of at most 40 characters, shown as written.
        #[arg(long, required_unless_present = "clear", conflicts_with = "clear")]
        text: Option<String>,
        /// Removes the notice.
        #[arg(long)]
        clear: bool,
    },
    /// Reports a person's active code lost: it stops verifying at once.
    ReportLost {
        #[command(flatten)]
        data: Data,
        /// The person's ID number.
        #[arg(long)]
        id_number: String,
    },
    /// Sets a person's health colour.
    SetColor {
        #[command(flatten)]
        data: Data,
        /// The person's ID number.
        #[arg(long)]
        id_number: String,
        /// The colour.
        #[arg(long, value_enum)]
        color: ColorArg,
    },
    /// Prints a current 随申码 token for a person (what 随申办 shows), on the last line.
    SuishenCode {
        #[command(flatten)]
        data: Data,
        /// The person's ID number.
        #[arg(long)]
        id_number: String,
    },
    /// Makes a new issuer key; new codes use it, codes signed before keep verifying.
    RotateKey {
        #[command(flatten)]
        data: Data,
    },
    /// Deletes venue entries older than 28 days now (`serve` also does it every hour).
    PurgeEntries {
        #[command(flatten)]
        data: Data,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TokenRole {
    Portal,
    Operator,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ColorArg {
    Green,
    Yellow,
    Red,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    init_logging();
    let now = SystemClock.now();
    let database = cli.database.filter(|url| !url.trim().is_empty());
    // Every subcommand works on the same database as `serve`.
    let dir = |data: Data| -> Result<DataDir> {
        let plain = DataDir::new(data.data);
        match &database {
            Some(url) => plain.with_database(url.trim()),
            None => Ok(plain),
        }
    };
    match cli.command {
        Command::Serve {
            data,
            listen,
            demo,
            names,
        } => {
            let options = ServeOptions {
                data: dir(data)?,
                listen,
                demo,
                names,
            };
            let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
            runtime.block_on(central::server::run(
                &options,
                Arc::new(SystemClock),
                shutdown_signal(),
            ))
        }
        Command::ImportCitizens { data, file } => {
            let count = admin::import_citizens(&dir(data)?, &file)?;
            say(&format!("imported {count} citizens"))
        }
        Command::ProvisionKiosk {
            data,
            kiosk_id,
            out,
            name,
            address,
            hours,
        } => {
            let details = KioskDetails {
                name,
                address,
                hours,
            };
            admin::provision_kiosk(&dir(data)?, &kiosk_id, &out, details)?;
            say(&format!(
                "kiosk {kiosk_id} enrolled; its files are in {}",
                out.display()
            ))
        }
        Command::AddVerifier { data, name, org } => {
            print_token(&dir(data)?, Role::Verifier, &name, &org)
        }
        Command::AddToken {
            data,
            role,
            name,
            org,
        } => {
            let role = match role {
                TokenRole::Portal => Role::Portal,
                TokenRole::Operator => Role::Operator,
            };
            print_token(&dir(data)?, role, &name, &org)
        }
        Command::AddStaff {
            data,
            id_number,
            name,
        } => {
            let pin = read_pin()?;
            let version = admin::add_staff(&dir(data)?, &id_number, &name, &pin)?;
            say(&format!(
                "staff member {} enrolled; kiosk config version {version}",
                protocol::mask::mask_name(name.trim())
            ))
        }
        Command::RemoveStaff { data, id_number } => {
            let version = admin::remove_staff(&dir(data)?, &id_number)?;
            say(&format!(
                "staff member removed; kiosk config version {version}"
            ))
        }
        Command::SetNotice { data, text, clear } => {
            let text = if clear { None } else { text };
            let version = admin::set_notice(&dir(data)?, text.as_deref())?;
            say(&format!(
                "notice {}; kiosk config version {version}",
                if text.is_some() { "set" } else { "removed" }
            ))
        }
        Command::ReportLost { data, id_number } => {
            let lost = admin::report_lost(&dir(data)?, &id_number, now)?;
            say(&format!(
                "code {} (serial {}) is now lost",
                lost.code_id, lost.serial
            ))
        }
        Command::SetColor {
            data,
            id_number,
            color,
        } => {
            let color = match color {
                ColorArg::Green => Color::Green,
                ColorArg::Yellow => Color::Yellow,
                ColorArg::Red => Color::Red,
            };
            admin::set_color(&dir(data)?, &id_number, color)?;
            say("colour set")
        }
        Command::SuishenCode { data, id_number } => {
            say(&admin::suishen_code(&dir(data)?, &id_number, now)?)
        }
        Command::RotateKey { data } => {
            let kid = dir(data)?.rotate_issuer_key()?;
            say(&format!("new issuer key kid {kid}"))
        }
        Command::PurgeEntries { data } => {
            let removed = admin::purge_entries(&dir(data)?, now)?;
            say(&format!(
                "deleted {removed} venue entries older than 28 days"
            ))
        }
    }
}

/// Logs go to standard error (journald under systemd): plain text, or one JSON object per line
/// with `LOG_FORMAT=json`. `RUST_LOG` sets the level (default `info`). No log line carries a full
/// ID number or a name: handlers log codes, kiosks and outcomes only, and the PostgreSQL client,
/// which logs statement parameters (row values) at debug level, is held to `info` whatever
/// `RUST_LOG` says.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let filter = ["tokio_postgres=info", "postgres=info"]
        .into_iter()
        .filter_map(|directive| directive.parse().ok())
        .fold(filter, tracing_subscriber::EnvFilter::add_directive);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// The PIN from standard input (one line; a prompt on standard error when it is a terminal).
fn read_pin() -> Result<String> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        writeln!(std::io::stderr().lock(), "PIN (4 to 8 digits), then Enter:")
            .context("writing to stderr")?;
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the PIN from standard input")?;
    let pin = line.trim().to_owned();
    line.clear();
    if !protocol::api::valid_pin(&pin) {
        anyhow::bail!("the PIN must be 4 to 8 digits, given on standard input");
    }
    Ok(pin)
}

fn say(line: &str) -> Result<()> {
    writeln!(std::io::stdout().lock(), "{line}").context("writing to stdout")
}

fn print_token(data: &DataDir, role: Role, name: &str, org: &str) -> Result<()> {
    let token = admin::add_token(data, role, name, org)?;
    say(&format!(
        "{} token for {name} (shown once; keep it safe):",
        role.as_str()
    ))?;
    say(&token)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch SIGTERM; stop with Ctrl-C");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
