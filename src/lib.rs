//! The kiosk: the pure session flow, the journal, the central client and sync, device
//! supervision and the headless session (`kiosk run-once`). The binary (`src/main.rs`) is the
//! command line around it.
//!
//! Functional core, imperative shell: [`flow`] (resident sessions) and [`staff`] (hall-staff
//! maintenance mode) are pure (inputs and time in, effects out); the other modules are the
//! shell that carries their effects out.

pub mod check_config;
pub mod client;
pub mod config;
pub mod devices;
#[cfg(feature = "embedded-central")]
pub mod embedded;
pub mod engine;
pub mod failpoint;
pub mod flow;
pub mod journal;
pub mod run_once;
pub mod sample;
pub mod secret;
pub mod staff;
pub mod status;
pub mod sync;
pub mod ui;
