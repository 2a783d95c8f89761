//! The pieces every screen is built from: texts at the theme's sizes, big buttons, notices and
//! panels, and the page around a screen (header with the step indicator, the "staff are
//! coming" banner, the footer with 返回首页 and 呼叫工作人员, and the idle dialog on top).

use iced::alignment::{Horizontal, Vertical};
use iced::widget::image::Handle;
use iced::widget::{Space, button, column, container, opaque, row, stack, text};
use iced::{Element, Length};

use super::theme::{self, BoxKind, ButtonKind};
use super::{Look, Text};

/// How many steps a session has (第n步/共3步).
pub const STEPS: u8 = 3;

/// A heading: the one question or statement of a screen.
pub fn heading<'a, M: 'a>(look: Look, content: impl text::IntoFragment<'a>) -> Element<'a, M> {
    text(content)
        .size(look.px(theme::HEADING))
        .width(Length::Fill)
        .align_x(Horizontal::Center)
        .into()
}

/// Body text, centred.
pub fn body<'a, M: 'a>(look: Look, content: impl text::IntoFragment<'a>) -> Element<'a, M> {
    text(content)
        .size(look.px(theme::BODY))
        .width(Length::Fill)
        .align_x(Horizontal::Center)
        .into()
}

/// Body text, left-aligned (in panels).
pub fn line<'a, M: 'a>(look: Look, content: impl text::IntoFragment<'a>) -> Element<'a, M> {
    text(content).size(look.px(theme::BODY)).into()
}

/// A big button with one label.
pub fn big_button<'a, M: Clone + 'a>(
    look: Look,
    label: impl text::IntoFragment<'a>,
    kind: ButtonKind,
    on_press: M,
) -> Element<'a, M> {
    let label = text(label)
        .size(look.px(theme::BUTTON_TEXT))
        .align_x(Horizontal::Center)
        .align_y(Vertical::Center)
        .width(Length::Fill)
        .height(Length::Fill);
    button(label)
        .on_press(on_press)
        .width(Length::Fixed(look.px(theme::BUTTON_WIDTH)))
        .height(Length::Fixed(look.px(theme::BUTTON_HEIGHT)))
        .padding(look.px(12.0))
        .style(theme::button_style(kind, look.scale))
        .into()
}

/// A big button with a label and a line under it saying what it means.
pub fn big_button_with_hint<'a, M: Clone + 'a>(
    look: Look,
    label: &'a str,
    hint: &'a str,
    kind: ButtonKind,
    on_press: M,
) -> Element<'a, M> {
    let content = column![
        text(label).size(look.px(theme::BUTTON_TEXT)),
        text(hint).size(look.px(theme::SMALL)),
    ]
    .spacing(look.px(12.0))
    .align_x(Horizontal::Center);
    button(
        container(content)
            .center_x(Length::Fill)
            .center_y(Length::Fill),
    )
    .on_press(on_press)
    .width(Length::Fixed(look.px(theme::BUTTON_WIDTH + 80.0)))
    .height(Length::Fixed(look.px(theme::BUTTON_HEIGHT + 80.0)))
    .style(theme::button_style(kind, look.scale))
    .into()
}

/// A row of big buttons, centred, with the theme's gap between them.
pub fn button_row<'a, M: 'a>(look: Look, buttons: Vec<Element<'a, M>>) -> Element<'a, M> {
    container(row(buttons).spacing(look.px(theme::BUTTON_GAP)))
        .center_x(Length::Fill)
        .into()
}

/// A box of the given kind around `content`, as wide as the page.
pub fn boxed<'a, M: 'a>(look: Look, kind: BoxKind, content: Element<'a, M>) -> Element<'a, M> {
    container(content)
        .padding(look.px(theme::GAP))
        .width(Length::Fill)
        .style(theme::box_style(kind, look.scale))
        .into()
}

/// A notice: a yellow outlined box with centred body text.
pub fn notice<'a, M: 'a>(look: Look, content: impl text::IntoFragment<'a>) -> Element<'a, M> {
    boxed(look, BoxKind::Notice, body(look, content))
}

/// An image as large as the room left for it allows, up to a design size, centred: a screen
/// with more to say (a notice, the "staff are coming" banner) gets a smaller picture rather than
/// losing a line.
pub fn picture<'a, M: 'a>(look: Look, handle: &Handle, width: f32, height: f32) -> Element<'a, M> {
    let room = container(
        iced::widget::image(handle.clone())
            .width(Length::Fill)
            .height(Length::Fill),
    )
    .width(Length::Fill)
    .height(Length::Fill)
    .max_width(look.px(width))
    .max_height(look.px(height));
    container(room)
        .center_x(Length::Fill)
        .height(Length::Fill)
        .into()
}

/// What the page around a screen needs.
#[derive(Debug, Clone)]
pub struct Chrome<M> {
    /// The step indicator: `Some(n)` shows 第n步/共3步.
    pub step: Option<u8>,
    /// Whether to show 返回首页 (every screen but home), and its message.
    pub home: Option<M>,
    /// Whether to show the language toggle (English / 中文) where 返回首页 would be (on home),
    /// and its message.
    pub language: Option<M>,
    /// The message of 呼叫工作人员.
    pub call_staff: M,
    /// Whether a help request stands: shows "工作人员马上就到".
    pub help_requested: bool,
    /// The idle countdown, if it shows, and the message of 继续办理.
    pub countdown: Option<(u64, M)>,
}

/// The page: header, the screen's content, footer, and the idle dialog on top.
pub fn page<'a, M: Clone + 'a>(
    look: Look,
    chrome: Chrome<M>,
    content: Element<'a, M>,
) -> Element<'a, M> {
    // The header: where this is, the "staff are coming" banner while help is asked for (in the
    // header, so that it never pushes the screen's own content out of sight), the step.
    let mut header = row![text(look.t(Text::Banner)).size(look.px(theme::SMALL))]
        .align_y(Vertical::Center)
        .height(Length::Fill);
    header = header.push(Space::new().width(Length::Fill));
    if chrome.help_requested {
        header = header
            .push(coming(look))
            .push(Space::new().width(Length::Fill));
    }
    if let Some(step) = chrome.step {
        let name = match step {
            1 => Text::Step1,
            2 => Text::Step2,
            _ => Text::Step3,
        };
        let step_text = format!(
            "{}  {}",
            look.fill(
                Text::StepOf,
                &[("n", &step.to_string()), ("total", &STEPS.to_string())]
            ),
            look.t(name)
        );
        header = header.push(text(step_text).size(look.px(theme::SMALL)));
    }
    let header = container(header)
        .padding([0.0, look.px(theme::MARGIN)])
        .width(Length::Fill)
        .height(Length::Fixed(look.px(theme::HEADER_HEIGHT)))
        .style(theme::box_style(BoxKind::Header, look.scale));

    let middle = container(content)
        .center_x(Length::Fill)
        .center_y(Length::Fill);

    let mut footer = row![].align_y(Vertical::Center);
    if let Some(home) = chrome.home.clone() {
        footer = footer.push(footer_button(
            look,
            Text::GoHome,
            ButtonKind::Secondary,
            home,
        ));
    } else if let Some(language) = chrome.language.clone() {
        footer = footer.push(footer_button(
            look,
            Text::OtherLanguage,
            ButtonKind::Secondary,
            language,
        ));
    }
    footer = footer
        .push(Space::new().width(Length::Fill))
        .push(footer_button(
            look,
            Text::CallStaff,
            ButtonKind::Help,
            chrome.call_staff.clone(),
        ));

    let page = container(
        column![
            header,
            container(middle)
                .padding([look.px(theme::GAP), look.px(theme::MARGIN)])
                .height(Length::Fill),
            container(footer).padding([look.px(theme::GAP), look.px(theme::MARGIN)]),
        ]
        .height(Length::Fill),
    )
    .width(Length::Fill)
    .height(Length::Fill)
    .style(theme::box_style(BoxKind::Page, look.scale));

    match chrome.countdown {
        Some((seconds, on_continue)) => {
            stack![page, dialog(look, seconds, on_continue, chrome.home)].into()
        }
        None => page.into(),
    }
}

fn footer_button<'a, M: Clone + 'a>(
    look: Look,
    label: Text,
    kind: ButtonKind,
    on_press: M,
) -> Element<'a, M> {
    let label = text(look.t(label))
        .size(look.px(theme::BUTTON_TEXT))
        .align_x(Horizontal::Center)
        .align_y(Vertical::Center)
        .width(Length::Fill)
        .height(Length::Fill);
    button(label)
        .on_press(on_press)
        .width(Length::Fixed(look.px(theme::FOOTER_BUTTON_WIDTH)))
        .height(Length::Fixed(look.px(theme::FOOTER_BUTTON_HEIGHT)))
        .style(theme::button_style(kind, look.scale))
        .into()
}

/// The "staff are coming" banner, in the header.
fn coming<'a, M: 'a>(look: Look) -> Element<'a, M> {
    let content = row![
        text(look.t(Text::StaffComing)).size(look.px(theme::BUTTON_TEXT)),
        text(look.t(Text::StaffComingHint)).size(look.px(theme::SMALL)),
    ]
    .spacing(look.px(theme::GAP))
    .align_y(Vertical::Center);
    container(content)
        .padding([look.px(8.0), look.px(theme::GAP)])
        .style(theme::box_style(BoxKind::Coming, look.scale))
        .into()
}

/// The idle dialog: the seconds left and 继续办理, over a dimmed page that takes every touch.
fn dialog<'a, M: Clone + 'a>(
    look: Look,
    seconds: u64,
    on_continue: M,
    home: Option<M>,
) -> Element<'a, M> {
    let mut buttons = vec![big_button(
        look,
        look.t(Text::Continue),
        ButtonKind::Primary,
        on_continue,
    )];
    if let Some(home) = home {
        buttons.push(big_button(
            look,
            look.t(Text::GoHome),
            ButtonKind::Secondary,
            home,
        ));
    }
    let panel = container(
        column![
            heading(look, look.t(Text::StillThere)),
            text(seconds.to_string())
                .size(look.px(theme::COUNTDOWN))
                .width(Length::Fill)
                .align_x(Horizontal::Center),
            body(
                look,
                look.fill(Text::SecondsLeft, &[("n", &seconds.to_string())])
            ),
            button_row(look, buttons),
        ]
        .spacing(look.px(theme::GAP)),
    )
    .padding(look.px(theme::MARGIN))
    .width(Length::Fixed(look.px(theme::DIALOG_WIDTH)))
    .style(theme::box_style(BoxKind::Dialog, look.scale));
    opaque(
        container(panel)
            .center_x(Length::Fill)
            .center_y(Length::Fill)
            .style(theme::box_style(BoxKind::Backdrop, look.scale)),
    )
}

// ---------------------------------------------------------------------------------------------
// The maintenance screens (hall staff)
// ---------------------------------------------------------------------------------------------

/// What the page around a maintenance screen needs.
#[derive(Debug, Clone)]
pub struct StaffChrome<M> {
    /// What this screen is (after 维护模式 in the header).
    pub title: Option<&'static str>,
    /// Who is signed in (the masked name), once known.
    pub staff: Option<String>,
    /// Whether a resident's help request stands (said in the header).
    pub help_requested: bool,
    /// Seconds until maintenance closes by itself, when that is close; with the message of
    /// 继续维护 where the screen has one.
    pub auto_exit: Option<(u64, Option<M>)>,
    /// The footer's left button (取消, 返回菜单): its label and message.
    pub back: Option<(Text, M)>,
    /// The footer's right button (退出维护): its label and message.
    pub exit: Option<(Text, M)>,
}

/// The page of a maintenance screen: a dark header (维护模式, the screen, who, the help request,
/// the auto-exit countdown), the content, and a footer with the way back and out. No step
/// indicator, no 呼叫工作人员: this is for staff.
pub fn staff_page<'a, M: Clone + 'a>(
    look: Look,
    chrome: StaffChrome<M>,
    content: Element<'a, M>,
) -> Element<'a, M> {
    let mut title = look.t(Text::StaffBanner).to_owned();
    if let Some(page) = chrome.title {
        title = format!("{title} · {page}");
    }
    let mut header = row![text(title).size(look.px(theme::SMALL))]
        .spacing(look.px(theme::GAP))
        .align_y(Vertical::Center)
        .height(Length::Fill);
    header = header.push(Space::new().width(Length::Fill));
    if chrome.help_requested {
        header = header.push(
            container(text(look.t(Text::StaffHelpStanding)).size(look.px(theme::SMALL)))
                .padding([look.px(8.0), look.px(theme::GAP)])
                .style(theme::box_style(BoxKind::Coming, look.scale)),
        );
    }
    if let Some(staff) = &chrome.staff {
        header = header
            .push(text(look.fill(Text::StaffWho, &[("name", staff)])).size(look.px(theme::SMALL)));
    }
    if let Some((seconds, _)) = &chrome.auto_exit {
        header = header.push(
            text(look.fill(Text::StaffAutoExit, &[("n", &seconds.to_string())]))
                .size(look.px(theme::SMALL)),
        );
    }
    let header = container(header)
        .padding([0.0, look.px(theme::MARGIN)])
        .width(Length::Fill)
        .height(Length::Fixed(look.px(theme::HEADER_HEIGHT)))
        .style(theme::box_style(BoxKind::StaffHeader, look.scale));

    let middle = container(content)
        .center_x(Length::Fill)
        .center_y(Length::Fill);

    let mut footer = row![]
        .spacing(look.px(theme::staff::BUTTON_GAP))
        .align_y(Vertical::Center);
    if let Some((label, message)) = chrome.back {
        footer = footer.push(footer_button(look, label, ButtonKind::Secondary, message));
    }
    footer = footer.push(Space::new().width(Length::Fill));
    if let Some((_, Some(keep))) = chrome.auto_exit {
        footer = footer.push(footer_button(
            look,
            Text::StaffKeepOpen,
            ButtonKind::Primary,
            keep,
        ));
    }
    if let Some((label, message)) = chrome.exit {
        footer = footer.push(footer_button(look, label, ButtonKind::Secondary, message));
    }
    container(
        column![
            header,
            container(middle)
                .padding([look.px(theme::GAP), look.px(theme::MARGIN)])
                .height(Length::Fill),
            container(footer)
                .padding([look.px(theme::GAP), look.px(theme::MARGIN)])
                .height(Length::Fixed(
                    look.px(theme::FOOTER_BUTTON_HEIGHT + 2.0 * theme::GAP)
                )),
        ]
        .height(Length::Fill),
    )
    .width(Length::Fill)
    .height(Length::Fill)
    .style(theme::box_style(BoxKind::Page, look.scale))
    .into()
}

/// A maintenance button: the staff sizes (at least 120 px tall), a label centred.
pub fn staff_button<'a, M: Clone + 'a>(
    look: Look,
    label: impl text::IntoFragment<'a>,
    kind: ButtonKind,
    width: f32,
    on_press: M,
) -> Element<'a, M> {
    let label = text(label)
        .size(look.px(theme::BUTTON_TEXT))
        .align_x(Horizontal::Center)
        .align_y(Vertical::Center)
        .width(Length::Fill)
        .height(Length::Fill);
    button(label)
        .on_press(on_press)
        .width(Length::Fixed(look.px(width)))
        .height(Length::Fixed(look.px(theme::staff::BUTTON_HEIGHT)))
        .padding(look.px(8.0))
        .style(theme::button_style(kind, look.scale))
        .into()
}

/// One line of a maintenance page: a label in a column of its own, then the value.
pub fn field<'a, M: 'a>(
    look: Look,
    label: impl text::IntoFragment<'a>,
    value: impl text::IntoFragment<'a>,
) -> Element<'a, M> {
    row![
        text(label)
            .size(look.px(theme::staff::LINE))
            .width(Length::Fixed(look.px(theme::staff::LABEL_WIDTH))),
        text(value).size(look.px(theme::staff::LINE)),
    ]
    .spacing(look.px(theme::GAP))
    .into()
}

/// A line of a maintenance page in the colour that says something is wrong.
pub fn fault_line<'a, M: 'a>(look: Look, content: impl text::IntoFragment<'a>) -> Element<'a, M> {
    text(content)
        .size(look.px(theme::staff::LINE))
        .color(theme::colour::FAULT)
        .into()
}

/// Maintenance buttons in rows of `columns`, from the left (so that they stay within
/// [`theme::staff::REACH`]).
pub fn grid<'a, M: 'a>(look: Look, buttons: Vec<Element<'a, M>>, columns: usize) -> Element<'a, M> {
    let gap = look.px(theme::staff::BUTTON_GAP);
    let mut rows = column![].spacing(gap);
    let mut current = row![].spacing(gap);
    let mut count = 0;
    for button in buttons {
        current = current.push(button);
        count += 1;
        if count == columns {
            rows = rows.push(current);
            current = row![].spacing(gap);
            count = 0;
        }
    }
    if count > 0 {
        rows = rows.push(current);
    }
    rows.into()
}
