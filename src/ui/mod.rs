//! The kiosk's screens (iced, software rendering): what a resident sees and touches, and the
//! hall staff's maintenance screens.
//!
//! The screens hold no session state of their own: they render [`Frame`]s (the flow's
//! [`Screen`], the idle countdown, the help request and, while staff mode shows, the
//! [`StaffView`], as the engine publishes them) and turn touches into [`Press`]es for the
//! engine: a resident's [`Button`] or a staff member's [`StaffButton`]. [`app`] picks the screen
//! module for the current frame; each module in [`screens`] owns one resident screen and each
//! module in [`staff`] one maintenance screen (its state, messages, update and view); [`corner`]
//! is the hidden long-press on the home screen that opens staff entry; [`theme`] owns every size
//! and colour; [`text`] every word, in Chinese and English; [`sim_panel`] the simulator window;
//! [`shell`] the windows, fonts and the feed of frames; [`launch`] starts the engine under the
//! screens.

use std::sync::LazyLock;

use iced::Font;
use iced::widget::image::Handle;

use crate::flow::{Button, Flow, Millis, Screen};
use crate::staff::{StaffButton, StaffView};

pub mod app;
pub mod corner;
mod cursor;
pub mod launch;
pub mod photo;
pub mod screens;
pub mod shell;
pub mod sim_panel;
pub mod staff;
pub mod text;
pub mod theme;
pub mod widgets;

pub use app::{Kiosk, Message};
pub use text::{Lang, Text};
pub use theme::Scale;

/// The bundled CJK font (a subset of Noto Sans CJK SC: ASCII, GB2312, the CJK Unified
/// Ideographs with Extension A, and CJK punctuation): the slip renderer's, so that the binary
/// holds one copy.
pub use printer::render::FONT_BYTES;

/// The bundled font's family, the screens' default font.
pub const FONT: Font = Font::with_name("Noto Sans CJK SC");

/// The illustration of where to place the ID card (drawn for this project: `assets/`).
pub const CARD_ILLUSTRATION: &[u8] = include_bytes!("../../assets/place-card.png");

/// The illustration of showing the 随申码 to the scanner.
pub const SCAN_ILLUSTRATION: &[u8] = include_bytes!("../../assets/show-code.png");

/// [`CARD_ILLUSTRATION`], decoded once.
pub fn card_illustration() -> &'static Handle {
    static HANDLE: LazyLock<Handle> = LazyLock::new(|| Handle::from_bytes(CARD_ILLUSTRATION));
    &HANDLE
}

/// [`SCAN_ILLUSTRATION`], decoded once.
pub fn scan_illustration() -> &'static Handle {
    static HANDLE: LazyLock<Handle> = LazyLock::new(|| Handle::from_bytes(SCAN_ILLUSTRATION));
    &HANDLE
}

/// What the screens show at one moment: the engine's snapshot, less what the screens do not
/// need.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// The screen.
    pub screen: Screen,
    /// Seconds left in the idle dialog, while it shows.
    pub countdown: Option<u64>,
    /// Whether a help request stands (呼叫工作人员 was pressed and staff have not cleared it).
    pub help_requested: bool,
    /// Staff maintenance mode (its card prompt, PIN keypad, lockout notice or pages), while it
    /// shows: the screens then draw it instead of [`Frame::screen`].
    pub staff: Option<Box<StaffView>>,
    /// The notice from the central's config, shown on home as the operator wrote it.
    pub notice: Option<String>,
}

impl Frame {
    /// What a flow shows at `now` (for tests and previews that drive the flow directly).
    pub fn from_flow(flow: &Flow, now: Millis) -> Frame {
        Frame {
            screen: flow.screen(),
            countdown: flow.countdown(now),
            help_requested: flow.help_requested(),
            staff: None,
            notice: None,
        }
    }
}

impl Default for Frame {
    fn default() -> Self {
        Frame {
            screen: Screen::Home {
                notice_offline: false,
            },
            countdown: None,
            help_requested: false,
            staff: None,
            notice: None,
        }
    }
}

/// How to draw: the language and the scale (passed to every view).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Look {
    /// The language.
    pub lang: Lang,
    /// The scale of the design sizes.
    pub scale: Scale,
}

impl Look {
    /// A design size in real pixels.
    pub fn px(self, design: f32) -> f32 {
        self.scale.px(design)
    }

    /// A text in the current language.
    pub fn t(self, text: Text) -> &'static str {
        text.get(self.lang)
    }

    /// A text with its `{key}` placeholders filled.
    pub fn fill(self, text: Text, values: &[(&str, &str)]) -> String {
        text::fill(self.t(text), values)
    }

    /// A date in the current language.
    pub fn date(self, date: time::Date) -> String {
        text::date(self.lang, date)
    }
}

/// What a screen asks of the app after a touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing.
    None,
    /// Send this button to the engine.
    Press(Button),
    /// Send this staff button to the engine.
    Staff(StaffButton),
    /// Switch between Chinese and English.
    ToggleLanguage,
}

/// What the screens send to the engine after a touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Press {
    /// A resident's button ([`EngineHandle::press`](crate::engine::EngineHandle::press)).
    Resident(Button),
    /// A staff button, or the hidden corner
    /// ([`EngineHandle::staff`](crate::engine::EngineHandle::staff)).
    Staff(StaffButton),
}
