//! Test the scanner: 请把二维码对准扫码口, then what the last scan was: its kind (an offline-code
//! slip or another QR code), its length and its first characters. Never the whole text: a 随申码
//! is a live token.

use iced::widget::{Column, column};
use iced::{Element, Length};

use crate::staff::{ScanKind, StaffView};
use crate::ui::theme::{self, BoxKind};
use crate::ui::widgets::{body, boxed, field, heading};
use crate::ui::{Look, Text};

/// Nothing is touched here but the page's buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {}

/// The content of the test-scan page.
pub fn view(view: &StaffView, look: Look) -> Element<'_, Message> {
    let mut content = column![
        heading(look, look.t(Text::TestScanTitle)),
        body(look, look.t(Text::TestScanHint)),
    ]
    .spacing(look.px(theme::GAP))
    .width(Length::Fill);
    if let Some(scan) = &view.test_scan {
        let kind = match scan.kind {
            ScanKind::OfflineCode => Text::ScanOffline,
            ScanKind::Other => Text::ScanOther,
        };
        let lines = Column::new()
            .spacing(look.px(theme::staff::LINE_GAP))
            .push(field(look, look.t(Text::ScanKindLabel), look.t(kind)))
            .push(field(
                look,
                look.t(Text::ScanLengthLabel),
                look.fill(Text::Characters, &[("n", &scan.length.to_string())]),
            ))
            .push(field(
                look,
                look.t(Text::ScanPreviewLabel),
                super::clip(&scan.preview, 24),
            ));
        content = content.push(boxed(look, BoxKind::Panel, lines.into()));
    }
    content.into()
}
