//! Every resident journey through the real screens (view and update, headless with iced_test)
//! and the real session flow: the test touches buttons by their labels, plays the central, the
//! reader, the scanner and the printer by feeding the flow inputs, and checks what the screens
//! show.

mod ui_support;

use kiosk::flow::{Button, CentralFailure, Effect, FlowError, Input, Screen, Unavailable};
use protocol::api::{Action, CodeState, ErrorCode, JournalKind, PrintFailure};
use protocol::eligibility::IneligibleReason;
use protocol::rules::Offer;
use ui_support::*;

/// Home -> 随申码离线服务 -> 身份证登录 -> the card is read -> identified as `offer`.
fn identified_by_card(offer: Offer, code: CodeState) -> Rig {
    let mut rig = Rig::new();
    rig.sees("随申码离线服务");
    rig.does_not_see("返回首页");
    rig.touch("随申码离线服务");
    rig.sees("请选择登录方式");
    rig.touch("身份证登录");
    rig.sees("请将身份证放在读卡区");
    assert!(rig.shows_part("第1步/共3步"));
    rig.input(Input::CardPresent);
    rig.sees("正在读取身份证");
    rig.input(Input::CardRead { card: card() });
    rig.sees("正在查询您的信息");
    rig.central_identifies(Ok(response(offer, code)));
    rig
}

#[test]
fn apply_by_card() {
    let mut rig = identified_by_card(Offer::Apply, CodeState::None);
    rig.sees("请核对您的信息");
    assert!(rig.shows_part("第2步/共3步"));
    rig.sees(NAME);
    rig.sees("310***********0028");
    rig.sees("您还没有离线码");
    rig.sees("有效期2026年11月22日至2027年5月20日");
    rig.sees("信息有误");
    rig.does_not_see("补领离线码");
    rig.does_not_see("无照片");

    rig.touch("申领离线码");
    assert_eq!(rig.last_issue().unwrap().2, Action::Apply);
    rig.sees("正在生成离线码");
    assert!(rig.shows_part("第3步/共3步"));
    rig.central_issues(Ok(issued(1)));
    rig.sees("正在打印离线码");
    rig.printer_prints(Ok(()));
    rig.sees("请取走离线码和身份证");
    rig.sees("您的身份证还在读卡区，请记得取走！");
    rig.sees("这是您的第1张离线码，有效期180天，请妥善保管。");

    rig.input(Input::CardRemoved);
    rig.sees("请取走离线码和身份证");
    rig.does_not_see("您的身份证还在读卡区，请记得取走！");

    // The done screen goes home by itself, and nothing about the resident stays on screen.
    rig.wait(15_000);
    rig.sees("随申码离线服务");
    assert!(!rig.shows_part(NAME));
    assert!(rig.count(|e| matches!(e, Effect::SessionEnded { .. })) == 1);
}

#[test]
fn apply_by_suishen_code() {
    let mut rig = Rig::new();
    rig.touch("随申码离线服务");
    rig.touch("随申办登录");
    rig.sees("请出示随申码");
    rig.input(Input::Scanned("SUISHEN-TOKEN".to_owned()));
    rig.sees("正在查询您的信息");
    rig.central_identifies(Ok(response(Offer::Apply, CodeState::None)));
    rig.sees(NAME);
    rig.touch("申领离线码");
    rig.central_issues(Ok(issued(1)));
    rig.printer_prints(Ok(()));
    rig.sees("请取走离线码和身份证");
    // No card was used: no card reminder.
    rig.does_not_see("您的身份证还在读卡区，请记得取走！");
    rig.touch("返回首页");
    rig.sees("随申码离线服务");
}

#[test]
fn reissue_a_lost_or_unreported_slip() {
    let mut rig = identified_by_card(Offer::Reissue, active_code());
    rig.sees("已有离线码（第1张），有效期至2027年1月27日");
    rig.sees("补领后，原来的离线码立即作废。");
    rig.does_not_see("申领离线码");
    rig.touch("补领离线码");
    assert_eq!(rig.last_issue().unwrap().2, Action::Reissue);
    rig.central_issues(Ok(issued(2)));
    rig.printer_prints(Ok(()));
    rig.sees("这是您的第2张离线码，有效期180天，请妥善保管。");
}

#[test]
fn reissue_after_a_report_of_loss_says_so() {
    let lost = CodeState::Lost {
        code_id: protocol::api::CodeId::from_bytes([4; 16]),
        serial: 1,
        lost_on: time::macros::date!(2026 - 11 - 01),
    };
    let rig = identified_by_card(Offer::Reissue, lost);
    rig.sees("离线码（第1张）已于2026年11月1日挂失");
    rig.sees("补领离线码");
}

#[test]
fn under_60_is_told_when_and_where_to_go() {
    let mut rig = identified_by_card(under_60(), CodeState::None);
    rig.sees("暂时不能为您办理离线码");
    rig.sees("离线码为年满60周岁的老年人办理。您可在2050年6月1日起申领。");
    rig.sees("现在请使用手机上随申办的随申码。");
    rig.sees("本次没有打印离线码。");
    rig.does_not_see("申领离线码");
    assert!(rig.shows_part("第2步/共3步"));
    rig.touch("返回首页");
    rig.sees("随申码离线服务");
    assert_eq!(rig.count(|e| matches!(e, Effect::Issue { .. })), 0);
}

#[test]
fn no_photo_is_told_where_to_go() {
    let rig = identified_by_card(Offer::Nothing(IneligibleReason::NoPhoto), CodeState::None);
    rig.sees("一网通办照片库中没有您的照片。");
    rig.sees("请到社区事务受理服务中心窗口采集照片后再来办理。");
}

#[test]
fn not_real_name_verified_is_told_where_to_go() {
    let rig = identified_by_card(
        Offer::Nothing(IneligibleReason::NotRealNameVerified),
        CodeState::None,
    );
    rig.sees("您的身份还没有通过实名认证。");
}

#[test]
fn a_person_without_a_photo_sees_a_placeholder() {
    let mut rig = Rig::new();
    rig.input(Input::CardRead { card: card() });
    let mut answer = response(Offer::Apply, CodeState::None);
    answer.person.photo = None;
    rig.central_identifies(Ok(answer));
    rig.sees("无照片");
    // A photo that does not decode is no photo either, never an error.
    let mut rig = Rig::new();
    rig.input(Input::CardRead { card: card() });
    let mut answer = response(Offer::Apply, CodeState::None);
    answer.person.photo.as_mut().unwrap().data_base64 = "bm90IGFuIGltYWdl".to_owned();
    rig.central_identifies(Ok(answer));
    rig.sees("无照片");
    rig.sees(NAME);
}

#[test]
fn wrong_data_sends_the_resident_to_the_staff() {
    let mut rig = identified_by_card(Offer::Apply, CodeState::None);
    rig.touch("信息有误");
    rig.sees("请联系窗口工作人员");
    rig.sees("本次没有打印离线码。");
    rig.does_not_see(NAME);
    rig.does_not_see("工作人员马上就到");
    // The request is recorded in the journal.
    let journaled = |kind: JournalKind| move |e: &Effect| matches!(e, Effect::Journal { kind: k, .. } if *k == kind);
    assert_eq!(rig.count(journaled(JournalKind::WrongDataReported)), 1);
    assert_eq!(rig.count(journaled(JournalKind::HelpRequested)), 0);

    rig.touch("呼叫工作人员");
    assert_eq!(rig.pressed.last(), Some(&Button::CallStaff));
    assert_eq!(rig.count(|e| matches!(e, Effect::HelpRequested)), 1);
    assert_eq!(rig.count(journaled(JournalKind::HelpRequested)), 1);
    rig.sees("工作人员马上就到");
    // Pressing again asks nothing more.
    rig.touch("呼叫工作人员");
    assert_eq!(rig.count(|e| matches!(e, Effect::HelpRequested)), 1);

    rig.input(Input::HelpCleared);
    rig.does_not_see("工作人员马上就到");
    assert_eq!(rig.count(|e| matches!(e, Effect::Issue { .. })), 0);
}

#[test]
fn paper_out_at_printing_then_print_again() {
    let mut rig = identified_by_card(Offer::Apply, CodeState::None);
    rig.touch("申领离线码");
    rig.central_issues(Ok(issued(1)));
    let (_, first_request) = rig.last_print().unwrap();
    rig.printer_prints(Err(PrintFailure::PaperOut));
    rig.sees("打印机缺纸");
    rig.sees("请呼叫工作人员处理，处理好后点“重新打印”。");
    rig.sees("返回首页");
    rig.sees("呼叫工作人员");
    // The step of the failure stays on the indicator.
    assert!(rig.shows_part("第3步/共3步"));

    rig.touch("重新打印");
    let (_, again) = rig.last_print().unwrap();
    assert_eq!(again, first_request, "the same code is printed again");
    assert_eq!(rig.count(|e| matches!(e, Effect::Issue { .. })), 1);
    rig.sees("正在打印离线码");
    rig.printer_prints(Ok(()));
    rig.sees("请取走离线码和身份证");
}

#[test]
fn cover_open_is_said_plainly() {
    let mut rig = identified_by_card(Offer::Apply, CodeState::None);
    rig.touch("申领离线码");
    rig.central_issues(Ok(issued(1)));
    rig.printer_prints(Err(PrintFailure::CoverOpen));
    rig.sees("打印机盖没有关好");
    rig.sees("重新打印");
}

#[test]
fn time_out_without_continue_goes_home() {
    let mut rig = Rig::new();
    rig.touch("随申码离线服务");
    rig.touch("身份证登录");
    rig.wait(59_000);
    rig.does_not_see("您还在办理吗？");
    rig.wait(1_000);
    rig.sees("您还在办理吗？");
    rig.sees("20秒后将返回首页");
    rig.sees("继续办理");
    rig.wait(10_000);
    rig.sees("10秒后将返回首页");
    rig.wait(10_000);
    rig.sees("随申码离线服务");
    rig.does_not_see("您还在办理吗？");
    assert!(rig.flow.session().is_none());
}

#[test]
fn time_out_with_continue_stays() {
    let mut rig = identified_by_card(Offer::Apply, CodeState::None);
    rig.wait(61_000);
    rig.sees("您还在办理吗？");
    rig.sees("19秒后将返回首页");
    rig.touch("继续办理");
    assert_eq!(rig.pressed.last(), Some(&Button::Continue));
    rig.does_not_see("您还在办理吗？");
    rig.sees(NAME);
    rig.wait(59_000);
    rig.does_not_see("您还在办理吗？");
    rig.sees("申领离线码");
}

#[test]
fn the_idle_dialog_can_also_go_home() {
    let mut rig = identified_by_card(Offer::Apply, CodeState::None);
    rig.wait(60_000);
    rig.sees("您还在办理吗？");
    // The dialog covers the page: its own 返回首页 is the one touched.
    rig.touch("返回首页");
    rig.sees("随申码离线服务");
}

#[test]
fn central_unreachable_shows_a_notice_at_home_and_a_retry_later() {
    let mut rig = Rig::new();
    rig.input(Input::CentralReachable(false));
    rig.sees("暂时连不上服务中心，可能无法办理。请稍后再试，或咨询工作人员。");
    rig.input(Input::CentralReachable(true));
    rig.does_not_see("暂时连不上服务中心，可能无法办理。请稍后再试，或咨询工作人员。");

    rig.touch("随申码离线服务");
    rig.touch("身份证登录");
    rig.input(Input::CardRead { card: card() });
    rig.central_identifies(Err(CentralFailure::Unreachable));
    rig.sees("暂时连不上服务中心");
    rig.sees("请点“重试”。如果还不行，请呼叫工作人员。");
    assert!(rig.shows_part("第1步/共3步"));
    rig.touch("重试");
    assert_eq!(rig.count(|e| matches!(e, Effect::Identify { .. })), 2);
    rig.sees("正在查询您的信息");
    rig.central_identifies(Ok(response(Offer::Apply, CodeState::None)));
    rig.sees(NAME);
}

#[test]
fn a_refusal_offers_no_retry_and_shows_no_code() {
    let mut rig = identified_by_card(Offer::Apply, CodeState::None);
    rig.touch("申领离线码");
    rig.central_issues(Err(CentralFailure::Refused(ErrorCode::ConflictActiveCode)));
    rig.sees("暂时无法为您办理");
    rig.sees("请联系窗口工作人员");
    rig.does_not_see("重试");
    assert!(!rig.shows_part("conflict"));
}

#[test]
fn every_error_is_said_in_plain_words() {
    let errors = [
        FlowError::CentralUnreachable,
        FlowError::CardUnreadable,
        FlowError::CardExpired,
        FlowError::UnknownPerson,
        FlowError::InvalidSuishenCode,
        FlowError::SessionExpired,
        FlowError::CodeChanged,
        FlowError::Refused(ErrorCode::Internal),
        FlowError::BadAnswer,
        FlowError::PrintFailed(PrintFailure::PaperOut),
        FlowError::PrintFailed(PrintFailure::CoverOpen),
        FlowError::PrintFailed(PrintFailure::CutterError),
        FlowError::PrintFailed(PrintFailure::Offline),
        FlowError::PrintFailed(PrintFailure::NoAnswer),
        FlowError::PrintFailed(PrintFailure::SlipCheckFailed),
        FlowError::PrintFailed(PrintFailure::Other),
    ];
    for error in errors {
        for can_retry in [false, true] {
            let frame = kiosk::ui::Frame {
                screen: Screen::Error { error, can_retry },
                countdown: None,
                help_requested: false,
                staff: None,
                notice: None,
            };
            let kiosk = kiosk::ui::Kiosk::new(frame);
            let texts = texts_of(&kiosk);
            assert!(texts.iter().any(|t| t == "返回首页"), "{error:?}");
            assert!(texts.iter().any(|t| t == "呼叫工作人员"), "{error:?}");
            assert_eq!(
                texts.iter().any(|t| t == "重试" || t == "重新打印"),
                can_retry,
                "{error:?}"
            );
            for text in &texts {
                assert!(
                    !text.is_ascii()
                        || text.trim().is_empty()
                        || text.chars().all(|c| c.is_ascii_digit()),
                    "{error:?} shows {text:?}"
                );
                assert!(!text.contains(error.code()), "{error:?} shows its code");
            }
        }
    }
}

#[test]
fn home_shows_the_centrals_notice_as_written_in_both_languages() {
    let notice = "3月15日（周六）9:00-12:00 系统维护，暂停服务。";
    let home = |notice: Option<&str>, notice_offline| kiosk::ui::Frame {
        notice: notice.map(str::to_owned),
        ..kiosk::ui::Frame {
            screen: Screen::Home { notice_offline },
            ..kiosk::ui::Frame::default()
        }
    };
    let mut kiosk = kiosk::ui::Kiosk::new(home(None, false));
    assert!(!texts_of(&kiosk).iter().any(|t| t == notice));
    // The central's config brings a notice while home shows.
    let _ = kiosk.update(kiosk::ui::Message::Frame(Box::new(home(
        Some(notice),
        false,
    ))));
    assert!(texts_of(&kiosk).iter().any(|t| t == notice));
    // Beside the unreachable notice too, and in English as written.
    let _ = kiosk.update(kiosk::ui::Message::Frame(Box::new(home(
        Some(notice),
        true,
    ))));
    let texts = texts_of(&kiosk);
    assert!(texts.iter().any(|t| t == notice), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.starts_with("暂时连不上服务中心")),
        "{texts:?}"
    );
    let _ = kiosk.update(kiosk::ui::Message::Home(
        kiosk::ui::screens::home::Message::ToggleLanguage,
    ));
    let texts = texts_of(&kiosk);
    assert!(
        texts.iter().any(|t| t == "Offline code service"),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t == notice), "{texts:?}");
    // Only home shows it.
    let _ = kiosk.update(kiosk::ui::Message::Frame(Box::new(kiosk::ui::Frame {
        notice: Some(notice.to_owned()),
        ..kiosk::ui::Frame {
            screen: Screen::ChooseLogin,
            ..kiosk::ui::Frame::default()
        }
    })));
    assert!(!texts_of(&kiosk).iter().any(|t| t == notice));
    // The operator removes it.
    let _ = kiosk.update(kiosk::ui::Message::Frame(Box::new(home(
        Some(notice),
        false,
    ))));
    assert!(texts_of(&kiosk).iter().any(|t| t == notice));
    let _ = kiosk.update(kiosk::ui::Message::Frame(Box::new(home(None, false))));
    assert!(!texts_of(&kiosk).iter().any(|t| t == notice));
    // A blank notice shows nothing (not an empty yellow box).
    let _ = kiosk.update(kiosk::ui::Message::Frame(Box::new(home(Some("  "), false))));
    assert_eq!(texts_of(&kiosk), {
        let plain = kiosk::ui::Kiosk::new(home(None, false));
        texts_of(&plain)
    });
}

#[test]
fn english_is_a_touch_away_and_the_next_resident_gets_chinese() {
    let mut rig = Rig::new();
    rig.touch("English");
    rig.sees("Offline code service");
    rig.sees("中文");
    rig.touch("Offline code service");
    rig.sees("How will you identify yourself?");
    rig.sees("Back to start");
    rig.touch("ID card");
    rig.sees("Please place your ID card on the reader");
    assert!(rig.shows_part("Step 1 of 3"));
    rig.touch("Back to start");
    // Back home: Chinese again for whoever comes next.
    rig.sees("随申码离线服务");
    rig.touch("English");
    rig.touch("中文");
    rig.sees("随申码离线服务");
}

#[test]
fn out_of_service_says_why_and_starts_nothing() {
    let mut rig = Rig::new();
    rig.input(Input::Availability(Some(Unavailable::Staff(
        "设备维护".to_owned(),
    ))));
    rig.sees("暂停服务");
    rig.sees("原因：设备维护");
    rig.sees("请到服务窗口办理，或稍后再来。");
    rig.input(Input::CardRead { card: card() });
    rig.sees("暂停服务");
    assert_eq!(rig.count(|e| matches!(e, Effect::Identify { .. })), 0);
    rig.input(Input::Availability(Some(Unavailable::Printer)));
    rig.sees("打印机正在维护");
    rig.input(Input::Availability(None));
    rig.sees("随申码离线服务");
}

#[test]
fn a_card_that_cannot_be_read_asks_to_place_it_again() {
    let mut rig = Rig::new();
    rig.touch("随申码离线服务");
    rig.touch("身份证登录");
    rig.input(Input::CardPresent);
    rig.input(Input::CardUnreadable);
    rig.sees("请将身份证放在读卡区");
    rig.sees("没有读到身份证，请拿起后重新放好。");
}

#[test]
fn home_is_on_every_screen_but_home() {
    let mut rig = identified_by_card(Offer::Apply, CodeState::None);
    rig.sees("返回首页");
    rig.touch("申领离线码");
    rig.sees("返回首页");
    rig.central_issues(Ok(issued(1)));
    rig.sees("返回首页");
    rig.printer_prints(Ok(()));
    rig.sees("返回首页");
    rig.touch("返回首页");
    rig.does_not_see("返回首页");
    rig.sees("呼叫工作人员");
}

fn texts_of(kiosk: &kiosk::ui::Kiosk) -> Vec<String> {
    let mut found = Vec::new();
    let mut ui = simulator(kiosk.view());
    let _ = ui.find(|candidate: iced_test::selector::Candidate<'_>| {
        if let iced_test::selector::Candidate::Text { content, .. } = candidate {
            found.push(content.to_owned());
        }
        None::<()>
    });
    found
}
