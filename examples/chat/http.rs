//! The HTTP side, on hyper: the page, login and logout with a session
//! cookie, and the WebSocket upgrade on `/chat` through hybi's checks
//! (`HttpRequest::check`, `UpgradeOffer::answer`).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hybi::{Accept, HandshakeError, HttpRequest, HttpVersion};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Version};

use crate::conn::{self, Client};
use crate::{Active, App};

pub type Body = Full<Bytes>;

/// The subprotocol the page offers and the server picks.
pub const PROTOCOL: &str = "chat.v1";

/// The session cookie's name.
const COOKIE: &str = "sid";

/// Largest login form accepted, and the time it may take to arrive.
const MAX_FORM: usize = 1024;
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

const PAGE: &str = include_str!("page.html");

/// Inline script and style only; connections back to this origin only.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
    style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

pub async fn route(app: Arc<App>, req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => {
            let mut response = reply(StatusCode::OK, PAGE);
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_POLICY),
            );
            response
        }
        (&Method::GET, "/me") => match session(&app, req.headers()) {
            Some(name) => reply(StatusCode::OK, name),
            None => reply(StatusCode::UNAUTHORIZED, "not logged in\n"),
        },
        (&Method::POST, "/login") => login(&app, req).await,
        (&Method::POST, "/logout") => logout(&app, req.headers()),
        (&Method::GET, "/chat") => upgrade(&app, req, peer),
        (_, "/" | "/me" | "/chat") => {
            allow(reply(StatusCode::METHOD_NOT_ALLOWED, "use GET\n"), "GET")
        }
        (_, "/login" | "/logout") => {
            allow(reply(StatusCode::METHOD_NOT_ALLOWED, "use POST\n"), "POST")
        }
        _ => reply(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// A plain-text response, never cached.
fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn allow(mut response: Response<Body>, methods: &'static str) -> Response<Body> {
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(methods));
    response
}

/// 1–32 letters, digits, `_` or `-`: user and room names.
pub fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether the request's `Origin` is one we serve; `required` refuses a
/// request without one.
fn origin_allowed(app: &App, headers: &HeaderMap, required: bool) -> bool {
    let mut origins = headers.get_all(header::ORIGIN).iter();
    match (origins.next(), origins.next()) {
        (None, _) => !required,
        (Some(origin), None) => origin
            .to_str()
            .is_ok_and(|o| app.origins.iter().any(|allowed| allowed == o)),
        _ => false,
    }
}

/// The session token from the `Cookie` headers.
fn token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

/// The logged-in name, if the request carries a known session.
fn session(app: &App, headers: &HeaderMap) -> Option<String> {
    app.session(token(headers)?)
}

fn cookie(value: &str, max_age: Option<u32>) -> HeaderValue {
    let mut cookie = format!("{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/");
    if let Some(age) = max_age {
        let _ = write!(cookie, "; Max-Age={age}");
    }
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `POST /login` with the form field `name`: a new session, set as a cookie.
async fn login(app: &App, req: Request<Incoming>) -> Response<Body> {
    if !origin_allowed(app, req.headers(), false) {
        return reply(StatusCode::FORBIDDEN, "origin not allowed\n");
    }
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return reply(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send application/x-www-form-urlencoded\n",
        );
    }
    let collect = Limited::new(req.into_body(), MAX_FORM).collect();
    let body = match tokio::time::timeout(BODY_TIMEOUT, collect).await {
        Ok(Ok(body)) => body.to_bytes(),
        Ok(Err(_)) => return reply(StatusCode::PAYLOAD_TOO_LARGE, "form too large\n"),
        Err(_) => return reply(StatusCode::REQUEST_TIMEOUT, "form too slow\n"),
    };
    let name = std::str::from_utf8(&body)
        .ok()
        .and_then(|body| form_value(body, "name"));
    let Some(name) = name.filter(|n| valid_name(n)) else {
        return reply(
            StatusCode::BAD_REQUEST,
            "name: 1-32 letters, digits, '_' or '-'\n",
        );
    };
    let token = app.new_session(&name);
    let mut response = reply(StatusCode::NO_CONTENT, "");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie(&token, None));
    response
}

/// `POST /logout`: forgets the session and clears the cookie.
fn logout(app: &App, headers: &HeaderMap) -> Response<Body> {
    if !origin_allowed(app, headers, false) {
        return reply(StatusCode::FORBIDDEN, "origin not allowed\n");
    }
    if let Some(token) = token(headers) {
        app.end_session(token);
    }
    let mut response = reply(StatusCode::NO_CONTENT, "");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie("", Some(0)));
    response
}

/// The value of `key` in an `application/x-www-form-urlencoded` body.
fn form_value(form: &str, key: &str) -> Option<String> {
    form.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k)? == key).then(|| percent_decode(v))?
    })
}

/// `+` as a space and `%XX` as a byte; the result must be UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        out.push(match b {
            b'+' => b' ',
            b'%' => {
                let hi = (bytes.next()? as char).to_digit(16)?;
                let lo = (bytes.next()? as char).to_digit(16)?;
                (hi * 16 + lo) as u8
            }
            b => b,
        });
    }
    String::from_utf8(out).ok()
}

/// A refused upgrade: logged, answered with `status`.
fn refuse(peer: SocketAddr, status: StatusCode, why: &str) -> Response<Body> {
    println!("{peer} /chat refused {}: {why}", status.as_u16());
    reply(status, format!("{why}\n"))
}

/// `GET /chat?room=NAME`: checks the request (WebSocket, Origin, session,
/// room), answers it, and leaves the upgraded stream to a connection task.
fn upgrade(app: &Arc<App>, mut req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
    if app.stopping() {
        return refuse(peer, StatusCode::SERVICE_UNAVAILABLE, "going away");
    }
    let version = match req.version() {
        Version::HTTP_11 => HttpVersion::Http11,
        Version::HTTP_10 => HttpVersion::Http10,
        _ => {
            return refuse(
                peer,
                StatusCode::HTTP_VERSION_NOT_SUPPORTED,
                "HTTP/1.1 only",
            );
        }
    };
    let answer = {
        let headers: Vec<(&str, &[u8])> = req
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
            .collect();
        let request = HttpRequest {
            method: req.method().as_str(),
            version,
            protocol: None,
            headers: &headers,
        };
        let offer = match request.check() {
            Ok(offer) => offer,
            Err(error) => return refuse_handshake(peer, &error),
        };
        if !origin_allowed(app, req.headers(), true) {
            let origin = req.headers().get(header::ORIGIN);
            let origin = origin.map_or("(none)", |o| o.to_str().unwrap_or("(not text)"));
            let why = format!("origin {origin} not allowed");
            return refuse(peer, StatusCode::FORBIDDEN, &why);
        }
        let Some(name) = session(app, req.headers()) else {
            return refuse(peer, StatusCode::UNAUTHORIZED, "no session: log in first");
        };
        let room = req
            .uri()
            .query()
            .and_then(|q| form_value(q, "room"))
            .filter(|r| valid_name(r));
        let Some(room) = room else {
            return refuse(
                peer,
                StatusCode::BAD_REQUEST,
                "room: 1-32 letters, digits, '_' or '-'",
            );
        };
        let mut accept = Accept::new();
        if offer.protocols().any(|p| p == PROTOCOL) {
            accept = accept.protocol(PROTOCOL);
        }
        match offer.answer(&accept, &app.config) {
            Ok(answer) => (answer, name, room),
            Err(e) => return refuse(peer, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        }
    };
    let (answer, name, room) = answer;
    let mut response = Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        response = response.header(name.as_str(), value.as_str());
    }
    let Ok(response) = response.body(Full::new(Bytes::new())) else {
        return refuse(peer, StatusCode::INTERNAL_SERVER_ERROR, "cannot answer");
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let active = Active::new(app);
    let client = Client { peer, name, room };
    let app = Arc::clone(app);
    tokio::spawn(async move {
        conn::run(app, on_upgrade, answer.negotiated, client).await;
        drop(active);
    });
    response
}

/// hybi's handshake error as the response RFC 6455 asks for.
fn refuse_handshake(peer: SocketAddr, error: &HandshakeError) -> Response<Body> {
    let status = error
        .status()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = refuse(peer, status, &error.to_string());
    let extra = match error {
        HandshakeError::UnsupportedVersion => Some((header::SEC_WEBSOCKET_VERSION, "13")),
        HandshakeError::MethodNotGet => Some((header::ALLOW, "GET")),
        _ => None,
    };
    if let Some((name, value)) = extra {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    if status == StatusCode::UPGRADE_REQUIRED {
        let headers = response.headers_mut();
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["a", "lobby", "A_b-9", &"x".repeat(32)] {
            assert!(valid_name(good), "{good:?}");
        }
        for bad in ["", "a b", "é", "a/b", "a.b", "<x>", &"x".repeat(33)] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn forms() {
        assert_eq!(form_value("name=bob", "name").as_deref(), Some("bob"));
        assert_eq!(
            form_value("x=1&name=b%6Fb+x", "name").as_deref(),
            Some("bob x")
        );
        assert_eq!(form_value("n%61me=al", "name").as_deref(), Some("al"));
        assert_eq!(form_value("name", "name").as_deref(), Some(""));
        assert_eq!(form_value("name=%C3%A9", "name").as_deref(), Some("é"));
        assert_eq!(form_value("other=1", "name"), None);
        assert_eq!(form_value("name=%G1", "name"), None);
        assert_eq!(form_value("name=%C3", "name"), None);
        assert_eq!(form_value("name=%4", "name"), None);
    }

    #[test]
    fn cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; sid=tok; b=2"),
        );
        assert_eq!(token(&headers), Some("tok"));
        headers.insert(header::COOKIE, HeaderValue::from_static("sidx=1;sid=t2"));
        assert_eq!(token(&headers), Some("t2"));
        headers.insert(header::COOKIE, HeaderValue::from_static("xsid=1"));
        assert_eq!(token(&headers), None);
    }
}
