//! TikTok's identifiers on clicks (`ttclid`, `_ttp`, the TikTok pixel's event ids) and\nTikTok's own phone digest, computed on arrival next to Meta's.

use crate::helpers::tiktok_capture::*;
use crate::helpers::*;
use serde_json::{json, Value};

#[tokio::test]
async fn a_click_keeps_tiktoks_ids_and_both_phone_digests() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app
        .register_click_public(json!({
            "campaign": "offer1", "click_id": "tt-1",
            "ttclid": TTCLID, "ttp": TTP,
            "tiktok_event_ids": {"CompletePayment": "tt-ev-1", "SubmitForm": "tt-ev-2"},
            "event_ids": {"Purchase": "fb-ev-1"},
            "ph": "+1 (650) 555-1212"
        }))
        .await;
    assert_eq!(resp.status(), 201);
    let mut body: Value = resp.json().await.unwrap();
    assert!(body.get("ignored").is_none(), "{body}");
    let token = take_update_token(&mut body);

    let view = app.admin_get("/admin/v1/clicks/tt-1").await;
    assert_eq!(view["ttclid"], TTCLID);
    assert_eq!(view["ttp"], TTP);
    assert_eq!(
        view["tiktok_event_ids"],
        json!({"CompletePayment": "tt-ev-1", "SubmitForm": "tt-ev-2"})
    );
    // Meta's event ids are Meta's alone.
    assert_eq!(view["event_ids"], json!({"Purchase": "fb-ev-1"}));
    assert_eq!(view["user_data_hashes"], json!({"ph": META_PH}));
    assert_eq!(view["tiktok_user_data_hashes"], json!({"ph": TIKTOK_PH}));
    assert_eq!(
        column(&app, "clicks", "tt-1", "tiktok_ph").await.as_deref(),
        Some(TIKTOK_PH)
    );

    // A later registration fills what is missing and never replaces what is stored.
    let resp = app
        .register_click_with_token(
            json!({
                "campaign": "offer1", "click_id": "tt-1",
                "ttclid": "other", "ttp": "other",
                "tiktok_event_ids": {"CompletePayment": "tt-ev-9", "ViewContent": "tt-ev-3"},
                "ph": "+44 20 7946 0958"
            }),
            &token,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let view = app.admin_get("/admin/v1/clicks/tt-1").await;
    assert_eq!(view["ttclid"], TTCLID);
    assert_eq!(view["ttp"], TTP);
    assert_eq!(
        view["tiktok_event_ids"],
        json!({"CompletePayment": "tt-ev-1", "SubmitForm": "tt-ev-2", "ViewContent": "tt-ev-3"})
    );
    assert_eq!(view["tiktok_user_data_hashes"], json!({"ph": TIKTOK_PH}));
}

#[tokio::test]
async fn an_image_pixel_click_carries_tiktoks_fields_as_query_parameters() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app
        .client
        .get(app.url(&format!(
            "/v1/clicks?campaign=offer1&click_id=tt-get&ttclid={}&ttp={TTP}\
             &tiktok_event_ids%5BSubmitForm%5D=tt-ev-5&ph={}",
            urlencode(TTCLID),
            urlencode("16505551212")
        )))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);

    let view = app.admin_get("/admin/v1/clicks/tt-get").await;
    assert_eq!(view["ttclid"], TTCLID);
    assert_eq!(view["ttp"], TTP);
    assert_eq!(view["tiktok_event_ids"], json!({"SubmitForm": "tt-ev-5"}));
    assert_eq!(view["user_data_hashes"], json!({"ph": META_PH}));
    assert_eq!(view["tiktok_user_data_hashes"], json!({"ph": TIKTOK_PH}));
}

#[tokio::test]
async fn tiktok_fields_are_kept_as_given_or_dropped_by_name_and_the_click_stored() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    // Opaque ids are kept byte for byte (a control character removed, and reported)...
    for (i, (field, value, kept)) in [
        ("ttclid", "has space", "has space"),
        ("ttclid", "tt\u{e9}", "tt\u{e9}"),
        ("ttp", "a\tb", "ab"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("tt-keep-{i}");
        let resp = app
            .register_click(json!({"campaign": "offer1", "click_id": id, field: value}))
            .await;
        assert_eq!(resp.status(), 201, "{field} {value}");
        assert_eq!(
            column(&app, "clicks", &id, field).await.as_deref(),
            Some(kept)
        );
    }
    // ...and malformed event ids dropped by name, from a browser or a server alike.
    let cases = [
        json!({"CompletePayment": "with space"}),
        json!({"": "x"}),
        json!({"Bad/Name": "x"}),
    ];
    for (i, value) in cases.into_iter().enumerate() {
        for public in [true, false] {
            let body = json!({"campaign": "offer1", "click_id": format!("tt-bad-{i}"),
                              "tiktok_event_ids": value.clone()});
            let resp = if public {
                app.register_click_public(body).await
            } else {
                app.register_click(body).await
            };
            assert!(resp.status().is_success(), "{value}");
            let body: Value = resp.json().await.unwrap();
            assert_eq!(
                body["dropped"][0]["field"], "tiktok_event_ids",
                "{value}: {body}"
            );
        }
    }
    // A wrong type is the body's error, not a stored click.
    let resp = app
        .register_click(json!({"campaign": "offer1", "click_id": "tt-type", "ttclid": 5}))
        .await;
    assert_problem(resp, 400, "invalid_body").await;
    assert_eq!(clicks_stored(&app).await, 6);
}

#[tokio::test]
async fn a_browsers_oversize_tiktok_values_are_dropped_and_named() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;

    let resp = app
        .register_click_public(json!({
            "campaign": "offer1", "click_id": "tt-big",
            "ttclid": "a".repeat(513), "ttp": TTP,
            "tiktok_event_ids": {"SubmitForm": "x".repeat(101)}
        }))
        .await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["ignored"], json!(["tiktok_event_ids", "ttclid"]));
    let view = app.admin_get("/admin/v1/clicks/tt-big").await;
    assert_eq!(view["ttclid"], Value::Null);
    assert_eq!(view["ttp"], TTP);
    assert_eq!(view["tiktok_event_ids"], json!({}));

    // From a server-side caller the same: dropped and reported, the click kept.
    let resp = app
        .register_click(json!({
            "campaign": "offer1", "click_id": "tt-big2", "ttclid": "a".repeat(513)
        }))
        .await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["dropped"][0]["field"], "ttclid", "{body}");
}

#[tokio::test]
async fn a_pre_hashed_phone_gets_no_tiktok_digest() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let resp = app
        .register_click(json!({"campaign": "offer1", "click_id": "tt-pre", "ph": META_PH}))
        .await;
    assert_eq!(resp.status(), 201);
    let view = app.admin_get("/admin/v1/clicks/tt-pre").await;
    assert_eq!(view["user_data_hashes"], json!({"ph": META_PH}));
    assert_eq!(view["tiktok_user_data_hashes"], json!({}));
}

#[tokio::test]
async fn a_phone_hashed_in_the_browser_brings_tiktoks_digest_with_it() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    let click = |id: &str, extra: Value| {
        let mut body = json!({"campaign": "offer1", "click_id": id});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let upper = TIKTOK_PH.to_ascii_uppercase();
    let resp = app
        .register_click_public(click("tt-h1", json!({"ph": META_PH, "tiktok_ph": upper})))
        .await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert!(body.get("ignored").is_none(), "{body}");
    let view = app.admin_get("/admin/v1/clicks/tt-h1").await;
    assert_eq!(view["user_data_hashes"], json!({"ph": META_PH}));
    assert_eq!(view["tiktok_user_data_hashes"], json!({"ph": TIKTOK_PH}));

    // A raw phone's own digest stands: the same one is welcome, another is dropped and named.
    let other = "9f7ec22d72092cd3c0b58726ed9c2d91b92e51a3f29837508fb2948bb22dd2fd";
    for (id, given, ignored) in [
        ("tt-h2", TIKTOK_PH, None),
        ("tt-h3", other, Some("tiktok_ph")),
    ] {
        let resp = app
            .register_click_public(click(
                id,
                json!({"ph": "+1 (650) 555-1212", "tiktok_ph": given}),
            ))
            .await;
        assert_eq!(resp.status(), 201);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["ignored"], json!(ignored.map(|i| [i])), "{id}");
        assert_eq!(
            column(&app, "clicks", id, "tiktok_ph").await.as_deref(),
            Some(TIKTOK_PH)
        );
    }

    // Without a phone it describes nothing we hold: a browser's is dropped and named.
    let resp = app
        .register_click_public(click("tt-h4", json!({"tiktok_ph": TIKTOK_PH})))
        .await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["ignored"], json!(["tiktok_ph"]));
    assert_eq!(column(&app, "clicks", "tt-h4", "tiktok_ph").await, None);

    // A server-side caller's is dropped the same way, and anyone's value that is not a digest.
    let resp = app
        .register_click(click("tt-h5", json!({"tiktok_ph": TIKTOK_PH})))
        .await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["dropped"][0]["field"], "tiktok_ph", "{body}");
    for raw in ["+16505551212", &TIKTOK_PH[1..]] {
        let resp = app
            .register_click_public(click("tt-h6", json!({"ph": META_PH, "tiktok_ph": raw})))
            .await;
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["ignored"], json!(["tiktok_ph"]), "{body}");
        assert!(body["dropped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("SHA-256"));
    }
    assert_eq!(column(&app, "clicks", "tt-h5", "tiktok_ph").await, None);
    assert_eq!(column(&app, "clicks", "tt-h6", "tiktok_ph").await, None);
}

#[tokio::test]
async fn the_click_answer_gives_each_pixel_its_event_ids() {
    let app = spawn_app().await;
    let tiktok = json!({"pixel_code": "C4TIKTOK0123", "access_token": "tt-secret-token-1",
                        "event_map": {"lead": "SubmitForm", "sale": "Purchase"}});
    let template = "{campaign}:{event_name}:{click_id}";
    app.create_campaign(
        "both",
        json!({"event_id_template": template, "tiktok": tiktok}),
    )
    .await;
    app.create_campaign("meta", json!({})).await;
    app.create_campaign(
        "ttonly",
        json!({"pixel_id": null, "access_token": null, "tiktok": tiktok}),
    )
    .await;

    let register = |campaign: &str, click_id: &str, tiktok_ids: Value| {
        app.register_click_public(json!({"campaign": campaign, "click_id": click_id,
                                         "tiktok_event_ids": tiktok_ids}))
    };
    let resp = register("both", "tt-a1", json!({"SubmitForm": "tt-form-1"})).await;
    assert_eq!(resp.status(), 201);
    let mut first: Value = resp.json().await.unwrap();
    let token = take_update_token(&mut first);
    assert_eq!(
        first,
        json!({"click_id": "tt-a1",
               "event_ids": {"Lead": "both:Lead:tt-a1", "Purchase": "both:Purchase:tt-a1"},
               "tiktok_event_ids": {"SubmitForm": "tt-form-1", "Purchase": "both:Purchase:tt-a1"}})
    );
    // The first registration of an event wins, as it does for Meta's.
    let resp = app
        .register_click_with_token(
            json!({"campaign": "both", "click_id": "tt-a1",
                   "tiktok_event_ids": {"SubmitForm": "tt-form-2"}}),
            &token,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let mut again = resp.json::<Value>().await.unwrap();
    assert_eq!(take_update_token(&mut again), token);
    assert_eq!(again, first);

    // Without TikTok the answer is what it always was; without Meta it has no Meta ids.
    let mut answer = register("meta", "tt-a2", json!({}))
        .await
        .json()
        .await
        .unwrap();
    take_update_token(&mut answer);
    assert_eq!(
        answer,
        json!({"click_id": "tt-a2", "event_ids": {"Lead": "Lead-tt-a2", "Purchase": "Purchase-tt-a2"}})
    );
    let mut answer = register("ttonly", "tt-a3", json!({}))
        .await
        .json()
        .await
        .unwrap();
    take_update_token(&mut answer);
    assert_eq!(
        answer,
        json!({"click_id": "tt-a3", "event_ids": {},
               "tiktok_event_ids": {"SubmitForm": "SubmitForm-tt-a3", "Purchase": "Purchase-tt-a3"}})
    );
}
