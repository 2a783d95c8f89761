//! While the PIN is checked (a second or so): 正在核对密码. Nothing can be touched: a wrong PIN
//! is always counted.

use iced::Element;
use iced::widget::column;

use crate::ui::theme;
use crate::ui::widgets::{body, heading};
use crate::ui::{Look, Text};

/// Nothing is touched here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {}

/// The content of the checking screen.
pub fn view(staff: &str, look: Look) -> Element<'_, Message> {
    column![
        heading(look, look.t(Text::StaffChecking)),
        body(look, look.fill(Text::StaffWho, &[("name", staff)])),
        body(look, look.t(Text::PleaseWait)),
    ]
    .spacing(look.px(theme::GAP))
    .into()
}
