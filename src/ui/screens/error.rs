//! The error screens: what went wrong in plain words (one per [`FlowError`]), what to do next,
//! and 重试 / 重新打印 when the flow allows it. 返回首页 and 呼叫工作人员 are on the page.
//! Never an error message from the software itself.

use iced::Element;
use iced::widget::column;
use protocol::api::PrintFailure;

use crate::flow::{Button, FlowError};
use crate::ui::theme::{self, ButtonKind};
use crate::ui::widgets::{big_button, body, button_row, heading, notice};
use crate::ui::{Action, Look, Text};

/// The error screen's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// What failed.
    pub error: FlowError,
    /// Whether 重试 / 重新打印 is offered.
    pub can_retry: bool,
}

/// What can be touched here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// 重试 / 重新打印.
    Retry,
}

/// Turns a touch into what the app does.
pub fn update(state: &mut State, message: Message) -> Action {
    match message {
        Message::Retry if state.can_retry => Action::Press(Button::Retry),
        Message::Retry => Action::None,
    }
}

/// The title and the advice for an error.
pub fn words(error: FlowError) -> (Text, Text) {
    match error {
        FlowError::CentralUnreachable => (Text::ErrCentral, Text::HintRetry),
        FlowError::CardUnreadable => (Text::ErrCardUnreadable, Text::HintPlaceAgain),
        FlowError::CardExpired => (Text::ErrCardExpired, Text::HintCounterWithValidId),
        FlowError::UnknownPerson => (Text::ErrUnknownPerson, Text::ContactCounter),
        FlowError::InvalidSuishenCode => (Text::ErrInvalidSuishen, Text::HintRefreshCode),
        FlowError::SessionExpired => (Text::ErrSessionExpired, Text::HintRetry),
        FlowError::CodeChanged => (Text::ErrCodeChanged, Text::HintRetry),
        FlowError::Refused(_) => (Text::ErrRefused, Text::ContactCounter),
        FlowError::BadAnswer => (Text::ErrBadAnswer, Text::HintRetry),
        FlowError::PrintFailed(reason) => (
            match reason {
                PrintFailure::PaperOut => Text::ErrPaperOut,
                PrintFailure::CoverOpen => Text::ErrCoverOpen,
                PrintFailure::CutterError => Text::ErrCutter,
                PrintFailure::Offline | PrintFailure::NoAnswer => Text::ErrPrinterOffline,
                PrintFailure::SlipCheckFailed => Text::ErrSlipCheck,
                PrintFailure::Other => Text::ErrPrintOther,
            },
            Text::HintPrinter,
        ),
    }
}

/// The label of the retry button for an error.
pub fn retry_label(error: FlowError) -> Text {
    match error {
        FlowError::PrintFailed(_) => Text::Reprint,
        _ => Text::Retry,
    }
}

/// The content of an error screen.
pub fn view(state: &State, look: Look) -> Element<'_, Message> {
    let (title, hint) = words(state.error);
    // Advice that says "press 重试" only makes sense when the button is there.
    let hint = if !state.can_retry && matches!(hint, Text::HintRetry) {
        Text::ContactCounter
    } else {
        hint
    };
    let mut content = column![heading(look, look.t(title)), notice(look, look.t(hint))]
        .spacing(look.px(theme::GAP * 1.5));
    if state.can_retry {
        content = content.push(button_row(
            look,
            vec![big_button(
                look,
                look.t(retry_label(state.error)),
                ButtonKind::Primary,
                Message::Retry,
            )],
        ));
    } else {
        content = content.push(body(look, look.t(Text::NothingIssued)));
    }
    content.into()
}
