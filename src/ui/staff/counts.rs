//! Today's counts (Shanghai day, from the journal): codes by 申领 and 补领, slips printed,
//! refusals by reason, print failures by reason.

use iced::widget::Column;
use iced::{Element, Length};

use crate::staff::StaffView;
use crate::ui::theme::{self, BoxKind};
use crate::ui::widgets::{boxed, field};
use crate::ui::{Look, Text};

/// Nothing is touched here but the page's buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {}

/// A refusal or print-failure reason (as the journal writes it) in words; one not known here is
/// shown as it is.
pub fn reason_words(look: Look, reason: &str) -> String {
    let known = match reason {
        "under_age" => Some(Text::ReasonUnderAge),
        "no_photo" => Some(Text::ReasonNoPhoto),
        "not_real_name_verified" => Some(Text::ReasonNotVerified),
        "paper_out" => Some(Text::ReasonPaperOut),
        "cover_open" => Some(Text::ReasonCoverOpen),
        "cutter_error" => Some(Text::ReasonCutter),
        "offline" => Some(Text::ReasonOffline),
        "no_answer" => Some(Text::ReasonNoAnswer),
        "slip_check_failed" => Some(Text::ReasonSlipCheck),
        "other" => Some(Text::ReasonOther),
        _ => None,
    };
    known.map_or_else(|| reason.to_owned(), |text| look.t(text).to_owned())
}

/// `3次（未满60周岁 2次，照片库中没有照片 1次）`.
fn with_reasons(look: Look, total: u64, by_reason: &[(String, u64)]) -> String {
    let mut out = look.fill(Text::CountTimes, &[("n", &total.to_string())]);
    if !by_reason.is_empty() {
        let parts: Vec<String> = by_reason
            .iter()
            .take(4)
            .map(|(reason, n)| {
                look.fill(
                    Text::CountReason,
                    &[
                        ("reason", &reason_words(look, reason)),
                        ("n", &n.to_string()),
                    ],
                )
            })
            .collect();
        out = format!("{out}（{}）", parts.join("，"));
    }
    super::clip(&out, 76)
}

/// The content of the counts page.
pub fn view(view: &StaffView, look: Look) -> Element<'_, Message> {
    let counts = &view.counts;
    let slips = |n: u64| look.fill(Text::CountSlips, &[("n", &n.to_string())]);
    let lines = Column::new()
        .spacing(look.px(theme::GAP))
        .width(Length::Fill)
        .push(field(
            look,
            look.t(Text::CountsApplies),
            slips(counts.applies),
        ))
        .push(field(
            look,
            look.t(Text::CountsReissues),
            slips(counts.reissues),
        ))
        .push(field(
            look,
            look.t(Text::CountsPrinted),
            slips(counts.printed),
        ))
        .push(field(
            look,
            look.t(Text::CountsRefusals),
            with_reasons(look, counts.refusals, &counts.refusals_by_reason),
        ))
        .push(field(
            look,
            look.t(Text::CountsPrintFailures),
            with_reasons(
                look,
                counts.print_failures,
                &counts.print_failures_by_reason,
            ),
        ));
    boxed(look, BoxKind::Panel, lines.into())
}
