//! What the store tests share to issue codes without the service: a fixed day, fictional
//! citizens, issue inputs and a stand-in for the issuer.

use central::model::{CitizenId, IssueInput, NewCitizen, NewCode, StoredPhoto};
use central::store::Store;
use protocol::IdNumber;
use protocol::api::{Action, CodeId, Color, RequestId};
use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

/// The day the store tests issue on.
pub const TODAY: Date = date!(2025 - 03 - 14);
/// The moment they issue at.
pub const NOW: OffsetDateTime = datetime!(2025-03-14 09:26:53.25 +08:00);

/// A valid 18-digit resident ID number with this birth date and sequence.
pub fn id_number(birth: &str, seq: &str) -> IdNumber {
    let first17 = format!("110105{birth}{seq}");
    let check = protocol::idnumber::check_character(&first17).unwrap();
    IdNumber::parse(&format!("{first17}{check}")).unwrap()
}

/// An eligible citizen (photo, real-name verified, green).
pub fn citizen(id_number: IdNumber, name: &str) -> NewCitizen {
    NewCitizen {
        id_number,
        name: name.to_owned(),
        photo: Some(StoredPhoto {
            mime: "image/png".into(),
            bytes: vec![0x89, b'P', b'N', b'G', 1, 2, 3],
        }),
        color: Color::Green,
        realname_verified: true,
    }
}

/// Adds an eligible citizen born 1950-01-01 with this sequence; returns the row id.
pub fn add_citizen(store: &dyn Store, seq: &str, name: &str) -> CitizenId {
    store
        .upsert_citizen(&citizen(id_number("19500101", seq), name))
        .unwrap()
}

/// A fresh request id.
pub fn request() -> RequestId {
    RequestId::new(Uuid::new_v4())
}

/// What kiosk K001 asks for, [`TODAY`] at [`NOW`], in a session shown no code.
pub fn input(citizen: CitizenId, action: Action, request_id: RequestId) -> IssueInput {
    input_on(citizen, action, request_id, TODAY, NOW)
}

/// [`input`] on another day.
pub fn input_on(
    citizen: CitizenId,
    action: Action,
    request_id: RequestId,
    today: Date,
    now: OffsetDateTime,
) -> IssueInput {
    IssueInput {
        request_id,
        citizen,
        action,
        kiosk_id: "K001".into(),
        shown_code: None,
        today,
        now,
    }
}

/// A stand-in for the issuer: a fresh random code id, validity from `today`.
pub fn sign_on(today: Date) -> impl FnMut(u16) -> Result<NewCode, String> {
    move |serial| {
        Ok(NewCode {
            code_id: CodeId::from_bytes(*Uuid::new_v4().as_bytes()),
            kid: 1,
            issued_on: today,
            expires_on: today + Duration::days(179),
            qr_text: format!("SSM1:TEST-{serial}"),
        })
    }
}
