//! The benchmark harness (`./scripts/bench` builds it in release and runs it): the kiosk's own
//! overhead per session, slip bytes per printer profile, the central under concurrent load, the
//! time to drain a journal backlog, and start-up and memory of the kiosk's screens next to
//! headless Chromium. It prints one Markdown table per benchmark on standard output (progress on
//! standard error); docs/BENCHMARKS.md holds a recent run.
//!
//! Benchmarks print numbers; nothing here is a timed assertion. Every part talks only to
//! 127.0.0.1.

mod drain;
mod fixture;
mod load;
mod people;
mod printer_sink;
mod report;
mod screen;
mod session;
mod slips;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;

use crate::report::{Table, print, progress};

/// Benchmarks of the kiosk and the central service.
#[derive(Debug, Parser)]
#[command(name = "bench", about)]
struct Args {
    /// Resident sessions for the kiosk overhead (after 20 warm-up sessions).
    #[arg(long, default_value_t = 1000)]
    sessions: usize,
    /// Concurrent clients of the load generator.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds per load phase (issuance, verification).
    #[arg(long, default_value_t = 10)]
    load_seconds: u64,
    /// Citizens the issuance phase cycles over.
    #[arg(long, default_value_t = 400)]
    citizens: usize,
    /// Journal events in the backlog to drain.
    #[arg(long, default_value_t = 10_000)]
    backlog: u64,
    /// Starts of the kiosk (and of Chromium) for the screen benchmark.
    #[arg(long, default_value_t = 5)]
    screen_runs: usize,
    /// Saves what the kiosk's first start showed (3 s after its first frame) as this PNG.
    #[arg(long)]
    screenshot: Option<PathBuf>,
    /// The kiosk binary for the screen benchmark (default: `kiosk` beside this program).
    #[arg(long)]
    kiosk_bin: Option<PathBuf>,
    /// A PostgreSQL server for the load benchmark (an administrator's URL: it creates a fresh
    /// database per run); without it the load benchmark measures SQLite only.
    #[arg(long, env = "CENTRAL_TEST_POSTGRES")]
    postgres: Option<String>,
    /// Run only these benchmarks (comma-separated: sessions, slips, load, drain, screen).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

impl Args {
    fn wants(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == name)
    }
}

fn main() -> std::process::ExitCode {
    match run(&Args::parse()) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(error) => {
            progress(&format!("error: {error:#}"));
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs what was asked; `Ok(false)` when a benchmark failed (the others still ran).
fn run(args: &Args) -> Result<bool> {
    let mut ok = true;
    print(&machine());
    let mut attempt = |name: &str, table: Result<Table>| match table {
        Ok(table) => print(&table.markdown()),
        Err(error) => {
            ok = false;
            progress(&format!("{name} failed: {error:#}"));
            print(&format!("### {name}\n\nfailed: {error:#}\n"));
        }
    };
    if args.wants("sessions") {
        let started = std::time::Instant::now();
        let result = session::run(args.sessions).map(|times| session::table(&times));
        progress(&format!(
            "sessions: {:.0} s",
            started.elapsed().as_secs_f64()
        ));
        attempt("Kiosk overhead per session", result);
    }
    if args.wants("slips") {
        attempt("Slip bytes per printer profile", slips::table());
    }
    if args.wants("load") {
        let settings = load::LoadSettings {
            concurrency: args.concurrency.max(1),
            phase: Duration::from_secs(args.load_seconds.max(1)),
            citizens: args.citizens.max(args.concurrency).max(1),
        };
        let result = load::run(settings, args.postgres.as_deref())
            .map(|results| load::table(&results, settings));
        attempt("Central under concurrent load", result);
    }
    if args.wants("drain") {
        let result = drain::run(args.backlog).map(|drain| drain::table(&drain));
        attempt("Journal backlog drain", result);
    }
    if args.wants("screen") {
        let result = kiosk_binary(args)
            .and_then(|binary| {
                screen::run(&binary, args.screen_runs.max(1), args.screenshot.as_deref())
            })
            .map(|results| screen::table(&results));
        attempt("Start to first frame and memory", result);
    }
    Ok(ok)
}

fn kiosk_binary(args: &Args) -> Result<PathBuf> {
    if let Some(path) = &args.kiosk_bin {
        return Ok(path.clone());
    }
    let me = std::env::current_exe().context("where this program is")?;
    Ok(me.with_file_name("kiosk"))
}

/// The machine, as a Markdown list.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown", |(_, m)| m.trim())
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next().map(str::to_owned))
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or("unknown".to_owned(), |kib| {
            #[allow(clippy::cast_precision_loss)]
            let gib = kib as f64 / 1024.0 / 1024.0;
            format!("{gib:.1} GiB")
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let debian = std::fs::read_to_string("/etc/debian_version").unwrap_or_default();
    let now = time::OffsetDateTime::now_utc();
    format!(
        "## Machine\n\n- CPU: {model}, {cores} cores available\n- memory: {memory}\n- Debian \
         {}, Linux {}\n- run at: {:04}-{:02}-{:02} {:02}:{:02} UTC\n",
        debian.trim(),
        kernel.trim(),
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute()
    )
}
