//! Which action a person is offered at the kiosk, and which actions the central accepts.
//!
//! The two functions agree: [`check_action`] accepts an action exactly when [`offer`] offers it.
//!
//! | eligibility  | code      | offer     | apply                  | reissue            |
//! |--------------|-----------|-----------|------------------------|--------------------|
//! | not eligible | any       | none      | `not_eligible`         | `not_eligible`     |
//! | eligible     | none      | apply     | ok                     | `conflict_no_code` |
//! | eligible     | expired   | apply     | ok                     | `conflict_no_code` |
//! | eligible     | active    | reissue   | `conflict_active_code` | ok                 |
//! | eligible     | lost      | reissue   | `conflict_lost_code`   | ok                 |
//!
//! A reissue also names the code the person was shown at identify ([`check_issue`]): when the
//! current code is another one by then (reissued at another kiosk in between), the reissue is
//! refused with `conflict_code_changed`, so two kiosks reissuing at the same moment end with one
//! new code and one refusal, never two new codes.
//!
//! An active code covers a slip that was lost but not reported: the reissue supersedes it. A lost
//! code is replaced by a reissue (serial + 1), never by a fresh apply, so the serial keeps
//! counting the person's slips.

use serde::{Deserialize, Serialize};

use crate::api::{Action, CodeId, CodeState, ErrorCode};
use crate::eligibility::{Eligibility, IneligibleReason};

/// Why nothing is offered: the person is not eligible, for this reason.
///
/// On the wire it is flattened into the [`Offer`]:
/// `{"action": "none", "reason": "under_age", "eligible_from": "2031-05-01"}`.
pub type NoOfferReason = IneligibleReason;

/// What the confirm screen offers, tagged on `"action"`: `{"action": "apply"}`,
/// `{"action": "reissue"}`, or `{"action": "none", "reason": ...}` with the fields of the
/// [`NoOfferReason`] beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Offer {
    /// 申领.
    Apply,
    /// 补领.
    Reissue,
    /// Nothing, for this reason.
    #[serde(rename = "none")]
    Nothing(NoOfferReason),
}

impl Offer {
    /// The action offered, if any.
    pub fn action(self) -> Option<Action> {
        match self {
            Self::Apply => Some(Action::Apply),
            Self::Reissue => Some(Action::Reissue),
            Self::Nothing(_) => None,
        }
    }
}

/// What the kiosk offers a person with this eligibility and current code.
pub fn offer(eligibility: &Eligibility, code: &CodeState) -> Offer {
    match (eligibility, code) {
        (Eligibility::NotEligible(reason), _) => Offer::Nothing(*reason),
        (Eligibility::Eligible, CodeState::None | CodeState::Expired { .. }) => Offer::Apply,
        (Eligibility::Eligible, CodeState::Active { .. } | CodeState::Lost { .. }) => {
            Offer::Reissue
        }
    }
}

/// Why the central refuses an action (answered with 409 and [`ActionRefused::error_code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ActionRefused {
    /// The person may not have an offline code.
    #[error("the person is not eligible for an offline code")]
    NotEligible(IneligibleReason),
    /// `apply` while a code is active: reissue instead.
    #[error("the person already holds an active code: reissue instead")]
    ActiveCode,
    /// `apply` while the code is reported lost: reissue instead.
    #[error("the person's code is reported lost: reissue instead")]
    LostCode,
    /// `reissue` with no current code (none, or expired): apply instead.
    #[error("the person holds no current code: apply instead")]
    NoCode,
    /// `reissue` of a code that is no longer the current one: identify again.
    #[error("the person's code changed since identify: identify again")]
    CodeChanged,
}

impl ActionRefused {
    /// The error code of the 409 answer.
    pub fn error_code(self) -> ErrorCode {
        match self {
            Self::NotEligible(_) => ErrorCode::NotEligible,
            Self::ActiveCode => ErrorCode::ConflictActiveCode,
            Self::LostCode => ErrorCode::ConflictLostCode,
            Self::NoCode => ErrorCode::ConflictNoCode,
            Self::CodeChanged => ErrorCode::ConflictCodeChanged,
        }
    }
}

/// Whether the central may carry out `action` for a person with this eligibility and current
/// code. Eligibility is checked first.
pub fn check_action(
    action: Action,
    eligibility: &Eligibility,
    code: &CodeState,
) -> Result<(), ActionRefused> {
    if let Eligibility::NotEligible(reason) = eligibility {
        return Err(ActionRefused::NotEligible(*reason));
    }
    match (action, code) {
        (Action::Apply, CodeState::None | CodeState::Expired { .. }) => Ok(()),
        (Action::Apply, CodeState::Active { .. }) => Err(ActionRefused::ActiveCode),
        (Action::Apply, CodeState::Lost { .. }) => Err(ActionRefused::LostCode),
        (Action::Reissue, CodeState::Active { .. } | CodeState::Lost { .. }) => Ok(()),
        (Action::Reissue, CodeState::None | CodeState::Expired { .. }) => {
            Err(ActionRefused::NoCode)
        }
    }
}

/// What the central checks before issuing: [`check_action`], then, for a reissue, that the
/// person's current code is still `shown`, the one the session's identify answered with.
pub fn check_issue(
    action: Action,
    eligibility: &Eligibility,
    code: &CodeState,
    shown: Option<CodeId>,
) -> Result<(), ActionRefused> {
    check_action(action, eligibility, code)?;
    let current = match code {
        CodeState::Active { code_id, .. } | CodeState::Lost { code_id, .. } => Some(*code_id),
        CodeState::None | CodeState::Expired { .. } => None,
    };
    if action == Action::Reissue && current != shown {
        return Err(ActionRefused::CodeChanged);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const ID: CodeId = CodeId::from_bytes([0x5a; 16]);

    fn eligibilities() -> [(&'static str, Eligibility); 4] {
        [
            ("eligible", Eligibility::Eligible),
            (
                "under_age",
                Eligibility::NotEligible(IneligibleReason::UnderAge {
                    eligible_from: date!(2031 - 05 - 01),
                }),
            ),
            (
                "not_real_name_verified",
                Eligibility::NotEligible(IneligibleReason::NotRealNameVerified),
            ),
            (
                "no_photo",
                Eligibility::NotEligible(IneligibleReason::NoPhoto),
            ),
        ]
    }

    fn codes() -> [(&'static str, CodeState); 4] {
        [
            ("none", CodeState::None),
            (
                "active",
                CodeState::Active {
                    code_id: ID,
                    serial: 1,
                    issued_on: date!(2025 - 03 - 14),
                    expires_on: date!(2025 - 09 - 09),
                },
            ),
            (
                "lost",
                CodeState::Lost {
                    code_id: ID,
                    serial: 2,
                    lost_on: date!(2025 - 04 - 01),
                },
            ),
            (
                "expired",
                CodeState::Expired {
                    code_id: ID,
                    serial: 3,
                    expires_on: date!(2024 - 12 - 31),
                },
            ),
        ]
    }

    /// Expected offer, apply outcome and reissue outcome for each (eligibility, code) by name.
    fn expected(
        eligibility: &Eligibility,
        code: &str,
    ) -> (Offer, Result<(), ActionRefused>, Result<(), ActionRefused>) {
        if let Eligibility::NotEligible(reason) = eligibility {
            let refused = Err(ActionRefused::NotEligible(*reason));
            return (Offer::Nothing(*reason), refused, refused);
        }
        match code {
            "none" | "expired" => (Offer::Apply, Ok(()), Err(ActionRefused::NoCode)),
            "active" => (Offer::Reissue, Err(ActionRefused::ActiveCode), Ok(())),
            "lost" => (Offer::Reissue, Err(ActionRefused::LostCode), Ok(())),
            other => unreachable!("no such code state {other}"),
        }
    }

    #[test]
    fn every_combination() {
        let mut seen = 0;
        for (e_name, eligibility) in eligibilities() {
            for (c_name, code) in codes() {
                let (want_offer, want_apply, want_reissue) = expected(&eligibility, c_name);
                let context = format!("{e_name} / {c_name}");
                assert_eq!(offer(&eligibility, &code), want_offer, "offer, {context}");
                assert_eq!(
                    check_action(Action::Apply, &eligibility, &code),
                    want_apply,
                    "apply, {context}"
                );
                assert_eq!(
                    check_action(Action::Reissue, &eligibility, &code),
                    want_reissue,
                    "reissue, {context}"
                );
                seen += 1;
            }
        }
        assert_eq!(seen, 16);
    }

    #[test]
    fn check_action_accepts_exactly_what_is_offered() {
        for (_, eligibility) in eligibilities() {
            for (_, code) in codes() {
                let offered = offer(&eligibility, &code).action();
                for action in [Action::Apply, Action::Reissue] {
                    assert_eq!(
                        check_action(action, &eligibility, &code).is_ok(),
                        offered == Some(action),
                        "{action} with {eligibility:?} / {code:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_reissue_must_name_the_current_code() {
        let other = CodeId::from_bytes([0x11; 16]);
        for (name, code) in codes() {
            let shown_now = match &code {
                CodeState::Active { .. } | CodeState::Lost { .. } => Some(ID),
                _ => None,
            };
            let plain = check_action(Action::Reissue, &Eligibility::Eligible, &code);
            // Shown the code it holds now: exactly what check_action says.
            assert_eq!(
                check_issue(Action::Reissue, &Eligibility::Eligible, &code, shown_now),
                plain,
                "{name}"
            );
            // Shown another code (replaced in between): refused whenever a reissue was possible.
            let stale = check_issue(Action::Reissue, &Eligibility::Eligible, &code, Some(other));
            if plain.is_ok() {
                assert_eq!(stale, Err(ActionRefused::CodeChanged), "{name}");
            } else {
                assert_eq!(stale, plain, "{name}");
            }
            // An apply does not look at the shown code.
            assert_eq!(
                check_issue(Action::Apply, &Eligibility::Eligible, &code, Some(other)),
                check_action(Action::Apply, &Eligibility::Eligible, &code),
                "{name}"
            );
        }
    }

    #[test]
    fn refusals_are_conflicts() {
        let refusals = [
            ActionRefused::NotEligible(IneligibleReason::NoPhoto),
            ActionRefused::ActiveCode,
            ActionRefused::LostCode,
            ActionRefused::NoCode,
            ActionRefused::CodeChanged,
        ];
        let codes: Vec<_> = refusals.iter().map(|r| r.error_code()).collect();
        assert_eq!(
            codes,
            [
                ErrorCode::NotEligible,
                ErrorCode::ConflictActiveCode,
                ErrorCode::ConflictLostCode,
                ErrorCode::ConflictNoCode,
                ErrorCode::ConflictCodeChanged,
            ]
        );
        assert!(codes.iter().all(|c| c.status() == 409));
    }

    #[test]
    fn offer_wire_shape() {
        let json = |o: Offer| serde_json::to_string(&o).unwrap();
        assert_eq!(json(Offer::Apply), r#"{"action":"apply"}"#);
        assert_eq!(json(Offer::Reissue), r#"{"action":"reissue"}"#);
        assert_eq!(
            json(Offer::Nothing(IneligibleReason::NoPhoto)),
            r#"{"action":"none","reason":"no_photo"}"#
        );
        let under_age = Offer::Nothing(IneligibleReason::UnderAge {
            eligible_from: date!(2031 - 05 - 01),
        });
        assert_eq!(
            json(under_age),
            r#"{"action":"none","reason":"under_age","eligible_from":"2031-05-01"}"#
        );
        for o in [
            Offer::Apply,
            Offer::Reissue,
            Offer::Nothing(IneligibleReason::NotRealNameVerified),
            under_age,
        ] {
            assert_eq!(serde_json::from_str::<Offer>(&json(o)).unwrap(), o);
        }
    }
}
