//! The not-eligible screen: why no code can be issued, in plain words, and where to go
//! instead. Nothing is issued.

use iced::Element;
use iced::widget::column;
use protocol::eligibility::IneligibleReason;

use crate::ui::theme::{self, BoxKind};
use crate::ui::widgets::{body, boxed, heading};
use crate::ui::{Action, Look, Text};

/// The step indicator.
pub const STEP: Option<u8> = Some(2);

/// The not-eligible screen's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// Why.
    pub reason: IneligibleReason,
}

/// Nothing is touched here but the page's own buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {}

/// Turns a touch into what the app does.
pub fn update(_state: &mut State, message: Message) -> Action {
    match message {}
}

/// The reason and where to go, in words.
pub fn words(look: Look, reason: IneligibleReason) -> (String, &'static str) {
    match reason {
        IneligibleReason::UnderAge { eligible_from } => (
            look.fill(Text::UnderAge, &[("date", &look.date(eligible_from))]),
            look.t(Text::UnderAgeWhere),
        ),
        IneligibleReason::NoPhoto => (
            look.t(Text::NoPhotoReason).to_owned(),
            look.t(Text::NoPhotoWhere),
        ),
        IneligibleReason::NotRealNameVerified => (
            look.t(Text::NotVerifiedReason).to_owned(),
            look.t(Text::NotVerifiedWhere),
        ),
    }
}

/// The content of the not-eligible screen.
pub fn view(state: &State, look: Look) -> Element<'_, Message> {
    let (why, where_to) = words(look, state.reason);
    column![
        heading(look, look.t(Text::NotEligibleTitle)),
        boxed(
            look,
            BoxKind::Panel,
            column![body(look, why), body(look, where_to)]
                .spacing(look.px(theme::GAP))
                .into(),
        ),
        body(look, look.t(Text::NothingIssued)),
    ]
    .spacing(look.px(theme::GAP))
    .into()
}
