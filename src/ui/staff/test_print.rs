//! Test print: 打印测试页 (a sample slip marked 测试, checked before printing like every slip)
//! and the last result: printing, printed, or why not.

use iced::widget::column;
use iced::{Element, Length};

use crate::staff::{StaffButton, StaffView, TestPrintResult};
use crate::ui::theme::{self, BoxKind, ButtonKind};
use crate::ui::widgets::{body, boxed, button_row, fault_line, line, staff_button};
use crate::ui::{Action, Look, Text};

use super::clip;

/// What can be touched here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// 打印测试页.
    Print,
}

/// Turns a touch into what the app does.
pub fn update(message: Message) -> Action {
    match message {
        Message::Print => Action::Staff(StaffButton::TestPrint),
    }
}

/// The content of the test-print page.
pub fn view(view: &StaffView, look: Look) -> Element<'_, Message> {
    let result: Element<'_, Message> = match &view.test_print {
        None => line(look, look.t(Text::TestPrintNone)),
        Some(TestPrintResult::Printing) => line(look, look.t(Text::TestPrinting)),
        Some(TestPrintResult::Printed) => line(look, look.t(Text::TestPrintOk)),
        Some(TestPrintResult::Failed(reason)) => fault_line(
            look,
            look.fill(
                Text::TestPrintFailed,
                &[(
                    "reason",
                    &clip(&super::devices::error_words(look, reason), 70),
                )],
            ),
        ),
    };
    column![
        body(look, look.t(Text::TestPrintHint)),
        button_row(
            look,
            vec![staff_button(
                look,
                look.t(Text::TestPrintButton),
                ButtonKind::Primary,
                theme::staff::ACTION_BUTTON_WIDTH,
                Message::Print,
            )],
        ),
        boxed(look, BoxKind::Panel, result),
    ]
    .spacing(look.px(theme::GAP * 1.5))
    .width(Length::Fill)
    .into()
}
