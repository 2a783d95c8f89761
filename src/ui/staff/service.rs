//! Taking the kiosk out of service with one of the fixed reasons (打印机维护, 读卡器故障, 网络故障,
//! 其他维护: there is no keyboard), and back in service; what residents see now.

use iced::widget::{Column, column};
use iced::{Element, Length};

use super::menu::service_words;
use crate::staff::{OutOfServiceReason, StaffButton, StaffView};
use crate::ui::theme::{self, BoxKind, ButtonKind};
use crate::ui::widgets::{boxed, button_row, fault_line, grid, line, staff_button};
use crate::ui::{Action, Look, Text};

/// What can be touched here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// Take out of service for this reason.
    TakeOut(OutOfServiceReason),
    /// 恢复服务.
    BackIn,
}

/// Turns a touch into what the app does.
pub fn update(message: Message) -> Action {
    Action::Staff(match message {
        Message::TakeOut(reason) => StaffButton::TakeOutOfService(reason),
        Message::BackIn => StaffButton::BackInService,
    })
}

/// A reason in the language shown (in Chinese: exactly [`OutOfServiceReason::words`], what
/// residents and the fleet view see).
pub fn reason_words(reason: OutOfServiceReason) -> Text {
    match reason {
        OutOfServiceReason::PrinterMaintenance => Text::OutPrinterMaintenance,
        OutOfServiceReason::ReaderFault => Text::OutReaderFault,
        OutOfServiceReason::NetworkFault => Text::OutNetworkFault,
        OutOfServiceReason::OtherMaintenance => Text::OutOtherMaintenance,
    }
}

/// The content of the service page.
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
    let mut content = column![boxed(look, BoxKind::Panel, state.into())]
        .spacing(look.px(theme::GAP * 1.5))
        .width(Length::Fill);
    if view.in_service {
        let buttons = OutOfServiceReason::ALL
            .into_iter()
            .map(|reason| {
                staff_button(
                    look,
                    look.t(reason_words(reason)),
                    ButtonKind::Secondary,
                    theme::staff::MENU_BUTTON_WIDTH,
                    Message::TakeOut(reason),
                )
            })
            .collect();
        content = content
            .push(line(look, look.t(Text::ServiceTakeOut)))
            .push(grid(look, buttons, 2))
            .push(line(look, look.t(Text::ServiceOutNote)));
    } else {
        content = content.push(button_row(
            look,
            vec![staff_button(
                look,
                look.t(Text::ServiceBackIn),
                ButtonKind::Primary,
                theme::staff::ACTION_BUTTON_WIDTH,
                Message::BackIn,
            )],
        ));
    }
    content.into()
}
