//! Every word the screens show, in one table: Chinese (the default) and English (toggled on the
//! home screen). Texts with values in them hold `{name}` placeholders that [`Look::fill`]
//! replaces; dates go through [`date`].
//!
//! [`Look::fill`]: super::Look::fill

use time::Date;

/// The language of the screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// 中文: the default.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The other language.
    pub fn toggled(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

macro_rules! table {
    ($($name:ident => $zh:literal, $en:literal;)*) => {
        /// A text of the screens (the variant's doc is its Chinese form).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Text {
            $(#[doc = $zh] $name,)*
        }

        impl Text {
            /// Every text, in table order.
            pub const ALL: &'static [Text] = &[$(Text::$name,)*];

            /// The Chinese form.
            pub fn zh(self) -> &'static str {
                match self {
                    $(Text::$name => $zh,)*
                }
            }

            /// The English form.
            pub fn en(self) -> &'static str {
                match self {
                    $(Text::$name => $en,)*
                }
            }
        }
    };
}

table! {
    // --- every screen ---
    Banner => "一网通办自助服务", "One-Stop Service self-service";
    StepOf => "第{n}步/共{total}步", "Step {n} of {total}";
    Step1 => "身份核验", "Identify";
    Step2 => "核对信息", "Check details";
    Step3 => "打印取码", "Print";
    GoHome => "返回首页", "Back to start";
    CallStaff => "呼叫工作人员", "Call staff";
    StaffComing => "工作人员马上就到", "Staff are on their way";
    StaffComingHint => "请在这里稍候", "Please wait here";
    StillThere => "您还在办理吗？", "Are you still there?";
    SecondsLeft => "{n}秒后将返回首页", "Back to the start in {n} seconds";
    Continue => "继续办理", "Continue";
    PleaseWait => "请稍候", "Please wait";
    NothingIssued => "本次没有打印离线码。", "No offline code was printed.";
    DateFormat => "{y}年{m}月{d}日", "{y}-{m}-{d}";
    // --- home ---
    HomeTitle => "随申码离线码", "Suishen Code on paper";
    HomeIntro => "年满60周岁的老年人，可在这里打印随申码离线码，不用智能手机。",
        "Residents aged 60 or over can print their Suishen Code here. No smartphone needed.";
    Start => "随申码离线服务", "Offline code service";
    WindowTitle => "随申码离线服务", "Offline code service";
    OtherLanguage => "English", "中文";
    CentralOffline => "暂时连不上服务中心，可能无法办理。请稍后再试，或咨询工作人员。",
        "The service centre cannot be reached now. Please try again later, or ask the staff.";
    // --- choose login ---
    ChooseTitle => "请选择登录方式", "How will you identify yourself?";
    LoginCard => "身份证登录", "ID card";
    LoginCardHint => "把身份证放在读卡区", "Place your ID card on the reader";
    LoginSuishen => "随申办登录", "Suishenban app";
    LoginSuishenHint => "出示手机上的随申码", "Show the Suishen Code on your phone";
    // --- wait card / wait scan / reading / identifying ---
    WaitCardTitle => "请将身份证放在读卡区", "Please place your ID card on the reader";
    WaitCardHint => "读卡区在屏幕下方，贴有身份证图案。放好后请不要移动。",
        "The reader is below the screen, marked with an ID card. Keep the card still.";
    WaitCardRetry => "没有读到身份证，请拿起后重新放好。",
        "The card could not be read. Please lift it and place it again.";
    WaitScanTitle => "请出示随申码", "Please show your Suishen Code";
    WaitScanHint => "打开手机上的随申办，点开随申码，把手机屏幕对准扫码口。",
        "Open the Suishenban app, open your Suishen Code and hold the phone to the scanner.";
    ReadingTitle => "正在读取身份证", "Reading your ID card";
    ReadingHint => "请不要移动身份证", "Please keep the card still";
    IdentifyingTitle => "正在查询您的信息", "Looking up your details";
    // --- confirm ---
    ConfirmTitle => "请核对您的信息", "Please check your details";
    LabelName => "姓名", "Name";
    LabelIdNumber => "证件号码", "ID number";
    LabelCode => "离线码", "Offline code";
    LabelNewCode => "本次打印", "New code";
    NoPhoto => "无照片", "No photo";
    CodeNone => "您还没有离线码", "You have no offline code yet";
    CodeActive => "已有离线码（第{serial}张），有效期至{date}",
        "You hold offline code no. {serial}, valid until {date}";
    CodeLost => "离线码（第{serial}张）已于{date}挂失",
        "Offline code no. {serial} was reported lost on {date}";
    CodeExpired => "离线码（第{serial}张）已于{date}到期",
        "Offline code no. {serial} expired on {date}";
    NewCodeValidity => "有效期{from}至{to}", "Valid from {from} to {to}";
    ReissueNote => "补领后，原来的离线码立即作废。", "Once reissued, your previous code stops working at once.";
    Apply => "申领离线码", "Get my offline code";
    Reissue => "补领离线码", "Reissue my offline code";
    WrongData => "信息有误", "My details are wrong";
    // --- not eligible ---
    NotEligibleTitle => "暂时不能为您办理离线码", "We cannot issue you an offline code";
    UnderAge => "离线码为年满60周岁的老年人办理。您可在{date}起申领。",
        "Offline codes are for residents aged 60 or over. You can apply from {date}.";
    UnderAgeWhere => "现在请使用手机上随申办的随申码。",
        "Until then, please use the Suishen Code in the Suishenban app.";
    NoPhotoReason => "一网通办照片库中没有您的照片。",
        "There is no photo of you in the One-Stop Service photo library.";
    NoPhotoWhere => "请到社区事务受理服务中心窗口采集照片后再来办理。",
        "Please have your photo taken at a community affairs centre, then come back.";
    NotVerifiedReason => "您的身份还没有通过实名认证。",
        "Your identity has not passed real-name verification.";
    NotVerifiedWhere => "请带上身份证，到社区事务受理服务中心窗口办理实名认证。",
        "Please bring your ID card to a community affairs centre to have it verified.";
    // --- wrong data ---
    WrongDataTitle => "您的信息有误", "Your details are wrong";
    ContactCounter => "请联系窗口工作人员", "Please contact the counter staff";
    // --- issuing / printing / done ---
    IssuingTitle => "正在生成离线码", "Creating your offline code";
    PrintingTitle => "正在打印离线码", "Printing your offline code";
    PrintingHint => "打印完成前请不要离开", "Please stay until it has printed";
    DoneTitle => "请取走离线码和身份证", "Please take your offline code and ID card";
    DoneSerial => "这是您的第{serial}张离线码，有效期180天，请妥善保管。",
        "This is your offline code no. {serial}. It is valid for 180 days: keep it safe.";
    CardStillThere => "您的身份证还在读卡区，请记得取走！",
        "Your ID card is still on the reader: please take it!";
    // --- errors ---
    ErrCentral => "暂时连不上服务中心", "The service centre cannot be reached";
    ErrCardUnreadable => "身份证读取失败", "Your ID card could not be read";
    ErrCardExpired => "您的身份证已过有效期", "Your ID card has expired";
    ErrUnknownPerson => "没有查到您的信息", "We could not find your details";
    ErrInvalidSuishen => "随申码无法识别或已失效", "The Suishen Code could not be used";
    ErrSessionExpired => "办理时间过长，需要重新核验", "This took too long: we need to check you again";
    ErrCodeChanged => "您的离线码刚刚在别处补领过，需要重新核验", "Your offline code was just replaced elsewhere: we need to check you again";
    ErrRefused => "暂时无法为您办理", "We cannot do this for you now";
    ErrBadAnswer => "服务中心的回复有误", "The service centre's answer was not usable";
    ErrPaperOut => "打印机缺纸", "The printer is out of paper";
    ErrCoverOpen => "打印机盖没有关好", "The printer cover is open";
    ErrCutter => "打印机切纸故障", "The printer cannot cut the paper";
    ErrPrinterOffline => "打印机没有响应", "The printer does not respond";
    ErrSlipCheck => "离线码检查未通过，没有打印", "The code failed its check and was not printed";
    ErrPrintOther => "离线码打印失败", "The offline code could not be printed";
    HintRetry => "请点“重试”。如果还不行，请呼叫工作人员。",
        "Please press Try again. If it still fails, call the staff.";
    HintPlaceAgain => "请重新放置身份证，或呼叫工作人员。",
        "Please place the card again, or call the staff.";
    HintCounterWithValidId => "请带上有效证件到窗口办理。", "Please bring a valid ID to a counter.";
    HintRefreshCode => "请在手机上刷新随申码后重新出示，或改用身份证办理。",
        "Refresh the code on your phone and show it again, or use your ID card.";
    HintPrinter => "请呼叫工作人员处理，处理好后点“重新打印”。",
        "Please call the staff. When it is fixed, press Print again.";
    Retry => "重试", "Try again";
    Reprint => "重新打印", "Print again";
    // --- out of service ---
    OutOfServiceTitle => "暂停服务", "Out of service";
    OutReason => "原因：{reason}", "Reason: {reason}";
    OutPrinter => "打印机正在维护", "The printer is being serviced";
    OutHours => "现在不是服务时间", "It is outside service hours";
    OutWhere => "请到服务窗口办理，或稍后再来。", "Please go to a service counter, or come back later.";
    // --- hall staff maintenance (for staff: plain, a little denser) ---
    StaffBanner => "维护模式", "Maintenance";
    StaffWho => "工作人员：{name}", "Staff: {name}";
    StaffAutoExit => "{n}秒后自动退出维护", "Maintenance closes in {n} s";
    StaffKeepOpen => "继续维护", "Keep open";
    StaffCancel => "取消", "Cancel";
    StaffExit => "退出维护", "Leave";
    StaffBackToMenu => "返回菜单", "Back to menu";
    StaffHelpStanding => "有居民呼叫工作人员", "A resident called for staff";
    StaffClearHelp => "清除呼叫", "Clear the call";
    StaffCardTitle => "请放置工作人员身份证", "Please place your staff ID card";
    StaffCardHint => "请把您本人的身份证放在读卡区。其他人的证件会按居民办理。",
        "Place your own ID card on the reader. Anyone else's card starts a resident's session.";
    StaffPinTitle => "请输入密码", "Please enter your PIN";
    StaffPinHint => "密码是4至8位数字", "The PIN has 4 to 8 digits";
    StaffPinWrong => "密码不对，还可以再试{n}次", "Wrong PIN: {n} tries left";
    StaffPinDelete => "删除", "Delete";
    StaffPinSubmit => "确定", "OK";
    StaffChecking => "正在核对密码", "Checking the PIN";
    StaffLockedTitle => "工作人员登录已暂停", "Staff sign-in is locked";
    StaffLockedWhy => "密码错误次数太多。", "Too many wrong PINs.";
    StaffLockedLeft => "请在{time}后再试。", "Please try again in {time}.";
    StaffLockedNotice => "其他工作人员也要等到那时。", "Other staff must wait until then too.";
    MinutesSeconds => "{m}分{s}秒", "{m} min {s} s";
    SecondsOnly => "{s}秒", "{s} s";
    StaffMenuTitle => "维护菜单", "Maintenance menu";
    StaffInService => "现在：正在服务", "Now: in service";
    StaffOutOfService => "现在：已暂停服务（{reason}）", "Now: out of service ({reason})";
    StaffResidentsBlocked => "居民现在看到“暂停服务”（打印机或服务时间）",
        "Residents now see Out of service (the printer or the service hours)";
    PageDevices => "设备状态", "Devices";
    PageTestPrint => "测试打印", "Test print";
    PageTestCard => "测试读卡", "Test the reader";
    PageTestScan => "测试扫码", "Test the scanner";
    PageCounts => "今日统计", "Today's counts";
    PageSync => "同步状态", "Sync";
    PageService => "暂停/恢复服务", "Service on/off";
    PageErrors => "最近错误", "Recent errors";
    DeviceIdcard => "读卡器", "Card reader";
    DeviceScanner => "扫码器", "Scanner";
    DevicePrinter => "打印机", "Printer";
    DeviceConnected => "正常", "Connected";
    DeviceDegraded => "有问题，仍能用", "Degraded";
    DeviceFailed => "故障，不能用", "Failed";
    DeviceUnknown => "还没有报告", "Not reported yet";
    DeviceLastError => "最近错误：{error}", "Last error: {error}";
    DeviceNoError => "没有错误", "No error";
    PaperLine => "纸张：{state}", "Paper: {state}";
    PaperOk => "充足", "enough";
    PaperNearEnd => "快用完了", "near end";
    PaperOut => "没有纸了", "out";
    PaperUnknown => "不清楚", "unknown";
    TestPrintButton => "打印测试页", "Print a test slip";
    TestPrintHint => "测试页印有“测试”字样，不能当离线码使用。",
        "The test slip says it is a test: it is no offline code.";
    TestPrintNone => "本次开机还没有打印过测试页。", "No test slip was printed since the kiosk started.";
    TestPrinting => "正在打印测试页……", "Printing the test slip...";
    TestPrintOk => "测试页已打印。请看二维码和文字是否清楚。",
        "The test slip printed. Check that the QR code and the text are clear.";
    TestPrintFailed => "没有打印出来：{reason}", "It did not print: {reason}";
    TestCardTitle => "请放置身份证", "Please place an ID card";
    TestCardHint => "只显示遮盖后的内容，不会保存。", "Only the masked parse shows; nothing is kept.";
    TestCardUnreadable => "没有读出来：{reason}", "It could not be read: {reason}";
    CardTypeLabel => "证件类型", "Card type";
    CardSexLabel => "性别", "Sex";
    CardBirthLabel => "出生日期", "Born";
    CardValidLabel => "有效期限", "Valid";
    CardAddressLabel => "住址", "Address";
    CardResident => "居民身份证", "Resident ID card";
    CardPermit => "港澳台居民居住证", "Residence permit (HK, Macao, Taiwan)";
    CardForeigner2017 => "外国人永久居留证（2017版）", "Foreigner's permanent residence card (2017)";
    CardForeigner2023 => "外国人永久居留身份证（2023版）", "Foreigner's permanent residence ID card (2023)";
    SexMale => "男", "Male";
    SexFemale => "女", "Female";
    SexOther => "未说明", "Not stated";
    ValidRange => "{from}至{to}", "{from} to {to}";
    LongTerm => "长期", "no end";
    TestScanTitle => "请把二维码对准扫码口", "Please show a QR code to the scanner";
    TestScanHint => "只显示类型、长度和开头几个字符。", "Only the kind, the length and the first characters show.";
    ScanKindLabel => "类型", "Kind";
    ScanLengthLabel => "长度", "Length";
    ScanPreviewLabel => "开头", "Starts with";
    ScanOffline => "离线码", "Offline code";
    ScanOther => "其他二维码（如随申码）", "Another QR code (a Suishen Code, ...)";
    Characters => "{n}个字符", "{n} characters";
    CountsApplies => "申领", "Applied";
    CountsReissues => "补领", "Reissued";
    CountsPrinted => "打印成功", "Printed";
    CountsRefusals => "没有办理", "Refused";
    CountsPrintFailures => "打印失败", "Print failures";
    CountSlips => "{n}张", "{n}";
    CountTimes => "{n}次", "{n}";
    CountReason => "{reason} {n}次", "{reason}: {n}";
    ReasonUnderAge => "未满60周岁", "under 60";
    ReasonNoPhoto => "照片库中没有照片", "no photo";
    ReasonNotVerified => "没有实名认证", "not real-name verified";
    ReasonPaperOut => "缺纸", "paper out";
    ReasonCoverOpen => "开盖", "cover open";
    ReasonCutter => "切纸故障", "cutter error";
    ReasonOffline => "打印机离线", "printer offline";
    ReasonNoAnswer => "打印机没有响应", "printer not answering";
    ReasonSlipCheck => "离线码检查未通过", "slip check failed";
    ReasonOther => "其他原因", "other";
    SyncCentral => "服务中心", "Central";
    SyncReachable => "连得上", "reachable";
    SyncUnreachable => "连不上", "not reachable";
    SyncNotYet => "还不知道", "not known yet";
    SyncLastContact => "最近一次联系", "Last heartbeat";
    SyncNever => "还没有", "none yet";
    SyncBacklog => "待上传记录", "Events to upload";
    SyncUnsettled => "待确认的办理", "Unsettled attempts";
    SyncUnreported => "待上报的打印结果", "Print outcomes to report";
    SyncCountItems => "{n}条", "{n}";
    SyncLastError => "上次同步出错：{error}", "Last sync error: {error}";
    SyncErrUnreachable => "连不上服务中心", "the central cannot be reached";
    SyncErrRefused => "服务中心拒绝了请求", "the central refused the request";
    SyncErrBadAnswer => "服务中心的回复有误", "the central's answer was not usable";
    SyncStaffList => "工作人员名单", "Staff list";
    SyncFromCentral => "服务中心下发（版本{v}）", "from the central (version {v})";
    SyncFromCache => "服务中心下发，本机保存（版本{v}）", "from the central, cached (version {v})";
    SyncFromToml => "本机配置文件", "this kiosk's kiosk.toml";
    SyncNow => "立即同步", "Sync now";
    ServiceTakeOut => "暂停服务，原因是：", "Take out of service because of:";
    ServiceBackIn => "恢复服务", "Back in service";
    ServiceOutNote => "暂停期间，居民看到“暂停服务”和原因，不能办理。",
        "While out of service, residents see Out of service and the reason, and cannot start.";
    OutPrinterMaintenance => "打印机维护", "printer maintenance";
    OutReaderFault => "读卡器故障", "card reader fault";
    OutNetworkFault => "网络故障", "network fault";
    OutOtherMaintenance => "其他维护", "other maintenance";
    ErrorsNone => "没有错误记录。", "No errors recorded.";
    KindError => "错误", "error";
    KindPrintFailed => "打印失败", "print failed";
    KindStaffLoginFailed => "登录失败", "sign-in failed";
    // --- simulator panel (for demos and staff; shown in Chinese) ---
    SimTitle => "设备模拟面板", "Device simulator";
    SimCards => "身份证（模拟读卡器）", "ID cards (simulated reader)";
    SimPlace => "放置 {name}", "Place {name}";
    SimUnreadable => "放置读不出的卡", "Place an unreadable card";
    SimRemove => "移走身份证", "Remove the card";
    SimSuishen => "随申码（模拟扫码器）", "Suishen Codes (simulated scanner)";
    SimShow => "出示 {name} 的随申码", "Show {name}'s code";
    SimBadCode => "出示无效随申码", "Show an invalid code";
    SimNoCentral => "演示服务中心未启用，只能出示无效随申码。",
        "No embedded central: only an invalid code can be shown.";
    SimPrinter => "打印机（模拟）", "Printer (simulated)";
    SimReady => "就绪", "Ready";
    SimPaperOut => "缺纸", "Paper out";
    SimPaperNearEnd => "纸将用完", "Paper near end";
    SimCoverOpen => "开盖", "Cover open";
    SimNotSimulated => "此设备未模拟", "This device is not simulated";
    SimDone => "已完成：{what}", "Done: {what}";
    SimFailed => "没有成功：{what}", "Did not work: {what}";
    SimStaffCard => "放置工作人员卡 {name}", "Place staff card {name}";
    SimCentral => "服务中心（演示）", "Central service (demo)";
    SimCentralUp => "服务中心可达", "Central reachable";
    SimCentralDown => "服务中心不可达", "Central not reachable";
    SimCentralIsUp => "现在：可达", "Now: reachable";
    SimCentralIsDown => "现在：不可达", "Now: not reachable";
}

impl Text {
    /// The form in this language.
    pub fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.zh(),
            Lang::En => self.en(),
        }
    }
}

/// Replaces `{key}` placeholders in `template` with the values given.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (key, value) in values {
        out = out.replace(&format!("{{{key}}}"), value);
    }
    out
}

/// A date as the screens write it: `2026年11月22日` or `2026-11-22`.
pub fn date(lang: Lang, date: Date) -> String {
    let (y, m, d) = (date.year().to_string(), u8::from(date.month()), date.day());
    let (m, d) = match lang {
        Lang::Zh => (m.to_string(), d.to_string()),
        Lang::En => (format!("{m:02}"), format!("{d:02}")),
    };
    fill(
        Text::DateFormat.get(lang),
        &[("y", &y), ("m", &m), ("d", &d)],
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use time::macros::date as d;

    use super::*;

    #[test]
    fn dates_read_naturally() {
        assert_eq!(date(Lang::Zh, d!(2026 - 05 - 09)), "2026年5月9日");
        assert_eq!(date(Lang::En, d!(2026 - 05 - 09)), "2026-05-09");
    }

    #[test]
    fn fill_replaces_every_placeholder() {
        assert_eq!(
            fill(Text::StepOf.zh(), &[("n", "1"), ("total", "3")]),
            "第1步/共3步"
        );
        assert_eq!(fill("{a}{a}{b}", &[("a", "x")]), "xx{b}");
    }

    #[test]
    fn both_languages_have_the_same_placeholders() {
        let keys = |s: &str| {
            s.split('{')
                .skip(1)
                .filter_map(|rest| rest.split_once('}').map(|(k, _)| k.to_owned()))
                .collect::<HashSet<_>>()
        };
        for text in Text::ALL {
            assert_eq!(keys(text.zh()), keys(text.en()), "{text:?}");
        }
    }

    #[test]
    fn every_chinese_text_is_chinese_and_every_english_text_is_not() {
        let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        for text in Text::ALL {
            if *text == Text::OtherLanguage {
                continue;
            }
            assert!(cjk(text.zh()) || text.zh().starts_with('{'), "{text:?}");
            assert!(!cjk(text.en()), "{text:?}: {}", text.en());
        }
    }
}
