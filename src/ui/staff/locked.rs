//! Staff entry is locked after too many wrong PINs: how long, in plain words. 取消 (on the page)
//! goes back to the residents' home screen; the lockout keeps running.

use iced::Element;
use iced::widget::column;

use super::duration_words;
use crate::ui::theme::{self, BoxKind};
use crate::ui::widgets::{body, boxed, heading};
use crate::ui::{Look, Text};

/// Nothing is touched here but the page's 取消.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {}

/// The content of the lockout notice.
pub fn view<'a>(seconds_left: u64, look: Look) -> Element<'a, Message> {
    let left = duration_words(look, seconds_left);
    column![
        heading(look, look.t(Text::StaffLockedTitle)),
        boxed(
            look,
            BoxKind::Notice,
            column![
                body(look, look.t(Text::StaffLockedWhy)),
                body(look, look.fill(Text::StaffLockedLeft, &[("time", &left)])),
                body(look, look.t(Text::StaffLockedNotice)),
            ]
            .spacing(look.px(theme::staff::LINE_GAP))
            .into(),
        ),
    ]
    .spacing(look.px(theme::GAP * 1.5))
    .into()
}
