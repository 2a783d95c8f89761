//! `idcard-emulator`: an emulated ID-card reader for `pcscd` with the vpcd driver.
//!
//! ```text
//! idcard-emulator [--port N] [--card resident|foreigner_2017|foreigner_2023|permit]
//!                 [--settle N] [--corrupt-once] [--fail-read-once]
//! ```
//!
//! Connects to vpcd on 127.0.0.1 (port 35963 by default, the reader "Virtual PCD 00 00") with one
//! of the demo cards on the reader, and answers as a reader with its SAM behind the tunnel APDU
//! dialect, until interrupted. `--settle N` answers "no card" to the first N finds, `--corrupt-once`
//! spoils the checksum of the first read answer, `--fail-read-once` answers the first read with
//! `41`. Start `pcscd` before or after; the emulator keeps trying to connect.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use idcard::CardType;
use idcard::emulator::{self, DEFAULT_PORT, EmulatorConfig};

const USAGE: &str = "usage: idcard-emulator [--port N] \
[--card resident|foreigner_2017|foreigner_2023|permit] [--settle N] [--corrupt-once] \
[--fail-read-once]";

fn main() -> ExitCode {
    let mut stderr = std::io::stderr();
    let config = match parse(std::env::args().skip(1)) {
        Ok(Some(config)) => config,
        Ok(None) => {
            let _ = writeln!(std::io::stdout(), "{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            let _ = writeln!(stderr, "idcard-emulator: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let card_type = config
        .card
        .as_ref()
        .map_or("no card", |card| card.card_type.as_str());
    let _ = writeln!(
        stderr,
        "idcard-emulator: {card_type} on the vpcd reader at 127.0.0.1:{}; stop with Ctrl-C",
        config.port
    );
    match emulator::run(config, Arc::new(AtomicBool::new(false))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(stderr, "idcard-emulator: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The configuration the arguments ask for, or `None` for `--help`.
fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<EmulatorConfig>, String> {
    let mut config = EmulatorConfig {
        port: DEFAULT_PORT,
        ..EmulatorConfig::default()
    };
    let mut card_type = CardType::Resident;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                let v = value("--port")?;
                config.port = v.parse().map_err(|_| format!("bad port {v:?}"))?;
            }
            "--card" => {
                let v = value("--card")?;
                card_type = CardType::ALL
                    .into_iter()
                    .find(|t| t.as_str() == v)
                    .ok_or(format!("unknown card type {v:?}"))?;
            }
            "--settle" => {
                let v = value("--settle")?;
                config.settle_no_card = v.parse().map_err(|_| format!("bad count {v:?}"))?;
            }
            "--corrupt-once" => config.corrupt_checksum_once = true,
            "--fail-read-once" => config.fail_read_once = true,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    config.card = idcard::demo_cards()
        .into_iter()
        .find(|card| card.card_type == card_type);
    if config.card.is_none() {
        return Err(format!("no demo card of type {}", card_type.as_str()));
    }
    Ok(Some(config))
}
