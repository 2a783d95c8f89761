//! Test support for the PC/SC tests: a `pcscd` with the vpcd driver, and the emulator program.

use std::process::{Child, Command, Stdio};

mod pcscd;

pub(crate) use pcscd::{Pcscd, wait_until_empty};

/// Starts the `idcard-emulator` program with `args`.
pub(crate) fn spawn_emulator(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_idcard-emulator"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start idcard-emulator")
}
