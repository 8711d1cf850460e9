//! Compressing a received input, at once or as a job: inputs over [`ASYNC_THRESHOLD`] (or
//! with `async` or a `webhook`) are answered with a 202 and followed at `/1.0/jobs/<id>`,
//! where their progress and, in the end, their answer are. `DELETE /1.0/jobs/<id>` cancels
//! one (an extension of ours: the hosted API has no cancel).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use compressor_engine::{CompressedFile, EngineError, FieldError, Options};

use crate::incoming::{scratch_folder, Received};
use crate::results::{keep_result, resolve_store, store_result, Destination, ResultFile};
use crate::server::{error_response, invalid, ApiKey, AppState, RequestId};
use crate::wire::{ApiError, ApiResult, JobRunning, JobState, RequestParts};

/// Inputs over this many bytes are answered at once with a job, as the hosted API does.
pub const ASYNC_THRESHOLD: u64 = 32 * 1024 * 1024;

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
    /// Set to stop the engine: a video's worker is stopped and its temporary file removed.
    cancel: Arc<AtomicBool>,
}

/// Answers at once with a job for large inputs (or when asked); otherwise compresses now.
pub(crate) async fn finish_or_queue(
    state: &Arc<AppState>,
    id: &str,
    key: &str,
    input: Received,
    name: String,
    parts: RequestParts,
) -> Response {
    // Checked now, once: a job must not be accepted only to fail on its `store`.
    let destination = match parts.store.as_ref().map(|store| resolve_store(state, store)).transpose() {
        Ok(destination) => destination,
        Err(response) => return response(id),
    };
    if !parts.asynchronous && parts.webhook.is_none() && input.size <= ASYNC_THRESHOLD {
        return finish(state, id, input, name, parts.options, destination, &|_| {}, Arc::default()).await;
    }
    let (sender, receiver) = tokio::sync::watch::channel(JobProgress::default());
    let cancel = Arc::new(AtomicBool::new(false));
    if let Ok(mut jobs) = state.jobs.lock() {
        // Finished jobs are kept as long as their results.
        let ttl = state.config.result_ttl;
        jobs.retain(|_, job| job.state.borrow().finished.is_none() || job.started.elapsed() < ttl);
        let job = Job { key: key.to_string(), state: receiver, started: Instant::now(), cancel: cancel.clone() };
        jobs.insert(id.to_string(), job);
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
        let response = finish(&worker, &job_id, input, name, parts.options, destination, &progress, cancel).await;
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

/// The job `id` if the API key `key` made it: its state, and the flag that cancels it.
fn job_of(
    state: &AppState,
    id: &str,
    key: &str,
) -> Option<(tokio::sync::watch::Receiver<JobProgress>, Arc<AtomicBool>)> {
    let jobs = state.jobs.lock().ok()?;
    jobs.get(id).filter(|job| job.key == key).map(|job| (job.state.clone(), job.cancel.clone()))
}

/// The 404 of a job that does not exist, or is another key's.
fn no_job(request_id: &str, id: &str) -> Response {
    error_response(StatusCode::NOT_FOUND, request_id, format!("no job {id}"), Vec::new())
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
    let Some((mut receiver, _)) = job_of(&state, &id, &key) else { return no_job(&request_id, &id) };
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

/// Cancels a running job: the engine stops within a second, nothing is kept, and the job's
/// answer becomes a 409 saying it was cancelled.
#[utoipa::path(
    delete,
    path = "/1.0/jobs/{id}",
    tag = "jobs",
    params(("id" = String, Path, description = "The job's id (the request id of the 202)")),
    responses(
        (status = 202, description = "Cancelling: the job's answer will say it was cancelled", body = JobRunning),
        (status = 404, description = "No such job for this API key", body = ApiError),
        (status = 409, description = "The job has already finished", body = ApiError),
    )
)]
pub(crate) async fn cancel_job(
    State(state): State<Arc<AppState>>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let Some((receiver, cancel)) = job_of(&state, &id, &key) else { return no_job(&request_id, &id) };
    let done = {
        let job = receiver.borrow();
        if job.finished.is_some() {
            return error_response(
                StatusCode::CONFLICT,
                &request_id,
                format!("job {id} has already finished"),
                Vec::new(),
            );
        }
        job.done
    };
    cancel.store(true, std::sync::atomic::Ordering::SeqCst);
    (StatusCode::ACCEPTED, Json(running(&state, &id, done))).into_response()
}

/// Sets its flag when dropped.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Compresses the input from its file, then stores the result (through a connector, or
/// behind a temporary download URL). The input's file is gone when this returns, whatever
/// the outcome, unless it became the result. Setting `cancel` stops it.
#[allow(clippy::too_many_arguments)]
async fn finish(
    state: &Arc<AppState>,
    id: &str,
    input: Received,
    name: String,
    options: Options,
    destination: Option<Destination>,
    progress: &(dyn Fn(f64) + Sync),
    cancel: Arc<AtomicBool>,
) -> Response {
    let server_error = |message: String| error_response(StatusCode::INTERNAL_SERVER_ERROR, id, message, Vec::new());
    // The output is written where results are kept (the same filesystem), so keeping it is a
    // rename; the folder is deleted with what it holds on every way out but that one.
    let scratch = match scratch_folder(&state.config.data_dir) {
        Ok(scratch) => scratch,
        Err(err) => return server_error(format!("the result could not be kept: {err}")),
    };
    let engine_state = state.clone();
    let job_name = name.clone();
    let scratch_path = scratch.path().to_path_buf();
    // A client that goes away (its request dropped) cancels: a video's worker is stopped and
    // its temporary file removed within a second, instead of finishing a result nobody takes.
    let _cancel_when_dropped = CancelOnDrop(cancel.clone());
    // The engine runs on a blocking thread; progress crosses back through a channel.
    let (progress_sender, mut progress_receiver) = tokio::sync::mpsc::unbounded_channel::<f64>();
    let compressed = tokio::task::spawn_blocking(move || {
        let report = move |done: f64| {
            let _ = progress_sender.send(done);
        };
        let control = compressor_engine::Control { cancel: &cancel, progress: &report };
        let result = engine_state.engine.compress_file(&input.path, &job_name, &options, &control, &scratch_path);
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
        Err(_) => return server_error("the compression stopped unexpectedly".into()),
    };
    let CompressedFile { report, output } = match result {
        Ok(compressed) => compressed,
        Err(EngineError::Invalid(invalid_options)) => return invalid(id, invalid_options.errors),
        Err(err @ (EngineError::Encode { .. } | EngineError::Unavailable(_))) => {
            return server_error(format!("{name}: {err}"))
        }
        Err(EngineError::Cancelled) => {
            return error_response(StatusCode::CONFLICT, id, format!("{name}: cancelled"), Vec::new())
        }
        Err(err) => return error_response(StatusCode::UNPROCESSABLE_ENTITY, id, format!("{name}: {err}"), Vec::new()),
    };
    // Nothing smaller came out: the original is the result.
    let result = match output {
        Some(written) => ResultFile::Written(written),
        None => ResultFile::Original(input.path),
    };
    let url = match destination {
        Some(destination) => {
            match store_result(destination, &report.output.name, result.path(), &report.output.mime).await {
                Ok(url) => url,
                Err(response) => return response(id),
            }
        }
        None => match keep_result(state, id, scratch, &report.output.name, result) {
            Ok(url) => url,
            Err(err) => return server_error(format!("the result could not be kept: {err}")),
        },
    };
    (StatusCode::OK, Json(ApiResult::new(id, url, report))).into_response()
}
