//! The sync with the central: whether it answers, the last heartbeat, what waits to go up
//! (journal events, unsettled attempts, print outcomes), the last error, where the staff list
//! comes from; and 立即同步.

use iced::widget::{Column, column};
use iced::{Element, Length};

use super::{clip, time_words};
use crate::staff::{StaffButton, StaffListSource, StaffView};
use crate::ui::theme::{self, BoxKind, ButtonKind};
use crate::ui::widgets::{boxed, button_row, fault_line, field, staff_button};
use crate::ui::{Action, Look, Text};

/// What can be touched here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// 立即同步.
    SyncNow,
}

/// Turns a touch into what the app does.
pub fn update(message: Message) -> Action {
    match message {
        Message::SyncNow => Action::Staff(StaffButton::ForceSync),
    }
}

/// The sync's last error in words: the kinds the central client reports are said plainly (what
/// follows them is the technical detail, left out), anything else is shown as it is.
pub fn error_words(look: Look, error: &str) -> String {
    let known = [
        (
            "the central service is unreachable",
            Text::SyncErrUnreachable,
        ),
        ("the central service refused", Text::SyncErrRefused),
        (
            "the central service answered something unreadable",
            Text::SyncErrBadAnswer,
        ),
    ];
    known
        .iter()
        .find(|(prefix, _)| error.starts_with(prefix))
        .map_or_else(|| clip(error, 80), |(_, text)| look.t(*text).to_owned())
}

/// The content of the sync page.
pub fn view(view: &StaffView, look: Look) -> Element<'_, Message> {
    let sync = &view.sync;
    let n = |n: String| look.fill(Text::SyncCountItems, &[("n", &n)]);
    let reachable = look.t(match sync.reachable {
        Some(true) => Text::SyncReachable,
        Some(false) => Text::SyncUnreachable,
        None => Text::SyncNotYet,
    });
    let heartbeat = sync
        .last_heartbeat_at
        .map_or_else(|| look.t(Text::SyncNever).to_owned(), time_words);
    let version = sync
        .config_version
        .map_or_else(String::new, |v| v.to_string());
    let staff_list = match sync.staff_list {
        StaffListSource::Central => look.fill(Text::SyncFromCentral, &[("v", &version)]),
        StaffListSource::CachedCentral => look.fill(Text::SyncFromCache, &[("v", &version)]),
        StaffListSource::KioskToml => look.t(Text::SyncFromToml).to_owned(),
    };
    let mut panel = Column::new()
        .spacing(look.px(theme::staff::LINE_GAP))
        .width(Length::Fill)
        .push(field(look, look.t(Text::SyncCentral), reachable))
        .push(field(look, look.t(Text::SyncLastContact), heartbeat))
        .push(field(
            look,
            look.t(Text::SyncBacklog),
            n(sync.backlog.to_string()),
        ))
        .push(field(
            look,
            look.t(Text::SyncUnsettled),
            n(sync.unsettled.to_string()),
        ))
        .push(field(
            look,
            look.t(Text::SyncUnreported),
            n(sync.unreported_outcomes.to_string()),
        ))
        .push(field(look, look.t(Text::SyncStaffList), staff_list));
    if let Some(error) = &sync.last_error {
        panel = panel.push(fault_line(
            look,
            look.fill(Text::SyncLastError, &[("error", &error_words(look, error))]),
        ));
    }
    column![
        boxed(look, BoxKind::Panel, panel.into()),
        button_row(
            look,
            vec![staff_button(
                look,
                look.t(Text::SyncNow),
                ButtonKind::Primary,
                theme::staff::ACTION_BUTTON_WIDTH,
                Message::SyncNow,
            )],
        ),
    ]
    .spacing(look.px(theme::GAP * 1.5))
    .width(Length::Fill)
    .into()
}
