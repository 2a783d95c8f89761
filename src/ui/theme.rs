//! The look of the screens, in one place: every size (in design pixels at 1920x1080, scaled to
//! the real window by [`Scale`]), every colour, and the styles of buttons, panels and bars.
//!
//! Rules kept here (DESIGN.md §8): body text at least 32 px and headings at least 56 px at
//! 1080p; every pair of text colour and background at least 10:1 ([`TEXT_PAIRS`], checked by a
//! unit test with the WCAG formula); touch targets at least 120 px tall with at least 24 px
//! between them.

use iced::widget::{button, container, progress_bar};
use iced::{Background, Border, Color, Shadow, Size, Theme};

/// The width the sizes below are designed for.
pub const DESIGN_WIDTH: f32 = 1920.0;
/// The height the sizes below are designed for.
pub const DESIGN_HEIGHT: f32 = 1080.0;

/// Body text.
pub const BODY: f32 = 36.0;
/// Headings (the one question or statement of a screen).
pub const HEADING: f32 = 60.0;
/// The home screen's big title.
pub const HERO: f32 = 72.0;
/// Labels of the big buttons.
pub const BUTTON_TEXT: f32 = 44.0;
/// Labels of the footer buttons and the step indicator.
pub const SMALL: f32 = 34.0;
/// The seconds in the idle countdown.
pub const COUNTDOWN: f32 = 120.0;

/// Height of the big buttons (the screen's decision).
pub const BUTTON_HEIGHT: f32 = 140.0;
/// Minimum width of the big buttons.
pub const BUTTON_WIDTH: f32 = 620.0;
/// Height of the footer buttons (返回首页, 呼叫工作人员).
pub const FOOTER_BUTTON_HEIGHT: f32 = 120.0;
/// Width of the footer buttons.
pub const FOOTER_BUTTON_WIDTH: f32 = 420.0;
/// Space between any two buttons.
pub const BUTTON_GAP: f32 = 48.0;
/// Space between blocks of a screen.
pub const GAP: f32 = 32.0;
/// The margin around the screen.
pub const MARGIN: f32 = 48.0;
/// Height of the header bar.
pub const HEADER_HEIGHT: f32 = 120.0;
/// Corner radius of buttons and panels.
pub const RADIUS: f32 = 16.0;
/// Border width of outlined buttons and panels.
pub const BORDER: f32 = 4.0;
/// The photo on the confirm screen.
pub const PHOTO_WIDTH: f32 = 306.0;
/// The photo on the confirm screen.
pub const PHOTO_HEIGHT: f32 = 378.0;
/// Width of the labels on the confirm screen (姓名, 证件号码, ...).
pub const LABEL_WIDTH: f32 = 260.0;
/// Width of the card illustration.
pub const ILLUSTRATION_WIDTH: f32 = 720.0;
/// Height of the card illustration.
pub const ILLUSTRATION_HEIGHT: f32 = 450.0;
/// Height of the printing progress bar.
pub const PROGRESS_HEIGHT: f32 = 48.0;
/// Width of the idle dialog.
pub const DIALOG_WIDTH: f32 = 1400.0;
/// Width of the hidden corner of the home screen (held 3 s: staff entry).
pub const CORNER_WIDTH: f32 = 240.0;
/// Height of the hidden corner (the header's height).
pub const CORNER_HEIGHT: f32 = 120.0;

/// The maintenance screens (hall staff): denser than a resident's, with the same minimum text
/// and touch-target sizes.
pub mod staff {
    /// Every touch target of a maintenance screen lies left of this (design pixels), or in the
    /// footer: on a fullscreen demo the simulator panel covers the top right of the screen
    /// (1920 - 620 = 1300 onwards, down to 920).
    pub const REACH: f32 = 1300.0;
    /// Height of the maintenance buttons (menu, actions, footer).
    pub const BUTTON_HEIGHT: f32 = 120.0;
    /// Width of the menu buttons (three in a row).
    pub const MENU_BUTTON_WIDTH: f32 = 390.0;
    /// Width of the action buttons (打印测试页, 立即同步, the out-of-service reasons).
    pub const ACTION_BUTTON_WIDTH: f32 = 520.0;
    /// Space between maintenance buttons.
    pub const BUTTON_GAP: f32 = 32.0;
    /// A keypad key.
    pub const KEY_WIDTH: f32 = 200.0;
    /// A keypad key.
    pub const KEY_HEIGHT: f32 = 120.0;
    /// Space between keypad keys.
    pub const KEY_GAP: f32 = 24.0;
    /// Labels of the keypad's digits.
    pub const KEY_TEXT: f32 = 52.0;
    /// The dots that stand for the digits typed.
    pub const DOTS: f32 = 72.0;
    /// Lines of the maintenance pages.
    pub const LINE: f32 = 36.0;
    /// Space between lines of a maintenance page.
    pub const LINE_GAP: f32 = 16.0;
    /// Width of the labels on the maintenance pages (读卡器, 证件号码, ...).
    pub const LABEL_WIDTH: f32 = 300.0;
    /// Width of the state column on the device page.
    pub const STATE_WIDTH: f32 = 320.0;
}

/// The rules the sizes above must keep.
pub mod rules {
    /// Smallest body text at 1080p.
    pub const MIN_BODY: f32 = 32.0;
    /// Smallest heading at 1080p.
    pub const MIN_HEADING: f32 = 56.0;
    /// Smallest touch target height.
    pub const MIN_TARGET: f32 = 120.0;
    /// Smallest space between touch targets.
    pub const MIN_TARGET_GAP: f32 = 24.0;
    /// Smallest contrast of text on its background.
    pub const MIN_CONTRAST: f32 = 10.0;
}

/// Colours. Every text colour is listed with its background in [`TEXT_PAIRS`].
pub mod colour {
    use iced::Color;

    /// The page.
    pub const PAGE: Color = Color::WHITE;
    /// Text on the page and on light panels.
    pub const INK: Color = Color::from_rgb8(0x14, 0x14, 0x14);
    /// The header bar.
    pub const HEADER: Color = Color::from_rgb8(0x0A, 0x2E, 0x6E);
    /// Text on the header bar and on dark buttons.
    pub const ON_DARK: Color = Color::WHITE;
    /// The main button.
    pub const PRIMARY: Color = Color::from_rgb8(0x0A, 0x2E, 0x6E);
    /// The main button while pressed.
    pub const PRIMARY_PRESSED: Color = Color::from_rgb8(0x05, 0x1C, 0x46);
    /// The outlined button's face.
    pub const SECONDARY: Color = Color::WHITE;
    /// The outlined button's face while pressed.
    pub const SECONDARY_PRESSED: Color = Color::from_rgb8(0xDD, 0xE3, 0xEE);
    /// Outlines and rules.
    pub const LINE: Color = Color::from_rgb8(0x0A, 0x2E, 0x6E);
    /// The call-staff button.
    pub const HELP: Color = Color::from_rgb8(0x7A, 0x00, 0x00);
    /// The call-staff button while pressed.
    pub const HELP_PRESSED: Color = Color::from_rgb8(0x52, 0x00, 0x00);
    /// The "staff are coming" banner.
    pub const COMING: Color = Color::from_rgb8(0x0B, 0x4A, 0x22);
    /// Light panels (the person's data, dialogs).
    pub const PANEL: Color = Color::from_rgb8(0xF0, 0xF3, 0xF8);
    /// Notices (central unreachable, place the card again, take your card).
    pub const NOTICE: Color = Color::from_rgb8(0xFF, 0xF1, 0xC2);
    /// The notice border.
    pub const NOTICE_LINE: Color = Color::from_rgb8(0x8A, 0x5A, 0x00);
    /// The photo placeholder.
    pub const PLACEHOLDER: Color = Color::from_rgb8(0xDD, 0xE1, 0xE8);
    /// The dimmed page behind the idle dialog.
    pub const BACKDROP: Color = Color::from_rgba8(0x00, 0x00, 0x00, 0.6);
    /// The empty part of the progress bar.
    pub const TRACK: Color = Color::from_rgb8(0xDD, 0xE3, 0xEE);
    /// The header bar of the maintenance screens (so that staff mode is never mistaken for a
    /// resident's screen).
    pub const STAFF_HEADER: Color = Color::from_rgb8(0x33, 0x33, 0x33);
    /// A device or state that is not right, on the maintenance pages.
    pub const FAULT: Color = Color::from_rgb8(0x7A, 0x00, 0x00);
}

/// Every text colour the screens use, with the background it is drawn on, and where.
pub const TEXT_PAIRS: &[(&str, Color, Color)] = &[
    ("page text", colour::INK, colour::PAGE),
    ("header", colour::ON_DARK, colour::HEADER),
    ("main button", colour::ON_DARK, colour::PRIMARY),
    (
        "main button pressed",
        colour::ON_DARK,
        colour::PRIMARY_PRESSED,
    ),
    ("outlined button", colour::INK, colour::SECONDARY),
    (
        "outlined button pressed",
        colour::INK,
        colour::SECONDARY_PRESSED,
    ),
    ("call staff", colour::ON_DARK, colour::HELP),
    ("call staff pressed", colour::ON_DARK, colour::HELP_PRESSED),
    ("staff coming", colour::ON_DARK, colour::COMING),
    ("panel", colour::INK, colour::PANEL),
    ("notice", colour::INK, colour::NOTICE),
    ("photo placeholder", colour::INK, colour::PLACEHOLDER),
    ("maintenance header", colour::ON_DARK, colour::STAFF_HEADER),
    ("fault on the page", colour::FAULT, colour::PAGE),
    ("fault on a panel", colour::FAULT, colour::PANEL),
];

/// The relative luminance of a colour (WCAG 2.x), ignoring alpha.
pub fn luminance(color: Color) -> f32 {
    let channel = |c: f32| {
        if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)
}

/// The contrast ratio of two colours (WCAG 2.x): 1 to 21.
pub fn contrast(a: Color, b: Color) -> f32 {
    let (la, lb) = (luminance(a), luminance(b));
    let (light, dark) = if la >= lb { (la, lb) } else { (lb, la) };
    (light + 0.05) / (dark + 0.05)
}

/// How much the design sizes are scaled for the real window: the design's 1920x1080 fitted into
/// the window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale(pub f32);

impl Default for Scale {
    fn default() -> Self {
        Scale(1.0)
    }
}

impl Scale {
    /// The scale that fits the design into a window of this size (never below 0.25).
    pub fn fit(size: Size) -> Scale {
        let factor = (size.width / DESIGN_WIDTH).min(size.height / DESIGN_HEIGHT);
        if factor.is_finite() {
            Scale(factor.max(0.25))
        } else {
            Scale(1.0)
        }
    }

    /// A design size in real pixels.
    pub fn px(self, design: f32) -> f32 {
        design * self.0
    }
}

/// The kinds of buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonKind {
    /// The screen's main action: dark blue, white text.
    Primary,
    /// Other choices: white with a dark outline.
    Secondary,
    /// 呼叫工作人员: dark red, white text.
    Help,
}

/// The style of a button of this kind.
pub fn button_style(
    kind: ButtonKind,
    scale: Scale,
) -> impl Fn(&Theme, button::Status) -> button::Style {
    move |_theme, status| {
        let pressed = status == button::Status::Pressed;
        let (face, text, line) = match (kind, pressed) {
            (ButtonKind::Primary, false) => (colour::PRIMARY, colour::ON_DARK, colour::PRIMARY),
            (ButtonKind::Primary, true) => (
                colour::PRIMARY_PRESSED,
                colour::ON_DARK,
                colour::PRIMARY_PRESSED,
            ),
            (ButtonKind::Secondary, false) => (colour::SECONDARY, colour::INK, colour::LINE),
            (ButtonKind::Secondary, true) => (colour::SECONDARY_PRESSED, colour::INK, colour::LINE),
            (ButtonKind::Help, false) => (colour::HELP, colour::ON_DARK, colour::HELP),
            (ButtonKind::Help, true) => {
                (colour::HELP_PRESSED, colour::ON_DARK, colour::HELP_PRESSED)
            }
        };
        button::Style {
            background: Some(Background::Color(face)),
            text_color: text,
            border: Border {
                color: line,
                width: scale.px(BORDER),
                radius: scale.px(RADIUS).into(),
            },
            shadow: Shadow::default(),
            snap: true,
        }
    }
}

/// The kinds of boxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoxKind {
    /// The whole page.
    Page,
    /// The header bar.
    Header,
    /// A light panel.
    Panel,
    /// A notice, outlined.
    Notice,
    /// The "staff are coming" banner.
    Coming,
    /// The photo placeholder.
    Placeholder,
    /// The dimmed page behind a dialog.
    Backdrop,
    /// The dialog itself.
    Dialog,
    /// The header bar of the maintenance screens.
    StaffHeader,
}

/// The style of a box of this kind.
pub fn box_style(kind: BoxKind, scale: Scale) -> impl Fn(&Theme) -> container::Style {
    move |_theme| {
        let outline = |color| Border {
            color,
            width: scale.px(BORDER),
            radius: scale.px(RADIUS).into(),
        };
        let (background, text, border) = match kind {
            BoxKind::Page => (colour::PAGE, Some(colour::INK), Border::default()),
            BoxKind::Header => (colour::HEADER, Some(colour::ON_DARK), Border::default()),
            BoxKind::Panel => (colour::PANEL, Some(colour::INK), outline(colour::PANEL)),
            BoxKind::Notice => (
                colour::NOTICE,
                Some(colour::INK),
                outline(colour::NOTICE_LINE),
            ),
            BoxKind::Coming => (
                colour::COMING,
                Some(colour::ON_DARK),
                outline(colour::ON_DARK),
            ),
            BoxKind::Placeholder => (
                colour::PLACEHOLDER,
                Some(colour::INK),
                outline(colour::PLACEHOLDER),
            ),
            BoxKind::Backdrop => (colour::BACKDROP, None, Border::default()),
            BoxKind::Dialog => (colour::PAGE, Some(colour::INK), outline(colour::LINE)),
            BoxKind::StaffHeader => (
                colour::STAFF_HEADER,
                Some(colour::ON_DARK),
                Border::default(),
            ),
        };
        container::Style {
            text_color: text,
            background: Some(Background::Color(background)),
            border,
            shadow: Shadow::default(),
            snap: true,
        }
    }
}

/// The style of the printing progress bar.
pub fn progress_style(scale: Scale) -> impl Fn(&Theme) -> progress_bar::Style {
    move |_theme| progress_bar::Style {
        background: Background::Color(colour::TRACK),
        bar: Background::Color(colour::PRIMARY),
        border: Border {
            color: colour::LINE,
            width: scale.px(2.0),
            radius: scale.px(RADIUS).into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_pair_has_at_least_10_to_1() {
        for (name, text, background) in TEXT_PAIRS {
            let ratio = contrast(*text, *background);
            assert!(
                ratio >= rules::MIN_CONTRAST,
                "{name}: contrast {ratio:.2} is below {}",
                rules::MIN_CONTRAST
            );
        }
    }

    #[test]
    fn contrast_matches_known_values() {
        assert!((contrast(Color::BLACK, Color::WHITE) - 21.0).abs() < 0.01);
        assert!((contrast(Color::WHITE, Color::WHITE) - 1.0).abs() < 0.001);
        // #767676 on white is the classic 4.54:1.
        let grey = Color::from_rgb8(0x76, 0x76, 0x76);
        assert!((contrast(grey, Color::WHITE) - 4.54).abs() < 0.01);
    }

    #[test]
    fn sizes_keep_the_rules_at_1080p() {
        let at_1080 = Scale::fit(Size::new(1920.0, 1080.0));
        assert_eq!(at_1080, Scale(1.0));
        for body in [BODY, SMALL, BUTTON_TEXT] {
            assert!(at_1080.px(body) >= rules::MIN_BODY);
        }
        for heading in [HEADING, HERO] {
            assert!(at_1080.px(heading) >= rules::MIN_HEADING);
        }
        for target in [BUTTON_HEIGHT, FOOTER_BUTTON_HEIGHT] {
            assert!(at_1080.px(target) >= rules::MIN_TARGET);
        }
        assert!(at_1080.px(BUTTON_GAP) >= rules::MIN_TARGET_GAP);
        // The maintenance screens keep the same minimums.
        for text in [staff::LINE, staff::KEY_TEXT] {
            assert!(at_1080.px(text) >= rules::MIN_BODY);
        }
        for target in [staff::BUTTON_HEIGHT, staff::KEY_HEIGHT] {
            assert!(at_1080.px(target) >= rules::MIN_TARGET);
        }
        for gap in [staff::BUTTON_GAP, staff::KEY_GAP] {
            assert!(at_1080.px(gap) >= rules::MIN_TARGET_GAP);
        }
    }

    #[test]
    fn scale_fits_the_design_into_the_window() {
        assert_eq!(Scale::fit(Size::new(3840.0, 2160.0)), Scale(2.0));
        assert_eq!(Scale::fit(Size::new(960.0, 540.0)), Scale(0.5));
        // A 4:3 screen: the width limits.
        assert_eq!(Scale::fit(Size::new(1440.0, 1080.0)), Scale(0.75));
        assert_eq!(Scale::fit(Size::new(0.0, 0.0)), Scale(0.25));
    }
}
