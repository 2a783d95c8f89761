//! The simulator panel: a second window, open only while devices are simulated, that lets a
//! person play the devices: place or remove each demo card (with the embedded central, one per
//! demo citizen: [`demo_citizen_cards`]) or the demo staff member's card
//! ([`crate::sample::demo_staff_card`]), show a demo citizen's 随申码 (or an invalid one), run
//! the printer out of paper or open its cover, and, with the embedded central service, make the
//! central reachable or not. Shown in Chinese (it is for demos and staff, not for residents).

use std::sync::Arc;

use iced::alignment::Vertical;
use iced::widget::{Column, button, column, container, row, scrollable, text};
use iced::{Element, Length};
use printer::PrinterStatus;

use super::theme::{self, BoxKind, ButtonKind};
use super::{Lang, Look, Scale, Text};

/// Makes a current 随申码 for an ID number (the embedded central can).
pub type MintFn = dyn Fn(&str) -> anyhow::Result<String> + Send + Sync;

/// Makes the (embedded) central service reachable (`true`) or not (`false`); returns when it is
/// so ([`launch::central_switch`](super::launch::central_switch) makes one).
pub type ReachableFn = dyn Fn(bool) -> anyhow::Result<()> + Send + Sync;

/// Demo citizens whose 随申码 the panel can show, and how to make one.
#[derive(Clone)]
pub struct Suishen {
    /// (name, full ID number) of each citizen offered.
    pub citizens: Vec<(String, String)>,
    /// Makes the code.
    pub mint: Arc<MintFn>,
}

impl std::fmt::Debug for Suishen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Suishen")
            .field("citizens", &self.citizens.len())
            .finish_non_exhaustive()
    }
}

impl Suishen {
    /// The demo citizens of the embedded central service whose data lives in `data_dir`: one
    /// per journey (eligible, under 60, no photo, not verified, active code, lost code).
    #[cfg(feature = "embedded-central")]
    pub fn embedded(data_dir: &std::path::Path) -> Suishen {
        use central::demo::{DemoRole, demo_citizens};

        let wanted = [
            DemoRole::EligibleSenior,
            DemoRole::ActiveCode,
            DemoRole::LostCode,
            DemoRole::Under60,
            DemoRole::NoPhoto,
            DemoRole::NotRealNameVerified,
        ];
        let people = demo_citizens();
        let citizens = wanted
            .iter()
            .filter_map(|role| people.iter().find(|p| p.role == *role))
            .map(|p| {
                (
                    p.citizen.name.clone(),
                    p.citizen.id_number.as_str().to_owned(),
                )
            })
            .collect();
        let data = central::server::DataDir::new(data_dir);
        Suishen {
            citizens,
            mint: Arc::new(move |id_number| {
                central::admin::suishen_code(&data, id_number, time::OffsetDateTime::now_utc())
            }),
        }
    }
}

/// One card per demo citizen of the embedded central service, in its order, so that every demo
/// journey (apply, reissue, lost, under 60, no photo, not verified, yellow, red, the foreign and
/// permit cards, the leap-day birthday) can be started with a card: the detailed demo card
/// ([`idcard::demo_cards`]) where one carries the citizen's number, otherwise a resident's card
/// made from the citizen's record (name, number, and the birth date and sex the number encodes).
#[cfg(feature = "embedded-central")]
pub fn demo_citizen_cards() -> Vec<idcard::IdCard> {
    let detailed = idcard::demo_cards();
    central::demo::demo_citizens()
        .into_iter()
        .map(|person| {
            let number = person.citizen.id_number;
            detailed
                .iter()
                .find(|card| card.id_number == number)
                .cloned()
                .unwrap_or_else(|| card_of(person.citizen.name, number))
        })
        .collect()
}

/// A long-term resident's card (or a permit, for an 81/82/83 number) for a demo citizen.
#[cfg(feature = "embedded-central")]
fn card_of(name: String, id_number: protocol::IdNumber) -> idcard::IdCard {
    use protocol::idnumber::{IdKind, Sex as NumberSex};
    let (card_type, nation) = match id_number.kind() {
        IdKind::ResidencePermit(_) => (idcard::CardType::Permit, None),
        IdKind::Foreigner2017 => (idcard::CardType::Foreigner2017, None),
        IdKind::Foreigner2023 => (idcard::CardType::Foreigner2023, None),
        IdKind::Resident => (idcard::CardType::Resident, Some(("汉", "01"))),
    };
    let sex = match id_number.sex() {
        Some(NumberSex::Male) => idcard::Sex::Male,
        Some(NumberSex::Female) => idcard::Sex::Female,
        None => idcard::Sex::NotKnown,
    };
    idcard::IdCard {
        card_type,
        english_name: (card_type != idcard::CardType::Resident && name.is_ascii())
            .then(|| name.clone()),
        name,
        sex,
        nation: nation.map(|(n, _)| n.to_owned()),
        nation_code: nation.map(|(_, code)| code.to_owned()),
        nationality: None,
        birth_date: id_number.birth_date(),
        address: Some("上海市黄浦区演示路1号".to_owned()),
        id_number,
        authority: Some("上海市公安局黄浦分局".to_owned()),
        valid_from: time::macros::date!(2016 - 01 - 01),
        valid_until: None,
        pass_number: None,
        issue_count: None,
        card_version: None,
        renewal_count: None,
    }
}

/// The simulated devices the panel plays (each `None` when that device is real).
#[derive(Debug, Clone, Default)]
pub struct SimDevices {
    /// The simulated ID-card reader.
    pub reader: Option<idcard::SimHandle>,
    /// The simulated QR scanner.
    pub scanner: Option<scanner::SimHandle>,
    /// The simulated printer.
    pub printer: Option<printer::SimPrinterHandle>,
}

impl SimDevices {
    /// Whether any device is simulated (the panel opens only then).
    pub fn any(&self) -> bool {
        self.reader.is_some() || self.scanner.is_some() || self.printer.is_some()
    }
}

/// What can be touched on the panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Place demo card `i` on the reader.
    Place(usize),
    /// Place a card whose read fails.
    PlaceUnreadable,
    /// Take the card off the reader.
    Remove,
    /// Place the demo staff member's card.
    PlaceStaffCard,
    /// Make the central service reachable or not.
    Central(bool),
    /// Show demo citizen `i`'s 随申码 to the scanner.
    Show(usize),
    /// Show text that is no 随申码.
    ShowInvalid,
    /// Set the printer's status.
    Printer(PrinterStatus),
}

/// The panel's state.
pub struct SimPanel {
    devices: SimDevices,
    cards: Vec<idcard::IdCard>,
    staff_card: Option<idcard::IdCard>,
    suishen: Option<Suishen>,
    /// The embedded central's switch, and whether it is reachable now.
    central: Option<(Arc<ReachableFn>, bool)>,
    /// What the last touch did, in words.
    last: Option<String>,
    scale: Scale,
}

impl std::fmt::Debug for SimPanel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimPanel")
            .field("devices", &self.devices)
            .field("suishen", &self.suishen)
            .field("central", &self.central.as_ref().map(|(_, up)| *up))
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

impl SimPanel {
    /// The panel over these devices; `None` if none is simulated.
    pub fn new(devices: SimDevices, suishen: Option<Suishen>) -> Option<SimPanel> {
        devices.any().then(|| SimPanel {
            devices,
            cards: idcard::demo_cards(),
            staff_card: crate::sample::demo_staff_card(),
            suishen,
            central: None,
            last: None,
            scale: Scale(0.42),
        })
    }

    /// The same panel with these cards to place instead of [`idcard::demo_cards`] (with the
    /// embedded central: [`demo_citizen_cards`]).
    pub fn with_cards(mut self, cards: Vec<idcard::IdCard>) -> SimPanel {
        self.cards = cards;
        self
    }

    /// The same panel with "central reachable / not reachable" (the embedded central service,
    /// reachable at first).
    pub fn with_central(mut self, switch: Arc<ReachableFn>) -> SimPanel {
        self.central = Some((switch, true));
        self
    }

    /// Whether the panel made the central reachable (`None`: it has no switch).
    pub fn central_reachable(&self) -> Option<bool> {
        self.central.as_ref().map(|(_, up)| *up)
    }

    /// What the last touch did, in words.
    pub fn last(&self) -> Option<&str> {
        self.last.as_deref()
    }

    /// Carries out a touch on the devices.
    pub fn update(&mut self, message: Message) {
        let look = self.look();
        let (done, what) = match message {
            Message::Place(index) => match (&self.devices.reader, self.cards.get(index)) {
                (Some(reader), Some(card)) => {
                    reader.place(card.clone());
                    (true, look.fill(Text::SimPlace, &[("name", &card.name)]))
                }
                _ => (false, look.t(Text::SimCards).to_owned()),
            },
            Message::PlaceUnreadable => match &self.devices.reader {
                Some(reader) => {
                    reader.place_unreadable(idcard::ReadError::CardRemoved);
                    (true, look.t(Text::SimUnreadable).to_owned())
                }
                None => (false, look.t(Text::SimUnreadable).to_owned()),
            },
            Message::PlaceStaffCard => match (&self.devices.reader, &self.staff_card) {
                (Some(reader), Some(card)) => {
                    reader.place(card.clone());
                    (true, look.fill(Text::SimStaffCard, &[("name", &card.name)]))
                }
                _ => (false, look.t(Text::SimCards).to_owned()),
            },
            Message::Central(reachable) => {
                let what = look
                    .t(if reachable {
                        Text::SimCentralUp
                    } else {
                        Text::SimCentralDown
                    })
                    .to_owned();
                match &mut self.central {
                    Some((switch, up)) => match switch(reachable) {
                        Ok(()) => {
                            *up = reachable;
                            (true, what)
                        }
                        Err(error) => {
                            tracing::warn!(error = %format!("{error:#}"), "switching the central");
                            (false, what)
                        }
                    },
                    None => (false, what),
                }
            }
            Message::Remove => match &self.devices.reader {
                Some(reader) => {
                    reader.remove();
                    (true, look.t(Text::SimRemove).to_owned())
                }
                None => (false, look.t(Text::SimRemove).to_owned()),
            },
            Message::Show(index) => {
                let person = self
                    .suishen
                    .as_ref()
                    .and_then(|s| s.citizens.get(index).map(|c| (s, c)));
                match (&self.devices.scanner, person) {
                    (Some(scanner), Some((suishen, (name, id_number)))) => {
                        let what = look.fill(Text::SimShow, &[("name", name)]);
                        match (suishen.mint)(id_number) {
                            Ok(code) => {
                                scanner.scan(&code);
                                (true, what)
                            }
                            Err(error) => {
                                tracing::warn!(%error, "making a demo 随申码");
                                (false, what)
                            }
                        }
                    }
                    _ => (false, look.t(Text::SimSuishen).to_owned()),
                }
            }
            Message::ShowInvalid => match &self.devices.scanner {
                Some(scanner) => {
                    scanner.scan("SUISHEN-NOT-A-VALID-CODE");
                    (true, look.t(Text::SimBadCode).to_owned())
                }
                None => (false, look.t(Text::SimBadCode).to_owned()),
            },
            Message::Printer(status) => match &self.devices.printer {
                Some(printer) => {
                    printer.set_status(status);
                    (true, status_label(look, status).to_owned())
                }
                None => (false, look.t(Text::SimPrinter).to_owned()),
            },
        };
        let template = if done { Text::SimDone } else { Text::SimFailed };
        self.last = Some(look.fill(template, &[("what", &what)]));
    }

    fn look(&self) -> Look {
        Look {
            lang: Lang::Zh,
            scale: self.scale,
        }
    }

    /// The panel's content.
    pub fn view(&self) -> Element<'_, Message> {
        let look = self.look();
        let mut content = column![text(look.t(Text::SimTitle)).size(look.px(theme::HEADING))]
            .spacing(look.px(theme::GAP));

        content = content.push(section(look, Text::SimCards));
        if self.devices.reader.is_some() {
            let mut cards = self
                .cards
                .iter()
                .enumerate()
                .map(|(i, card)| {
                    sim_button(
                        look,
                        look.fill(Text::SimPlace, &[("name", &card.name)]),
                        Message::Place(i),
                    )
                })
                .collect::<Vec<_>>();
            if let Some(card) = &self.staff_card {
                cards.push(sim_button(
                    look,
                    look.fill(Text::SimStaffCard, &[("name", &card.name)]),
                    Message::PlaceStaffCard,
                ));
            }
            cards.push(sim_button(
                look,
                look.t(Text::SimUnreadable).to_owned(),
                Message::PlaceUnreadable,
            ));
            cards.push(sim_button(
                look,
                look.t(Text::SimRemove).to_owned(),
                Message::Remove,
            ));
            content = content.push(grid(look, cards));
        } else {
            content = content.push(small(look, look.t(Text::SimNotSimulated)));
        }

        content = content.push(section(look, Text::SimSuishen));
        if self.devices.scanner.is_some() {
            let mut codes = Vec::new();
            match &self.suishen {
                Some(suishen) => {
                    for (i, (name, _)) in suishen.citizens.iter().enumerate() {
                        codes.push(sim_button(
                            look,
                            look.fill(Text::SimShow, &[("name", name)]),
                            Message::Show(i),
                        ));
                    }
                }
                None => content = content.push(small(look, look.t(Text::SimNoCentral))),
            }
            codes.push(sim_button(
                look,
                look.t(Text::SimBadCode).to_owned(),
                Message::ShowInvalid,
            ));
            content = content.push(grid(look, codes));
        } else {
            content = content.push(small(look, look.t(Text::SimNotSimulated)));
        }

        content = content.push(section(look, Text::SimPrinter));
        if self.devices.printer.is_some() {
            let statuses = [
                PrinterStatus::Ready,
                PrinterStatus::PaperNearEnd,
                PrinterStatus::PaperOut,
                PrinterStatus::CoverOpen,
            ];
            let buttons = statuses
                .into_iter()
                .map(|status| {
                    sim_button(
                        look,
                        status_label(look, status).to_owned(),
                        Message::Printer(status),
                    )
                })
                .collect();
            content = content.push(grid(look, buttons));
        } else {
            content = content.push(small(look, look.t(Text::SimNotSimulated)));
        }

        if let Some((_, up)) = &self.central {
            content = content.push(section(look, Text::SimCentral));
            content = content.push(small(
                look,
                look.t(if *up {
                    Text::SimCentralIsUp
                } else {
                    Text::SimCentralIsDown
                }),
            ));
            content = content.push(grid(
                look,
                vec![
                    sim_button(
                        look,
                        look.t(Text::SimCentralUp).to_owned(),
                        Message::Central(true),
                    ),
                    sim_button(
                        look,
                        look.t(Text::SimCentralDown).to_owned(),
                        Message::Central(false),
                    ),
                ],
            ));
        }

        if let Some(last) = &self.last {
            content = content.push(
                container(small(look, last.clone()))
                    .padding(look.px(16.0))
                    .width(Length::Fill)
                    .style(theme::box_style(BoxKind::Notice, look.scale)),
            );
        }

        container(scrollable(
            container(content).padding(look.px(theme::MARGIN)),
        ))
        .width(Length::Fill)
        .height(Length::Fill)
        .style(theme::box_style(BoxKind::Page, look.scale))
        .into()
    }
}

fn status_label(look: Look, status: PrinterStatus) -> &'static str {
    look.t(match status {
        PrinterStatus::PaperOut => Text::SimPaperOut,
        PrinterStatus::PaperNearEnd => Text::SimPaperNearEnd,
        PrinterStatus::CoverOpen => Text::SimCoverOpen,
        _ => Text::SimReady,
    })
}

fn section<'a>(look: Look, title: Text) -> Element<'a, Message> {
    text(look.t(title)).size(look.px(theme::BUTTON_TEXT)).into()
}

fn small<'a>(look: Look, content: impl text::IntoFragment<'a>) -> Element<'a, Message> {
    text(content).size(look.px(theme::BODY)).into()
}

fn sim_button<'a>(look: Look, label: String, message: Message) -> Element<'a, Message> {
    button(
        text(label)
            .size(look.px(theme::BODY))
            .align_y(Vertical::Center)
            .height(Length::Fill),
    )
    .on_press(message)
    .padding([0.0, look.px(24.0)])
    .height(Length::Fixed(look.px(theme::FOOTER_BUTTON_HEIGHT)))
    .style(theme::button_style(ButtonKind::Secondary, look.scale))
    .into()
}

/// Buttons in rows of three.
fn grid(look: Look, buttons: Vec<Element<'_, Message>>) -> Element<'_, Message> {
    let mut rows = Column::new().spacing(look.px(theme::BUTTON_GAP / 2.0));
    let mut current = row![].spacing(look.px(theme::BUTTON_GAP / 2.0));
    let mut count = 0;
    for button in buttons {
        current = current.push(button);
        count += 1;
        if count == 3 {
            rows = rows.push(current);
            current = row![].spacing(look.px(theme::BUTTON_GAP / 2.0));
            count = 0;
        }
    }
    if count > 0 {
        rows = rows.push(current);
    }
    rows.into()
}
