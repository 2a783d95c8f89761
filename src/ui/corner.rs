//! The hidden corner of the home screen: a press held for [`HOLD`] in the top left corner (over
//! the header's title) asks for staff entry ([`StaffButton::CornerLongPress`]). Nothing is drawn
//! for it and nothing hints at it; a short touch there does nothing.
//!
//! The hold is timed by ticks: the shell sends [`Message::Tick`] every [`TICK`] while the corner
//! is held (a timer subscription), and the first tick after the press starts the clock, so that
//! a long press is always at least [`HOLD`] long. Lifting the finger, or sliding it out of the
//! corner, ends the hold.
//!
//! [`StaffButton::CornerLongPress`]: crate::staff::StaffButton::CornerLongPress

use std::time::{Duration, Instant};

use iced::widget::{Space, container, mouse_area, stack};
use iced::{Element, Length};

use super::Look;
use super::theme;

/// How long the corner must be held.
pub const HOLD: Duration = Duration::from_secs(3);

/// How often the shell ticks while the corner is held.
pub const TICK: Duration = Duration::from_millis(100);

/// What happens to the corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// A finger (or the pointer) went down in the corner.
    Pressed,
    /// It came up, or left the corner.
    Released,
    /// Time passed (from the shell's timer, while the corner is held).
    Tick(Instant),
}

/// The corner's state: up, held since a time, or held long enough already.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hold(State);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    #[default]
    Up,
    /// Held; the clock starts at the first tick.
    Down { since: Option<Instant> },
    /// Held long enough: the long press was sent; nothing more until it is lifted.
    Fired,
}

impl Hold {
    /// Whether the corner is held and still counting (the shell ticks only then).
    pub fn is_counting(&self) -> bool {
        matches!(self.0, State::Down { .. })
    }

    /// Handles a message; returns whether the long press is complete now (once per hold).
    pub fn update(&mut self, message: Message) -> bool {
        match (self.0, message) {
            (_, Message::Pressed) => {
                self.0 = State::Down { since: None };
                false
            }
            (_, Message::Released) => {
                self.0 = State::Up;
                false
            }
            (State::Down { since: None }, Message::Tick(now)) => {
                self.0 = State::Down { since: Some(now) };
                false
            }
            (State::Down { since: Some(since) }, Message::Tick(now)) => {
                if now.saturating_duration_since(since) >= HOLD {
                    self.0 = State::Fired;
                    true
                } else {
                    false
                }
            }
            (State::Up | State::Fired, Message::Tick(_)) => false,
        }
    }

    /// Forgets a hold (the screen changed under the finger).
    pub fn reset(&mut self) {
        self.0 = State::Up;
    }
}

/// `page` with the invisible corner over its top left.
pub fn overlay<'a, M: Clone + 'a>(
    look: Look,
    page: Element<'a, M>,
    on: impl Fn(Message) -> M,
) -> Element<'a, M> {
    let area = mouse_area(
        Space::new()
            .width(Length::Fixed(look.px(theme::CORNER_WIDTH)))
            .height(Length::Fixed(look.px(theme::CORNER_HEIGHT))),
    )
    .on_press(on(Message::Pressed))
    .on_release(on(Message::Released))
    .on_exit(on(Message::Released));
    stack![
        page,
        container(area).width(Length::Fill).height(Length::Fill)
    ]
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_hold_of_three_seconds_fires_once() {
        let t0 = Instant::now();
        let mut hold = Hold::default();
        assert!(!hold.update(Message::Tick(t0)));
        assert!(!hold.is_counting());
        assert!(!hold.update(Message::Pressed));
        assert!(hold.is_counting());
        assert!(!hold.update(Message::Tick(t0)));
        assert!(!hold.update(Message::Tick(t0 + Duration::from_millis(2_900))));
        assert!(hold.update(Message::Tick(t0 + HOLD)));
        assert!(!hold.is_counting());
        assert!(!hold.update(Message::Tick(t0 + Duration::from_secs(10))));
        // Lifted before three seconds: nothing.
        assert!(!hold.update(Message::Pressed));
        assert!(!hold.update(Message::Tick(t0)));
        assert!(!hold.update(Message::Released));
        assert!(!hold.update(Message::Tick(t0 + Duration::from_secs(5))));
    }
}
