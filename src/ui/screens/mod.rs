//! One module per screen of the flow's [`Screen`](crate::flow::Screen). Each owns its state
//! (built from the screen's data), its messages (what can be touched on it), its update (which
//! turns a touch into an [`Action`](super::Action)) and its view (the screen's content; the
//! page around it, with the step indicator, 返回首页 and 呼叫工作人员, is
//! [`widgets::page`](super::widgets::page)).

pub mod choose_login;
pub mod confirm;
pub mod done;
pub mod error;
pub mod home;
pub mod identifying;
pub mod issuing;
pub mod not_eligible;
pub mod out_of_service;
pub mod printing;
pub mod reading;
pub mod wait_card;
pub mod wait_scan;
pub mod wrong_data;
