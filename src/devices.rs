//! Device supervision: builds the configured backends (real or simulated), runs each on its own
//! thread, and merges what they report into one channel of [`DeviceEvent`]s. The printer gets a
//! worker thread of its own that takes print jobs and polls the status between them, so that no
//! blocking device call ever runs on the engine's tasks.
//!
//! Also here: the translation of driver values into the flow's inputs ([`card_fields`]) and of
//! printer failures into the API's [`PrintFailure`] ([`print_failure`]).

use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};
use idcard::pcsc::{PcscReader, ReaderSelection};
use idcard::{CardReader, CardType, IdCard, ReaderEvent, Sex, SimulatedReader};
use printer::printing::{SlipPrintError, print_slip};
use printer::slip::SlipContent;
use printer::{
    Connection, EscPosPrinter, PrintError, PrintReport, Printer, PrinterStatus, Profile,
    SimulatedPrinter,
};
use protocol::KeySet;
use protocol::api::{CardKind, CardSex, IdCardFields, PrintFailure, RequestId};
use scanner::{Scanner, ScannerEvent, SerialScanner, SimulatedScanner};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::config::{Config, IdcardConfig, PrinterConfig, ScannerConfig};
use crate::failpoint::{self, Point};
use crate::flow::SessionId;

/// How often the printer worker reads the status while no job runs.
pub const PRINTER_POLL: Duration = Duration::from_secs(10);

/// What the devices report, merged.
#[derive(Debug)]
pub enum DeviceEvent {
    /// From the ID-card reader.
    Reader(ReaderEvent),
    /// From the QR scanner.
    Scanner(ScannerEvent),
    /// The printer's status, read between jobs or around one.
    PrinterStatus(PrinterStatus),
    /// A print job finished.
    Printed {
        /// The session that asked.
        session: SessionId,
        /// The attempt whose code was printed.
        request_id: RequestId,
        /// What happened.
        result: Result<PrintReport, (PrintFailure, String)>,
    },
}

/// Handles on the simulated devices, for the simulator panel, `run-once --demo-card` and tests.
#[derive(Debug, Clone, Default)]
pub struct SimHandles {
    /// The simulated reader, when the reader is simulated.
    pub reader: Option<idcard::SimHandle>,
    /// The simulated scanner, when the scanner is simulated.
    pub scanner: Option<scanner::SimHandle>,
    /// The simulated printer, when the printer is simulated.
    pub printer: Option<printer::SimPrinterHandle>,
}

/// A print job for the printer worker.
#[derive(Debug)]
pub struct PrintOrder {
    /// The session that asked.
    pub session: SessionId,
    /// The attempt whose code this is.
    pub request_id: RequestId,
    /// What the slip says.
    pub content: SlipContent,
    /// The issuer keys the slip's code must verify against before it is printed.
    pub keys: KeySet,
}

/// The printer worker's queue (cheap to clone).
#[derive(Debug, Clone)]
pub struct PrinterQueue(std_mpsc::Sender<PrinterCommand>);

impl PrinterQueue {
    /// Hands a slip to the printer worker; the result comes back as [`DeviceEvent::Printed`].
    pub fn print(&self, order: PrintOrder) {
        if self.0.send(PrinterCommand::Print(Box::new(order))).is_err() {
            tracing::error!("the printer thread has stopped");
        }
    }
}

#[derive(Debug)]
enum PrinterCommand {
    Print(Box<PrintOrder>),
    Stop,
}

/// The running devices.
pub struct Devices {
    /// Everything the devices report.
    pub events: UnboundedReceiver<DeviceEvent>,
    /// Handles on the simulated devices.
    pub sim: SimHandles,
    /// The printer profile in use.
    pub profile: Profile,
    printer: PrinterQueue,
    reader: Box<dyn CardReader>,
    scanner: Box<dyn Scanner>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Devices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devices")
            .field("profile", &self.profile.name)
            .finish_non_exhaustive()
    }
}

impl Devices {
    /// Starts the devices of `config`. Simulated printers write their slips (bytes, PNG, PDF)
    /// under `<data_dir>/sim-printer`.
    pub fn start(config: &Config) -> Result<Devices> {
        let (tx, events) = unbounded_channel();
        let mut sim = SimHandles::default();
        let mut threads = Vec::new();

        let mut reader: Box<dyn CardReader> = match &config.devices.idcard {
            IdcardConfig::Pcsc { reader } => Box::new(PcscReader::new(match reader {
                Some(name) => ReaderSelection::Named(name.clone()),
                None => ReaderSelection::First,
            })),
            IdcardConfig::Simulated => {
                let reader = SimulatedReader::new("Simulated reader");
                sim.reader = Some(reader.handle());
                Box::new(reader)
            }
        };
        threads.push(forward(reader.start(), tx.clone(), DeviceEvent::Reader));

        let mut scanner: Box<dyn Scanner> = match &config.devices.scanner {
            ScannerConfig::Serial { port, baud } => {
                let mut settings = scanner::ScannerConfig::new(port.clone());
                settings.baud = *baud;
                Box::new(SerialScanner::new(settings))
            }
            ScannerConfig::Simulated => {
                let scanner = SimulatedScanner::new();
                sim.scanner = Some(scanner.handle());
                Box::new(scanner)
            }
        };
        threads.push(forward(scanner.start(), tx.clone(), DeviceEvent::Scanner));

        let (profile, printer): (Profile, Box<dyn Printer>) = match &config.devices.printer {
            PrinterConfig::EscPos {
                connection,
                profile,
            } => {
                let profile = builtin_profile(profile)?;
                let connection = Connection::parse(connection)
                    .with_context(|| format!("the printer connection {connection}"))?;
                (profile, Box::new(EscPosPrinter::new(connection)))
            }
            PrinterConfig::Simulated { profile } => {
                let profile = builtin_profile(profile)?;
                let printer = SimulatedPrinter::new().with_output(
                    config.kiosk.data_dir.join("sim-printer"),
                    profile.dots_per_line,
                );
                sim.printer = Some(printer.handle());
                (profile, Box::new(printer))
            }
        };
        let (printer_tx, printer_rx) = std_mpsc::channel();
        let worker_profile = profile.clone();
        threads.push(
            std::thread::Builder::new()
                .name("printer".into())
                .spawn(move || printer_worker(printer, &worker_profile, &printer_rx, &tx))
                .context("starting the printer thread")?,
        );

        Ok(Devices {
            events,
            sim,
            profile,
            printer: PrinterQueue(printer_tx),
            reader,
            scanner,
            threads,
        })
    }

    /// Where print jobs go.
    pub fn printer(&self) -> PrinterQueue {
        self.printer.clone()
    }

    /// Stops every device thread.
    pub fn stop(mut self) {
        self.reader.stop();
        self.scanner.stop();
        let _ = self.printer.0.send(PrinterCommand::Stop);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn builtin_profile(name: &str) -> Result<Profile> {
    Profile::builtin(name).with_context(|| format!("unknown printer profile {name}"))
}

/// Forwards a backend's events into the merged channel, on a thread of its own.
fn forward<T: Send + 'static>(
    from: std_mpsc::Receiver<T>,
    to: UnboundedSender<DeviceEvent>,
    wrap: fn(T) -> DeviceEvent,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for event in from {
            if to.send(wrap(event)).is_err() {
                break;
            }
        }
    })
}

fn printer_worker(
    mut printer: Box<dyn Printer>,
    profile: &Profile,
    commands: &std_mpsc::Receiver<PrinterCommand>,
    events: &UnboundedSender<DeviceEvent>,
) {
    let mut last = printer.status();
    let _ = events.send(DeviceEvent::PrinterStatus(last));
    loop {
        match commands.recv_timeout(PRINTER_POLL) {
            Ok(PrinterCommand::Print(order)) => {
                let result = print_slip(printer.as_mut(), &order.content, profile, &order.keys);
                // The bytes are out (or refused) but the outcome is not yet journaled.
                failpoint::check(Point::DuringPrint);
                let result = match result {
                    Ok(report) => {
                        last = report.after;
                        Ok(report)
                    }
                    Err(error) => {
                        if let SlipPrintError::Print(PrintError::Refused(status)) = &error {
                            last = *status;
                        }
                        Err((print_failure(&error), error.to_string()))
                    }
                };
                let _ = events.send(DeviceEvent::PrinterStatus(last));
                let sent = events.send(DeviceEvent::Printed {
                    session: order.session,
                    request_id: order.request_id,
                    result,
                });
                if sent.is_err() {
                    return;
                }
            }
            Ok(PrinterCommand::Stop) | Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
            Err(std_mpsc::RecvTimeoutError::Timeout) => {
                let status = printer.status();
                if status != last || status != PrinterStatus::Ready {
                    last = status;
                    if events.send(DeviceEvent::PrinterStatus(status)).is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// Why a slip was not printed, in the API's terms.
pub fn print_failure(error: &SlipPrintError) -> PrintFailure {
    match error {
        SlipPrintError::Layout(_) | SlipPrintError::Check(_) => PrintFailure::SlipCheckFailed,
        SlipPrintError::Print(PrintError::Refused(status)) => match status {
            PrinterStatus::PaperOut => PrintFailure::PaperOut,
            PrinterStatus::CoverOpen => PrintFailure::CoverOpen,
            PrinterStatus::CutterError => PrintFailure::CutterError,
            PrinterStatus::Offline => PrintFailure::Offline,
            PrinterStatus::NoAnswer | PrinterStatus::Unknown => PrintFailure::NoAnswer,
            PrinterStatus::Ready | PrinterStatus::PaperNearEnd => PrintFailure::Other,
        },
        SlipPrintError::Print(PrintError::Connection(_)) => PrintFailure::Offline,
        SlipPrintError::Print(PrintError::Interrupted { .. } | PrintError::Output { .. }) => {
            PrintFailure::Other
        }
    }
}

/// The fields of a read card that the central needs (never the photo or the address).
pub fn card_fields(card: &IdCard) -> IdCardFields {
    IdCardFields {
        kind: match card.card_type {
            CardType::Resident => CardKind::Resident,
            CardType::Permit => CardKind::ResidencePermit,
            CardType::Foreigner2017 => CardKind::Foreigner2017,
            CardType::Foreigner2023 => CardKind::Foreigner2023,
        },
        name: card.display_name().to_owned(),
        id_number: card.id_number.clone(),
        sex: match card.sex {
            Sex::Male => CardSex::Male,
            Sex::Female => CardSex::Female,
            Sex::NotKnown => CardSex::NotKnown,
            Sex::NotStated => CardSex::NotStated,
        },
        birth_date: card.birth_date,
        valid_from: card.valid_from,
        valid_until: card.valid_until,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_card_maps_to_fields_with_its_number_and_name() {
        for card in idcard::demo_cards() {
            let fields = card_fields(&card);
            assert_eq!(fields.id_number, card.id_number);
            assert_eq!(fields.name, card.display_name());
            assert_eq!(fields.birth_date, card.birth_date);
        }
    }

    #[test]
    fn refusals_map_to_the_matching_failure() {
        let refused = |s| SlipPrintError::Print(PrintError::Refused(s));
        assert_eq!(
            print_failure(&refused(PrinterStatus::PaperOut)),
            PrintFailure::PaperOut
        );
        assert_eq!(
            print_failure(&refused(PrinterStatus::CoverOpen)),
            PrintFailure::CoverOpen
        );
        assert_eq!(
            print_failure(&refused(PrinterStatus::NoAnswer)),
            PrintFailure::NoAnswer
        );
        assert_eq!(
            print_failure(&refused(PrinterStatus::Offline)),
            PrintFailure::Offline
        );
    }
}
