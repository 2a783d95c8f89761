//! The QR scanner on a serial port (USB-CDC or RS-232): terminator and idle-gap framing, a
//! length cap, repeat suppression, reconnection, and a simulator, behind one narrow trait.
//!
//! This crate is the only place that talks to the scanner; nothing here knows about screens or HTTP.
