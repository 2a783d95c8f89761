//! Slip bytes per printer profile: the ESC/POS bytes the kiosk sends for one slip (a first 申领
//! and a 补领), for every built-in profile, as `printer::slip::slip_bytes` lays them out.

use std::time::Instant;

use anyhow::{Context, Result};
use printer::Profile;
use printer::slip::{SlipContent, slip_bytes};
use protocol::keys::SoftwareSigner;
use protocol::{KeySet, OfflineCode};
use time::macros::{date, datetime};

use crate::report::{Percentiles, Table, ms};

/// Runs of the pre-print check per profile.
const CHECK_RUNS: usize = 20;

/// A throw-away key (the first test vector's): the bytes do not depend on which key signs.
const KEY_HEX: &str = "0b0978db03f6c46250b4da0ab0944136dedef4bd80dbf79f0715765e3a125640";

fn content(serial: u16) -> Result<SlipContent> {
    let signer = SoftwareSigner::from_private_key_hex(1, KEY_HEX)
        .map_err(|e| anyhow::anyhow!("the sample key: {e}"))?;
    let issued = date!(2026 - 11 - 21);
    let code = OfflineCode::issue(&signer, [0x5A; 16], serial, issued)
        .map_err(|e| anyhow::anyhow!("the sample code: {e}"))?;
    let body = code.body();
    Ok(SlipContent {
        qr_text: code.to_qr_text(),
        name_masked: "王*英".into(),
        id_number_masked: "310***********0029".into(),
        issued_on: body.issued_on(),
        expires_on: body.expires_on(),
        serial,
        reissue: serial > 1,
        kiosk_id: "K001".into(),
        printed_at: datetime!(2026-11-21 10:00 +8),
    })
}

/// The table: one row per built-in profile.
pub(crate) fn table() -> Result<Table> {
    let mut table = Table::new(
        "Slip bytes per printer profile",
        &[
            "profile",
            "dots per line",
            "QR",
            "申领 slip",
            "补领 slip",
            "pre-print check (p50)",
        ],
    );
    let first = content(1)?;
    let reissue = content(2)?;
    // The slips must still pass the kiosk's own pre-print check.
    let signer = SoftwareSigner::from_private_key_hex(1, KEY_HEX)
        .map_err(|e| anyhow::anyhow!("the sample key: {e}"))?;
    let keys: KeySet = [(1, protocol::Signer::public_key(&signer))]
        .into_iter()
        .collect();
    for profile in Profile::builtins() {
        let a = slip_bytes(&first, &profile).context("laying out a slip")?;
        let b = slip_bytes(&reissue, &profile).context("laying out a slip")?;
        let mut checks = Vec::new();
        for _ in 0..CHECK_RUNS {
            let started = Instant::now();
            printer::printing::checked_slip(&first, &profile, &keys)
                .map_err(|e| anyhow::anyhow!("{}: the slip fails its check: {e}", profile.name))?;
            checks.push(started.elapsed());
        }
        table.row(vec![
            profile.name.clone(),
            profile.dots_per_line.to_string(),
            if profile.native_qr {
                format!("native (GS ( k), module {}", profile.qr_module_dots)
            } else {
                format!("raster (GS v 0), module {}", profile.qr_module_dots)
            },
            format!("{} B", a.len()),
            format!("{} B", b.len()),
            ms(Percentiles::of(&checks).p50),
        ]);
    }
    table.note(format!(
        "Everything sent for one slip: initialise, Chinese mode where the profile has it, text in \
         the profile's encoding, the QR and the cut (status requests around the job not counted). \
         The pre-print check is what the kiosk does before every print: lay out, render the \
         bytes, decode the QR, compare, verify the SM2 signature (median of {CHECK_RUNS} runs)."
    ));
    Ok(table)
}
