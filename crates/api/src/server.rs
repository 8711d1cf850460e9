//! `compressor serve`: the Compressor API 1.0 over HTTP (axum). Requests run the same
//! engine as the app and the CLI; results are served from temporary download URLs
//! (`/<expiry>/<id>/<name>`, deleted after their time) or stored through a connector.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Multipart, Path as UrlPath, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use base64::Engine as _;
use compressor_engine::{Compressed, Engine, EngineError, FieldError, Options};
use compressor_storage::{Keychain, Storage, StoreOptions, Transfer};

use crate::rate::{RateLimiter, RateState};
use crate::wire::{parse_request, ApiError, ApiResult, JobRunning, JobState, RequestParts};

/// How the server runs. `Default` is usable as is, apart from the API keys.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Keys accepted as the HTTP Basic user name (`-u your-api-key:`).
    pub api_keys: Vec<String>,
    /// Where results wait for download.
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
    config: ServerConfig,
    public_url: String,
    engine: Engine,
    limiter: RateLimiter,
    jobs: std::sync::Mutex<std::collections::HashMap<String, Job>>,
}

/// Inputs over this size are answered at once with a job, as the hosted API does.
pub const ASYNC_THRESHOLD: usize = 32 * 1024 * 1024;

/// A long job's state: how far it is, and its answer once there.
#[derive(Clone, Default)]
pub(crate) struct JobProgress {
    /// Fraction done, 0.0 to 1.0, as the engine reports it (video: frames; others: 0 then 1).
    done: f32,
    finished: Option<(StatusCode, bytes::Bytes)>,
}

/// A long job: who may read it, and its state.
pub(crate) struct Job {
    key: String,
    state: tokio::sync::watch::Receiver<JobProgress>,
    started: Instant,
}

/// The key that made the request, for the handlers.
#[derive(Clone)]
pub(crate) struct ApiKey(String);

/// The request's id, set by the middleware for handlers and error bodies.
#[derive(Clone)]
pub(crate) struct RequestId(String);

fn error_response(status: StatusCode, id: &str, message: impl Into<String>, errors: Vec<FieldError>) -> Response {
    let body =
        ApiError { success: false, status: status.as_u16(), id: id.to_string(), message: message.into(), errors };
    (status, Json(body)).into_response()
}

fn invalid(id: &str, errors: Vec<FieldError>) -> Response {
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
        .route("/1.0/jobs/{id}", get(job_status))
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

fn now_seconds() -> u64 {
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

/// Why an upload's body could not be read. axum calls a body that stopped arriving a server
/// error (500); it is the client's: cut short (400) or stalled past the client timeout (408).
fn multipart_failure(id: &str, what: &str, err: axum::extract::multipart::MultipartError) -> Response {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    let mut stalled = false;
    while let Some(error) = source {
        stalled |= error.is::<tower_http::timeout::TimeoutError>();
        source = error.source();
    }
    let status = match err.status() {
        _ if stalled => StatusCode::REQUEST_TIMEOUT,
        status if status.is_server_error() => StatusCode::BAD_REQUEST,
        status => status,
    };
    let reason = match status {
        StatusCode::REQUEST_TIMEOUT => "the client stopped sending it".to_string(),
        StatusCode::BAD_REQUEST if err.status().is_server_error() => "it ended early".to_string(),
        _ => err.body_text(),
    };
    error_response(status, id, format!("{what}: {reason}"), Vec::new())
}

/// Compresses an uploaded file.
#[utoipa::path(
    post,
    path = "/1.0/upload",
    tag = "compress",
    request_body(content = crate::openapi::UploadForm, content_type = "multipart/form-data"),
    responses(
        crate::openapi::CompressionAnswers,
        (status = 400, description = "The multipart body is malformed or ends early", body = ApiError),
        (status = 408, description = "The client stopped sending the body", body = ApiError),
        (status = 413, description = "The upload is over the server's size limit", body = ApiError),
        (status = 422, description = "Invalid options, a missing file, or a file that cannot be compressed", body = ApiError),
    )
)]
pub(crate) async fn upload(
    State(state): State<Arc<AppState>>,
    Extension(RequestId(id)): Extension<RequestId>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let mut multipart = match multipart {
        Ok(multipart) => multipart,
        Err(rejection) => {
            return error_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                &id,
                format!("the body must be multipart/form-data with a \"file\" field: {}", rejection.body_text()),
                Vec::new(),
            )
        }
    };
    let mut file: Option<(Vec<u8>, String)> = None;
    let mut seen = std::collections::HashSet::new();
    let mut parts = RequestParts::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => return multipart_failure(&id, "the multipart body is malformed", err),
        };
        if let Some(name @ ("file" | "options")) = field.name() {
            if !seen.insert(name.to_string()) {
                return invalid(
                    &id,
                    vec![FieldError { field: name.into(), message: "is given twice; an upload takes one".into() }],
                );
            }
        }
        match field.name() {
            Some("file") => {
                let name = field.file_name().map(sanitize_name).unwrap_or_else(|| "file".into());
                match field.bytes().await {
                    Ok(bytes) => file = Some((bytes.to_vec(), name)),
                    Err(err) => return multipart_failure(&id, "the file could not be read", err),
                }
            }
            Some("options") => {
                let text = match field.text().await {
                    Ok(text) => text,
                    Err(err) => return multipart_failure(&id, "the options could not be read", err),
                };
                match parse_request(&text) {
                    Ok(parsed) if parsed.url.is_some() || !parsed.headers.is_empty() => {
                        let field = if parsed.url.is_some() { "url" } else { "headers" };
                        return invalid(
                            &id,
                            vec![FieldError {
                                field: field.into(),
                                message: "belongs to /1.0/fetch, not to an upload".into(),
                            }],
                        );
                    }
                    Ok(parsed) => parts = parsed,
                    Err(errors) => return invalid(&id, errors),
                }
            }
            // Unknown fields are errors, as unknown options are: a typo is never ignored.
            other => {
                let name = other.unwrap_or("").to_string();
                return invalid(
                    &id,
                    vec![FieldError {
                        field: name,
                        message: "is not a field of this form; it takes \"file\" and \"options\"".into(),
                    }],
                );
            }
        }
    }
    let Some((bytes, name)) = file else {
        return invalid(
            &id,
            vec![FieldError { field: "file".into(), message: "is required (multipart field \"file\")".into() }],
        );
    };
    finish_or_queue(&state, &id, &key, bytes, name, parts).await
}

/// Fetches a file from a URL and compresses it.
#[utoipa::path(
    post,
    path = "/1.0/fetch",
    tag = "compress",
    request_body(content = crate::openapi::FetchRequest, content_type = "application/json"),
    responses(
        crate::openapi::CompressionAnswers,
        (status = 413, description = "The body is over the server's size limit", body = ApiError),
        (status = 422, description = "Invalid JSON or options, or a URL that cannot be fetched", body = ApiError),
    )
)]
pub(crate) async fn fetch(
    State(state): State<Arc<AppState>>,
    Extension(RequestId(id)): Extension<RequestId>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    body: Result<bytes::Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return error_response(rejection.status(), &id, rejection.body_text(), Vec::new()),
    };
    // Not UTF-8 is not JSON: the seed's message for any body that does not parse.
    let body = String::from_utf8_lossy(&body);
    let parts = match parse_request(&body) {
        Ok(parts) => parts,
        Err(errors) if errors.len() == 1 && errors[0].field == "body" => {
            return error_response(StatusCode::UNPROCESSABLE_ENTITY, &id, errors[0].message.clone(), Vec::new())
        }
        Err(errors) => return invalid(&id, errors),
    };
    let Some(url) = parts.url.clone() else {
        return invalid(&id, vec![FieldError { field: "url".into(), message: "is required".into() }]);
    };
    let config = &state.config;
    let fetched =
        crate::fetch::fetch(&url, &parts.headers, &config.reach, config.max_fetch, config.fetch_timeout).await;
    match fetched {
        Ok((bytes, name)) => finish_or_queue(&state, &id, &key, bytes, sanitize_name(&name), parts).await,
        Err(err) => invalid(
            &id,
            vec![FieldError { field: "url".into(), message: err.to_string().trim_start_matches("url: ").into() }],
        ),
    }
}

/// A file name safe to use as a path segment.
fn sanitize_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).collect();
    match cleaned.trim() {
        "" | "." | ".." => "file".into(),
        other => other.to_string(),
    }
}

/// Answers at once with a job for large inputs (or when asked); otherwise compresses now.
async fn finish_or_queue(
    state: &Arc<AppState>,
    id: &str,
    key: &str,
    input: Vec<u8>,
    name: String,
    parts: RequestParts,
) -> Response {
    // Checked now, once: a job must not be accepted only to fail on its `store`.
    let destination = match parts.store.as_ref().map(|store| resolve_store(state, store)).transpose() {
        Ok(destination) => destination,
        Err(response) => return response(id),
    };
    if !parts.asynchronous && parts.webhook.is_none() && input.len() <= ASYNC_THRESHOLD {
        return finish(state, id, input, name, parts.options, destination, &|_| {}).await;
    }
    let (sender, receiver) = tokio::sync::watch::channel(JobProgress::default());
    if let Ok(mut jobs) = state.jobs.lock() {
        // Finished jobs are kept as long as their results.
        let ttl = state.config.result_ttl;
        jobs.retain(|_, job| job.state.borrow().finished.is_none() || job.started.elapsed() < ttl);
        jobs.insert(id.to_string(), Job { key: key.to_string(), state: receiver, started: Instant::now() });
    }
    let worker = state.clone();
    let job_id = id.to_string();
    let signing_key = key.to_string();
    let sender = Arc::new(sender);
    tokio::spawn(async move {
        let webhook = parts.webhook.clone();
        let reporter = sender.clone();
        // Only whole percents wake long polls, so a video's frames do not flood them.
        let progress = move |done: f64| {
            reporter.send_if_modified(|job| {
                let done = (done.clamp(0.0, 1.0) * 100.0).floor() as f32 / 100.0;
                let changed = done > job.done;
                job.done = job.done.max(done);
                changed
            });
        };
        let response = finish(&worker, &job_id, input, name, parts.options, destination, &progress).await;
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap_or_default();
        sender.send_modify(|job| {
            job.done = 1.0;
            job.finished = Some((status, body.clone()));
        });
        if let Some(url) = webhook {
            crate::webhook::deliver(&url, &job_id, &body, &signing_key, &worker.config.reach).await;
        }
    });
    (StatusCode::ACCEPTED, Json(running(state, id, 0.0))).into_response()
}

fn running(state: &AppState, id: &str, progress: f32) -> JobRunning {
    JobRunning {
        id: id.to_string(),
        status: JobState::Running,
        url: format!("{}/1.0/jobs/{id}", state.public_url.trim_end_matches('/')),
        progress,
    }
}

/// The longest a job request is held (`?wait=`).
const MAX_WAIT_SECONDS: u64 = 60;

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct JobQuery {
    /// Hold the request up to this many seconds (at most 60) until the job progresses or
    /// finishes.
    #[param(minimum = 0)]
    wait: Option<u64>,
}

/// A long job: 202 with its progress while it runs; once finished, the answer the request
/// would have had.
#[utoipa::path(
    get,
    path = "/1.0/jobs/{id}",
    tag = "jobs",
    params(("id" = String, Path, description = "The job's id (the request id of the 202)"), JobQuery),
    responses(
        (status = 200, description = "Finished: the request's result", body = ApiResult),
        (status = 202, description = "Still running", body = JobRunning),
        (status = 404, description = "No such job for this API key", body = ApiError),
        (status = 422, description = "Invalid `wait`, or the job finished with this error", body = ApiError),
        (status = 500, description = "The job failed on the server", body = ApiError),
        (status = 502, description = "Storing the job's result through the connector failed", body = ApiError),
    )
)]
pub(crate) async fn job_status(
    State(state): State<Arc<AppState>>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    UrlPath(id): UrlPath<String>,
    query: Result<Query<JobQuery>, QueryRejection>,
) -> Response {
    let wait = match query {
        Ok(Query(query)) => query.wait.unwrap_or(0).min(MAX_WAIT_SECONDS),
        Err(_) => {
            return invalid(
                &request_id,
                vec![FieldError {
                    field: "query".into(),
                    message: "takes only `wait`, a whole number of seconds".into(),
                }],
            )
        }
    };
    let receiver =
        state.jobs.lock().ok().and_then(|jobs| jobs.get(&id).filter(|j| j.key == key).map(|j| j.state.clone()));
    let Some(mut receiver) = receiver else {
        return error_response(StatusCode::NOT_FOUND, &request_id, format!("no job {id}"), Vec::new());
    };
    receiver.mark_unchanged();
    if wait > 0 && receiver.borrow().finished.is_none() {
        let _ = tokio::time::timeout(Duration::from_secs(wait), receiver.changed()).await;
    }
    let job = receiver.borrow().clone();
    match job.finished {
        Some((status, body)) => {
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = status;
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        None => (StatusCode::ACCEPTED, Json(running(&state, &id, job.done))).into_response(),
    }
}

/// Where a result is stored: the connector `store.id` names, and the checked target.
type Destination = (compressor_storage::Connector, compressor_storage::Target);

/// Compresses, then stores the result (through a connector, or behind a temporary
/// download URL).
async fn finish(
    state: &Arc<AppState>,
    id: &str,
    input: Vec<u8>,
    name: String,
    options: Options,
    destination: Option<Destination>,
    progress: &(dyn Fn(f64) + Sync),
) -> Response {
    let engine_state = state.clone();
    let job_name = name.clone();
    // The engine runs on a blocking thread; progress crosses back through a channel.
    let (progress_sender, mut progress_receiver) = tokio::sync::mpsc::unbounded_channel::<f64>();
    let compressed = tokio::task::spawn_blocking(move || {
        let cancel = std::sync::atomic::AtomicBool::new(false);
        let report = move |done: f64| {
            let _ = progress_sender.send(done);
        };
        let control = compressor_engine::Control { cancel: &cancel, progress: &report };
        let result = engine_state.engine.compress_with(&input, &job_name, &options, &control);
        (result, input)
    });
    tokio::pin!(compressed);
    let compressed = loop {
        tokio::select! {
            done = &mut compressed => break done,
            Some(done) = progress_receiver.recv() => progress(done),
        }
    };
    let (result, input) = match compressed {
        Ok(done) => done,
        Err(_) => {
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                id,
                "the compression stopped unexpectedly",
                Vec::new(),
            )
        }
    };
    let Compressed { report, output } = match result {
        Ok(compressed) => compressed,
        Err(EngineError::Invalid(invalid_options)) => return invalid(id, invalid_options.errors),
        Err(err @ (EngineError::Encode { .. } | EngineError::Unavailable(_))) => {
            return error_response(StatusCode::INTERNAL_SERVER_ERROR, id, format!("{name}: {err}"), Vec::new())
        }
        Err(err) => return error_response(StatusCode::UNPROCESSABLE_ENTITY, id, format!("{name}: {err}"), Vec::new()),
    };
    let bytes = output.unwrap_or(input);
    let url = match destination {
        Some(destination) => match store_result(destination, &report.output.name, bytes, &report.output.mime).await {
            Ok(url) => url,
            Err(response) => return response(id),
        },
        None => match keep_result(state, id, &report.output.name, &bytes) {
            Ok(url) => url,
            Err(err) => {
                return error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    id,
                    format!("the result could not be kept: {err}"),
                    Vec::new(),
                )
            }
        },
    };
    (StatusCode::OK, Json(ApiResult::new(id, url, report))).into_response()
}

/// Writes a result where its download URL finds it: `<data>/<expiry>-<id>/<name>`.
fn keep_result(state: &AppState, id: &str, name: &str, bytes: &[u8]) -> std::io::Result<String> {
    let expiry = now_seconds() + state.config.result_ttl.as_secs();
    let folder = state.config.data_dir.join(format!("{expiry}-{id}"));
    std::fs::create_dir_all(&folder)?;
    let mut temp = tempfile::NamedTempFile::new_in(&folder)?;
    std::io::Write::write_all(&mut temp, bytes)?;
    temp.persist(folder.join(name)).map_err(|e| e.error)?;
    let encoded: String = url_segment(name);
    Ok(format!("{}/{expiry}/{id}/{encoded}", state.public_url.trim_end_matches('/')))
}

fn url_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

type DeferredError = Box<dyn FnOnce(&str) -> Response + Send>;

/// The connector `store.id` names and the validated target, or the 422 that says why not.
fn resolve_store(state: &AppState, store: &StoreOptions) -> Result<Destination, DeferredError> {
    let fields = |errors: Vec<FieldError>| -> DeferredError { Box::new(move |id: &str| invalid(id, errors)) };
    let Some(connector_id) = store.id.clone() else {
        return Err(fields(vec![FieldError { field: "store.id".into(), message: "is required".into() }]));
    };
    let settings = state
        .config
        .settings_path
        .as_deref()
        .and_then(|path| compressor_pipeline::settings::Settings::load(path).ok())
        .unwrap_or_default();
    let Some(connector) = settings.connector(&connector_id).cloned() else {
        return Err(fields(vec![FieldError {
            field: "store.id".into(),
            message: format!("no connector {connector_id:?}"),
        }]));
    };
    let target = store.resolve(&connector).map_err(fields)?;
    Ok((connector, target))
}

/// Uploads to the destination; the object's URL.
async fn store_result(
    (connector, target): Destination,
    name: &str,
    bytes: Vec<u8>,
    mime: &str,
) -> Result<String, DeferredError> {
    let storage = Storage::open(&connector, &Keychain).map_err(|e| -> DeferredError {
        let message = e.to_string();
        Box::new(move |id: &str| error_response(StatusCode::INTERNAL_SERVER_ERROR, id, message, Vec::new()))
    })?;
    let key = target.key_for(name, true);
    let cancel = std::sync::atomic::AtomicBool::new(false);
    storage.upload(&target, &key, bytes.into(), mime, &Transfer::quiet(&cancel)).await.map_err(|e| -> DeferredError {
        let message = format!("storing the result failed: {e}");
        Box::new(move |id: &str| error_response(StatusCode::BAD_GATEWAY, id, message, Vec::new()))
    })
}

/// Downloads a result. The URL is the capability: no API key.
#[utoipa::path(
    get,
    path = "/{expiry}/{id}/{name}",
    tag = "results",
    security(()),
    params(
        ("expiry" = u64, Path, description = "When the result is deleted (Unix seconds)"),
        ("id" = String, Path, description = "The request's id"),
        ("name" = String, Path, description = "The result's file name"),
    ),
    responses(
        (status = 200, description = "The result's bytes, as its own MIME type", content_type = "*/*", body = Vec<u8>),
        (status = 404, description = "No such result, or it has expired", content_type = "text/plain", body = String),
    )
)]
pub(crate) async fn download(
    State(state): State<Arc<AppState>>,
    UrlPath((expiry, id, name)): UrlPath<(String, String, String)>,
) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "no such result, or it has expired").into_response();
    let Ok(expiry_seconds) = expiry.parse::<u64>() else { return not_found() };
    if expiry_seconds <= now_seconds() || uuid::Uuid::parse_str(&id).is_err() || sanitize_name(&name) != name {
        return not_found();
    }
    let path = state.config.data_dir.join(format!("{expiry}-{id}")).join(&name);
    let Ok(bytes) = tokio::fs::read(&path).await else { return not_found() };
    let mime = compressor_engine::detect(&bytes).map(|format| format.mime()).unwrap_or("application/octet-stream");
    let mut response = Response::new(Body::from(bytes));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    response
}

/// The OpenAPI document of this API, generated from its types.
async fn openapi_document(State(state): State<Arc<AppState>>) -> Response {
    Json(crate::openapi::document(&state.public_url)).into_response()
}
