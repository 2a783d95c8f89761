//! The ID-card reader: the SAM frame codec, the text-block parser for the four card types, the
//! PC/SC backend and a simulator, behind one narrow trait.
//!
//! This crate is the only place that talks to the reader; nothing here knows about screens or HTTP.
