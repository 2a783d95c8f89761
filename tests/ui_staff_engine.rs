//! The maintenance screens on the real engine, as the demo runs them: the embedded central
//! service (which enrols the demo staff member), simulated devices played through the real
//! simulator panel, the screens fed the engine's snapshots and sending their presses to the
//! engine's handle. The hidden corner, the demo staff card and PIN, a test print on the
//! simulated printer (and one from the same screens that reaches the TCP printer emulator as
//! ESC/POS bytes whose QR zbarimg reads), the central made unreachable and reachable again from the panel (seen on
//! the sync page), and a resident's card starting a resident's session. Also what the demo's
//! central config does to the resident's screens: the root `kiosk.toml` ends up with the 60 s
//! idle time-out once the config is pulled, and a notice the operator sets shows on home.

#![cfg(feature = "embedded-central")]
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod support;
mod ui_support;

use std::time::{Duration, Instant};

use iced::Size;
use iced_test::Simulator;
use kiosk::config::Config;
use kiosk::engine::{Core, Engine, EngineHandle};
use kiosk::ui::sim_panel::{self, SimDevices, SimPanel};
use kiosk::ui::{Frame, Kiosk, Message, Press, corner};

/// A kiosk of the demo kind running in this process, with its screens and its panel.
struct Live {
    runtime: tokio::runtime::Runtime,
    core: Option<Core>,
    handle: EngineHandle,
    engine: Option<tokio::task::JoinHandle<()>>,
    kiosk: Kiosk,
    panel: SimPanel,
    _dir: tempfile::TempDir,
}

/// The embedded central, simulated reader and scanner, 1 s sync intervals, and `printer` as the
/// body of `[devices.printer]`.
fn config_printing_to(printer: &str) -> String {
    format!(
        r#"
[kiosk]
id = "K001"
data_dir = "data"

[central]
embedded = true

[sync]
heartbeat_seconds = 1
upload_seconds = 1

[devices.idcard]
backend = "simulated"

[devices.scanner]
backend = "simulated"

[devices.printer]
{printer}
"#
    )
}

impl Live {
    fn start() -> Live {
        Live::with_config(&config_printing_to("backend = \"simulated\""))
    }

    /// The repository's own `kiosk.toml` (simulated devices, embedded central, default sync
    /// intervals), with its data in a temporary directory.
    fn on_default_config() -> Live {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/kiosk.toml")).unwrap();
        let moved = text.replace("data_dir = \"var/kiosk\"", "data_dir = \"data\"");
        assert_ne!(
            moved, text,
            "kiosk.toml no longer sets data_dir = \"var/kiosk\""
        );
        Live::with_config(&moved)
    }

    /// A kiosk on this `kiosk.toml` text, in a temporary directory (the kiosk's data in `data`,
    /// the embedded central's in `central`).
    fn with_config(text: &str) -> Live {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("kiosk.toml");
        std::fs::write(&config, text).unwrap();
        let config = Config::load(&config).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (core, handle, engine) = runtime.block_on(async {
            let core = Core::open(config).await.unwrap();
            let (engine, handle) = Engine::new(&core).unwrap();
            let engine = tokio::spawn(engine.run());
            (core, handle, engine)
        });
        let devices = SimDevices {
            reader: handle.sim.reader.clone(),
            scanner: handle.sim.scanner.clone(),
            printer: handle.sim.printer.clone(),
        };
        let switch = kiosk::ui::launch::central_switch(&core, runtime.handle()).unwrap();
        // As the kiosk's launch builds it on the demo: one card per demo citizen.
        let panel = SimPanel::new(devices, None)
            .unwrap()
            .with_central(switch)
            .with_cards(sim_panel::demo_citizen_cards());
        let kiosk = Kiosk::new(Frame::from(&*handle.snapshots.borrow()));
        Live {
            runtime,
            core: Some(core),
            handle,
            engine: Some(engine),
            kiosk,
            panel,
            _dir: dir,
        }
    }

    fn core(&self) -> &Core {
        self.core.as_ref().unwrap()
    }

    /// The embedded central's data directory, for what an operator does on it while it runs.
    fn central_data(&self) -> central::server::DataDir {
        central::server::DataDir::new(self._dir.path().join("central"))
    }

    /// Waits (up to 30 s) until the kiosk has pulled the central's config.
    fn wait_for_config(&self) -> protocol::api::KioskConfig {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(config) = self.core().sync.state().config {
                return config;
            }
            assert!(Instant::now() < deadline, "no central config");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Shows the engine's latest snapshot.
    fn show(&mut self) {
        let frame = Frame::from(&*self.handle.snapshots.borrow());
        let _ = self.kiosk.update(Message::Frame(Box::new(frame)));
    }

    fn texts(&self) -> Vec<String> {
        let mut found = Vec::new();
        let mut ui = ui_support::simulator(self.kiosk.view());
        let _ = ui.find(|candidate: iced_test::selector::Candidate<'_>| {
            if let iced_test::selector::Candidate::Text { content, .. } = candidate {
                found.push(content.to_owned());
            }
            None::<()>
        });
        found
    }

    /// Waits (up to 30 s) until the screens show `text`.
    #[track_caller]
    fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.show();
            let texts = self.texts();
            if texts.iter().any(|t| t == text) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the screens never showed {text:?}; they show {texts:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn send(&self, press: Press) {
        match press {
            Press::Resident(button) => self.handle.press(button),
            Press::Staff(button) => self.handle.staff(button),
        }
    }

    /// Touches a label on the screens (once they show it: the engine answers the touch before
    /// on its own task); what they send goes to the engine.
    #[track_caller]
    fn touch(&mut self, label: &str) {
        self.wait_for(label);
        let messages: Vec<Message> = {
            let mut ui = ui_support::simulator(self.kiosk.view());
            assert!(
                ui.click(label).is_ok(),
                "{label:?} is not on the screens: {:?}",
                self.texts()
            );
            ui.into_messages().collect()
        };
        for message in messages {
            if let Some(press) = self.kiosk.update(message) {
                self.send(press);
            }
        }
    }

    /// Touches a button of the simulator panel.
    #[track_caller]
    fn touch_panel(&mut self, label: &str) {
        let messages: Vec<sim_panel::Message> = {
            let mut ui = Simulator::with_size(
                ui_support::settings(),
                Size::new(620.0, 920.0),
                self.panel.view(),
            );
            assert!(ui.click(label).is_ok(), "{label:?} is not on the panel");
            ui.into_messages().collect()
        };
        for message in messages {
            self.panel.update(message);
        }
    }

    /// Into maintenance mode as staff do it: the hidden corner held three seconds (the shell's
    /// timer is played here), the demo staff card from the panel, the PIN on the keypad.
    fn enter_maintenance(&mut self) {
        let _ = self.kiosk.update(Message::Corner(corner::Message::Pressed));
        let t0 = Instant::now();
        let _ = self
            .kiosk
            .update(Message::Corner(corner::Message::Tick(t0)));
        let press = self
            .kiosk
            .update(Message::Corner(corner::Message::Tick(t0 + corner::HOLD)))
            .unwrap();
        self.send(press);
        self.wait_for("请放置工作人员身份证");
        self.touch_panel("放置工作人员卡 林晓岚");
        self.wait_for("请输入密码");
        for digit in kiosk::sample::DEMO_STAFF_PIN.chars() {
            self.touch(&digit.to_string());
        }
        self.touch("确定");
        self.wait_for("维护模式 · 维护菜单");
    }

    fn stop(mut self) {
        self.handle.stop();
        let engine = self.engine.take().unwrap();
        let core = self.core.take().unwrap();
        self.runtime.block_on(async {
            engine.await.unwrap();
            core.close(Duration::from_secs(5)).await;
        });
    }
}

#[test]
fn maintenance_on_the_demo_kiosk() {
    let started = Instant::now();
    let mut live = Live::start();
    live.wait_for("随申码离线服务");
    // The demo central's staff list arrives with its config.
    let deadline = Instant::now() + Duration::from_secs(30);
    while live.core().sync.state().config.is_none() {
        assert!(Instant::now() < deadline, "no central config");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(600));

    live.enter_maintenance();
    live.wait_for("工作人员：林*岚");

    // A test print on the simulated printer.
    live.touch("测试打印");
    live.touch("打印测试页");
    live.wait_for("测试页已打印。请看二维码和文字是否清楚。");
    live.touch("返回菜单");

    // The central goes away and comes back, from the panel; the sync page says so.
    live.touch("同步状态");
    live.wait_for("连得上");
    live.touch_panel("服务中心不可达");
    assert_eq!(live.panel.central_reachable(), Some(false));
    assert_eq!(live.panel.last(), Some("已完成：服务中心不可达"));
    live.touch("立即同步");
    live.wait_for("连不上");
    live.touch_panel("服务中心可达");
    assert_eq!(live.panel.central_reachable(), Some(true));
    live.touch("立即同步");
    live.wait_for("连得上");

    live.touch("退出维护");
    live.wait_for("随申码离线服务");
    live.touch_panel("移走身份证");

    // Any other card starts a resident's session, as before.
    live.touch_panel("放置 王秀英");
    live.wait_for("请核对您的信息");
    live.wait_for("王秀英");
    live.touch("返回首页");
    live.wait_for("随申码离线服务");
    live.stop();
    eprintln!("the demo kiosk's maintenance took {:?}", started.elapsed());
}

#[test]
fn a_test_print_from_the_screens_reaches_the_tcp_printer() {
    let printer =
        printer::emulator::TcpPrinterEmulator::start(printer::emulator::ALL_FINE).unwrap();
    let mut live = Live::with_config(&config_printing_to(&format!(
        "backend = \"escpos\"\nconnection = \"{}\"\nprofile = \"generic-58\"",
        printer.url()
    )));
    live.wait_for("随申码离线服务");
    live.wait_for_config();
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        support::slips_printed(&printer.received()),
        0,
        "no slip yet"
    );

    live.enter_maintenance();

    // 测试打印 → 打印测试页: the screens say it printed, and the emulator has the slip.
    live.touch("测试打印");
    live.touch("打印测试页");
    live.wait_for("测试页已打印。请看二维码和文字是否清楚。");
    let bytes = printer.received();
    assert!(
        bytes.windows(2).any(|w| w == [0x1B, 0x40]),
        "no ESC @ (initialise) among {} bytes",
        bytes.len()
    );
    assert_eq!(support::slips_printed(&bytes), 1, "one cut: one slip");
    let dir = tempfile::tempdir().unwrap();
    let decoded = support::decode_slips(&bytes, dir.path());
    assert_eq!(decoded.len(), 1, "{decoded:?}");
    assert!(
        decoded[0].starts_with("SSM1:") && decoded[0].len() == 139,
        "{}",
        decoded[0]
    );
    live.touch("返回菜单");
    live.touch("退出维护");
    live.wait_for("随申码离线服务");
    live.touch_panel("移走身份证");
    live.stop();
}

#[test]
fn the_embedded_central_can_be_switched_off_and_on() {
    let live = Live::start();
    let core = live.core();
    let switch = core.embedded_switch().unwrap();
    live.runtime.block_on(async {
        assert!(switch.is_running().await);
        core.client.keys().await.unwrap();
        core.set_embedded_reachable(false).await.unwrap();
        assert!(!switch.is_running().await);
        assert!(core.client.keys().await.is_err());
        // Doing what is already so does nothing.
        core.set_embedded_reachable(false).await.unwrap();
        core.set_embedded_reachable(true).await.unwrap();
        assert!(switch.is_running().await);
        core.client.keys().await.unwrap();
    });
    live.stop();
}

#[test]
fn the_default_kiosk_toml_keeps_the_60_second_idle_time_out_once_the_config_is_pulled() {
    let live = Live::on_default_config();
    let config = live.wait_for_config();
    // The engine applies the pulled config on its next tick; wait until it has, then look.
    let from_config = Duration::from_secs(u64::from(
        config
            .idle_timeout_seconds
            .max(kiosk::engine::MIN_IDLE_SECONDS),
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    while live.handle.snapshots.borrow().idle_timeout != from_config {
        assert!(
            Instant::now() < deadline,
            "the config's idle time-out is never applied"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(from_config, Duration::from_secs(60));
    assert_eq!(
        Duration::from_millis(kiosk::flow::Timeouts::default().idle_ms),
        from_config,
        "the flow's own idle time-out and the central's default agree"
    );
    live.stop();
}

#[test]
fn a_notice_the_operator_sets_shows_on_home() {
    let notice = "今日12:00-13:00系统维护，暂停服务。";
    let mut live = Live::start();
    live.wait_for("随申码离线服务");
    let first = live.wait_for_config();
    assert!(first.notice.is_none());
    let version = central::admin::set_notice(&live.central_data(), Some(notice)).unwrap();
    assert!(version > first.version);
    // Pulled with a heartbeat (every second here), shown on home as written.
    live.wait_for(notice);
    assert_eq!(
        live.handle.snapshots.borrow().notice.as_deref(),
        Some(notice)
    );
    central::admin::set_notice(&live.central_data(), None).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        live.show();
        if !live.texts().iter().any(|t| t == notice) {
            break;
        }
        assert!(Instant::now() < deadline, "the notice never went away");
        std::thread::sleep(Duration::from_millis(50));
    }
    live.wait_for("随申码离线服务");
    live.stop();
}

/// The words on the simulator panel.
fn panel_texts(panel: &SimPanel) -> Vec<String> {
    let mut found = Vec::new();
    let mut ui = Simulator::with_size(
        ui_support::settings(),
        Size::new(620.0, 920.0),
        panel.view(),
    );
    let _ = ui.find(|candidate: iced_test::selector::Candidate<'_>| {
        if let iced_test::selector::Candidate::Text { content, .. } = candidate {
            found.push(content.to_owned());
        }
        None::<()>
    });
    found
}

#[test]
fn every_demo_citizen_has_a_card_on_the_panel_and_each_plays_its_journey() {
    let people = central::demo::demo_citizens();
    let cards = sim_panel::demo_citizen_cards();
    assert_eq!(cards.len(), people.len());
    for (person, card) in people.iter().zip(&cards) {
        assert_eq!(card.id_number, person.citizen.id_number);
        assert_eq!(card.birth_date, person.citizen.id_number.birth_date());
    }

    let mut live = Live::start();
    let texts = panel_texts(&live.panel);
    for card in &cards {
        let label = format!("放置 {}", card.name);
        assert!(
            texts.contains(&label),
            "no {label:?} on the panel: {texts:?}"
        );
    }
    live.wait_for("随申码离线服务");
    // Cards that only the panel's per-citizen cards have: the active code (补领), the lost one,
    // no photo, not verified.
    let journeys = [
        ("张桂兰", "补领离线码"),
        ("刘志强", "补领离线码"),
        ("陈玉珍", "一网通办照片库中没有您的照片。"),
        ("杨国华", "您的身份还没有通过实名认证。"),
    ];
    for (name, shown) in journeys {
        live.touch_panel(&format!("放置 {name}"));
        live.wait_for(shown);
        live.touch("返回首页");
        live.wait_for("随申码离线服务");
        live.touch_panel("移走身份证");
    }
    live.stop();
}
