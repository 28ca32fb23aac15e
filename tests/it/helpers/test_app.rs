//! `TestApp`: the real router on a fresh database, driven in-process like a
//! browser would: it keeps cookies, follows the page's CSRF token, and comes from
//! a client address of the test's choosing.

use super::TestDatabase;
use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{HeaderMap, Method, Request, StatusCode, header},
};
use http_body_util::BodyExt as _;
use std::{
    collections::BTreeMap,
    net::{IpAddr, Ipv4Addr, SocketAddr},
};
use tessera::{
    auth::model::{NewUser, Role, User},
    clock::Clock,
    config::Config,
    db::Db,
    state::AppState,
    tenants::{self, Tenant},
};
use tower::ServiceExt as _;

/// The password of every user the helpers create.
pub const PASSWORD: &str = "correct-horse-battery";

pub struct TestApp {
    pub db: Db,
    pub database: TestDatabase,
    pub clock: Clock,
    pub state: AppState,
    router: Router,
    cookies: BTreeMap<String, String>,
    /// The CSRF token of the last page that had a form.
    csrf_token: Option<String>,
    pub client_ip: IpAddr,
}

/// A tenant with one user per role.
pub struct TestTenant {
    pub tenant: Tenant,
    pub admin: User,
    pub agent: User,
    pub customer: User,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    #[track_caller]
    pub fn assert_redirect_to(&self, path: &str) {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "body: {}", self.body);
        assert_eq!(self.location(), Some(path));
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_config(Config::defaults()).await
    }

    /// A test app whose configuration layers `figment` values over the defaults.
    pub async fn with_config(figment: figment::Figment) -> Self {
        Self::on(TestDatabase::create().await, figment).await
    }

    /// A test app on `database`, which is migrated.
    pub async fn on(database: TestDatabase, figment: figment::Figment) -> Self {
        let config = Config::from_figment(figment).expect("test configuration is valid");
        let db = Db::connect(&database.url.clone().into(), 5)
            .await
            .expect("connecting to the test database");
        let clock = Clock::fixed(time::macros::datetime!(2026-03-02 09:00 UTC));
        let state = AppState::new(
            db.clone(),
            config,
            clock.clone(),
            tessera::auth::tokens::random_token().into(),
        );
        Self {
            router: tessera::web::router(state.clone()),
            db,
            database,
            clock,
            state,
            cookies: BTreeMap::new(),
            csrf_token: None,
            client_ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
        }
    }

    /// Serves `extra` tenant routes beside the application's, with the same layers.
    pub fn with_routes(mut self, extra: Router<AppState>) -> Self {
        self.router = tessera::web::router_with(self.state.clone(), extra);
        self
    }

    /// Creates tenant `slug` with an admin, an agent and a customer.
    pub async fn create_tenant(&self, slug: &str) -> TestTenant {
        let user = |role: Role| {
            NewUser::new(
                &format!("{}@{slug}.test", role.label().to_lowercase()),
                Some(&format!("{} of {slug}", role.label())),
                role,
                Some(PASSWORD.to_owned()),
            )
            .expect("valid test user")
        };
        let tenant = tenants::service::create_tenant(
            &self.db,
            slug,
            &format!("{slug} support"),
            user(Role::Admin),
            false,
        )
        .await
        .expect("creating a test tenant");
        let create = |role| tessera::auth::service::create_user(&self.db, tenant.id, user(role));
        let agent = create(Role::Agent).await.expect("creating the agent");
        let customer = create(Role::Customer).await.expect("creating the customer");
        let mut tx = self
            .db
            .tenant_tx(tenant.id)
            .await
            .expect("tenant transaction");
        let admin = tessera::auth::repo::find_credentials(
            &mut tx,
            tenant.id,
            &format!("admin@{slug}.test"),
        )
        .await
        .expect("loading the admin")
        .expect("the admin exists")
        .0;
        tx.commit().await.expect("commit");
        TestTenant {
            tenant,
            admin,
            agent,
            customer,
        }
    }

    pub async fn get(&mut self, path: &str) -> TestResponse {
        self.request(Method::GET, path, None, &[]).await
    }

    /// Posts a form with the CSRF token of the last page, as a browser would.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let token = self
            .csrf_token
            .clone()
            .expect("post_form needs a page with a form first (GET it)");
        let mut fields = fields.to_vec();
        fields.push(("csrf_token", &token));
        self.post_form_without_token(path, &fields).await
    }

    /// Posts a form exactly as given: no CSRF token is added.
    pub async fn post_form_without_token(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> TestResponse {
        let body = serde_urlencoded::to_string(fields).expect("encoding a form");
        self.request(
            Method::POST,
            path,
            Some(body),
            &[("content-type", "application/x-www-form-urlencoded")],
        )
        .await
    }

    /// Opens the login page and signs in.
    pub async fn sign_in(&mut self, tenant: &str, email: &str, password: &str) -> TestResponse {
        self.get(&format!("/{tenant}/login")).await;
        self.post_form(
            &format!("/{tenant}/login"),
            &[("email", email), ("password", password)],
        )
        .await
    }

    pub async fn sign_out(&mut self, tenant: &str) -> TestResponse {
        self.get(&format!("/{tenant}/")).await;
        self.post_form(&format!("/{tenant}/logout"), &[]).await
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// The CSRF token of the last page that had a form.
    pub fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }

    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_owned(), value.to_owned());
    }

    pub fn clear_cookies(&mut self) {
        self.cookies.clear();
        self.csrf_token = None;
    }

    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let request = self.build_request(method, path, body, headers);
        let response = send(self.router.clone(), request).await;
        for value in response.headers.get_all(header::SET_COOKIE) {
            self.store_cookie(value.to_str().unwrap_or_default());
        }
        if let Some(token) = extract_csrf_token(&response.body) {
            self.csrf_token = Some(token);
        }
        response
    }

    /// GETs every path at once with this browser's cookies (which the answers
    /// do not change), as a user's open tabs would.
    pub async fn get_all_at_once(&self, paths: &[String]) -> Vec<TestResponse> {
        let requests = paths.iter().map(|path| {
            send(
                self.router.clone(),
                self.build_request(Method::GET, path, None, &[]),
            )
        });
        futures_util::future::join_all(requests).await
    }

    fn build_request(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Request<Body> {
        let mut request = Request::builder().method(method).uri(path);
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ");
            request = request.header(header::COOKIE, cookie);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request
            .body(body.map(Body::from).unwrap_or_else(Body::empty))
            .expect("building a request");
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(self.client_ip, 41000)));
        request
    }

    fn store_cookie(&mut self, set_cookie: &str) {
        let mut attributes = set_cookie.split(';').map(str::trim);
        let Some((name, value)) = attributes.next().and_then(|pair| pair.split_once('=')) else {
            return;
        };
        let removed = attributes.any(|attribute| {
            attribute.eq_ignore_ascii_case("max-age=0")
                || attribute
                    .to_ascii_lowercase()
                    .starts_with("expires=thu, 01 jan 1970")
        });
        if removed || value.is_empty() {
            self.cookies.remove(name);
        } else {
            self.cookies.insert(name.to_owned(), value.to_owned());
        }
    }
}

async fn send(router: Router, request: Request<Body>) -> TestResponse {
    let response = router
        .oneshot(request)
        .await
        .expect("the router is infallible");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("reading the body").to_bytes();
    TestResponse {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn extract_csrf_token(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned()).filter(|token| !token.is_empty())
}

/// The boundary of the multipart bodies the helpers build.
const BOUNDARY: &str = "----tessera-test-boundary-7MA4YWxkTrZu0gW";

/// A `multipart/form-data` body: `fields` in order, then each of `files`
/// (name, bytes) as a part of the `attachments` field.
fn multipart_body(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (filename, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"attachments\"; \
                 filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

impl TestApp {
    /// Posts a form with files as a browser would: the CSRF token of the last
    /// page first, then `fields`, then `files` (name, bytes) as `attachments`.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &[u8])],
    ) -> TestResponse {
        let token = self
            .csrf_token
            .clone()
            .expect("post_multipart needs a page with a form first (GET it)");
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_multipart_without_token(path, &all, files).await
    }

    /// Posts a form with files exactly as given: no CSRF token is added.
    pub async fn post_multipart_without_token(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &[u8])],
    ) -> TestResponse {
        let body = multipart_body(fields, files);
        let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
        let (response, _) = self
            .send(
                Method::POST,
                path,
                Body::from(body),
                &[("content-type", content_type.as_str())],
            )
            .await;
        response
    }

    /// GETs `path` and returns the body's bytes too (downloads).
    pub async fn get_bytes(&mut self, path: &str) -> (TestResponse, Vec<u8>) {
        self.send(Method::GET, path, Body::empty(), &[]).await
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Body,
        headers: &[(&str, &str)],
    ) -> (TestResponse, Vec<u8>) {
        let mut request = Request::builder().method(method).uri(path);
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ");
            request = request.header(header::COOKIE, cookie);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(body).expect("building a request");
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(self.client_ip, 41000)));
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("reading the body").to_bytes();
        for value in parts.headers.get_all(header::SET_COOKIE) {
            self.store_cookie(value.to_str().unwrap_or_default());
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(token) = extract_csrf_token(&text) {
            self.csrf_token = Some(token);
        }
        (
            TestResponse {
                status: parts.status,
                headers: parts.headers,
                body: text,
            },
            bytes.to_vec(),
        )
    }
}
