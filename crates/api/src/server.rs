//! `compressor serve`: the Compressor API 1.0 over HTTP (axum). Requests run the same
//! engine as the app and the CLI; results are served from temporary download URLs
//! (`/<expiry>/<id>/<name>`, deleted after their time) or stored through a connector.
//! This file holds the router, the guard in front of the `/1.0/` routes and the accept loop;
//! the routes are in `routes.rs` (compressing), `jobs.rs` (long jobs) and `results.rs`
//! (downloads, connectors), and inputs reach the disk through `incoming.rs`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use compressor_engine::{Engine, FieldError};

pub use crate::jobs::ASYNC_THRESHOLD;
use crate::jobs::{cancel_job, job_status, Job};
use crate::rate::{RateLimiter, RateState};
use crate::results::download;
use crate::routes::{fetch, upload};
use crate::wire::ApiError;

/// How the server runs. `Default` is usable as is, apart from the API keys.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Keys accepted as the HTTP Basic user name (`-u your-api-key:`).
    pub api_keys: Vec<String>,
    /// Where results wait for download; its `working/` folder holds inputs being received and
    /// compressions under way (on the same filesystem, so keeping a result is a rename).
    pub data_dir: PathBuf,
    /// The base of download URLs; default `http://<listen address>`.
    pub public_url: Option<String>,
    pub max_upload: u64,
    pub max_fetch: u64,
    pub fetch_timeout: Duration,
    /// The loopback and private addresses `fetch` and webhooks may reach (none by default).
    pub reach: crate::fetch::Reach,
    pub rate_limit: u64,
    pub rate_window: Duration,
    /// How long a result can be downloaded.
    pub result_ttl: Duration,
    /// The settings file whose connectors `store.id` names (secrets from the keychain).
    pub settings_path: Option<PathBuf>,
    /// The longest wait for a client's headers, and for each next piece of its body: a
    /// client that stalls (slow-loris) loses its connection.
    pub client_timeout: Duration,
    /// What inputs the engine refuses (decompression bombs).
    pub limits: compressor_engine::Limits,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            api_keys: Vec::new(),
            data_dir: std::env::temp_dir().join("compressor-serve"),
            public_url: None,
            max_upload: 256 * 1024 * 1024,
            max_fetch: 256 * 1024 * 1024,
            fetch_timeout: Duration::from_secs(60),
            reach: crate::fetch::Reach::default(),
            rate_limit: 100_000,
            rate_window: Duration::from_secs(15 * 60),
            result_ttl: Duration::from_secs(2 * 3600),
            settings_path: None,
            client_timeout: Duration::from_secs(30),
            limits: compressor_engine::Limits::default(),
        }
    }
}

pub(crate) struct AppState {
    pub(crate) config: ServerConfig,
    pub(crate) public_url: String,
    pub(crate) engine: Engine,
    limiter: RateLimiter,
    pub(crate) jobs: std::sync::Mutex<std::collections::HashMap<String, Job>>,
}

/// The key that made the request, for the handlers.
#[derive(Clone)]
pub(crate) struct ApiKey(pub(crate) String);

/// The request's id, set by the middleware for handlers and error bodies.
#[derive(Clone)]
pub(crate) struct RequestId(pub(crate) String);

pub(crate) fn error_response(
    status: StatusCode,
    id: &str,
    message: impl Into<String>,
    errors: Vec<FieldError>,
) -> Response {
    let body =
        ApiError { success: false, status: status.as_u16(), id: id.to_string(), message: message.into(), errors };
    (status, Json(body)).into_response()
}

pub(crate) fn invalid(id: &str, errors: Vec<FieldError>) -> Response {
    error_response(StatusCode::UNPROCESSABLE_ENTITY, id, "Validation failed for one or more parameters", errors)
}

/// The API key of an `Authorization: Basic` header (the user name; the password is empty).
fn api_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let key = text.split_once(':').map(|(user, _)| user).unwrap_or(&text);
    (!key.is_empty()).then(|| key.to_string())
}

fn rate_headers(headers: &mut HeaderMap, rate: &RateState) {
    for (name, value) in [
        ("x-ratelimit-limit", rate.limit),
        ("x-ratelimit-remaining", rate.remaining),
        ("x-ratelimit-reset", rate.reset),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}

/// Gives every request an id, checks the API key and the rate limit, and marks every
/// answer with the id and the key's rate-limit state. Keys are never logged.
async fn guard(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut rate = None;
    let mut response = match api_key(request.headers()) {
        Some(key) if state.config.api_keys.iter().any(|k| k == &key) => {
            request.extensions_mut().insert(ApiKey(key.clone()));
            let now = state.limiter.hit(&key, Instant::now());
            rate = Some(now);
            if now.exceeded {
                let mut response = error_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    &id,
                    format!("Rate limit exceeded. Retry in {} seconds.", now.reset),
                    Vec::new(),
                );
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(now.reset));
                response
            } else {
                next.run(request).await
            }
        }
        _ => {
            let mut response = error_response(StatusCode::UNAUTHORIZED, &id, "Missing or invalid API key", Vec::new());
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Compressor API\""));
            response
        }
    };
    if let Some(rate) = rate {
        rate_headers(response.headers_mut(), &rate);
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Builds the API's routes over `config`.
pub fn router(config: ServerConfig, listen: SocketAddr) -> Router {
    let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{listen}"));
    let limiter = RateLimiter::new(config.rate_limit, config.rate_window);
    let max_upload = config.max_upload;
    let engine = Engine::new(config.limits.clone());
    let state = Arc::new(AppState { config, public_url, engine, limiter, jobs: Default::default() });
    let api = Router::new()
        .route("/1.0/upload", post(upload))
        .route("/1.0/fetch", post(fetch))
        .route("/1.0/jobs/{id}", get(job_status).delete(cancel_job))
        .layer(DefaultBodyLimit::max(max_upload as usize))
        .route_layer(middleware::from_fn_with_state(state.clone(), guard));
    Router::new()
        .merge(api)
        // Download URLs are capabilities, as the hosted API's are: no key needed.
        .route("/{expiry}/{id}/{name}", get(download))
        .route("/openapi.json", get(openapi_document))
        .with_state(state)
}

/// The most a request's line and headers may take.
const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Serves until the process ends, deleting expired results every minute.
pub async fn serve(listener: tokio::net::TcpListener, config: ServerConfig) -> std::io::Result<()> {
    std::fs::create_dir_all(&config.data_dir)?;
    let data_dir = config.data_dir.clone();
    tokio::spawn(async move {
        loop {
            remove_expired(&data_dir, now_seconds());
            crate::incoming::remove_abandoned(&data_dir, SystemTime::now());
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
    });
    let listen = listener.local_addr()?;
    let client_timeout = config.client_timeout;
    let app = router(config, listen).layer(tower_http::timeout::RequestBodyTimeoutLayer::new(client_timeout));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors, or a connection reset before it was accepted: the
            // server carries on with the next one.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let mut builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            builder
                .http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(client_timeout)
                // Headers larger than this are refused (431) rather than buffered.
                .max_buf_size(MAX_HEADER_BYTES);
            let io = hyper_util::rt::TokioIo::new(stream);
            // A connection's failure (a reset, a timeout) concerns that client only.
            let _ = builder.serve_connection_with_upgrades(io, service).await;
        });
    }
}

pub(crate) fn now_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Deletes result folders (`<expiry>-<id>`) whose time has passed.
pub fn remove_expired(data_dir: &Path, now: u64) -> usize {
    let mut removed = 0;
    for entry in std::fs::read_dir(data_dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let expiry = name.split_once('-').and_then(|(expiry, _)| expiry.parse::<u64>().ok());
        if expiry.is_some_and(|expiry| expiry <= now) && std::fs::remove_dir_all(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// The OpenAPI document of this API, generated from its types.
async fn openapi_document(State(state): State<Arc<AppState>>) -> Response {
    Json(crate::openapi::document(&state.public_url)).into_response()
}
