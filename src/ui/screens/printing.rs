//! The printing screen: the slip is printing; a bar that fills while the resident waits.
//!
//! The printer reports no progress of its own: the bar moves with time (a slip takes a few
//! seconds) and stops short of full until the flow moves on.

use iced::Element;
use iced::Length;
use iced::widget::{column, container, progress_bar};

use crate::ui::theme;
use crate::ui::widgets::{body, heading};
use crate::ui::{Action, Look, Text};

/// The step indicator.
pub const STEP: Option<u8> = Some(3);

/// How many ticks ([`Message::Tick`]) the bar takes to reach [`MAX_PROGRESS`].
pub const TICKS_TO_FULL: u32 = 16;

/// The bar never shows more than this before the slip is out.
pub const MAX_PROGRESS: f32 = 0.95;

/// The printing screen's state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State {
    /// Ticks since printing started.
    pub ticks: u32,
}

impl State {
    /// How full the bar is, 0 to [`MAX_PROGRESS`].
    pub fn progress(&self) -> f32 {
        let ticks = self.ticks.min(TICKS_TO_FULL) as f32;
        0.05 + (MAX_PROGRESS - 0.05) * ticks / TICKS_TO_FULL as f32
    }
}

/// What changes this screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// Time passed (the app ticks twice a second while this screen shows).
    Tick,
}

/// Moves the bar.
pub fn update(state: &mut State, message: Message) -> Action {
    match message {
        Message::Tick => state.ticks = state.ticks.saturating_add(1),
    }
    Action::None
}

/// The content of the printing screen.
pub fn view(state: &State, look: Look) -> Element<'_, Message> {
    column![
        heading(look, look.t(Text::PrintingTitle)),
        container(
            progress_bar(0.0..=1.0, state.progress())
                .length(Length::Fixed(look.px(1000.0)))
                .girth(Length::Fixed(look.px(theme::PROGRESS_HEIGHT)))
                .style(theme::progress_style(look.scale)),
        )
        .center_x(Length::Fill),
        body(look, look.t(Text::PrintingHint)),
    ]
    .spacing(look.px(theme::GAP * 1.5))
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_with_time_and_stops_short() {
        let mut state = State::default();
        let start = state.progress();
        assert!(start > 0.0);
        for _ in 0..100 {
            let before = state.progress();
            update(&mut state, Message::Tick);
            assert!(state.progress() >= before);
        }
        assert!((state.progress() - MAX_PROGRESS).abs() < f32::EPSILON);
    }
}
