//! The application for a venue poster code (`/venues/apply`, anyone): an organisation gives its
//! registered name, unified social credit code (checked with its check character, GB
//! 32100-2015, and registered in Shanghai: positions 3 and 4 are `31`), the address of its entrance and a contact. The application waits for an
//! operator (`/venues/review`). The form has no session: the same-origin check guards it, as it
//! does the sign-in form.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::Response;
use protocol::{Uscc, UsccError};
use serde::Deserialize;

use super::auth::SameOrigin;
use super::html::{Frame, esc, page};
use super::{PageError, html_response};
use crate::http::{AppState, blocking};
use crate::store::StoreError;
use crate::venues::{
    MAX_ADDRESS_CHARS, MAX_CONTACT_CHARS, MAX_NAME_CHARS, VenueApplication, new_venue_key,
    poster::unprintable,
};

/// Where the page is.
pub const PATH: &str = "/venues/apply";
/// The province-level part of the administrative division (positions 3 and 4 of a unified
/// social credit code) of organisations registered in Shanghai: only they may apply.
pub const SHANGHAI_REGION: &str = "31";

/// The form's fields.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ApplyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    uscc: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_phone: String,
}

/// `GET /venues/apply`: the empty form.
pub(crate) async fn show() -> Response {
    html_response(StatusCode::OK, render(&ApplyForm::default(), None))
}

/// `POST /venues/apply`: checks and records the application.
pub(crate) async fn submit(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    form: Result<Form<ApplyForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) = form.map_err(|_| PageError::bad_request("申请表不完整，请重新填写。"))?;
    let application = match check(&form) {
        Ok(application) => application,
        Err(problem) => {
            return Ok(html_response(
                StatusCode::BAD_REQUEST,
                render(&form, Some(&problem)),
            ));
        }
    };
    let key = new_venue_key().map_err(|_| PageError::internal())?;
    let now = state.clock.now();
    let name = application.name.clone();
    let outcome = blocking(&state, move |store| {
        match store.apply_venue(&key, &application, now) {
            Err(StoreError::Duplicate(_)) => Ok(None),
            other => other.map(Some),
        }
    })
    .await?;
    let Some(number) = outcome else {
        return Ok(html_response(
            StatusCode::CONFLICT,
            render(
                &form,
                Some(
                    "这个统一社会信用代码已经有一份申请在审核中，或已经登记过了。\
                     如需帮助，请联系审核人员。",
                ),
            ),
        ));
    };
    let body = format!(
        "<main class=\"narrow\">\n<h1>申请已提交</h1>\n\
         <div class=\"notice notice-ok\" role=\"status\" data-outcome=\"applied\">\
         <p><strong>{name}</strong> 的单位张贴码申请已经提交，申请编号 \
         <strong data-application>{number}</strong>。</p>\
         <p>审核人员核实后会联系您填写的联系人，并交给贵单位一个“单位令牌”。\
         用单位令牌登录本服务，即可下载打印张贴码、查看进场记录。</p></div>\n\
         <p><a href=\"/\">返回首页</a></p>\n</main>",
        name = esc(&name),
    );
    Ok(html_response(StatusCode::OK, page(&frame(), &body)))
}

fn frame() -> Frame<'static> {
    Frame {
        title: "申请单位张贴码",
        body_class: "plain",
        refresh_seconds: None,
        now: None,
    }
}

/// One line of text: trimmed, with inner runs of whitespace made one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The application, or what to fix, in plain words.
fn check(form: &ApplyForm) -> Result<VenueApplication, String> {
    let name = one_line(&form.name);
    let address = one_line(&form.address);
    let contact_name = one_line(&form.contact_name);
    let contact_phone: String = form
        .contact_phone
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let count = name.chars().count();
    if !(2..=MAX_NAME_CHARS).contains(&count) {
        return Err(format!(
            "请填写单位名称（与营业执照或登记证书一致，2 到 {MAX_NAME_CHARS} 个字）。"
        ));
    }
    printable("单位名称", &name)?;
    let uscc = Uscc::parse(&form.uscc).map_err(|e| uscc_problem(&e))?;
    if !uscc.region().starts_with(SHANGHAI_REGION) {
        return Err(format!(
            "本服务只受理在上海市登记的单位：统一社会信用代码第 3、4 位应为 {SHANGHAI_REGION}，\
             您填写的是 {}。在外省市登记的单位，请向登记地申请。",
            uscc.region().get(..2).unwrap_or_default()
        ));
    }
    let count = address.chars().count();
    if !(4..=MAX_ADDRESS_CHARS).contains(&count) {
        return Err(format!(
            "请填写张贴地点的地址（4 到 {MAX_ADDRESS_CHARS} 个字）。"
        ));
    }
    printable("地址", &address)?;
    let count = contact_name.chars().count();
    if !(1..=MAX_CONTACT_CHARS).contains(&count) {
        return Err(format!(
            "请填写联系人姓名（不超过 {MAX_CONTACT_CHARS} 个字）。"
        ));
    }
    let digits = contact_phone.strip_prefix('+').unwrap_or(&contact_phone);
    if !(7..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("请填写联系电话（手机号码或带区号的固定电话，只写数字）。".to_owned());
    }
    Ok(VenueApplication {
        name,
        uscc,
        address,
        contact_name,
        contact_phone,
    })
}

/// Refuses text the poster cannot print, naming the characters.
fn printable(field: &str, text: &str) -> Result<(), String> {
    let missing = unprintable(text);
    if missing.is_empty() {
        Ok(())
    } else {
        let list: Vec<String> = missing.iter().map(|c| format!("“{c}”")).collect();
        Err(format!(
            "{field}中的 {} 无法印在张贴码上。请改用常用字，或联系审核人员。",
            list.join("、")
        ))
    }
}

fn uscc_problem(error: &UsccError) -> String {
    match error {
        UsccError::Length(n) => {
            format!("统一社会信用代码应为 18 位，您填写了 {n} 位。请对照营业执照或登记证书填写。")
        }
        UsccError::Character { position, found } => format!(
            "统一社会信用代码第 {position} 位的“{found}”不对：代码只含数字和大写字母，\
             不含 I、O、S、V、Z。"
        ),
        UsccError::Authority(_) => {
            "统一社会信用代码第 1 位（登记管理部门）不对，请核对。".to_owned()
        }
        UsccError::Region => {
            "统一社会信用代码第 3 到 8 位应为数字（登记机关行政区划码），请核对。".to_owned()
        }
        UsccError::Check { .. } => {
            "统一社会信用代码的校验位（最后一位）与前 17 位不符，可能有一位抄错了，请核对。"
                .to_owned()
        }
    }
}

fn render(form: &ApplyForm, problem: Option<&str>) -> String {
    let problem = problem
        .map(|p| {
            format!(
                "<p class=\"notice notice-error\" role=\"alert\" data-outcome=\"refused\">{}</p>\n",
                esc(p)
            )
        })
        .unwrap_or_default();
    let field = |id: &str, label: &str, value: &str, extra: &str| {
        format!(
            "<label for=\"{id}\">{label}</label>\n\
             <input id=\"{id}\" name=\"{id}\" type=\"text\" value=\"{value}\" required {extra}>\n",
            value = esc(value),
        )
    };
    let body = format!(
        "<main class=\"narrow\">\n<h1>申请单位张贴码</h1>\n\
         <p class=\"lead\">在本市登记的单位，可以申请“单位张贴码”：打印后张贴在单位入口，\
         进出人员用随申办扫码登记，单位可以查看进场记录和健康码颜色。</p>\n{problem}\
         <form class=\"apply\" method=\"post\" action=\"{PATH}\" autocomplete=\"off\">\n\
         {name}{uscc}{address}{contact}{phone}\
         <button type=\"submit\">提交申请</button>\n</form>\n\
         <p class=\"hint\">统一社会信用代码为 18 位，见营业执照或登记证书。\
         提交后由审核人员核实，通过后发给单位令牌。</p>\n\
         <p><a href=\"/\">返回首页</a></p>\n</main>",
        name = field(
            "name",
            "单位名称",
            &form.name,
            &format!("maxlength=\"{MAX_NAME_CHARS}\""),
        ),
        uscc = field(
            "uscc",
            "统一社会信用代码",
            &form.uscc,
            "maxlength=\"24\" spellcheck=\"false\" autocapitalize=\"characters\"",
        ),
        address = field(
            "address",
            "张贴地点的地址",
            &form.address,
            &format!("maxlength=\"{MAX_ADDRESS_CHARS}\""),
        ),
        contact = field(
            "contact_name",
            "联系人",
            &form.contact_name,
            &format!("maxlength=\"{MAX_CONTACT_CHARS}\""),
        ),
        phone = field(
            "contact_phone",
            "联系电话",
            &form.contact_phone,
            "maxlength=\"20\" inputmode=\"tel\"",
        ),
    );
    page(&frame(), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, uscc: &str) -> ApplyForm {
        ApplyForm {
            name: name.into(),
            uscc: uscc.into(),
            address: "上海市黄浦区示例路 100 号".into(),
            contact_name: "李联系".into(),
            contact_phone: "138-0013-8000".into(),
        }
    }

    #[test]
    fn a_good_application_is_cleaned_up() {
        let app = check(&form("  上海市示例  文化中心 ", "91310101ma1fl2x0pl")).unwrap();
        assert_eq!(app.name, "上海市示例 文化中心");
        assert_eq!(app.uscc.as_str(), "91310101MA1FL2X0PL");
        assert_eq!(app.contact_phone, "13800138000");
    }

    #[test]
    fn each_problem_is_said_plainly() {
        let problem = |f: ApplyForm| check(&f).unwrap_err();
        assert!(problem(form("上", "91310101MA1FL2X0PL")).contains("单位名称"));
        assert!(problem(form("上海市示例文化中心", "91310101MA1FL2X0PK")).contains("校验位"));
        assert!(problem(form("上海市示例文化中心", "91310101MA1FL2X0P")).contains("17 位"));
        assert!(problem(form("上海𠮷祥文化中心", "91310101MA1FL2X0PL")).contains("“𠮷”"));
        // Valid, but registered in Fujian (the example of GB 32100-2015).
        let elsewhere = problem(form("上海市示例文化中心", "91350100M000100Y43"));
        assert!(
            elsewhere.contains("上海市登记") && elsewhere.contains("35"),
            "{elsewhere}"
        );
        assert!(check(&form("上海市示例文化中心", "91310115MA1K4A2B3A")).is_ok());
        let mut bad_phone = form("上海市示例文化中心", "91310101MA1FL2X0PL");
        bad_phone.contact_phone = "call me".into();
        assert!(problem(bad_phone).contains("联系电话"));
    }

    #[test]
    fn the_form_keeps_and_escapes_what_was_typed() {
        let html = render(&form("<b>示例</b>", "x"), Some("<oops>"));
        assert!(html.contains("value=\"&lt;b&gt;示例&lt;/b&gt;\""));
        assert!(html.contains("&lt;oops&gt;"));
        assert!(!html.contains("<b>示例"));
    }
}
