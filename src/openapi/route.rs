//! Routes that are their own documentation: `op!(module::handler)` takes the path and the
//! methods from the handler's `#[utoipa::path]`, so a route cannot exist undocumented, and the
//! resource built from it feeds the document through `utoipa-actix-web`.

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, Resource, Responder, Route};
use utoipa::openapi::path::{HttpMethod, Paths};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa_actix_web::OpenApiFactory;

type Schemas = Vec<(String, RefOr<Schema>)>;

/// One documented handler: its routes and its part of the document.
pub struct Op {
    path: String,
    routes: Vec<Route>,
    paths: Paths,
    schemas: Schemas,
}

impl Op {
    /// `P` is the handler's `#[utoipa::path]`; use [`op!`], which names both from one path.
    pub fn new<P, F, Args>(handler: F) -> Op
    where
        P: utoipa::Path + utoipa::__dev::SchemaReferences + for<'t> utoipa::__dev::Tags<'t>,
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let path = P::path();
        let methods = P::methods();
        let mut operation = P::operation();
        let tags = P::tags();
        if !tags.is_empty() {
            let all = operation.tags.get_or_insert_with(Vec::new);
            all.extend(tags.into_iter().map(str::to_owned));
        }
        let routes = methods
            .iter()
            .map(|m| web::method(method_of(m)).to(handler.clone()))
            .collect();
        let mut paths = Paths::new();
        paths.add_path_operation(&path, methods, operation);
        let mut schemas = Vec::new();
        P::schemas(&mut schemas);
        Op {
            path,
            routes,
            paths,
            schemas,
        }
    }
}

/// A documented operation: the handler and its `#[utoipa::path]`, named once.
macro_rules! op {
    ($module:ident :: $handler:ident) => {
        paste::paste! {
            $crate::openapi::route::Op::new::<$module::[<__path_ $handler>], _, _>($module::$handler)
        }
    };
}
pub(crate) use op;

fn method_of(m: &HttpMethod) -> Method {
    match m {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

/// A resource whose every route is a documented operation, as one resource so that a method it
/// does not take is a 405 with `Allow`, not a 404.
pub struct Documented<R> {
    factory: R,
    paths: Paths,
    schemas: Schemas,
}

/// The resource of these operations, which must share one path.
pub fn resource(ops: impl IntoIterator<Item = Op>) -> Documented<Resource> {
    resource_with(ops, |r| r)
}

/// As [`resource`], with the resource changed by `build` (a middleware such as CORS).
pub fn resource_with<R: HttpServiceFactory>(
    ops: impl IntoIterator<Item = Op>,
    build: impl FnOnce(Resource) -> R,
) -> Documented<R> {
    let mut path: Option<String> = None;
    let mut routes = Vec::new();
    let mut paths = Paths::new();
    let mut schemas = Vec::new();
    for op in ops {
        match &path {
            Some(p) => assert_eq!(p, &op.path, "one resource, one path"),
            None => path = Some(op.path.clone()),
        }
        routes.extend(op.routes);
        paths.merge(op.paths);
        schemas.extend(op.schemas);
    }
    let path = path.expect("a resource has at least one operation");
    let resource = routes
        .into_iter()
        .fold(web::resource(path), |r, route| r.route(route));
    Documented {
        factory: build(resource),
        paths,
        schemas,
    }
}

impl<R: HttpServiceFactory> HttpServiceFactory for Documented<R> {
    fn register(self, config: &mut AppService) {
        self.factory.register(config)
    }
}

impl<R> OpenApiFactory for Documented<R> {
    fn paths(&self) -> Paths {
        self.paths.clone()
    }

    fn schemas(&self, schemas: &mut Schemas) {
        schemas.extend(self.schemas.iter().cloned());
    }
}
