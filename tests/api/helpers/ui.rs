//! The dashboard as a browser without JavaScript uses it: sign-in, pages, the CSRF token of a
//! page's forms, and form posts.

use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};

use super::{urlencode, TestApp, ADMIN_TOKEN};

pub const FORM: &str = "application/x-www-form-urlencoded";

/// POST /ui/login with `token`.
pub async fn sign_in_with(app: &TestApp, token: &str) -> Response {
    app.client
        .post(app.url("/ui/login"))
        .header("content-type", FORM)
        .body(format!("token={token}"))
        .send()
        .await
        .expect("sign-in request")
}

/// Signs in with the admin token; returns the `Cookie` header to send back.
pub async fn sign_in(app: &TestApp) -> String {
    session_cookie(&sign_in_with(app, ADMIN_TOKEN).await)
}

/// The `Cookie` header a successful sign-in answer sets.
pub fn session_cookie(resp: &Response) -> String {
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/ui/");
    let set = resp.headers()[SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

pub async fn get_page(app: &TestApp, path: &str, cookie: &str) -> Response {
    app.client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .expect("page request")
}

/// A page's status and text.
pub async fn text_of(app: &TestApp, path: &str, cookie: &str) -> (StatusCode, String) {
    let resp = get_page(app, path, cookie).await;
    let status = resp.status();
    (status, resp.text().await.unwrap())
}

/// Signs in and reads the CSRF token from the new-campaign form, as a browser would: the
/// cookie and the token.
pub async fn session(app: &TestApp) -> (String, String) {
    let cookie = sign_in(app).await;
    let resp = get_page(app, "/ui/campaigns/new", &cookie).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let page = resp.text().await.unwrap();
    (cookie, csrf_of(&page))
}

/// The token of a fresh session's pages.
pub async fn csrf(app: &TestApp, cookie: &str) -> String {
    csrf_of(&get_page(app, "/ui/", cookie).await.text().await.unwrap())
}

/// The CSRF token of a signed-in page: the value of its first `<input name="csrf">` (every form
/// of a page carries the same one), read from the tag's attributes in any order or quoting.
pub fn csrf_of(page: &str) -> String {
    let mut rest = page;
    while let Some(at) = rest.find("<input") {
        let tag = &rest[at + "<input".len()..];
        let (attributes, after) = tag_attributes(tag);
        if attributes.iter().any(|(k, v)| k == "name" && v == "csrf") {
            let value = attributes.iter().find(|(k, _)| k == "value");
            return value.expect("the csrf field has a value").1.clone();
        }
        rest = after;
    }
    panic!("no csrf field in {page}")
}

/// The attributes of a tag whose name was just read, (lower-cased name, unescaped value), and
/// the text after the tag.
fn tag_attributes(tag: &str) -> (Vec<(String, String)>, &str) {
    let mut attributes = Vec::new();
    let mut s = tag;
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return (attributes, s);
        }
        if let Some(after) = s.strip_prefix("/>").or_else(|| s.strip_prefix('>')) {
            return (attributes, after);
        }
        let name_end = s
            .find(|c: char| c.is_whitespace() || c == '=' || c == '>' || c == '/')
            .unwrap_or(s.len())
            .max(1);
        let name = s[..name_end].to_ascii_lowercase();
        s = s[name_end..].trim_start();
        let Some(after_eq) = s.strip_prefix('=') else {
            attributes.push((name, String::new()));
            continue;
        };
        let after_eq = after_eq.trim_start();
        let (raw, after) = match after_eq.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let inner = &after_eq[1..];
                let end = inner.find(q).expect("a closed attribute value");
                (&inner[..end], &inner[end + 1..])
            }
            _ => {
                let end = after_eq
                    .find(|c: char| c.is_whitespace() || c == '>')
                    .unwrap_or(after_eq.len());
                (&after_eq[..end], &after_eq[end..])
            }
        };
        attributes.push((name, unescape(raw)));
        s = after;
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// POSTs a form's `fields` to `path` as a same-origin browser would.
pub async fn post_form(
    app: &TestApp,
    path: &str,
    cookie: &str,
    fields: &[(&str, &str)],
) -> Response {
    post_form_body(app, path, cookie, &body_of(fields)).await
}

/// A form's fields, urlencoded as a browser sends them.
pub fn body_of(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// [`post_form`] with a body already encoded (a test of what the server makes of it).
pub async fn post_form_body(app: &TestApp, path: &str, cookie: &str, body: &str) -> Response {
    app.client
        .post(app.url(path))
        .header("cookie", cookie)
        .header("origin", &app.address)
        .header("content-type", FORM)
        .body(body.to_owned())
        .send()
        .await
        .expect("form request")
}

/// The click ids in the rows of the conversions table, top to bottom.
pub fn listed(page: &str) -> Vec<String> {
    let start = page
        .find(r#"<table class="list" id="conversions">"#)
        .unwrap_or_else(|| panic!("no conversions table in {page}"));
    let table = &page[start..start + page[start..].find("</table>").unwrap()];
    table
        .split("<tr>")
        .skip(2) // before the header row, the header row
        .filter_map(|row| {
            let s = row.find("<code>")? + 6;
            Some(row[s..s + row[s..].find("</code>")?].to_owned())
        })
        .collect()
}

/// The `<tr>` of the dashboard's conversions table that lists `click_id`.
pub fn row_of<'a>(page: &'a str, click_id: &str) -> &'a str {
    let at = page
        .find(&format!("<code>{click_id}</code>"))
        .unwrap_or_else(|| panic!("{click_id} not listed in {page}"));
    let row = &page[page[..at].rfind("<tr>").unwrap()..];
    &row[..row.find("</tr>").unwrap()]
}
