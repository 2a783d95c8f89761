//! The kiosk binary: the command line around the kiosk library. `kiosk [--config FILE]` runs
//! the kiosk with its screens; `kiosk run-once` runs one resident session without a screen;
//! `kiosk sync` settles and uploads what the journal holds; `kiosk doctor` checks the devices
//! (`kiosk doctor all`: everything as one JSON object, for remote support); `kiosk staff-entry`
//! prints a `[[staff]]` entry for kiosk.toml; `kiosk sample-code` issues and draws a sample code
//! with a throw-away key.

mod doctor;

use std::io::Write;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use kiosk::config::Config;
use kiosk::sample::Sample;
use protocol::api::Action;
use protocol::code::OfflineCode;
use protocol::keys::Signer;
use qrcode::render::unicode::Dense1x2;
use qrcode::{EcLevel, QrCode};

/// The 随申码 offline-code kiosk.
#[derive(Debug, Parser)]
#[command(name = "kiosk", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The configuration file (without a subcommand: the kiosk with its screens).
    #[arg(long, default_value = "kiosk.toml")]
    config: std::path::PathBuf,
    /// Development: a window with decorations instead of fullscreen; Esc quits.
    #[arg(long)]
    windowed: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Issues a sample offline code with a throw-away key, verifies it, and draws its QR.
    SampleCode,
    /// Checks the devices: readers, ID card, QR scanner.
    #[command(subcommand)]
    Doctor(doctor::Doctor),
    /// Runs one resident session without a screen (confirming by itself) and prints a one-line
    /// JSON summary: for smoke-testing an installed kiosk.
    RunOnce {
        /// The configuration file.
        #[arg(long, default_value = "kiosk.toml")]
        config: std::path::PathBuf,
        /// What to do: apply (申领) or reissue (补领).
        #[arg(long, value_enum)]
        action: ActionArg,
        /// Seconds to wait for the whole session (card, central, printer).
        #[arg(long, default_value_t = 120)]
        timeout: u64,
        /// Places a demo card (0, 1, …) on the simulated reader.
        #[arg(long)]
        demo_card: Option<usize>,
        /// Scans this text with the simulated scanner (a 随申码 token).
        #[arg(long)]
        scan: Option<String>,
    },
    /// Prints a [[staff]] entry for kiosk.toml: who may open maintenance mode on a kiosk that has
    /// not yet pulled the central's staff list. The PIN (4 to 8 digits) is read from standard
    /// input, never from the command line.
    StaffEntry {
        /// The staff member's ID number (only its keyed hash is printed).
        #[arg(long)]
        id_number: String,
        /// The staff member's name (printed masked).
        #[arg(long)]
        name: String,
    },
    /// Checks a configuration file, its devices and the central service: one line per check.
    CheckConfig(kiosk::check_config::Args),
    /// Settles unfinished issuance attempts with the central and uploads the journal, then exits.
    Sync {
        /// The configuration file.
        #[arg(long, default_value = "kiosk.toml")]
        config: std::path::PathBuf,
        /// Seconds to keep trying.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
}

/// `--action` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ActionArg {
    /// 申领.
    Apply,
    /// 补领.
    Reissue,
}

fn main() -> std::process::ExitCode {
    init_logging();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(error) => {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "kiosk: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,iced_winit=warn,winit=warn,wgpu=warn")
    });
    // Colours only on a terminal: under systemd the log goes to journald, which would store
    // escape sequences as raw bytes.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

fn run(cli: Cli) -> Result<std::process::ExitCode> {
    match cli.command {
        None => {
            let mode = if cli.windowed {
                kiosk::ui::shell::Mode::Windowed
            } else {
                kiosk::ui::shell::Mode::Kiosk
            };
            // Said before anything opens: no display, no kiosk.
            if !kiosk::ui::shell::display_available() {
                anyhow::bail!(kiosk::ui::shell::NO_DISPLAY);
            }
            let config = Config::load(&cli.config)?;
            kiosk::ui::launch::start(config, mode).map(|()| std::process::ExitCode::SUCCESS)
        }
        Some(Command::SampleCode) => sample_code().map(|()| std::process::ExitCode::SUCCESS),
        Some(Command::Doctor(command)) => {
            doctor::run(command).map(|()| std::process::ExitCode::SUCCESS)
        }
        Some(Command::RunOnce {
            config,
            action,
            timeout,
            demo_card,
            scan,
        }) => {
            let config = Config::load(&config)?;
            let args = kiosk::run_once::RunOnce {
                action: match action {
                    ActionArg::Apply => Action::Apply,
                    ActionArg::Reissue => Action::Reissue,
                },
                timeout: std::time::Duration::from_secs(timeout),
                demo_card,
                scan,
            };
            let summary = runtime()?.block_on(kiosk::run_once::run(config, args))?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", serde_json::to_string(&summary)?)?;
            if summary.outcome == kiosk::run_once::Outcome::Printed {
                Ok(std::process::ExitCode::SUCCESS)
            } else {
                let mut err = std::io::stderr().lock();
                let words = summary
                    .message
                    .as_deref()
                    .unwrap_or("the session did not finish");
                writeln!(err, "kiosk: no slip was printed: {words}")?;
                Ok(std::process::ExitCode::FAILURE)
            }
        }
        Some(Command::StaffEntry { id_number, name }) => {
            staff_entry(&id_number, &name).map(|()| std::process::ExitCode::SUCCESS)
        }
        Some(Command::CheckConfig(args)) => kiosk::check_config::run(&args),
        Some(Command::Sync { config, timeout }) => {
            let config = Config::load(&config)?;
            let report = runtime()?.block_on(kiosk::engine::sync_now(
                config,
                std::time::Duration::from_secs(timeout),
            ))?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", serde_json::to_string(&report)?)?;
            Ok(if report.done {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::FAILURE
            })
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn sample_code() -> Result<()> {
    let sample = Sample::new()?;
    let (signer, today) = (sample.signer(), sample.today());
    let text = sample.code().to_qr_text();

    // Check it as a verifier would, before showing it: a code that fails is never shown.
    let checked =
        OfflineCode::verify_on(&text, &sample.keys(), today).context("the sample code")?;

    let qr = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q)
        .context("drawing the QR code")?;
    // Terminals are mostly light text on dark: draw light modules as blocks so the code reads right.
    let picture = qr
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build();
    let body = checked.body();
    let mut out = std::io::stdout().lock();
    writeln!(out, "{picture}")?;
    writeln!(
        out,
        "随申码·离线码 (sample, throw-away key: not valid anywhere)"
    )?;
    writeln!(out, "qr_text: {text}")?;
    writeln!(out, "qr_text_length: {}", text.len())?;
    writeln!(out, "kid: {}", body.kid())?;
    writeln!(out, "public_key_hex: {}", signer.public_key().to_hex())?;
    writeln!(out, "code_id: {}", hex::encode(body.code_id()))?;
    writeln!(out, "serial: {}", body.serial())?;
    writeln!(out, "issued_on: {}", body.issued_on())?;
    writeln!(out, "expires_on: {}", body.expires_on())?;
    Ok(())
}

/// `kiosk staff-entry`: reads the PIN from standard input and prints a `[[staff]]` entry.
fn staff_entry(id_number: &str, name: &str) -> Result<()> {
    use std::io::{BufRead, IsTerminal};
    let number = protocol::IdNumber::parse(id_number.trim())
        .map_err(|e| anyhow::anyhow!("the ID number is not valid: {e}"))?;
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let mut err = std::io::stderr().lock();
        writeln!(err, "PIN (4 to 8 digits), then Enter:")?;
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the PIN from standard input")?;
    let pin = zeroize::Zeroizing::new(line.trim().to_owned());
    zeroize::Zeroize::zeroize(&mut line);
    let mut salt = [0u8; protocol::api::STAFF_SALT_LEN];
    let mut pin_salt = [0u8; protocol::api::STAFF_SALT_LEN];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    getrandom::fill(&mut pin_salt).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let entry = protocol::api::StaffEntry::new(&number, name, &pin, salt, pin_salt)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = std::io::stdout().lock();
    write!(out, "{}", staff_toml(&entry))?;
    Ok(())
}

/// A `[[staff]]` table for kiosk.toml.
fn staff_toml(entry: &protocol::api::StaffEntry) -> String {
    // The values are hex, a PHC string and a masked name: TOML basic strings need escaping for
    // `"` and `\` only, which none of them hold but the name might.
    let name = entry.name_masked.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        "[[staff]]\nsalt_hex = \"{}\"\nid_hash_hex = \"{}\"\npin_hash = \"{}\"\nname_masked = \"{name}\"\n",
        entry.salt_hex, entry.id_hash_hex, entry.pin_hash
    )
}
