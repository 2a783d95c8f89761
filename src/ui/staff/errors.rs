//! The latest errors from the journal, newest first: when, what kind, and the event's details
//! in one line.

use iced::widget::{Column, row, text};
use iced::{Element, Length};
use protocol::api::JournalKind;

use super::{clip, time_words};
use crate::staff::StaffView;
use crate::ui::theme::{self, BoxKind};
use crate::ui::widgets::{boxed, line};
use crate::ui::{Look, Text};

/// How many errors the page lists (the newest).
pub const SHOWN: usize = 9;

/// Nothing is touched here but the page's buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {}

fn kind_words(kind: JournalKind) -> Text {
    match kind {
        JournalKind::PrintFailed => Text::KindPrintFailed,
        JournalKind::StaffLoginFailed => Text::KindStaffLoginFailed,
        _ => Text::KindError,
    }
}

/// The content of the recent-errors page.
pub fn view(view: &StaffView, look: Look) -> Element<'_, Message> {
    if view.recent_errors.is_empty() {
        return boxed(look, BoxKind::Panel, line(look, look.t(Text::ErrorsNone)));
    }
    let size = look.px(theme::staff::LINE);
    let mut lines = Column::new()
        .spacing(look.px(theme::staff::LINE_GAP))
        .width(Length::Fill);
    for error in view.recent_errors.iter().take(SHOWN) {
        lines = lines.push(
            row![
                text(time_words(error.at))
                    .size(size)
                    .width(Length::Fixed(look.px(theme::staff::LABEL_WIDTH))),
                text(look.t(kind_words(error.kind)))
                    .size(size)
                    .width(Length::Fixed(look.px(theme::staff::LABEL_WIDTH))),
                text(clip(&error.summary, 56)).size(size),
            ]
            .spacing(look.px(theme::GAP)),
        );
    }
    boxed(look, BoxKind::Panel, lines.into())
}
