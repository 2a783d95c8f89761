//! Runs the screens: the resident's window (fullscreen, no decorations, pointer hidden, no key
//! that leaves the app) and, while devices are simulated, the simulator panel in a second
//! window; the bundled CJK font as the default font; frames from the engine as a subscription;
//! touches back to the engine as [`Press`]es (a resident's button or a staff button); the timer
//! of the hidden corner while it is held. SIGTERM (systemd stopping the unit) quits as closing
//! the development window does, so that the engine stops and the core hands what is left to the
//! central before the process exits.
//!
//! Where there is no display, [`run`] says so in one plain line ([`NO_DISPLAY`]) instead of
//! starting.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use iced::futures::stream::{self, Stream};
use iced::keyboard;
use iced::{Element, Size, Subscription, Task, Theme, window};
use tokio::sync::watch;

use super::app::{self, Kiosk};
use super::screens::printing;
use super::sim_panel::{self, SimPanel};
use super::{FONT, FONT_BYTES, Frame, Press, Text, corner, cursor};

/// What the kiosk says, in one line, when there is no display to show the screens on.
pub const NO_DISPLAY: &str = "no display to show the screens on (neither DISPLAY nor WAYLAND_DISPLAY is set): run a session without a screen with `kiosk run-once`, or start a virtual display first (`Xvfb :99 -screen 0 1920x1080x24 &` then `DISPLAY=:99 kiosk`)";

/// How the resident's window behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Production: fullscreen, no decorations, pointer hidden, closing and keys ignored.
    Kiosk,
    /// Development: a 1280x720 window with decorations; Esc or closing it quits.
    Windowed,
}

/// Sends a press to the engine.
pub type PressFn = dyn Fn(Press) + Send + Sync;

/// What the screens need to run.
pub struct Launch {
    /// Frames from the engine (the latest is shown).
    pub frames: watch::Receiver<Frame>,
    /// Where presses go.
    pub press: Arc<PressFn>,
    /// The simulator panel, when devices are simulated.
    pub sim: Option<SimPanel>,
    /// How the window behaves.
    pub mode: Mode,
}

impl std::fmt::Debug for Launch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launch")
            .field("mode", &self.mode)
            .field("sim", &self.sim.is_some())
            .finish_non_exhaustive()
    }
}

/// Whether a display server is there to open windows on.
pub fn display_available() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    set("DISPLAY") || set("WAYLAND_DISPLAY")
}

/// Opens the windows and runs until the app quits (in [`Mode::Kiosk`]: until the process is
/// stopped). Fails with [`NO_DISPLAY`] where there is no display.
pub fn run(launch: Launch) -> anyhow::Result<()> {
    if !display_available() {
        anyhow::bail!(NO_DISPLAY);
    }
    let cell = std::sync::Mutex::new(Some(launch));
    let boot = move || {
        let launch = cell
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        Shell::boot(launch)
    };
    iced::daemon(boot, Shell::update, Shell::view)
        .title(Shell::title)
        .subscription(Shell::subscription)
        .theme(|_: &Shell, _| Theme::Light)
        .font(FONT_BYTES)
        .default_font(FONT)
        .run()
        .map_err(|error| match error {
            iced::Error::WindowCreationFailed(_) | iced::Error::GraphicsCreationFailed(_) => {
                anyhow::anyhow!(NO_DISPLAY)
            }
            other => anyhow::anyhow!("the screens stopped: {other}"),
        })
}

/// The daemon's messages.
#[derive(Debug, Clone)]
enum ShellMessage {
    /// For the resident's window.
    Kiosk(app::Message),
    /// For the simulator panel.
    Sim(sim_panel::Message),
    /// A window's size changed.
    Resized(window::Id, Size),
    /// A window was closed.
    Closed(window::Id),
    /// Esc in development mode, or SIGTERM.
    Quit,
    /// Nothing to do (a window opened).
    Nothing,
}

struct Shell {
    kiosk: Kiosk,
    main: Option<window::Id>,
    sim: Option<(window::Id, SimPanel)>,
    press: Arc<PressFn>,
    feed: Option<Feed>,
    mode: Mode,
}

impl Shell {
    fn boot(launch: Option<Launch>) -> (Shell, Task<ShellMessage>) {
        let Some(launch) = launch else {
            // Booted twice: nothing to show; quit.
            return (Shell::empty(), iced::exit());
        };
        let frame = launch.frames.borrow().clone();
        let (main, open_main) = window::open(main_window(launch.mode));
        // The screens scale to the window: ask its size once it is open (later changes come
        // as resize events).
        let mut tasks = vec![
            open_main.then(|id| window::size(id).map(move |size| ShellMessage::Resized(id, size))),
        ];
        let sim = launch.sim.map(|panel| {
            let (id, open) = window::open(sim_window());
            tasks.push(open.map(|_| ShellMessage::Nothing));
            (id, panel)
        });
        let shell = Shell {
            kiosk: Kiosk::new(frame),
            main: Some(main),
            sim,
            press: launch.press,
            feed: Some(Feed(launch.frames)),
            mode: launch.mode,
        };
        (shell, Task::batch(tasks))
    }

    fn empty() -> Shell {
        Shell {
            kiosk: Kiosk::default(),
            main: None,
            sim: None,
            press: Arc::new(|_| {}),
            feed: None,
            mode: Mode::Windowed,
        }
    }

    /// The window titles, from the message table (in Chinese: a window manager, if any, shows
    /// them; residents never see them).
    fn title(&self, window: window::Id) -> String {
        let text = if self.sim.as_ref().is_some_and(|(id, _)| *id == window) {
            Text::SimTitle
        } else {
            Text::WindowTitle
        };
        text.zh().to_owned()
    }

    fn update(&mut self, message: ShellMessage) -> Task<ShellMessage> {
        match message {
            ShellMessage::Kiosk(message) => {
                if let Some(press) = self.kiosk.update(message) {
                    (self.press)(press);
                }
            }
            ShellMessage::Sim(message) => {
                if let Some((_, panel)) = &mut self.sim {
                    panel.update(message);
                }
            }
            ShellMessage::Resized(id, size) => {
                if Some(id) == self.main {
                    let _ = self.kiosk.update(app::Message::Resized(size));
                }
            }
            ShellMessage::Closed(id) => {
                if self.sim.as_ref().is_some_and(|(sim, _)| *sim == id) {
                    self.sim = None;
                } else if Some(id) == self.main {
                    return iced::exit();
                }
            }
            ShellMessage::Quit => return iced::exit(),
            ShellMessage::Nothing => {}
        }
        Task::none()
    }

    fn view(&self, window: window::Id) -> Element<'_, ShellMessage> {
        if let Some((id, panel)) = &self.sim
            && *id == window
        {
            return panel.view().map(ShellMessage::Sim);
        }
        let view = self.kiosk.view().map(ShellMessage::Kiosk);
        match self.mode {
            Mode::Kiosk => cursor::hidden(view),
            Mode::Windowed => view,
        }
    }

    fn subscription(&self) -> Subscription<ShellMessage> {
        let mut subscriptions = vec![
            window::resize_events().map(|(id, size)| ShellMessage::Resized(id, size)),
            window::close_events().map(ShellMessage::Closed),
            Subscription::run(terminate_requests),
        ];
        if let Some(feed) = &self.feed {
            subscriptions.push(
                Subscription::run_with(feed.clone(), Feed::stream)
                    .map(|frame| ShellMessage::Kiosk(app::Message::Frame(Box::new(frame)))),
            );
        }
        if self.kiosk.is_printing() {
            subscriptions.push(
                iced::time::every(Duration::from_millis(500))
                    .map(|_| ShellMessage::Kiosk(app::Message::Printing(printing::Message::Tick))),
            );
        }
        if self.kiosk.corner_held() {
            subscriptions
                .push(iced::time::every(corner::TICK).map(|at| {
                    ShellMessage::Kiosk(app::Message::Corner(corner::Message::Tick(at)))
                }));
        }
        if quits_on_escape(self.mode) {
            subscriptions.push(keyboard::listen().filter_map(|event| match event {
                keyboard::Event::KeyPressed {
                    key: keyboard::Key::Named(keyboard::key::Named::Escape),
                    ..
                } => Some(ShellMessage::Quit),
                _ => None,
            }));
        }
        Subscription::batch(subscriptions)
    }
}

/// SIGTERM, as [`ShellMessage::Quit`] (on iced's Tokio runtime). Without a signal handler the
/// stream waits for ever and SIGTERM keeps its default action.
fn terminate_requests() -> impl Stream<Item = ShellMessage> {
    use tokio::signal::unix::{SignalKind, signal};
    stream::unfold((), |()| async {
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
                tracing::info!("SIGTERM: closing the screens");
                Some((ShellMessage::Quit, ()))
            }
            Err(error) => {
                tracing::warn!(%error, "cannot watch SIGTERM");
                std::future::pending().await
            }
        }
    })
}

/// Whether Esc quits: in development only; in production no key leaves the app.
fn quits_on_escape(mode: Mode) -> bool {
    mode == Mode::Windowed
}

fn main_window(mode: Mode) -> window::Settings {
    match mode {
        Mode::Kiosk => window::Settings {
            size: Size::new(1920.0, 1080.0),
            fullscreen: true,
            decorations: false,
            resizable: false,
            closeable: false,
            minimizable: false,
            exit_on_close_request: false,
            ..window::Settings::default()
        },
        Mode::Windowed => window::Settings {
            size: Size::new(1280.0, 720.0),
            position: window::Position::Specific(iced::Point::ORIGIN),
            ..window::Settings::default()
        },
    }
}

/// The simulator panel sits at the top right of a 1920-pixel screen: beside the development
/// window, over the right edge of a fullscreen one (without a window manager nothing moves it),
/// ending above the footer so that 呼叫工作人员 stays visible.
fn sim_window() -> window::Settings {
    window::Settings {
        size: Size::new(SIM_WIDTH, SIM_HEIGHT),
        position: window::Position::Specific(iced::Point::new(1920.0 - SIM_WIDTH, 0.0)),
        ..window::Settings::default()
    }
}

/// The simulator panel's width.
const SIM_WIDTH: f32 = 620.0;
/// The simulator panel's height.
const SIM_HEIGHT: f32 = 920.0;

/// The frames from the engine, as the subscription's data (one feed per run: its hash is a
/// constant, so the subscription never restarts).
#[derive(Clone)]
struct Feed(watch::Receiver<Frame>);

impl Hash for Feed {
    fn hash<H: Hasher>(&self, state: &mut H) {
        "engine frames".hash(state);
    }
}

impl Feed {
    fn stream(&self) -> impl Stream<Item = Frame> + use<> {
        let mut receiver = self.0.clone();
        receiver.mark_changed();
        stream::unfold(receiver, |mut receiver| async move {
            receiver.changed().await.ok()?;
            let frame = receiver.borrow_and_update().clone();
            Some((frame, receiver))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_production_window_is_fullscreen_undecorated_and_cannot_be_closed() {
        let window = main_window(Mode::Kiosk);
        assert!(window.fullscreen);
        assert!(!window.decorations);
        assert!(!window.closeable);
        assert!(!window.exit_on_close_request);
        assert!(!window.resizable);
        assert!(!window.minimizable);
        assert_eq!(window.size, Size::new(1920.0, 1080.0));
        // Development: an ordinary window that closes.
        let window = main_window(Mode::Windowed);
        assert!(!window.fullscreen);
        assert!(window.decorations);
        assert!(window.exit_on_close_request);
    }

    #[test]
    fn only_development_quits_on_escape() {
        assert!(!quits_on_escape(Mode::Kiosk));
        assert!(quits_on_escape(Mode::Windowed));
    }
}
