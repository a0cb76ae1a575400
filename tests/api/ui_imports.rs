//! The dashboard's import page: upload through the form, a progress bar, per-line errors; behind
//! the session and the CSRF token.

use std::time::Duration;

use reqwest::header::LOCATION;
use reqwest::{Response, StatusCode};

use crate::helpers::imports::{mixed_file, multipart, seed, BOUNDARY};
use crate::helpers::ui::{csrf_of, get_page, sign_in};
use crate::helpers::*;

/// POSTs the dashboard's multipart import form with the session `cookie`.
async fn upload(app: &TestApp, cookie: &str, body: String) -> Response {
    app.client
        .post(app.url("/ui/imports"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("cookie", cookie)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn page_text(app: &TestApp, path: &str, cookie: &str) -> String {
    let resp = get_page(app, path, cookie).await;
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    resp.text().await.unwrap()
}

#[tokio::test]
async fn an_upload_through_the_form_reaches_100_percent_and_lists_the_bad_lines() {
    let app = spawn_app().await;
    seed(&app).await;
    let cookie = sign_in(&app).await;
    let form = page_text(&app, "/ui/imports", &cookie).await;
    for part in [
        r#"<form class="card" method="post" action="/ui/imports" enctype="multipart/form-data">"#,
        r#"<label for="file">"#,
        r#"<input id="file" type="file" name="file" accept=".csv,text/csv" required>"#,
        r#"<button type="submit">Import</button>"#,
        "No imports yet.",
    ] {
        assert!(form.contains(part), "{part} in {form}");
    }
    // The token comes before the file in the form, as the server requires.
    assert!(form.find(r#"name="csrf""#) < form.find(r#"name="file""#));
    let csrf = csrf_of(&form);

    let resp = upload(&app, &cookie, multipart(&[("csrf", &csrf)], &mixed_file())).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let location = resp.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.starts_with("/ui/imports/"), "{location}");

    let done = wait_for(
        "the import page to say done",
        Duration::from_secs(20),
        || async {
            let page = page_text(&app, &location, &cookie).await;
            if page.contains(r#"<p class="big">done</p>"#) {
                Ok(page)
            } else {
                Err(page)
            }
        },
    )
    .await;
    assert!(
        done.contains(r#"<progress id="import-progress" value="10" max="10">"#),
        "{done}"
    );
    assert!(done.contains("100% · 10 of 10 rows"), "{done}");
    assert!(
        !done.contains("http-equiv=\"refresh\""),
        "a finished import stays put"
    );
    let errors = &done[done
        .find(r#"<table id="import-errors">"#)
        .expect("an errors table")..];
    let errors = &errors[..errors.find("</table>").unwrap()];
    assert!(!errors.contains(r#"<td class="num">7</td>"#), "{errors}");
    // Line 10's reason names its column, and the column's value (not personal data).
    let line_10 = &errors[errors.find(r#"<td class="num">10</td>"#).unwrap()..];
    assert!(
        line_10.starts_with(
            r#"<td class="num">10</td><td><code>event_time</code></td><td><code class="raw">"#
        ),
        "{errors}"
    );
    assert!(line_10.contains("</td><td>event_time is older"), "{errors}");
    assert!(done.contains(r#"<th scope="row">accepted (event queued)</th><td class="num">4</td>"#));
    // Line 7's payout was unreadable: the row is recorded, the field listed as dropped.
    let dropped = &done[done
        .find(r#"<table id="import-dropped">"#)
        .expect("a dropped-fields table")..];
    assert!(
        dropped.contains(r#"<td class="num">7</td><td><code>payout</code></td><td>"#),
        "{dropped}"
    );

    // While running, the page reloads itself every second.
    let id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
    sqlx::query("UPDATE imports SET state = 'running', rows_done = 4 WHERE id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    let running = page_text(&app, &location, &cookie).await;
    assert!(
        running.contains(r#"<meta http-equiv="refresh" content="1">"#),
        "{running}"
    );
    assert!(running.contains("40% · 4 of 10 rows"), "{running}");

    let list = page_text(&app, "/ui/imports", &cookie).await;
    assert!(
        list.contains(&format!(r#"<a href="{location}">"#)),
        "{list}"
    );
    assert!(
        list.contains(r#"<td class="num" data-label="Rows">4 / 10</td>"#),
        "{list}"
    );
}

/// A body that is not a form has no CSRF token (ui_guard.rs walks the form cases).
#[tokio::test]
async fn a_csv_body_without_a_form_is_refused() {
    let app = spawn_app().await;
    let cookie = sign_in(&app).await;
    let resp = app
        .client
        .post(app.url("/ui/imports"))
        .header("cookie", &cookie)
        .header("content-type", "text/csv")
        .body("click_id,status\nc1,sale\n")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM imports")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn bad_uploads_get_a_page_with_the_reason() {
    let app = spawn_app().await;
    let cookie = sign_in(&app).await;
    let csrf = csrf_of(&page_text(&app, "/ui/imports", &cookie).await);
    let no_file = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{BOUNDARY}--\r\n"
    );
    let cases = [
        (multipart(&[("csrf", &csrf)], ""), 400, "the file is empty"),
        (
            multipart(&[("csrf", &csrf)], "sub_id,status\nc1,sale\n"),
            422,
            "must name the columns click_id and status (missing: click_id)",
        ),
        (no_file, 400, "the form has no file part"),
    ];
    for (body, status, reason) in cases {
        let resp = upload(&app, &cookie, body).await;
        assert_eq!(resp.status().as_u16(), status, "{reason}");
        let page = resp.text().await.unwrap();
        assert!(page.contains(reason), "{reason} in {page}");
        assert!(page.contains(r#"role="alert""#));
        assert!(page.contains(r#"name="file""#), "the form again");
    }
    let resp = get_page(&app, "/ui/imports/424242", &cookie).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = get_page(&app, "/ui/imports/x", &cookie).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn in_a_browser_an_import_reaches_100_percent_with_its_bad_lines() {
    let Some(b) = crate::browser::Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    seed(&app).await;
    let mut file = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    std::io::Write::write_all(&mut file, mixed_file().as_bytes()).unwrap();

    crate::helpers::browser_ui::sign_in(&b, &app, ADMIN_TOKEN).await;
    b.goto(&app.url("/ui/imports")).await;
    b.type_into("#file", file.path().to_str().unwrap()).await;
    b.click_to_next_page("form[enctype] button[type=submit]")
        .await;
    let page = b.url().await;
    assert!(page.contains("/ui/imports/"), "{page}");

    // Poll by loading the page again (it also reloads itself while running).
    wait_for(
        "the import page to say done",
        Duration::from_secs(20),
        || async {
            b.goto(&page).await;
            let text = b.text().await;
            if text.contains("100% · 10 of 10 rows") {
                Ok(())
            } else {
                Err(text)
            }
        },
    )
    .await;
    let progress = b
        .eval("const p = document.getElementById('import-progress'); return [p.value, p.max];")
        .await;
    assert_eq!(progress, serde_json::json!([10, 10]));
    let errors = b
        .eval("return document.getElementById('import-errors').innerText;")
        .await;
    let errors = errors.as_str().unwrap();
    assert!(!errors.contains("payout"), "{errors}");
    let dropped = b
        .eval("return document.getElementById('import-dropped').innerText;")
        .await;
    assert!(
        dropped.as_str().unwrap().contains("7\tpayout\t"),
        "{dropped}"
    );
    // Line, column, the column's value (not personal data), reason.
    let line_10 = &errors[errors.find("\n10\t").expect("line 10")..];
    assert!(line_10.starts_with("\n10\tevent_time\t"), "{errors}");
    assert!(
        line_10.contains("\tevent_time is older than Meta accepts"),
        "{errors}"
    );
}
