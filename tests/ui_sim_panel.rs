//! The simulator panel drives the simulated devices: touches on its buttons (through the real
//! view, headless) reach the reader, the scanner and the printer.

mod ui_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use iced::Size;
use iced_test::Simulator;
use kiosk::ui::sim_panel::{Message, SimDevices, SimPanel, Suishen};
use printer::PrinterStatus;

fn touch(panel: &mut SimPanel, label: &str) {
    let messages: Vec<Message> = {
        let mut ui = Simulator::with_size(
            ui_support::settings(),
            Size::new(620.0, 920.0),
            panel.view(),
        );
        assert!(ui.click(label).is_ok(), "{label} is not on the panel");
        ui.into_messages().collect()
    };
    assert!(!messages.is_empty(), "{label}");
    for message in messages {
        panel.update(message);
    }
}

#[test]
fn no_simulated_device_no_panel() {
    assert!(SimPanel::new(SimDevices::default(), None).is_none());
}

#[test]
fn the_panel_plays_the_devices() {
    let printer = printer::SimulatedPrinter::new();
    let status = printer.handle();
    let minted = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(AtomicUsize::new(0));
    let suishen = Suishen {
        citizens: vec![("王秀英".to_owned(), "310101195203140028".to_owned())],
        mint: {
            let minted = Arc::clone(&minted);
            let calls = Arc::clone(&calls);
            Arc::new(move |id: &str| {
                calls.fetch_add(1, Ordering::SeqCst);
                minted.lock().unwrap().push(id.to_owned());
                Ok("SUISHEN-DEMO".to_owned())
            })
        },
    };
    let devices = SimDevices {
        reader: Some(idcard::SimulatedReader::new("reader").handle()),
        scanner: Some(scanner::SimulatedScanner::new().handle()),
        printer: Some(printer.handle()),
    };
    let mut panel = SimPanel::new(devices, Some(suishen)).unwrap();

    touch(&mut panel, "缺纸");
    assert_eq!(status.status(), PrinterStatus::PaperOut);
    assert_eq!(panel.last(), Some("已完成：缺纸"));
    touch(&mut panel, "开盖");
    assert_eq!(status.status(), PrinterStatus::CoverOpen);
    touch(&mut panel, "就绪");
    assert_eq!(status.status(), PrinterStatus::Ready);

    touch(&mut panel, "放置 王秀英");
    assert_eq!(panel.last(), Some("已完成：放置 王秀英"));
    touch(&mut panel, "移走身份证");
    assert_eq!(panel.last(), Some("已完成：移走身份证"));

    touch(&mut panel, "出示 王秀英 的随申码");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(minted.lock().unwrap().as_slice(), ["310101195203140028"]);
    assert_eq!(panel.last(), Some("已完成：出示 王秀英 的随申码"));
}

#[test]
fn a_code_that_cannot_be_made_is_said_plainly() {
    let devices = SimDevices {
        scanner: Some(scanner::SimulatedScanner::new().handle()),
        ..SimDevices::default()
    };
    let suishen = Suishen {
        citizens: vec![("李建国".to_owned(), "310101194901010011".to_owned())],
        mint: Arc::new(|_: &str| anyhow::bail!("no such person")),
    };
    let mut panel = SimPanel::new(devices, Some(suishen)).unwrap();
    touch(&mut panel, "出示 李建国 的随申码");
    assert_eq!(panel.last(), Some("没有成功：出示 李建国 的随申码"));
}

#[cfg(feature = "embedded-central")]
#[test]
fn the_embedded_central_offers_one_citizen_per_journey() {
    let dir = tempfile::tempdir().unwrap();
    let suishen = Suishen::embedded(dir.path());
    let names: Vec<&str> = suishen.citizens.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), 6, "{names:?}");
    assert!(names.contains(&"王秀英"));
    // A data directory without a central in it makes no code: an error, never a panic.
    assert!((suishen.mint)(&suishen.citizens[0].1).is_err());
}
