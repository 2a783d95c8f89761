//! The confirm screen: the resident's own data (full name, masked ID number, photo), the state
//! of their current code, the validity of the code about to be printed, and the decision:
//! 申领 or 补领 (whichever the offer is) or 信息有误.

use iced::alignment::Vertical;
use iced::widget::image::Handle;
use iced::widget::{column, container, row, text};
use iced::{Element, Length};
use protocol::api::{CodeState, Person, Validity};
use protocol::rules::Offer;

use crate::flow::Button;
use crate::ui::theme::{self, BoxKind, ButtonKind};
use crate::ui::widgets::{big_button, boxed, button_row, heading, line};
use crate::ui::{Action, Look, Text, photo};

/// The step indicator.
pub const STEP: Option<u8> = Some(2);

/// The confirm screen's state: what the flow showed, and the decoded photo.
#[derive(Debug, Clone)]
pub struct State {
    /// The person.
    pub person: Person,
    /// Their current code.
    pub code: CodeState,
    /// What is offered.
    pub offer: Offer,
    /// The validity of the code a slip printed now would carry.
    pub next_code: Validity,
    /// The photo, decoded once (`None`: no photo, or one that does not decode).
    pub photo: Option<Handle>,
}

impl State {
    /// The state for this screen's data (decodes the photo).
    pub fn new(person: Person, code: CodeState, offer: Offer, next_code: Validity) -> State {
        let photo = person.photo.as_ref().and_then(photo::decode);
        State {
            person,
            code,
            offer,
            next_code,
            photo,
        }
    }
}

/// What can be touched here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// 申领离线码 / 补领离线码.
    Confirm,
    /// 信息有误.
    WrongData,
}

/// Turns a touch into what the app does.
pub fn update(_state: &mut State, message: Message) -> Action {
    match message {
        Message::Confirm => Action::Press(Button::Confirm),
        Message::WrongData => Action::Press(Button::WrongData),
    }
}

/// What the current code's state says, in words.
pub fn code_words(look: Look, code: &CodeState) -> String {
    match code {
        CodeState::None => look.t(Text::CodeNone).to_owned(),
        CodeState::Active {
            serial, expires_on, ..
        } => look.fill(
            Text::CodeActive,
            &[
                ("serial", &serial.to_string()),
                ("date", &look.date(*expires_on)),
            ],
        ),
        CodeState::Lost {
            serial, lost_on, ..
        } => look.fill(
            Text::CodeLost,
            &[
                ("serial", &serial.to_string()),
                ("date", &look.date(*lost_on)),
            ],
        ),
        CodeState::Expired {
            serial, expires_on, ..
        } => look.fill(
            Text::CodeExpired,
            &[
                ("serial", &serial.to_string()),
                ("date", &look.date(*expires_on)),
            ],
        ),
    }
}

/// The content of the confirm screen.
pub fn view(state: &State, look: Look) -> Element<'_, Message> {
    let photo: Element<'_, Message> = match &state.photo {
        Some(handle) => iced::widget::image(handle.clone())
            .width(Length::Fixed(look.px(theme::PHOTO_WIDTH)))
            .height(Length::Fixed(look.px(theme::PHOTO_HEIGHT)))
            .into(),
        None => container(text(look.t(Text::NoPhoto)).size(look.px(theme::BODY)))
            .center_x(Length::Fixed(look.px(theme::PHOTO_WIDTH)))
            .center_y(Length::Fixed(look.px(theme::PHOTO_HEIGHT)))
            .style(theme::box_style(BoxKind::Placeholder, look.scale))
            .into(),
    };
    let field = |label: Text, value: String| -> Element<'_, Message> {
        row![
            text(look.t(label))
                .size(look.px(theme::BODY))
                .width(Length::Fixed(look.px(theme::LABEL_WIDTH))),
            text(value).size(look.px(theme::BODY)),
        ]
        .spacing(look.px(theme::GAP))
        .into()
    };
    let new_code = look.fill(
        Text::NewCodeValidity,
        &[
            ("from", &look.date(state.next_code.issued_on)),
            ("to", &look.date(state.next_code.expires_on)),
        ],
    );
    let mut facts = column![
        row![
            text(look.t(Text::LabelName))
                .size(look.px(theme::BODY))
                .width(Length::Fixed(look.px(theme::LABEL_WIDTH))),
            text(state.person.name.as_str()).size(look.px(theme::HEADING)),
        ]
        .spacing(look.px(theme::GAP))
        .align_y(Vertical::Center),
        field(Text::LabelIdNumber, state.person.id_number_masked.clone()),
        field(Text::LabelCode, code_words(look, &state.code)),
        field(Text::LabelNewCode, new_code),
    ]
    // With the reissue note the facts have a fifth line: closer lines keep them as tall as the
    // photo, so that the buttons below keep their full height at 1080p.
    .spacing(look.px(if state.offer == Offer::Reissue {
        theme::GAP / 2.0
    } else {
        theme::GAP
    }));
    if state.offer == Offer::Reissue {
        facts = facts.push(line(look, look.t(Text::ReissueNote)));
    }
    let details = boxed(
        look,
        BoxKind::Panel,
        row![photo, facts]
            .spacing(look.px(theme::MARGIN))
            .align_y(Vertical::Center)
            .into(),
    );

    let mut buttons = Vec::new();
    match state.offer {
        Offer::Apply => buttons.push(big_button(
            look,
            look.t(Text::Apply),
            ButtonKind::Primary,
            Message::Confirm,
        )),
        Offer::Reissue => buttons.push(big_button(
            look,
            look.t(Text::Reissue),
            ButtonKind::Primary,
            Message::Confirm,
        )),
        Offer::Nothing(_) => {}
    }
    buttons.push(big_button(
        look,
        look.t(Text::WrongData),
        ButtonKind::Secondary,
        Message::WrongData,
    ));

    column![
        heading(look, look.t(Text::ConfirmTitle)),
        details,
        button_row(look, buttons),
    ]
    .spacing(look.px(theme::GAP))
    .into()
}
