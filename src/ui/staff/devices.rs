//! Each device's state (正常 / 有问题，仍能用 / 故障，不能用) with its last error, and the
//! printer's paper.

use iced::widget::{Column, column, row, text};
use iced::{Element, Length};
use protocol::api::{DeviceKind, DeviceState, PaperState};

use super::clip;
use crate::staff::{DeviceLine, StaffView};
use crate::ui::theme::{self, BoxKind};
use crate::ui::widgets::{boxed, fault_line, line};
use crate::ui::{Look, Text};

/// Nothing is touched here but the page's buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {}

/// A device's name.
pub fn device_name(device: DeviceKind) -> Text {
    match device {
        DeviceKind::Idcard => Text::DeviceIdcard,
        DeviceKind::Scanner => Text::DeviceScanner,
        DeviceKind::Printer => Text::DevicePrinter,
    }
}

/// A device's state in words.
pub fn state_words(state: Option<DeviceState>) -> Text {
    match state {
        Some(DeviceState::Connected) => Text::DeviceConnected,
        Some(DeviceState::Degraded) => Text::DeviceDegraded,
        Some(DeviceState::Failed) => Text::DeviceFailed,
        None => Text::DeviceUnknown,
    }
}

/// The paper in words.
pub fn paper_words(paper: PaperState) -> Text {
    match paper {
        PaperState::Ok => Text::PaperOk,
        PaperState::NearEnd => Text::PaperNearEnd,
        PaperState::Out => Text::PaperOut,
        PaperState::Unknown => Text::PaperUnknown,
    }
}

/// A device's last error in words: the printer's states are said plainly, anything else is the
/// driver's own line.
pub fn error_words(look: Look, error: &str) -> String {
    let known = match error {
        "paper-out" | "paper_out" => Some(Text::ReasonPaperOut),
        "paper-near-end" | "paper_near_end" => Some(Text::PaperNearEnd),
        "cover-open" | "cover_open" => Some(Text::ReasonCoverOpen),
        "cutter-error" | "cutter_error" => Some(Text::ReasonCutter),
        "offline" => Some(Text::ReasonOffline),
        "no-answer" | "no_answer" => Some(Text::ReasonNoAnswer),
        _ => None,
    };
    known.map_or_else(|| error.to_owned(), |text| look.t(text).to_owned())
}

fn device_row<'a>(look: Look, device: &DeviceLine) -> Element<'a, Message> {
    let state = look.t(state_words(device.state));
    let ok = device.state == Some(DeviceState::Connected);
    let state: Element<'a, Message> = if ok {
        line(look, state)
    } else {
        fault_line(look, state)
    };
    let error = match &device.last_error {
        Some(error) => look.fill(
            Text::DeviceLastError,
            &[("error", &clip(&error_words(look, error), 44))],
        ),
        None => look.t(Text::DeviceNoError).to_owned(),
    };
    row![
        text(look.t(device_name(device.device)))
            .size(look.px(theme::staff::LINE))
            .width(Length::Fixed(look.px(theme::staff::LABEL_WIDTH))),
        iced::widget::container(state).width(Length::Fixed(look.px(theme::staff::STATE_WIDTH))),
        line(look, error),
    ]
    .spacing(look.px(theme::GAP))
    .into()
}

/// The content of the device page.
pub fn view(view: &StaffView, look: Look) -> Element<'_, Message> {
    let mut devices = Column::new().spacing(look.px(theme::GAP));
    for device in &view.devices {
        devices = devices.push(device_row(look, device));
    }
    let paper = look.fill(
        Text::PaperLine,
        &[("state", look.t(paper_words(view.paper)))],
    );
    let paper: Element<'_, Message> = if view.paper == PaperState::Ok {
        line(look, paper)
    } else {
        fault_line(look, paper)
    };
    column![
        boxed(look, BoxKind::Panel, devices.into()),
        boxed(look, BoxKind::Panel, paper),
    ]
    .spacing(look.px(theme::GAP))
    .into()
}
