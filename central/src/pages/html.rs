//! Writing HTML by hand, safely: the escaping every value from storage or from a request goes
//! through, the page frame every page shares, and the Chinese forms of times and dates.
//!
//! Pages are built as strings. Markup written in this crate is trusted; anything else (names,
//! addresses, error texts from kiosks, the verifier's organisation, form input) is written with
//! [`esc`], which escapes the five characters that matter in text and in quoted attributes.

use std::fmt;

use time::{Date, Duration, OffsetDateTime};

use crate::clock::SHANGHAI;

/// A value written escaped for HTML text and double- or single-quoted attributes.
pub(crate) struct Esc<'a>(&'a str);

/// Escapes `text` for HTML (text content and quoted attribute values).
pub(crate) fn esc(text: &str) -> Esc<'_> {
    Esc(text)
}

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            let (plain, tail) = rest.split_at(at);
            f.write_str(plain)?;
            let mut chars = tail.chars();
            let entity = match chars.next() {
                Some('&') => "&amp;",
                Some('<') => "&lt;",
                Some('>') => "&gt;",
                Some('"') => "&quot;",
                _ => "&#39;",
            };
            f.write_str(entity)?;
            rest = chars.as_str();
        }
        f.write_str(rest)
    }
}

/// What the frame of a page needs besides its body.
pub(crate) struct Frame<'a> {
    /// The `<title>` (escaped here).
    pub(crate) title: &'a str,
    /// The class of `<body>` (a constant of this crate).
    pub(crate) body_class: &'static str,
    /// Reload the page every this many seconds (a live view), if set.
    pub(crate) refresh_seconds: Option<u32>,
    /// The service's clock, for the live clock's starting point (pages with a clock).
    pub(crate) now: Option<OffsetDateTime>,
}

/// A whole page: the frame around `body` (trusted markup). The stylesheet and the script are
/// served by the central itself, so the Content-Security-Policy needs no inline code.
pub(crate) fn page(frame: &Frame<'_>, body: &str) -> String {
    let refresh = frame
        .refresh_seconds
        .map(|s| format!("<meta http-equiv=\"refresh\" content=\"{s}\">\n"))
        .unwrap_or_default();
    let now_ms = frame
        .now
        .map(|now| {
            format!(
                " data-now-ms=\"{}\"",
                now.unix_timestamp_nanos() / 1_000_000
            )
        })
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"same-origin\">\n{refresh}\
         <title>{title}</title>\n\
         <link rel=\"stylesheet\" href=\"{css}\">\n\
         <script src=\"{js}\" defer></script>\n</head>\n\
         <body class=\"{class}\"{now_ms}>\n{body}\n</body>\n</html>\n",
        title = esc(frame.title),
        css = super::assets::CSS_PATH,
        js = super::assets::JS_PATH,
        class = frame.body_class,
    )
}

/// `2026-11-21 10:00:05`, in Shanghai time.
pub(crate) fn date_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(SHANGHAI);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// `10:00:05`, in Shanghai time.
pub(crate) fn clock_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(SHANGHAI);
    format!("{:02}:{:02}:{:02}", at.hour(), at.minute(), at.second())
}

/// `2027年5月19日`.
pub(crate) fn chinese_date(date: Date) -> String {
    format!(
        "{}年{}月{}日",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// How long ago, in plain words: `刚刚`, `3 分钟前`, `2 小时前`, `5 天前`.
pub(crate) fn ago(elapsed: Duration) -> String {
    let seconds = elapsed.whole_seconds();
    if seconds < 60 {
        "刚刚".to_owned()
    } else if seconds < 3600 {
        format!("{} 分钟前", seconds / 60)
    } else if seconds < 86_400 {
        format!("{} 小时前", seconds / 3600)
    } else {
        format!("{} 天前", seconds / 86_400)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn escapes_the_five_characters_and_nothing_else() {
        assert_eq!(
            esc("<script>alert('x') & \"y\"</script>").to_string(),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(esc("王秀英 · 示例单位").to_string(), "王秀英 · 示例单位");
        assert_eq!(esc("").to_string(), "");
        assert_eq!(esc("&&").to_string(), "&amp;&amp;");
    }

    #[test]
    fn times_are_shanghai_times() {
        let at = datetime!(2026-11-21 02:00:05 UTC);
        assert_eq!(date_time(at), "2026-11-21 10:00:05");
        assert_eq!(clock_time(at), "10:00:05");
        assert_eq!(chinese_date(date!(2027 - 05 - 19)), "2027年5月19日");
    }

    #[test]
    fn ages_read_plainly() {
        assert_eq!(ago(Duration::seconds(5)), "刚刚");
        assert_eq!(ago(Duration::minutes(4)), "4 分钟前");
        assert_eq!(ago(Duration::hours(3)), "3 小时前");
        assert_eq!(ago(Duration::days(2)), "2 天前");
        assert_eq!(ago(Duration::seconds(-30)), "刚刚");
    }

    #[test]
    fn the_frame_escapes_the_title_and_loads_no_inline_code() {
        let html = page(
            &Frame {
                title: "<b>",
                body_class: "plain",
                refresh_seconds: Some(15),
                now: Some(datetime!(2026-11-21 10:00 +8)),
            },
            "<p>x</p>",
        );
        assert!(html.contains("<title>&lt;b&gt;</title>"));
        assert!(html.contains("content=\"15\""));
        assert!(html.contains("data-now-ms=\"1795226400000\""));
        assert!(!html.contains("<script>"));
        assert!(!html.contains("style="));
    }
}
