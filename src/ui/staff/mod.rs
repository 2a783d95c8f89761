//! The hall staff's maintenance screens, drawn from the engine's [`StaffView`] while staff mode
//! shows: the card prompt, the PIN keypad, the PIN check, the lockout notice, and the pages of
//! maintenance mode (menu, devices, test print, test card, test scan, today's counts, sync,
//! service, recent errors). One module per screen (its messages, update and view; the state is
//! the part of the view it draws); this module picks the screen and puts the maintenance page
//! around it ([`widgets::staff_page`]: 维护模式 in a dark header, who is signed in, a resident's
//! standing help request, the auto-exit countdown when it is close, 取消 / 返回菜单 and 退出维护).
//!
//! Every touch becomes a [`StaffButton`] for the engine ([`Action::Staff`]); the screens keep
//! nothing of their own. The PIN keypad shows a dot for each digit typed, never the digits.
//!
//! [`widgets::staff_page`]: super::widgets::staff_page

use iced::Element;

use super::text::Text;
use super::widgets::{StaffChrome, staff_page};
use super::{Action, Look};
use crate::staff::{Page, StaffButton, StaffScreen, StaffView};

pub mod card_prompt;
pub mod checking;
pub mod counts;
pub mod devices;
pub mod errors;
pub mod locked;
pub mod menu;
pub mod pin;
pub mod service;
pub mod sync;
pub mod test_card;
pub mod test_print;
pub mod test_scan;

/// The auto-exit countdown shows from this many seconds left.
pub const SHOW_AUTO_EXIT_AT: u64 = 30;

/// What can be touched on the maintenance screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// On the PIN keypad.
    Pin(pin::Message),
    /// On the menu.
    Menu(menu::Message),
    /// On the test-print page.
    TestPrint(test_print::Message),
    /// On the sync page.
    Sync(sync::Message),
    /// On the service page.
    Service(service::Message),
    /// 返回菜单.
    BackToMenu,
    /// 继续维护 (the auto-exit countdown shows).
    KeepOpen,
    /// 取消 (card prompt, PIN, lockout) or 退出维护.
    Exit,
}

/// Turns a touch into what the app does.
pub fn update(view: &StaffView, message: Message) -> Action {
    match message {
        Message::Pin(message) => pin::update(message),
        Message::Menu(message) => menu::update(message),
        Message::TestPrint(message) => test_print::update(message),
        Message::Sync(message) => sync::update(message),
        Message::Service(message) => service::update(message),
        Message::BackToMenu => Action::Staff(StaffButton::Open(Page::Menu)),
        // Any press keeps maintenance open: going to the page shown is one that changes nothing
        // else.
        Message::KeepOpen => match view.screen {
            StaffScreen::Open { page, .. } => Action::Staff(StaffButton::Open(page)),
            _ => Action::None,
        },
        Message::Exit => Action::Staff(StaffButton::Exit),
    }
}

/// The name of a page, as the menu and the header say it.
pub fn page_name(page: Page) -> Text {
    match page {
        Page::Menu => Text::StaffMenuTitle,
        Page::Devices => Text::PageDevices,
        Page::TestPrint => Text::PageTestPrint,
        Page::TestCard => Text::PageTestCard,
        Page::TestScan => Text::PageTestScan,
        Page::Counts => Text::PageCounts,
        Page::Sync => Text::PageSync,
        Page::Service => Text::PageService,
        Page::Errors => Text::PageErrors,
    }
}

/// The maintenance screen for `view`, with its page around it.
pub fn view(view: &StaffView, look: Look) -> Element<'_, Message> {
    let auto_exit = view
        .auto_exit_in
        .filter(|seconds| *seconds <= SHOW_AUTO_EXIT_AT);
    let (content, chrome) = match &view.screen {
        StaffScreen::CardPrompt => (
            card_prompt::view(look).map(|m| match m {}),
            StaffChrome {
                title: None,
                staff: None,
                help_requested: view.help_requested,
                auto_exit: auto_exit.map(|s| (s, None)),
                back: Some((Text::StaffCancel, Message::Exit)),
                exit: None,
            },
        ),
        StaffScreen::Pin {
            staff,
            digits,
            wrong_pin,
            tries_left,
        } => (
            pin::view(
                pin::State {
                    staff,
                    digits: *digits,
                    wrong_pin: *wrong_pin,
                    tries_left: *tries_left,
                },
                look,
            )
            .map(Message::Pin),
            StaffChrome {
                title: None,
                staff: None,
                help_requested: view.help_requested,
                auto_exit: auto_exit.map(|s| (s, None)),
                back: Some((Text::StaffCancel, Message::Exit)),
                exit: None,
            },
        ),
        StaffScreen::Checking { staff } => (
            checking::view(staff, look).map(|m| match m {}),
            StaffChrome {
                title: None,
                staff: None,
                help_requested: view.help_requested,
                auto_exit: None,
                back: None,
                exit: None,
            },
        ),
        StaffScreen::Locked { seconds_left } => (
            locked::view(*seconds_left, look).map(|m| match m {}),
            StaffChrome {
                title: None,
                staff: None,
                help_requested: view.help_requested,
                auto_exit: auto_exit.map(|s| (s, None)),
                back: Some((Text::StaffCancel, Message::Exit)),
                exit: None,
            },
        ),
        StaffScreen::Open { staff, page } => {
            let content = match page {
                Page::Menu => menu::view(view, look).map(Message::Menu),
                Page::Devices => devices::view(view, look).map(|m| match m {}),
                Page::TestPrint => test_print::view(view, look).map(Message::TestPrint),
                Page::TestCard => test_card::view(view, look).map(|m| match m {}),
                Page::TestScan => test_scan::view(view, look).map(|m| match m {}),
                Page::Counts => counts::view(view, look).map(|m| match m {}),
                Page::Sync => sync::view(view, look).map(Message::Sync),
                Page::Service => service::view(view, look).map(Message::Service),
                Page::Errors => errors::view(view, look).map(|m| match m {}),
            };
            let back =
                (*page != Page::Menu).then_some((Text::StaffBackToMenu, Message::BackToMenu));
            (
                content,
                StaffChrome {
                    title: Some(look.t(page_name(*page))),
                    staff: Some(staff.clone()),
                    help_requested: view.help_requested,
                    auto_exit: auto_exit.map(|s| (s, Some(Message::KeepOpen))),
                    back,
                    exit: Some((Text::StaffExit, Message::Exit)),
                },
            )
        }
    };
    staff_page(look, chrome, content)
}

/// A number of seconds as minutes and seconds (`4分5秒`), or seconds alone under a minute.
pub fn duration_words(look: Look, seconds: u64) -> String {
    let (m, s) = (seconds / 60, seconds % 60);
    if m == 0 {
        look.fill(Text::SecondsOnly, &[("s", &s.to_string())])
    } else {
        look.fill(
            Text::MinutesSeconds,
            &[("m", &m.to_string()), ("s", &s.to_string())],
        )
    }
}

/// A moment as the maintenance pages write it: Shanghai time, `05-09 14:03:22`.
pub fn time_words(at: time::OffsetDateTime) -> String {
    let local = at.to_offset(crate::engine::SHANGHAI);
    format!(
        "{:02}-{:02} {:02}:{:02}:{:02}",
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second()
    )
}

/// At most `units` wide (a CJK character counts two, anything else one), then `…`: a line of the
/// maintenance pages never wraps.
pub fn clip(text: &str, units: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let width = if c.is_ascii() { 1 } else { 2 };
        if used + width > units {
            out.push('…');
            return out;
        }
        used += width;
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_clipping_read_plainly() {
        let look = Look::default();
        assert_eq!(duration_words(look, 300), "5分0秒");
        assert_eq!(duration_words(look, 59), "59秒");
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "abc…");
        assert_eq!(clip("林晓岚x", 5), "林晓…");
        let at = time::macros::datetime!(2026-05-09 06:03:22 UTC);
        assert_eq!(time_words(at), "05-09 14:03:22");
    }

    #[test]
    fn known_codes_are_said_in_words_and_others_shown_as_they_are() {
        let look = Look::default();
        assert_eq!(
            sync::error_words(look, "the central service refused: x (y)"),
            "服务中心拒绝了请求"
        );
        assert_eq!(sync::error_words(look, "disk full"), "disk full");
        assert_eq!(devices::error_words(look, "cover-open"), "开盖");
        assert_eq!(
            devices::error_words(look, "reader R unplugged"),
            "reader R unplugged"
        );
        assert_eq!(
            counts::reason_words(look, "not_real_name_verified"),
            "没有实名认证"
        );
        assert_eq!(
            counts::reason_words(look, "conflict_active_code"),
            "conflict_active_code"
        );
    }
}
