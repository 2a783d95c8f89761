//! Sample codes signed with a throw-away key: `kiosk sample-code`, and the test slips of
//! `kiosk doctor printer --test-print` and of the staff's test print. A sample code verifies only
//! against its own throw-away key, which is dropped with it: it is valid nowhere else, and a test
//! slip says so on its face.
//!
//! Also the demo hall staff member's card ([`demo_staff_card`]), for the simulator panel: the
//! demo central service enrols them.

use anyhow::{Context, Result};
use printer::slip::SlipContent;
use protocol::code::{CODE_ID_LEN, OfflineCode};
use protocol::keys::{KeySet, PRIVATE_KEY_LEN, Signer, SoftwareSigner};
use time::{Date, OffsetDateTime};

use crate::engine::SHANGHAI;

/// What a test slip carries where a holder's masked name goes.
pub const TEST_SLIP_NAME: &str = "测试样张 无效";
/// What a test slip carries where a holder's masked ID number goes.
pub const TEST_SLIP_ID: &str = "000***********0000";

/// A sample code signed with a throw-away key, and the key set that verifies it.
pub struct Sample {
    code: OfflineCode,
    signer: SoftwareSigner,
    today: Date,
}

impl std::fmt::Debug for Sample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sample")
            .field("today", &self.today)
            .finish_non_exhaustive()
    }
}

impl Sample {
    /// A new sample code, issued today (Shanghai) with serial 1 under a fresh key (kid 1).
    ///
    /// # Errors
    /// No randomness, or the code could not be signed.
    pub fn new() -> Result<Self> {
        let signer = throwaway_signer()?;
        let mut code_id = [0u8; CODE_ID_LEN];
        getrandom::fill(&mut code_id).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let today = OffsetDateTime::now_utc().to_offset(SHANGHAI).date();
        let code =
            OfflineCode::issue(&signer, code_id, 1, today).context("issuing the sample code")?;
        Ok(Self {
            code,
            signer,
            today,
        })
    }

    /// The code.
    pub fn code(&self) -> &OfflineCode {
        &self.code
    }

    /// Its signer (for showing its public key).
    pub fn signer(&self) -> &SoftwareSigner {
        &self.signer
    }

    /// The day it was issued (Shanghai).
    pub fn today(&self) -> Date {
        self.today
    }

    /// The key set that verifies it: its own throw-away key only.
    pub fn keys(&self) -> KeySet {
        [(self.signer.kid(), self.signer.public_key())]
            .into_iter()
            .collect()
    }

    /// A test slip carrying this code, marked as a test (name [`TEST_SLIP_NAME`], ID number
    /// [`TEST_SLIP_ID`], the kiosk id followed by `测试`), and the keys it is checked against
    /// before it is printed.
    pub fn test_slip(&self, kiosk_id: &str) -> (SlipContent, KeySet) {
        let body = self.code.body();
        let content = SlipContent {
            qr_text: self.code.to_qr_text(),
            name_masked: TEST_SLIP_NAME.into(),
            id_number_masked: TEST_SLIP_ID.into(),
            issued_on: body.issued_on(),
            expires_on: body.expires_on(),
            serial: body.serial(),
            reissue: false,
            kiosk_id: format!("{kiosk_id} 测试"),
            printed_at: OffsetDateTime::now_utc(),
        };
        (content, self.keys())
    }
}

/// A fresh test slip for this kiosk and the keys that verify it.
///
/// # Errors
/// As [`Sample::new`].
pub fn test_slip(kiosk_id: &str) -> Result<(SlipContent, KeySet)> {
    Ok(Sample::new()?.test_slip(kiosk_id))
}

/// The demo hall staff member's (fictional) ID number: the demo central service (`central serve
/// --demo`, and so the embedded one) enrols them with [`DEMO_STAFF_PIN`].
pub const DEMO_STAFF_ID_NUMBER: &str = "310101198507010015";
/// The demo hall staff member's name.
pub const DEMO_STAFF_NAME: &str = "林晓岚";
/// The demo hall staff member's PIN.
pub const DEMO_STAFF_PIN: &str = "1234";

/// The demo hall staff member's ID card (a demo resident card with their number and name), for
/// the simulator panel and tests.
pub fn demo_staff_card() -> Option<idcard::IdCard> {
    let mut card = idcard::demo_cards().into_iter().next()?;
    card.id_number = protocol::IdNumber::parse(DEMO_STAFF_ID_NUMBER).ok()?;
    card.name = DEMO_STAFF_NAME.to_owned();
    card.sex = idcard::Sex::Female;
    card.birth_date = card.id_number.birth_date();
    card.address = Some("上海市黄浦区演示路1号".to_owned());
    Some(card)
}

fn throwaway_signer() -> Result<SoftwareSigner> {
    loop {
        let mut secret = [0u8; PRIVATE_KEY_LEN];
        getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        // Out of range happens with probability about 2^-32; draw again.
        if let Ok(signer) = SoftwareSigner::from_private_key(1, &secret) {
            return Ok(signer);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_test_slip_verifies_against_its_own_key_only_and_says_it_is_a_test() {
        let sample = Sample::new().unwrap();
        let (content, keys) = sample.test_slip("K001");
        assert!(content.kiosk_id.contains("测试"));
        assert!(content.name_masked.contains("测试"));
        OfflineCode::verify_on(&content.qr_text, &keys, sample.today()).unwrap();
        let other = Sample::new().unwrap();
        assert!(OfflineCode::verify_on(&content.qr_text, &other.keys(), sample.today()).is_err());
    }
}
