//! The maintenance menu: whether residents are served, a large button for each page, and the
//! resident's help request with 清除呼叫 when one stands. 退出维护 is on the page.

use iced::widget::{Column, column};
use iced::{Element, Length};

use super::page_name;
use crate::staff::{Page, StaffButton, StaffView};
use crate::ui::theme::{self, BoxKind, ButtonKind};
use crate::ui::widgets::{boxed, fault_line, grid, line, staff_button};
use crate::ui::{Action, Look, Text};

/// How many buttons a row of the menu holds (kept left of [`theme::staff::REACH`]).
pub const COLUMNS: usize = 3;

/// The pages the menu offers, in the order shown (three in a row; 清除呼叫 after them while a
/// help request stands).
pub const PAGES: [Page; 8] = [
    Page::Devices,
    Page::TestPrint,
    Page::TestCard,
    Page::TestScan,
    Page::Counts,
    Page::Sync,
    Page::Service,
    Page::Errors,
];

/// What can be touched on the menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// Go to a page.
    Open(Page),
    /// 清除呼叫.
    ClearHelp,
}

/// Turns a touch into what the app does.
pub fn update(message: Message) -> Action {
    Action::Staff(match message {
        Message::Open(page) => StaffButton::Open(page),
        Message::ClearHelp => StaffButton::ClearHelp,
    })
}

/// Whether residents are served, in words (also on the service page).
pub fn service_words(view: &StaffView, look: Look) -> String {
    if view.in_service {
        look.t(Text::StaffInService).to_owned()
    } else {
        let reason = view.out_of_service_reason.clone().unwrap_or_default();
        look.fill(Text::StaffOutOfService, &[("reason", &reason)])
    }
}

/// The content of the menu.
pub fn view(view: &StaffView, look: Look) -> Element<'_, Message> {
    let mut state = Column::new().spacing(look.px(theme::staff::LINE_GAP));
    if view.in_service {
        state = state.push(line(look, service_words(view, look)));
    } else {
        state = state.push(fault_line(look, service_words(view, look)));
    }
    if view.in_service && view.resident_screen_blocked {
        state = state.push(fault_line(look, look.t(Text::StaffResidentsBlocked)));
    }
    if view.help_requested {
        state = state.push(fault_line(look, look.t(Text::StaffHelpStanding)));
    }
    let mut buttons: Vec<Element<'_, Message>> = PAGES
        .iter()
        .map(|page| {
            staff_button(
                look,
                look.t(page_name(*page)),
                ButtonKind::Secondary,
                theme::staff::MENU_BUTTON_WIDTH,
                Message::Open(*page),
            )
        })
        .collect();
    if view.help_requested {
        buttons.push(staff_button(
            look,
            look.t(Text::StaffClearHelp),
            ButtonKind::Primary,
            theme::staff::MENU_BUTTON_WIDTH,
            Message::ClearHelp,
        ));
    }
    column![
        boxed(look, BoxKind::Panel, state.into()),
        grid(look, buttons, COLUMNS),
    ]
    .spacing(look.px(theme::GAP))
    .width(Length::Fill)
    .into()
}
