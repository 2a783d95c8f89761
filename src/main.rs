//! The kiosk binary: the command line around the kiosk library. `kiosk run-once` runs one
//! resident session without a screen; `kiosk sync` settles and uploads what the journal holds;
//! `kiosk doctor` checks the devices; `kiosk sample-code` (also what `kiosk` alone does until the
//! screens are wired in) issues and draws a sample code with a throw-away key.

mod doctor;

use std::io::Write;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use kiosk::config::Config;
use protocol::api::Action;
use protocol::code::{CODE_ID_LEN, OfflineCode};
use protocol::keys::{KeySet, PRIVATE_KEY_LEN, Signer, SoftwareSigner};
use qrcode::render::unicode::Dense1x2;
use qrcode::{EcLevel, QrCode};
use time::{OffsetDateTime, UtcOffset};

/// Shanghai is UTC+8 all year.
const SHANGHAI: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// The 随申码 offline-code kiosk.
#[derive(Debug, Parser)]
#[command(name = "kiosk", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
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
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn run(cli: Cli) -> Result<std::process::ExitCode> {
    match cli.command {
        None | Some(Command::SampleCode) => sample_code().map(|()| std::process::ExitCode::SUCCESS),
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

/// A sample code signed with a throw-away key, and the key set that verifies it: for showing the
/// pipeline and for test prints. Not valid anywhere else.
pub(crate) struct Sample {
    /// The code.
    code: OfflineCode,
    /// Its signer.
    signer: SoftwareSigner,
    /// Today in Shanghai.
    today: time::Date,
}

impl Sample {
    fn new() -> Result<Self> {
        let signer = throwaway_signer()?;
        let mut code_id = [0u8; CODE_ID_LEN];
        getrandom::fill(&mut code_id).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let today = OffsetDateTime::now_utc().to_offset(SHANGHAI).date();
        let code =
            OfflineCode::issue(&signer, code_id, 1, today).context("issuing the sample code")?;
        Ok(Self {
            code,
            signer,
            today,
        })
    }

    fn keys(&self) -> KeySet {
        [(self.signer.kid(), self.signer.public_key())]
            .into_iter()
            .collect()
    }

    /// The slip a test print carries.
    pub(crate) fn slip() -> Result<(printer::slip::SlipContent, KeySet)> {
        let sample = Self::new()?;
        let body = sample.code.body();
        let content = printer::slip::SlipContent {
            qr_text: sample.code.to_qr_text(),
            name_masked: "测*样".into(),
            id_number_masked: "310***********0000".into(),
            issued_on: body.issued_on(),
            expires_on: body.expires_on(),
            serial: body.serial(),
            reissue: false,
            kiosk_id: "TEST".into(),
            printed_at: OffsetDateTime::now_utc(),
        };
        Ok((content, sample.keys()))
    }
}

fn sample_code() -> Result<()> {
    let sample = Sample::new()?;
    let (signer, today) = (&sample.signer, sample.today);
    let text = sample.code.to_qr_text();

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

fn throwaway_signer() -> Result<SoftwareSigner> {
    loop {
        let mut secret = [0u8; PRIVATE_KEY_LEN];
        getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        // Out of range happens with probability about 2^-32; draw again.
        if let Ok(signer) = SoftwareSigner::from_private_key(1, &secret) {
            return Ok(signer);
        }
    }
}
