//! The thermal printer over ESC/POS (USB, serial or TCP 9100): printer profiles, status polling,
//! the slip layout and its bytes, and a simulator, behind one narrow trait.
//!
//! This crate is the only place that talks to the printer; nothing here knows about screens or HTTP.
