//! The kiosk's window: keeps the current [`Frame`], builds the state of the screen module that
//! shows it, routes touches to that module, and answers with the [`Press`] the engine should
//! get (a resident's [`Button`], or a [`StaffButton`] while staff mode shows). Also keeps what
//! belongs to the screens alone: the language, the scale, the step an error happened in, the
//! printing bar, and the hidden corner's hold.
//!
//! While the frame carries a staff view, the maintenance screens ([`staff`](super::staff)) are
//! drawn instead of the resident's and resident touches are dropped. On the home screen (and on
//! 暂停服务, which stands in for it) the top left corner, held for three seconds
//! ([`corner`](super::corner)), asks for staff entry.
//!
//! [`StaffButton`]: crate::staff::StaffButton

use iced::{Element, Size};

use super::screens::{
    choose_login, confirm, done, error, home, identifying, issuing, not_eligible, out_of_service,
    printing, reading, wait_card, wait_scan, wrong_data,
};
use super::widgets::{Chrome, page};
use super::{Action, Frame, Lang, Look, Press, Scale, corner, staff};
use crate::flow::{Button, Screen};
use crate::staff::{StaffButton, StaffView};

/// Everything the resident's window can receive.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// The engine published a new frame (from the shell's subscription).
    Frame(Box<Frame>),
    /// A touch on the home screen.
    Home(home::Message),
    /// A touch on the choose-login screen.
    ChooseLogin(choose_login::Message),
    /// A touch on the confirm screen.
    Confirm(confirm::Message),
    /// A touch on an error screen.
    Error(error::Message),
    /// The printing bar's clock (from the shell's subscription, while printing).
    Printing(printing::Message),
    /// 返回首页 (on the page or in the idle dialog).
    GoHome,
    /// 呼叫工作人员 (on every page).
    CallStaff,
    /// 继续办理 (in the idle dialog).
    Continue,
    /// The window's size changed (from the shell's subscription).
    Resized(Size),
    /// A touch on a maintenance screen.
    Staff(staff::Message),
    /// The hidden corner of the home screen (and the shell's timer while it is held).
    Corner(corner::Message),
}

/// The state of the screen module showing now.
#[derive(Debug, Clone)]
enum Current {
    Home(home::State),
    ChooseLogin(choose_login::State),
    WaitCard(wait_card::State),
    WaitScan(wait_scan::State),
    Reading(reading::State),
    Identifying(identifying::State),
    Confirm(Box<confirm::State>),
    NotEligible(not_eligible::State),
    WrongData(wrong_data::State),
    Issuing(issuing::State),
    Printing(printing::State),
    Done(done::State),
    Error(error::State),
    OutOfService(out_of_service::State),
}

impl Current {
    fn new(frame: &Frame) -> Current {
        match frame.screen.clone() {
            Screen::Home { notice_offline } => Current::Home(home::State {
                notice_offline,
                notice: frame.notice.clone(),
            }),
            Screen::ChooseLogin => Current::ChooseLogin(choose_login::State),
            Screen::WaitCard { retry } => Current::WaitCard(wait_card::State { retry }),
            Screen::WaitScan => Current::WaitScan(wait_scan::State),
            Screen::Reading => Current::Reading(reading::State),
            Screen::Identifying => Current::Identifying(identifying::State),
            Screen::Confirm {
                person,
                code,
                offer,
                next_code,
            } => Current::Confirm(Box::new(confirm::State::new(
                person, code, offer, next_code,
            ))),
            Screen::NotEligible { reason } => Current::NotEligible(not_eligible::State { reason }),
            Screen::WrongData => Current::WrongData(wrong_data::State),
            Screen::Issuing => Current::Issuing(issuing::State),
            Screen::Printing => Current::Printing(printing::State::default()),
            Screen::Done {
                card_on_reader,
                serial,
            } => Current::Done(done::State {
                card_on_reader,
                serial,
            }),
            Screen::Error { error, can_retry } => Current::Error(error::State { error, can_retry }),
            Screen::OutOfService { reason } => {
                Current::OutOfService(out_of_service::State { reason })
            }
        }
    }

    /// The step indicator of the screen; errors show the step they happened in.
    fn step(&self, last_step: Option<u8>) -> Option<u8> {
        match self {
            Current::Home(_) => home::STEP,
            Current::ChooseLogin(_) => choose_login::STEP,
            Current::WaitCard(_) => wait_card::STEP,
            Current::WaitScan(_) => wait_scan::STEP,
            Current::Reading(_) => reading::STEP,
            Current::Identifying(_) => identifying::STEP,
            Current::Confirm(_) => confirm::STEP,
            Current::NotEligible(_) => not_eligible::STEP,
            Current::WrongData(_) => wrong_data::STEP,
            Current::Issuing(_) => issuing::STEP,
            Current::Printing(_) => printing::STEP,
            Current::Done(_) => done::STEP,
            Current::Error(_) => last_step,
            Current::OutOfService(_) => out_of_service::STEP,
        }
    }
}

/// The resident's window.
#[derive(Debug, Clone)]
pub struct Kiosk {
    frame: Frame,
    current: Current,
    lang: Lang,
    scale: Scale,
    /// The step of the last screen that had one (shown on error screens).
    last_step: Option<u8>,
    /// The hidden corner's hold.
    corner: corner::Hold,
}

impl Default for Kiosk {
    fn default() -> Self {
        Kiosk::new(Frame::default())
    }
}

impl Kiosk {
    /// The window showing `frame`, in Chinese, at the design scale.
    pub fn new(frame: Frame) -> Kiosk {
        let current = Current::new(&frame);
        let last_step = current.step(None);
        Kiosk {
            frame,
            current,
            lang: Lang::default(),
            scale: Scale::default(),
            last_step,
            corner: corner::Hold::default(),
        }
    }

    /// The same window at another scale (for other screen sizes and for screenshots).
    pub fn with_scale(mut self, scale: Scale) -> Kiosk {
        self.scale = scale;
        self
    }

    /// The frame shown.
    pub fn frame(&self) -> &Frame {
        &self.frame
    }

    /// The language shown.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The scale in use.
    pub fn scale(&self) -> Scale {
        self.scale
    }

    /// Whether the printing screen shows (the shell then ticks its bar).
    pub fn is_printing(&self) -> bool {
        self.frame.staff.is_none() && matches!(self.current, Current::Printing(_))
    }

    /// The maintenance view shown, while staff mode shows.
    pub fn staff(&self) -> Option<&StaffView> {
        self.frame.staff.as_deref()
    }

    /// Whether the hidden corner is being held (the shell then ticks
    /// [`Message::Corner`] every [`corner::TICK`]).
    pub fn corner_held(&self) -> bool {
        self.corner.is_counting()
    }

    /// Whether the hidden corner is there now: on home and on 暂停服务, while no staff screen
    /// shows.
    fn has_corner(&self) -> bool {
        self.frame.staff.is_none()
            && matches!(self.current, Current::Home(_) | Current::OutOfService(_))
    }

    /// Handles a message; returns what to send to the engine, if anything.
    pub fn update(&mut self, message: Message) -> Option<Press> {
        // While staff mode shows, nothing a resident's screen sends counts (the engine drops
        // such presses too).
        let resident = !matches!(
            message,
            Message::Frame(_) | Message::Resized(_) | Message::Staff(_) | Message::Corner(_)
        );
        if resident && self.frame.staff.is_some() {
            return None;
        }
        let action = match message {
            Message::Frame(frame) => {
                self.show(*frame);
                Action::None
            }
            Message::Home(message) => match &mut self.current {
                Current::Home(state) => home::update(state, message),
                _ => Action::None,
            },
            Message::ChooseLogin(message) => match &mut self.current {
                Current::ChooseLogin(state) => choose_login::update(state, message),
                _ => Action::None,
            },
            Message::Confirm(message) => match &mut self.current {
                Current::Confirm(state) => confirm::update(state, message),
                _ => Action::None,
            },
            Message::Error(message) => match &mut self.current {
                Current::Error(state) => error::update(state, message),
                _ => Action::None,
            },
            Message::Printing(message) => match &mut self.current {
                Current::Printing(state) => printing::update(state, message),
                _ => Action::None,
            },
            Message::GoHome => Action::Press(Button::Home),
            Message::CallStaff => Action::Press(Button::CallStaff),
            Message::Continue => Action::Press(Button::Continue),
            Message::Resized(size) => {
                self.scale = Scale::fit(size);
                Action::None
            }
            Message::Staff(message) => match self.frame.staff.as_deref() {
                Some(view) => staff::update(view, message),
                None => Action::None,
            },
            Message::Corner(message) => {
                if !self.has_corner() {
                    self.corner.reset();
                    Action::None
                } else if self.corner.update(message) {
                    Action::Staff(StaffButton::CornerLongPress)
                } else {
                    Action::None
                }
            }
        };
        match action {
            Action::None => None,
            Action::Press(button) => Some(Press::Resident(button)),
            Action::Staff(button) => Some(Press::Staff(button)),
            Action::ToggleLanguage => {
                self.lang = self.lang.toggled();
                None
            }
        }
    }

    /// Shows a new frame; keeps the screen's state if the screen did not change.
    fn show(&mut self, frame: Frame) {
        if frame.screen != self.frame.screen || frame.staff.is_some() {
            self.corner.reset();
        }
        if frame.screen != self.frame.screen {
            let was_home = matches!(self.frame.screen, Screen::Home { .. });
            self.current = Current::new(&frame);
            if let Some(step) = self.current.step(None) {
                self.last_step = Some(step);
            }
            // The next resident starts in Chinese.
            if !was_home && matches!(frame.screen, Screen::Home { .. }) {
                self.lang = Lang::Zh;
            }
        } else if frame.notice != self.frame.notice && matches!(self.current, Current::Home(_)) {
            // The central's notice changed while home shows.
            self.current = Current::new(&frame);
        }
        self.frame = frame;
    }

    /// The window's content.
    pub fn view(&self) -> Element<'_, Message> {
        let look = Look {
            lang: self.lang,
            scale: self.scale,
        };
        if let Some(view) = self.frame.staff.as_deref() {
            return staff::view(view, look).map(Message::Staff);
        }
        let content: Element<'_, Message> = match &self.current {
            Current::Home(state) => home::view(state, look).map(Message::Home),
            Current::ChooseLogin(state) => {
                choose_login::view(state, look).map(Message::ChooseLogin)
            }
            Current::WaitCard(state) => wait_card::view(state, look).map(|m| match m {}),
            Current::WaitScan(state) => wait_scan::view(state, look).map(|m| match m {}),
            Current::Reading(state) => reading::view(state, look).map(|m| match m {}),
            Current::Identifying(state) => identifying::view(state, look).map(|m| match m {}),
            Current::Confirm(state) => confirm::view(state, look).map(Message::Confirm),
            Current::NotEligible(state) => not_eligible::view(state, look).map(|m| match m {}),
            Current::WrongData(state) => wrong_data::view(state, look).map(|m| match m {}),
            Current::Issuing(state) => issuing::view(state, look).map(|m| match m {}),
            Current::Printing(state) => printing::view(state, look).map(Message::Printing),
            Current::Done(state) => done::view(state, look).map(|m| match m {}),
            Current::Error(state) => error::view(state, look).map(Message::Error),
            Current::OutOfService(state) => out_of_service::view(state, look).map(|m| match m {}),
        };
        // 返回首页 everywhere but the lobby's own first screens (home, and out of service,
        // which stands in for home while no session can start).
        let home = match self.current {
            Current::Home(_) | Current::OutOfService(_) => None,
            _ => Some(Message::GoHome),
        };
        let language = match self.current {
            Current::Home(_) => Some(Message::Home(home::Message::ToggleLanguage)),
            _ => None,
        };
        let chrome = Chrome {
            step: self.current.step(self.last_step),
            home,
            language,
            call_staff: Message::CallStaff,
            help_requested: self.frame.help_requested,
            countdown: self
                .frame
                .countdown
                .map(|seconds| (seconds, Message::Continue)),
        };
        let page = page(look, chrome, content);
        if self.has_corner() {
            corner::overlay(look, page, Message::Corner)
        } else {
            page
        }
    }
}
