//! Every `/ui` route, in one table: registration reads it, and so does the test that proves the
//! guard refuses each signed-in route without a live session or a good CSRF token.

use actix_web::middleware::from_fn;
use actix_web::{web, Route};

use super::{
    alerts, campaigns, clicks, conversions, guard, guide, import_rows, imports, pages, see_other,
};

/// The dashboard's methods: pages are read with GET, everything that changes state is a POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
}

/// Who may call a route: the sign-in page and the assets are public, the rest is behind the
/// guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    SignedIn,
}

pub struct UiRoute {
    pub verb: Verb,
    pub path: &'static str,
    pub access: Access,
    handler: fn(Route) -> Route,
}

const fn public(verb: Verb, path: &'static str, handler: fn(Route) -> Route) -> UiRoute {
    UiRoute {
        verb,
        path,
        access: Access::Public,
        handler,
    }
}

const fn signed_in(verb: Verb, path: &'static str, handler: fn(Route) -> Route) -> UiRoute {
    UiRoute {
        verb,
        path,
        access: Access::SignedIn,
        handler,
    }
}

use Verb::{Get, Post};

/// Fixed paths before patterns that would take them (`{id}` would take "refused").
pub const ROUTES: &[UiRoute] = &[
    public(Get, "/ui", |r| r.to(|| async { see_other("/ui/") })),
    public(Get, "/ui/login", |r| r.to(pages::login_form)),
    public(Post, "/ui/login", |r| r.to(pages::sign_in)),
    public(Get, "/ui/app.css", |r| r.to(super::stylesheet)),
    public(Get, "/ui/app.js", |r| r.to(super::script)),
    signed_in(Get, "/ui/", |r| r.to(pages::overview)),
    signed_in(Post, "/ui/logout", |r| r.to(pages::sign_out)),
    signed_in(Post, "/ui/logout-everywhere", |r| {
        r.to(pages::sign_out_everywhere)
    }),
    signed_in(Get, guide::LANDING_GUIDE_URL, |r| r.to(guide::landing)),
    signed_in(Get, "/ui/campaigns", |r| r.to(campaigns::list)),
    signed_in(Post, "/ui/campaigns", |r| r.to(campaigns::create)),
    signed_in(Get, "/ui/campaigns/new", |r| r.to(campaigns::new_form)),
    signed_in(Get, "/ui/campaigns/{key}", |r| r.to(campaigns::show)),
    signed_in(Get, "/ui/campaigns/{key}/edit", |r| {
        r.to(campaigns::edit_form)
    }),
    signed_in(Post, "/ui/campaigns/{key}/edit", |r| {
        r.to(campaigns::update)
    }),
    signed_in(Post, "/ui/campaigns/{key}/enabled", |r| {
        r.to(campaigns::set_enabled)
    }),
    signed_in(Get, "/ui/campaigns/{key}/disable", |r| {
        r.to(campaigns::disable::confirm_disable)
    }),
    signed_in(Post, "/ui/campaigns/{key}/retry-failed", |r| {
        r.to(campaigns::retry_failed)
    }),
    signed_in(Post, "/ui/campaigns/{key}/test-event", |r| {
        r.to(campaigns::send_test_event)
    }),
    signed_in(Post, "/ui/campaigns/{key}/meta-quality/refresh", |r| {
        r.to(campaigns::meta_quality::refresh)
    }),
    signed_in(Get, "/ui/conversions", |r| r.to(conversions::list::list)),
    signed_in(Get, "/ui/conversions/refused", |r| {
        r.to(conversions::list::refused)
    }),
    signed_in(Get, conversions::filter::EXPORT_PATH, |r| {
        r.to(conversions::list::export_csv)
    }),
    signed_in(Post, "/ui/conversions/retry-failed", |r| {
        r.to(conversions::retry::retry_failed)
    }),
    signed_in(Get, "/ui/conversions/{id}", |r| {
        r.to(conversions::detail::show)
    }),
    signed_in(Post, "/ui/conversions/{id}/retry", |r| {
        r.to(conversions::retry::retry)
    }),
    signed_in(Get, "/ui/clicks", |r| r.to(clicks::lookup)),
    signed_in(Get, "/ui/clicks/erase", |r| r.to(clicks::confirm_erase)),
    signed_in(Post, "/ui/clicks/erase", |r| r.to(clicks::erase)),
    signed_in(Get, "/ui/imports", |r| r.to(imports::list)),
    signed_in(Post, "/ui/imports", |r| r.to(imports::upload)),
    signed_in(Get, "/ui/imports/{id}", |r| r.to(imports::show)),
    signed_in(Get, "/ui/imports/{id}/bad-lines.csv", |r| {
        r.to(import_rows::bad_lines_csv)
    }),
    signed_in(Get, "/ui/alerts", |r| r.to(alerts::show)),
    signed_in(Post, "/ui/alerts/test", |r| r.to(alerts::send_test)),
];

/// The public routes, then one scope behind the guard. Routes of one path share a resource, so
/// another method is still a 405.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for resource in resources(Access::Public, "") {
        cfg.service(resource);
    }
    // Typed forms get the app's body limit, not the extractor's smaller default.
    let mut scope = web::scope("/ui")
        .wrap(from_fn(guard::guard))
        .app_data(web::FormConfig::default().limit(crate::http::BODY_LIMIT));
    for resource in resources(Access::SignedIn, "/ui") {
        scope = scope.service(resource);
    }
    cfg.service(scope);
}

fn resources(access: Access, prefix: &str) -> Vec<actix_web::Resource> {
    let mut paths: Vec<&str> = Vec::new();
    for r in ROUTES.iter().filter(|r| r.access == access) {
        if !paths.contains(&r.path) {
            paths.push(r.path);
        }
    }
    paths
        .into_iter()
        .map(|path| {
            let inner = path.strip_prefix(prefix).unwrap_or(path);
            ROUTES
                .iter()
                .filter(|r| r.access == access && r.path == path)
                .fold(web::resource(inner), |res, r| {
                    let method = match r.verb {
                        Get => web::get(),
                        Post => web::post(),
                    };
                    res.route((r.handler)(method))
                })
        })
        .collect()
}
