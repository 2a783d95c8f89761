//! The ID-card reader: the SAM frame codec, the text-block parser for the four card types, the
//! PC/SC backend and a simulator, behind one narrow trait.
//!
//! This crate is the only place that talks to the reader; nothing here knows about screens or HTTP.
//!
//! # Layers
//!
//! * [`sam`]: the frames the host exchanges with the reader's security module (pure).
//! * [`text`]: the 256-byte text block of the four card types, parsed into one [`IdCard`] (pure).
//! * [`read`]: the find → select → read loop with its retries, over any [`read::SamTransport`].
//! * [`apdu`] and [`pcsc`]: the PC/SC backend and the APDU dialect that carries SAM frames.
//! * [`sim`]: a simulated reader, for the demo and for tests.
//! * [`emulator`]: an emulated reader behind the vpcd protocol, for the PC/SC integration tests.
//!
//! Every backend implements [`CardReader`]: it owns a thread and reports [`ReaderEvent`]s on a
//! channel.

pub mod apdu;
pub mod emulator;
pub mod pcsc;
pub mod read;
pub mod sam;
pub mod sim;
pub mod text;

pub use read::{ReadError, ReadPolicy, SamTransport, TransportError, read_card};
pub use sam::{Command, FrameError, Response, Status};
pub use sim::{SimHandle, SimulatedReader, demo_cards};
pub use text::{CardType, CardView, IdCard, Sex, TextError};

/// What a reader backend reports, in the order it happens.
///
/// A card's life on one reader is `CardPresent`, then `CardRead` or `ReadRetry`, then
/// `CardRemoved`. `Debug` never shows a holder's full name or number ([`IdCard`]'s `Debug` masks
/// them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderEvent {
    /// A reader appeared (at start, or plugged in).
    ReaderAttached {
        /// The reader's name.
        reader: String,
    },
    /// A reader disappeared (unplugged).
    ReaderDetached {
        /// The reader's name.
        reader: String,
    },
    /// A card was placed on a reader; a read has started.
    CardPresent {
        /// The reader's name.
        reader: String,
    },
    /// A card was read and its text block parsed.
    CardRead {
        /// The reader's name.
        reader: String,
        /// What the card says.
        card: Box<IdCard>,
    },
    /// The card left during a read, or a read failed in a way a new attempt may fix: the UI asks
    /// to place the card again.
    ReadRetry {
        /// The reader's name.
        reader: String,
        /// Why the read failed.
        reason: ReadError,
    },
    /// The card was lifted off the reader.
    CardRemoved {
        /// The reader's name.
        reader: String,
    },
    /// Something went wrong that a new card will not fix (the PC/SC service stopped, …).
    Error {
        /// The reader concerned, if it is known.
        reader: Option<String>,
        /// What went wrong, for staff.
        error: String,
    },
}

/// A reader backend: PC/SC, or the simulator.
pub trait CardReader: Send {
    /// Starts the backend's own thread; events arrive on the returned receiver until `stop`.
    fn start(&mut self) -> std::sync::mpsc::Receiver<ReaderEvent>;
    /// Stops the thread cleanly (PC/SC: `Context::cancel`) and joins it.
    fn stop(&mut self);
}
