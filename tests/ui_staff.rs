//! Hall-staff maintenance mode through the real screens (view and update, headless with
//! iced_test), the real staff machine and the real resident flow, routed as the engine routes
//! them: entry with the staff card and the PIN keypad, the lockout and its end, the hidden
//! corner, the pages and their actions, out of service as residents see it, the auto-exit, and
//! a resident's card starting a resident's session.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod ui_staff_support;
mod ui_support;

use std::time::{Duration, Instant};

use iced::mouse;
use kiosk::flow::{Button, Effect, Screen};
use kiosk::staff::{OutOfServiceReason, Page, StaffButton, StaffEffect, StaffScreen};
use kiosk::ui::staff::pin::dots;
use kiosk::ui::{Message, Press, corner};
use protocol::api::JournalKind;
use ui_staff_support::{STAFF_PIN, StaffRig};

fn staff_card() -> idcard::IdCard {
    kiosk::sample::demo_staff_card().unwrap()
}

/// Demo card 0: an eligible resident.
fn resident_card() -> idcard::IdCard {
    idcard::demo_cards().into_iter().next().unwrap()
}

fn journaled(rig: &StaffRig, kind: JournalKind, pair: (&str, &str)) -> bool {
    rig.staff_effects.iter().any(|effect| match effect {
        StaffEffect::Journal { kind: k, detail } => {
            *k == kind
                && detail
                    .iter()
                    .any(|(key, value)| *key == pair.0 && value == pair.1)
        }
        _ => false,
    })
}

#[test]
fn a_staff_card_and_the_pin_open_maintenance_mode() {
    let mut rig = StaffRig::new();
    rig.sees("随申码离线服务");
    rig.place_card(&staff_card());
    assert!(
        rig.flow.session().is_none(),
        "a staff card starts no resident session"
    );
    rig.sees("请输入密码");
    rig.sees("工作人员：林*岚");
    rig.sees("密码是4至8位数字");
    for key in [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "删除", "确定", "取消",
    ] {
        rig.sees(key);
    }
    rig.does_not_see("呼叫工作人员");
    rig.does_not_see("返回首页");

    // Dots for the digits typed, never the digits.
    rig.touch("1");
    rig.touch("2");
    rig.sees(&dots(2));
    rig.touch("9");
    rig.sees(&dots(3));
    rig.touch("删除");
    rig.sees(&dots(2));
    rig.touch("3");
    rig.touch("4");
    rig.sees(&dots(4));
    for text in rig.texts() {
        assert!(
            !text.chars().any(|c| c.is_ascii_digit()) || text.chars().count() == 1,
            "{text:?} shows digits besides the keypad's"
        );
    }
    assert_eq!(
        rig.sent
            .iter()
            .filter(|p| matches!(p, Press::Staff(StaffButton::Digit(_))))
            .count(),
        5
    );

    rig.touch("确定");
    rig.sees("正在核对密码");
    rig.does_not_see("确定");
    rig.pin_checked();
    rig.sees("维护模式 · 维护菜单");
    rig.sees("工作人员：林*岚");
    rig.sees("现在：正在服务");
    for page in [
        "设备状态",
        "测试打印",
        "测试读卡",
        "测试扫码",
        "今日统计",
        "同步状态",
        "暂停/恢复服务",
        "最近错误",
        "退出维护",
    ] {
        rig.sees(page);
    }
    assert!(journaled(&rig, JournalKind::StaffLogin, ("staff", "林*岚")));

    rig.touch("退出维护");
    rig.sees("随申码离线服务");
    assert!(rig.staff.is_closed());
    assert!(journaled(&rig, JournalKind::StaffAction, ("how", "button")));
}

#[test]
fn a_pin_of_fewer_than_four_digits_is_not_sent_and_cancel_goes_home() {
    let mut rig = StaffRig::new();
    rig.place_card(&staff_card());
    rig.touch("1");
    rig.touch("2");
    rig.touch("确定");
    assert!(rig.pending_pin.is_none());
    rig.sees(&dots(2));
    rig.touch("取消");
    rig.sees("随申码离线服务");
    assert!(rig.staff.is_closed());
}

#[test]
fn five_wrong_pins_lock_staff_entry_until_the_lockout_ends() {
    let mut rig = StaffRig::new();
    rig.place_card(&staff_card());
    for left in (1..=4).rev() {
        rig.type_pin("0000");
        rig.pin_checked();
        rig.sees(&format!("密码不对，还可以再试{left}次"));
        rig.sees("请输入密码");
    }
    rig.type_pin("9999");
    rig.pin_checked();
    rig.sees("工作人员登录已暂停");
    rig.sees("密码错误次数太多。");
    rig.sees("请在5分0秒后再试。");
    rig.does_not_see("请输入密码");
    assert!(journaled(
        &rig,
        JournalKind::StaffLoginFailed,
        ("locked_seconds", "300")
    ));
    assert_eq!(rig.lockout.lockouts, 1);

    rig.wait(61_000);
    rig.sees("请在3分59秒后再试。");
    // 取消 goes home; the lockout runs on, for any staff card.
    rig.touch("取消");
    rig.sees("随申码离线服务");
    rig.place_card(&staff_card());
    rig.sees("工作人员登录已暂停");
    rig.sees_part("后再试。");
    rig.does_not_see("请输入密码");
    rig.touch("取消");

    // The hidden corner meets the lockout too.
    rig.send(Press::Staff(StaffButton::CornerLongPress));
    rig.sees("工作人员登录已暂停");
    rig.touch("取消");

    // Five minutes after the lockout began: staff entry opens again.
    rig.wait(240_000);
    rig.sees("随申码离线服务");
    rig.place_card(&staff_card());
    rig.sees("请输入密码");
    rig.does_not_see("密码不对，还可以再试4次");
    rig.type_pin(STAFF_PIN);
    rig.pin_checked();
    rig.sees("维护模式 · 维护菜单");
    assert_eq!(rig.lockout.lockouts, 0, "a good entry resets the lockouts");
}

#[test]
fn the_lockout_notice_closes_by_itself_when_the_lockout_ends() {
    let mut rig = StaffRig::new();
    rig.place_card(&staff_card());
    for _ in 0..5 {
        rig.type_pin("0000");
        rig.pin_checked();
    }
    rig.sees("工作人员登录已暂停");
    // Staff keep touching nothing: the notice goes after two minutes (idle), the lockout stays.
    rig.wait(120_000);
    rig.sees("随申码离线服务");
    assert!(rig.staff.is_locked(kiosk::flow::Millis(rig.now)));
    rig.wait(180_000);
    assert!(!rig.staff.is_locked(kiosk::flow::Millis(rig.now)));
}

/// Presses the hidden corner through the real view (a finger down at the top left).
fn press_corner(rig: &mut StaffRig) {
    let messages: Vec<Message> = {
        let mut ui = ui_support::simulator(rig.kiosk.view());
        ui.point_at(iced::Point::new(20.0, 20.0));
        let _ = ui.simulate([iced::Event::Mouse(mouse::Event::ButtonPressed(
            mouse::Button::Left,
        ))]);
        ui.into_messages().collect()
    };
    assert_eq!(
        messages,
        vec![Message::Corner(corner::Message::Pressed)],
        "the corner did not take the press"
    );
    for message in messages {
        rig.message(message);
    }
}

fn release_corner(rig: &mut StaffRig) {
    let messages: Vec<Message> = {
        let mut ui = ui_support::simulator(rig.kiosk.view());
        ui.point_at(iced::Point::new(20.0, 20.0));
        let _ = ui.simulate([iced::Event::Mouse(mouse::Event::ButtonReleased(
            mouse::Button::Left,
        ))]);
        ui.into_messages().collect()
    };
    for message in messages {
        rig.message(message);
    }
}

#[test]
fn holding_the_hidden_corner_three_seconds_opens_the_card_prompt() {
    let mut rig = StaffRig::new();
    let home = rig.texts();
    // A short touch in the corner does nothing.
    press_corner(&mut rig);
    assert!(rig.kiosk.corner_held());
    let t0 = Instant::now();
    rig.message(Message::Corner(corner::Message::Tick(t0)));
    rig.message(Message::Corner(corner::Message::Tick(
        t0 + Duration::from_millis(1_500),
    )));
    release_corner(&mut rig);
    assert!(!rig.kiosk.corner_held());
    rig.message(Message::Corner(corner::Message::Tick(
        t0 + Duration::from_secs(5),
    )));
    assert!(rig.sent.is_empty());
    assert_eq!(rig.texts(), home, "nothing shows for the corner");

    // Held for three seconds (the shell's timer ticks while it is held).
    press_corner(&mut rig);
    let t0 = Instant::now();
    for ms in (0..3_000).step_by(100) {
        rig.message(Message::Corner(corner::Message::Tick(
            t0 + Duration::from_millis(ms),
        )));
    }
    assert!(rig.sent.is_empty(), "2.9 s is not long enough");
    rig.message(Message::Corner(corner::Message::Tick(t0 + corner::HOLD)));
    assert_eq!(rig.sent, vec![Press::Staff(StaffButton::CornerLongPress)]);
    rig.sees("请放置工作人员身份证");
    rig.sees("取消");

    // The staff card then opens the keypad.
    rig.place_card(&staff_card());
    rig.sees("请输入密码");
}

#[test]
fn the_corner_is_not_there_during_a_resident_session() {
    let mut rig = StaffRig::new();
    rig.touch("随申码离线服务");
    rig.sees("请选择登录方式");
    let messages: Vec<Message> = {
        let mut ui = ui_support::simulator(rig.kiosk.view());
        ui.point_at(iced::Point::new(20.0, 20.0));
        let _ = ui.simulate([iced::Event::Mouse(mouse::Event::ButtonPressed(
            mouse::Button::Left,
        ))]);
        ui.into_messages().collect()
    };
    assert!(messages.is_empty(), "{messages:?}");
    // Once a session runs, even a long press sent by hand is ignored (as the engine does).
    rig.touch("身份证登录");
    rig.place_card(&resident_card());
    rig.sees("正在查询您的信息");
    rig.send(Press::Staff(StaffButton::CornerLongPress));
    rig.sees("正在查询您的信息");
    assert!(rig.staff.is_closed());
}

#[test]
fn a_resident_card_starts_a_resident_session() {
    // At home.
    let mut rig = StaffRig::new();
    rig.place_card(&resident_card());
    rig.sees("正在查询您的信息");
    assert!(rig.flow.session().is_some());
    assert!(rig.staff.is_closed());
    assert_eq!(
        rig.effects
            .iter()
            .filter(|e| matches!(e, Effect::Identify { .. }))
            .count(),
        1
    );

    // At the staff card prompt: it is a resident's card all the same.
    let mut rig = StaffRig::new();
    rig.send(Press::Staff(StaffButton::CornerLongPress));
    rig.sees("请放置工作人员身份证");
    rig.place_card(&resident_card());
    rig.sees("正在查询您的信息");
    assert!(rig.flow.session().is_some());
    assert!(journaled(
        &rig,
        JournalKind::StaffLoginFailed,
        ("reason", "unknown_card")
    ));
}

#[test]
fn test_print_shows_its_result() {
    let mut rig = StaffRig::new();
    rig.sign_in();
    rig.touch("测试打印");
    rig.sees("维护模式 · 测试打印");
    rig.sees("本次开机还没有打印过测试页。");
    rig.sees("返回菜单");
    rig.touch("打印测试页");
    rig.sees("正在打印测试页……");
    // Pressing again while it prints asks for nothing more.
    rig.touch("打印测试页");
    assert_eq!(
        rig.staff_effects
            .iter()
            .filter(|e| **e == StaffEffect::TestPrint)
            .count(),
        1
    );
    rig.test_printed(Ok(()));
    rig.sees("测试页已打印。请看二维码和文字是否清楚。");
    assert!(journaled(
        &rig,
        JournalKind::StaffAction,
        ("outcome", "printed")
    ));

    rig.touch("打印测试页");
    rig.test_printed(Err("paper-out".to_owned()));
    rig.sees("没有打印出来：缺纸");
    rig.touch("返回菜单");
    rig.sees("维护模式 · 维护菜单");
}

#[test]
fn out_of_service_blocks_residents_and_they_see_why() {
    let mut rig = StaffRig::new();
    rig.sign_in();
    rig.touch("暂停/恢复服务");
    rig.sees("现在：正在服务");
    for reason in OutOfServiceReason::ALL {
        rig.sees(reason.words());
    }
    rig.touch("打印机维护");
    rig.sees("现在：已暂停服务（打印机维护）");
    rig.sees("恢复服务");
    rig.does_not_see("读卡器故障");
    assert!(journaled(
        &rig,
        JournalKind::OutOfService,
        ("reason", "printer_maintenance")
    ));
    rig.touch("返回菜单");
    rig.sees("现在：已暂停服务（打印机维护）");
    rig.touch("退出维护");

    // Residents see 暂停服务 with the reason, and nothing starts.
    rig.sees("暂停服务");
    rig.sees("原因：打印机维护");
    rig.does_not_see("随申码离线服务");
    rig.place_card(&resident_card());
    rig.sees("暂停服务");
    assert!(rig.flow.session().is_none());
    assert!(
        !rig.effects
            .iter()
            .any(|e| matches!(e, Effect::Identify { .. }))
    );

    // Staff still get in (the hidden corner is there too) and put it back in service.
    rig.send(Press::Staff(StaffButton::CornerLongPress));
    rig.sees("请放置工作人员身份证");
    rig.sign_in();
    rig.touch("暂停/恢复服务");
    rig.touch("恢复服务");
    rig.sees("现在：正在服务");
    assert!(journaled(
        &rig,
        JournalKind::BackInService,
        ("staff", "林*岚")
    ));
    rig.touch("退出维护");
    rig.sees("随申码离线服务");
    rig.place_card(&resident_card());
    rig.sees("正在查询您的信息");
}

#[test]
fn maintenance_closes_after_two_minutes_without_input() {
    let mut rig = StaffRig::new();
    rig.sign_in();
    rig.touch("设备状态");
    rig.wait(89_000);
    assert!(!rig.shows_part("秒后自动退出维护"));
    rig.does_not_see("继续维护");
    rig.wait(1_000);
    rig.sees("30秒后自动退出维护");
    rig.sees("继续维护");
    rig.touch("继续维护");
    assert!(!rig.shows_part("秒后自动退出维护"));
    rig.sees("维护模式 · 设备状态");

    rig.wait(100_000);
    rig.sees("20秒后自动退出维护");
    rig.wait(20_000);
    rig.sees("随申码离线服务");
    assert!(rig.staff.is_closed());
    assert!(journaled(&rig, JournalKind::StaffAction, ("how", "idle")));

    // The keypad and the card prompt close the same way.
    rig.place_card(&staff_card());
    rig.wait(95_000);
    rig.sees("25秒后自动退出维护");
    rig.touch("1");
    assert!(!rig.shows_part("秒后自动退出维护"));
    rig.wait(120_000);
    rig.sees("随申码离线服务");
}

#[test]
fn the_pages_show_what_the_engine_gathers() {
    let mut rig = StaffRig::new();
    rig.sign_in();

    rig.touch("设备状态");
    rig.sees("读卡器");
    rig.sees("正常");
    rig.sees("扫码器");
    rig.sees("故障，不能用");
    rig.sees("最近错误：/dev/ttyACM0: No such file or directory");
    rig.sees("打印机");
    rig.sees("有问题，仍能用");
    rig.sees("最近错误：快用完了");
    rig.sees("纸张：快用完了");
    rig.touch("返回菜单");

    rig.touch("今日统计");
    rig.sees("12张");
    rig.sees("3张");
    rig.sees("14张");
    rig.sees("4次（未满60周岁 3次，照片库中没有照片 1次）");
    rig.sees("1次（缺纸 1次）");
    rig.touch("返回菜单");

    rig.touch("同步状态");
    rig.sees("连不上");
    rig.sees("11-22 10:14:05");
    rig.sees("37条");
    rig.sees("服务中心下发，本机保存（版本4）");
    rig.sees("上次同步出错：连不上服务中心");
    rig.touch("立即同步");
    assert!(rig.staff_effects.contains(&StaffEffect::ForceSync));
    rig.touch("返回菜单");

    rig.touch("最近错误");
    rig.sees("11-22 10:10:00");
    rig.sees("打印失败");
    rig.sees("reason=paper_out detail=paper end sensor");
    rig.sees("登录失败");
    rig.touch("返回菜单");

    // Test the reader: the masked parse; the card starts no resident session.
    rig.touch("测试读卡");
    rig.sees("请放置身份证");
    let card = resident_card();
    rig.place_card(&card);
    assert!(rig.flow.session().is_none());
    let masked = card.masked_view();
    rig.sees(&masked.name);
    rig.sees(&masked.id_number);
    rig.sees("居民身份证");
    assert!(!rig.shows_part(card.id_number.as_str()));
    assert!(!rig.shows_part(&card.name));
    rig.staff_input(kiosk::staff::StaffInput::CardUnreadable(
        "the card left the reader".to_owned(),
    ));
    rig.sees("没有读出来：the card left the reader");
    rig.touch("返回菜单");

    // Test the scanner: kind, length and the first characters only.
    rig.touch("测试扫码");
    rig.sees("请把二维码对准扫码口");
    let slip = format!("SSM1:{}", "A".repeat(134));
    rig.scan(&slip);
    rig.sees("离线码");
    rig.sees("139个字符");
    rig.sees("SSM1:A…");
    assert!(!rig.shows_part(&slip));
    rig.scan("SUISHEN-TOKEN-1234567890");
    rig.sees("其他二维码（如随申码）");
    rig.sees("SUISHE…");
    assert!(rig.flow.session().is_none(), "scans go to the test page");
}

#[test]
fn staff_clear_a_residents_help_request() {
    let mut rig = StaffRig::new();
    rig.touch("随申码离线服务");
    rig.touch("呼叫工作人员");
    rig.sees("工作人员马上就到");
    rig.touch("返回首页");
    assert!(rig.flow.help_requested());

    rig.sign_in();
    rig.sees("有居民呼叫工作人员");
    rig.touch("清除呼叫");
    assert!(!rig.flow.help_requested());
    rig.does_not_see("有居民呼叫工作人员");
    rig.does_not_see("清除呼叫");
    assert!(journaled(
        &rig,
        JournalKind::StaffAction,
        ("action", "clear_help")
    ));
    rig.touch("退出维护");
    rig.does_not_see("工作人员马上就到");
}

#[test]
fn resident_touches_count_for_nothing_while_staff_mode_shows() {
    let mut rig = StaffRig::new();
    rig.sign_in();
    for message in [Message::GoHome, Message::CallStaff, Message::Continue] {
        assert_eq!(rig.kiosk.update(message), None);
    }
    assert_eq!(rig.resident_presses(Button::CallStaff), 0);
    assert!(!rig.flow.help_requested());
    // And a stale staff touch after staff mode closed sends nothing.
    rig.touch("退出维护");
    assert_eq!(
        rig.kiosk
            .update(Message::Staff(kiosk::ui::staff::Message::KeepOpen)),
        None
    );
    assert!(matches!(rig.screen(), Screen::Home { .. }));
}

#[test]
fn english_comes_from_the_same_table() {
    let mut rig = StaffRig::new();
    rig.touch("English");
    rig.send(Press::Staff(StaffButton::CornerLongPress));
    rig.sees("Please place your staff ID card");
    rig.sees("Cancel");
    rig.place_card(&staff_card());
    rig.sees("Please enter your PIN");
    rig.sees("Delete");
    for digit in STAFF_PIN.chars() {
        rig.touch(&digit.to_string());
    }
    rig.touch("OK");
    rig.sees("Checking the PIN");
    rig.pin_checked();
    rig.sees("Maintenance · Maintenance menu");
    rig.sees("Leave");
    rig.touch("Service on/off");
    rig.sees("Now: in service");
    rig.touch("printer maintenance");
    // What residents and the fleet see is the fixed Chinese reason.
    assert!(rig.staff_effects.contains(&StaffEffect::TakeOutOfService(
        OutOfServiceReason::PrinterMaintenance
    )));
    rig.sees("Now: out of service (打印机维护)");
}

#[test]
fn every_page_can_be_reached_from_the_menu_and_back() {
    let mut rig = StaffRig::new();
    rig.sign_in();
    for page in kiosk::ui::staff::menu::PAGES {
        let name = kiosk::ui::staff::page_name(page).zh();
        rig.touch(name);
        assert!(
            matches!(
                rig.staff.screen(kiosk::flow::Millis(rig.now)),
                Some(StaffScreen::Open { page: p, .. }) if p == page
            ),
            "{page:?}"
        );
        rig.sees(&format!("维护模式 · {name}"));
        rig.touch("返回菜单");
        assert!(matches!(
            rig.staff.screen(kiosk::flow::Millis(rig.now)),
            Some(StaffScreen::Open {
                page: Page::Menu,
                ..
            })
        ));
    }
}

/// Touches a button of the simulator panel through its real view.
fn touch_panel(panel: &mut kiosk::ui::sim_panel::SimPanel, label: &str) {
    let messages: Vec<kiosk::ui::sim_panel::Message> = {
        let mut ui = iced_test::Simulator::with_size(
            ui_support::settings(),
            iced::Size::new(620.0, 920.0),
            panel.view(),
        );
        assert!(ui.click(label).is_ok(), "{label:?} is not on the panel");
        ui.into_messages().collect()
    };
    for message in messages {
        panel.update(message);
    }
}

#[test]
fn the_panel_places_the_demo_staff_card() {
    use idcard::CardReader as _;
    let mut reader = idcard::SimulatedReader::new("reader");
    let events = reader.start();
    let devices = kiosk::ui::sim_panel::SimDevices {
        reader: Some(reader.handle()),
        ..Default::default()
    };
    let mut panel = kiosk::ui::sim_panel::SimPanel::new(devices, None).unwrap();
    touch_panel(&mut panel, "放置工作人员卡 林晓岚");
    assert_eq!(panel.last(), Some("已完成：放置工作人员卡 林晓岚"));
    let card = loop {
        match events.recv_timeout(Duration::from_secs(10)).unwrap() {
            idcard::ReaderEvent::CardRead { card, .. } => break card,
            _ => continue,
        }
    };
    assert_eq!(card.id_number.as_str(), kiosk::sample::DEMO_STAFF_ID_NUMBER);
    reader.stop();
    // Without a central switch the panel has no central section.
    assert!(panel.central_reachable().is_none());
    let mut ui = iced_test::Simulator::with_size(
        ui_support::settings(),
        iced::Size::new(620.0, 920.0),
        panel.view(),
    );
    assert!(ui.find("服务中心不可达").is_err());
}

#[test]
fn the_panel_switches_the_central_and_says_when_it_could_not() {
    use std::sync::{Arc, Mutex};
    let asked = Arc::new(Mutex::new(Vec::new()));
    let fail = Arc::new(Mutex::new(false));
    let switch = {
        let asked = Arc::clone(&asked);
        let fail = Arc::clone(&fail);
        Arc::new(move |reachable: bool| {
            asked.lock().unwrap().push(reachable);
            if *fail.lock().unwrap() {
                anyhow::bail!("the port is taken");
            }
            Ok(())
        })
    };
    let devices = kiosk::ui::sim_panel::SimDevices {
        printer: Some(printer::SimulatedPrinter::new().handle()),
        ..Default::default()
    };
    let mut panel = kiosk::ui::sim_panel::SimPanel::new(devices, None)
        .unwrap()
        .with_central(switch);
    assert_eq!(panel.central_reachable(), Some(true));
    touch_panel(&mut panel, "服务中心不可达");
    assert_eq!(panel.central_reachable(), Some(false));
    assert_eq!(panel.last(), Some("已完成：服务中心不可达"));
    *fail.lock().unwrap() = true;
    touch_panel(&mut panel, "服务中心可达");
    assert_eq!(panel.central_reachable(), Some(false));
    assert_eq!(panel.last(), Some("没有成功：服务中心可达"));
    assert_eq!(*asked.lock().unwrap(), vec![false, true]);
}
