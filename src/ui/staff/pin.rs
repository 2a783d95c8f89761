//! The PIN keypad: who is signing in, a dot for each digit typed (never the digits), the wrong
//! PIN and the tries left, and the keys 0 to 9, 删除 and 确定. 取消 is on the page.

use iced::alignment::{Horizontal, Vertical};
use iced::widget::{Column, button, column, container, row, text};
use iced::{Element, Length};

use crate::staff::StaffButton;
use crate::ui::theme::{self, ButtonKind};
use crate::ui::widgets::{fault_line, line};
use crate::ui::{Action, Look, Text};

/// What the keypad shows (from the engine's view).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State<'a> {
    /// Who (masked name).
    pub staff: &'a str,
    /// How many digits are typed.
    pub digits: usize,
    /// The last PIN was wrong.
    pub wrong_pin: bool,
    /// Wrong PINs left before the lockout.
    pub tries_left: u32,
}

/// What can be touched on the keypad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// A digit key.
    Digit(u8),
    /// 删除.
    Delete,
    /// 确定.
    Submit,
}

/// Turns a touch into what the app does.
pub fn update(message: Message) -> Action {
    Action::Staff(match message {
        Message::Digit(d) => StaffButton::Digit(d),
        Message::Delete => StaffButton::Delete,
        Message::Submit => StaffButton::Submit,
    })
}

/// The dots for `n` digits typed (`● ● ●`).
pub fn dots(n: usize) -> String {
    vec!["●"; n].join(" ")
}

/// The content of the keypad screen.
pub fn view<'a>(state: State<'a>, look: Look) -> Element<'a, Message> {
    // Left-aligned beside the keypad: on a fullscreen demo the simulator panel covers the
    // right of the screen (theme::staff::REACH).
    let mut info = column![
        line(look, look.fill(Text::StaffWho, &[("name", state.staff)])),
        text(look.t(Text::StaffPinTitle)).size(look.px(theme::HEADING)),
    ]
    .spacing(look.px(theme::GAP))
    .width(Length::Fill);
    // The dots' line keeps its height while empty, so nothing moves as digits are typed.
    let shown = if state.digits == 0 {
        text(look.t(Text::StaffPinHint)).size(look.px(theme::staff::LINE))
    } else {
        text(dots(state.digits)).size(look.px(theme::staff::DOTS))
    };
    info = info.push(container(shown).center_y(Length::Fixed(look.px(theme::staff::DOTS * 1.4))));
    if state.wrong_pin {
        info = info.push(fault_line(
            look,
            look.fill(Text::StaffPinWrong, &[("n", &state.tries_left.to_string())]),
        ));
    }

    let key = |label: String, kind: ButtonKind, message: Message| -> Element<'a, Message> {
        button(
            text(label)
                .size(look.px(theme::staff::KEY_TEXT))
                .align_x(Horizontal::Center)
                .align_y(Vertical::Center)
                .width(Length::Fill)
                .height(Length::Fill),
        )
        .on_press(message)
        .width(Length::Fixed(look.px(theme::staff::KEY_WIDTH)))
        .height(Length::Fixed(look.px(theme::staff::KEY_HEIGHT)))
        .padding(0.0)
        .style(theme::button_style(kind, look.scale))
        .into()
    };
    let digit = |d: u8| key(d.to_string(), ButtonKind::Secondary, Message::Digit(d));
    let gap = look.px(theme::staff::KEY_GAP);
    let mut keypad = Column::new().spacing(gap);
    for first in [1u8, 4, 7] {
        keypad = keypad.push(row![digit(first), digit(first + 1), digit(first + 2)].spacing(gap));
    }
    keypad = keypad.push(
        row![
            key(
                look.t(Text::StaffPinDelete).to_owned(),
                ButtonKind::Secondary,
                Message::Delete
            ),
            digit(0),
            key(
                look.t(Text::StaffPinSubmit).to_owned(),
                ButtonKind::Primary,
                Message::Submit
            ),
        ]
        .spacing(gap),
    );

    row![keypad, container(info).center_y(Length::Fill)]
        .spacing(look.px(theme::MARGIN * 2.0))
        .align_y(Vertical::Center)
        .into()
}
