//! The landing-page guide (docs/landing.md) served by the dashboard itself: a self-hosted
//! bridge has no other copy its users can reach. One text, compiled in: the campaign page's
//! lead-form snippet is cut from it too.

use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, PreEscaped};
use pulldown_cmark::{html::push_html, Event, Options, Parser};

use crate::state::AppState;
use crate::ui::session::Session;
use crate::ui::UiError;

const LANDING: &str = include_str!("../../docs/landing.md");

/// The guide's URL, linked from the campaign page.
pub const LANDING_GUIDE_URL: &str = "/ui/guide/landing";

/// The lead form's `<script>` block, as docs/landing.md's "Lead form" section gives it.
pub fn lead_form_snippet() -> &'static str {
    code_block(LANDING, "## Lead form").unwrap_or_default()
}

/// The first fenced block after `marker`, without its fences.
fn code_block<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    let after = &text[text.find(marker)?..];
    let open = after.find("```")?;
    let body = &after[open..];
    let start = body.find('\n')? + 1;
    let len = body[start..].find("```")?;
    Some(body[start..start + len].trim_end())
}

/// Markdown to HTML with any raw HTML in it shown as text: the page may hold no markup (or
/// script, which the CSP would refuse anyway) that the markdown did not mean.
fn render(markdown: &str) -> String {
    let events = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(|e| match e {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut out = String::new();
    push_html(&mut out, events);
    out
}

/// `GET /ui/guide/landing`.
pub async fn landing(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let session = Session::require(&req, &state.pool).await?;
    let body = html! {
        article.card.guide #guide { (PreEscaped(render(LANDING))) }
    };
    Ok(crate::ui::page(&session, "Landing page guide", body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_in_the_markdown_is_shown_as_text() {
        let cases = [
            ("<script>alert(1)</script>\n", "&lt;script&gt;"),
            ("a <b onclick=x>b</b>\n", "&lt;b onclick=x&gt;"),
            ("```html\n<script>x</script>\n```\n", "&lt;script&gt;x"),
            ("# Title\n", "<h1>Title</h1>"),
        ];
        for (md, want) in cases {
            let out = render(md);
            assert!(out.contains(want), "{md:?} -> {out}");
            assert!(!out.contains("<script"), "{md:?} -> {out}");
        }
    }

    #[test]
    fn the_lead_form_snippet_is_the_guides_block() {
        let s = lead_form_snippet();
        assert!(s.starts_with("<script>"), "{s}");
        assert!(s.ends_with("</script>"), "{s}");
        assert!(s.contains("capiBridge.identify(") && s.contains("capiBridge.track('Lead'"));
        assert_eq!(
            code_block("x\n## A\ntext\n```js\nb\n```\n", "## A"),
            Some("b")
        );
        assert_eq!(code_block("## A\nno block", "## A"), None);
        assert_eq!(code_block("nothing", "## A"), None);
    }
}
