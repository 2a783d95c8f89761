//! A simulated reader for the demo and for tests: cards are given as values through a
//! [`SimHandle`], and the reader reports the same [`ReaderEvent`]s as the PC/SC backend, from its
//! own thread.
//!
//! * At start: `ReaderAttached` (unless the reader was detached before the start).
//! * [`SimHandle::place`]: `CardPresent`, then (after the read delay, by default none)
//!   `CardRead`. A card already on the reader is removed first (`CardRemoved`).
//! * [`SimHandle::place_unreadable`]: `CardPresent`, then `ReadRetry` with the given reason.
//! * [`SimHandle::remove`]: `CardRemoved` (after `ReadRetry` with [`ReadError::CardRemoved`] if
//!   the read had not finished).
//! * [`SimHandle::detach_reader`]: `CardRemoved` if a card is on the reader, then
//!   `ReaderDetached`. A card placed while the reader is detached waits for
//!   [`SimHandle::attach_reader`], which sends `ReaderAttached` and then reads it.
//!
//! [`demo_cards`] gives fictional cards of all four types.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use protocol::IdNumber;
use protocol::idnumber::check_character;
use time::macros::date;

use crate::read::ReadError;
use crate::text::{CardType, IdCard, Sex};
use crate::{CardReader, ReaderEvent};

/// What a [`SimHandle`] asks the reader thread to do.
enum SimCommand {
    Place(Box<IdCard>),
    PlaceUnreadable(ReadError),
    Remove,
    Detach,
    Attach,
    Stop,
}

/// Controls a [`SimulatedReader`]: place and remove cards, plug the reader in and out.
///
/// Cheap to clone; commands take effect in the order they are given, also when given before
/// [`CardReader::start`].
#[derive(Clone)]
pub struct SimHandle {
    commands: Sender<SimCommand>,
}

impl SimHandle {
    fn send(&self, command: SimCommand) {
        // The receiver lives as long as the reader; a send fails only after it is dropped.
        let _ = self.commands.send(command);
    }

    /// Places a card on the reader: it will be read.
    pub fn place(&self, card: IdCard) {
        self.send(SimCommand::Place(Box::new(card)));
    }

    /// Places a card whose read fails with `reason`.
    pub fn place_unreadable(&self, reason: ReadError) {
        self.send(SimCommand::PlaceUnreadable(reason));
    }

    /// Lifts the card off the reader.
    pub fn remove(&self) {
        self.send(SimCommand::Remove);
    }

    /// Unplugs the reader.
    pub fn detach_reader(&self) {
        self.send(SimCommand::Detach);
    }

    /// Plugs the reader back in.
    pub fn attach_reader(&self) {
        self.send(SimCommand::Attach);
    }
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SimHandle")
    }
}

/// A card on the simulated reader.
enum Slot {
    Readable(Box<IdCard>),
    Unreadable(ReadError),
}

/// The reader thread's state, kept between runs.
struct State {
    name: String,
    attached: bool,
    card: Option<Slot>,
    read_delay: Duration,
}

/// A simulated reader ([module documentation](self)).
pub struct SimulatedReader {
    handle: SimHandle,
    /// The command receiver and state while the thread is not running.
    idle: Option<(Receiver<SimCommand>, State)>,
    thread: Option<JoinHandle<(Receiver<SimCommand>, State)>>,
}

impl std::fmt::Debug for SimulatedReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatedReader")
            .field("running", &self.thread.is_some())
            .finish_non_exhaustive()
    }
}

impl SimulatedReader {
    /// A reader called `reader_name`, attached and empty, that reads a card at once.
    pub fn new(reader_name: impl Into<String>) -> Self {
        let (commands, receiver) = mpsc::channel();
        Self {
            handle: SimHandle { commands },
            idle: Some((
                receiver,
                State {
                    name: reader_name.into(),
                    attached: true,
                    card: None,
                    read_delay: Duration::ZERO,
                },
            )),
            thread: None,
        }
    }

    /// Makes every read take `delay` between `CardPresent` and `CardRead`, like a real reader
    /// (about a second); a card removed meanwhile gives `ReadRetry`.
    #[must_use]
    pub fn with_read_delay(mut self, delay: Duration) -> Self {
        if let Some((_, state)) = &mut self.idle {
            state.read_delay = delay;
        }
        self
    }

    /// A handle to control this reader.
    pub fn handle(&self) -> SimHandle {
        self.handle.clone()
    }
}

impl CardReader for SimulatedReader {
    fn start(&mut self) -> Receiver<ReaderEvent> {
        self.stop();
        let (events, receiver) = mpsc::channel();
        if let Some((commands, state)) = self.idle.take() {
            self.thread = Some(thread::spawn(move || run(commands, state, events)));
        }
        receiver
    }

    fn stop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.handle.send(SimCommand::Stop);
            if let Ok(idle) = thread.join() {
                self.idle = Some(idle);
            }
        }
    }
}

impl Drop for SimulatedReader {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The reader thread.
struct Runner {
    state: State,
    events: Sender<ReaderEvent>,
    /// When the read of the card on the reader finishes, if it is under way.
    reading: Option<Instant>,
}

impl Runner {
    fn emit(&self, event: ReaderEvent) {
        // Nobody listening is not an error for a simulator.
        let _ = self.events.send(event);
    }

    fn reader(&self) -> String {
        self.state.name.clone()
    }

    /// A card is on an attached reader: report it and start reading.
    fn begin_read(&mut self) {
        self.emit(ReaderEvent::CardPresent {
            reader: self.reader(),
        });
        self.reading = Some(Instant::now() + self.state.read_delay);
        if self.state.read_delay.is_zero() {
            self.finish_read();
        }
    }

    fn finish_read(&mut self) {
        self.reading = None;
        let event = match &self.state.card {
            Some(Slot::Readable(card)) => ReaderEvent::CardRead {
                reader: self.reader(),
                card: card.clone(),
            },
            Some(Slot::Unreadable(reason)) => ReaderEvent::ReadRetry {
                reader: self.reader(),
                reason: reason.clone(),
            },
            None => return,
        };
        self.emit(event);
    }

    /// The card leaves an attached reader.
    fn card_gone(&mut self) {
        if self.reading.take().is_some() {
            self.emit(ReaderEvent::ReadRetry {
                reader: self.reader(),
                reason: ReadError::CardRemoved,
            });
        }
        self.emit(ReaderEvent::CardRemoved {
            reader: self.reader(),
        });
    }

    fn place(&mut self, slot: Slot) {
        if self.state.attached && self.state.card.is_some() {
            self.card_gone();
        }
        self.state.card = Some(slot);
        if self.state.attached {
            self.begin_read();
        }
    }

    /// Handles one command; `false` to stop.
    fn handle(&mut self, command: SimCommand) -> bool {
        match command {
            SimCommand::Place(card) => self.place(Slot::Readable(card)),
            SimCommand::PlaceUnreadable(reason) => self.place(Slot::Unreadable(reason)),
            SimCommand::Remove => {
                if self.state.card.take().is_some() && self.state.attached {
                    self.card_gone();
                }
            }
            SimCommand::Detach => {
                if self.state.attached {
                    if self.state.card.is_some() {
                        self.card_gone();
                    }
                    self.state.attached = false;
                    self.emit(ReaderEvent::ReaderDetached {
                        reader: self.reader(),
                    });
                }
            }
            SimCommand::Attach => {
                if !self.state.attached {
                    self.state.attached = true;
                    self.emit(ReaderEvent::ReaderAttached {
                        reader: self.reader(),
                    });
                    if self.state.card.is_some() {
                        self.begin_read();
                    }
                }
            }
            SimCommand::Stop => return false,
        }
        true
    }
}

fn run(
    commands: Receiver<SimCommand>,
    state: State,
    events: Sender<ReaderEvent>,
) -> (Receiver<SimCommand>, State) {
    let mut runner = Runner {
        state,
        events,
        reading: None,
    };
    if runner.state.attached {
        runner.emit(ReaderEvent::ReaderAttached {
            reader: runner.reader(),
        });
        if runner.state.card.is_some() {
            runner.begin_read();
        }
    }
    loop {
        let command = match runner.reading {
            Some(until) => {
                match commands.recv_timeout(until.saturating_duration_since(Instant::now())) {
                    Ok(command) => command,
                    Err(RecvTimeoutError::Timeout) => {
                        runner.finish_read();
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            None => match commands.recv() {
                Ok(command) => command,
                Err(_) => break,
            },
        };
        if !runner.handle(command) {
            break;
        }
    }
    // A read cut short by the stop is simply not reported; it starts again at the next start.
    (commands, runner.state)
}

/// A GB 11643 number from its first 17 digits.
fn gb11643(first17: &str) -> Option<IdNumber> {
    let check = check_character(first17)?;
    IdNumber::parse(&format!("{first17}{check}")).ok()
}

/// Fictional cards of all four types, for the demo and tests.
///
/// The people match the demo citizens of the central service's demo data: 王秀英 (resident,
/// born 1952, 60 or over), 李建国 (resident, born 1949), 周晓明 (resident, born 1990, under 60),
/// SMITH JANE (2023 foreigner card), WEBER HANS (2017 foreigner card) and 陈美玲 (Hong Kong
/// residence permit). Names, numbers and addresses belong to nobody; the numbers are valid by
/// their check characters.
pub fn demo_cards() -> Vec<IdCard> {
    let resident = |number: Option<IdNumber>,
                    name: &str,
                    sex: Sex,
                    birth_date,
                    address: &str,
                    authority: &str,
                    valid_from,
                    valid_until| {
        Some(IdCard {
            card_type: CardType::Resident,
            name: name.to_owned(),
            english_name: None,
            sex,
            nation: Some("汉".to_owned()),
            nation_code: Some("01".to_owned()),
            nationality: None,
            birth_date,
            address: Some(address.to_owned()),
            id_number: number?,
            authority: Some(authority.to_owned()),
            valid_from,
            valid_until,
            pass_number: None,
            issue_count: None,
            card_version: None,
            renewal_count: None,
        })
    };
    let cards = [
        resident(
            gb11643("31010119520314002"),
            "王秀英",
            Sex::Female,
            date!(1952 - 03 - 14),
            "上海市黄浦区南京东路100弄3号",
            "上海市公安局黄浦分局",
            date!(2016 - 05 - 20),
            None,
        ),
        resident(
            gb11643("31010419490823001"),
            "李建国",
            Sex::Male,
            date!(1949 - 08 - 23),
            "上海市徐汇区天钥桥路58号12室",
            "上海市公安局徐汇分局",
            date!(2012 - 10 - 08),
            None,
        ),
        resident(
            gb11643("31011219900512011"),
            "周晓明",
            Sex::Male,
            date!(1990 - 05 - 12),
            "上海市闵行区莘庄镇都市路300号",
            "上海市公安局闵行分局",
            date!(2019 - 07 - 01),
            Some(date!(2039 - 07 - 01)),
        ),
        gb11643("93184019520707002").map(|id_number| IdCard {
            card_type: CardType::Foreigner2023,
            name: "简·史密斯".to_owned(),
            english_name: Some("SMITH JANE".to_owned()),
            sex: Sex::Female,
            nation: None,
            nation_code: None,
            nationality: Some("USA".to_owned()),
            birth_date: date!(1952 - 07 - 07),
            address: None,
            id_number,
            authority: Some("国家移民管理局".to_owned()),
            valid_from: date!(2024 - 01 - 15),
            valid_until: Some(date!(2034 - 01 - 14)),
            pass_number: None,
            issue_count: None,
            card_version: None,
            renewal_count: Some("00".to_owned()),
        }),
        IdNumber::parse("DEU310151092135")
            .ok()
            .map(|id_number| IdCard {
                card_type: CardType::Foreigner2017,
                name: "汉斯·韦伯".to_owned(),
                english_name: Some("WEBER HANS".to_owned()),
                sex: Sex::Male,
                nation: None,
                nation_code: None,
                nationality: Some("DEU".to_owned()),
                birth_date: date!(1951 - 09 - 21),
                address: None,
                id_number,
                authority: Some("3100".to_owned()),
                valid_from: date!(2018 - 03 - 01),
                valid_until: Some(date!(2028 - 02 - 29)),
                pass_number: None,
                issue_count: None,
                card_version: Some("01".to_owned()),
                renewal_count: None,
            }),
        gb11643("81000019480705002").map(|id_number| IdCard {
            card_type: CardType::Permit,
            name: "陈美玲".to_owned(),
            english_name: None,
            sex: Sex::Female,
            nation: None,
            nation_code: None,
            nationality: None,
            birth_date: date!(1948 - 07 - 05),
            address: Some("上海市长宁区虹桥路1号".to_owned()),
            id_number,
            authority: Some("上海市公安局长宁分局".to_owned()),
            valid_from: date!(2022 - 09 - 01),
            valid_until: Some(date!(2027 - 08 - 31)),
            pass_number: Some("H60000001".to_owned()),
            issue_count: Some("01".to_owned()),
            card_version: None,
            renewal_count: None,
        }),
    ];
    cards.into_iter().flatten().collect()
}
