//! The compressing routes: `POST /1.0/upload` (a multipart form) and `POST /1.0/fetch` (a URL
//! to download). Each writes its input to a file under the data folder as it arrives and
//! hands it to `jobs::finish_or_queue`.

use std::sync::Arc;

use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Multipart, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use compressor_engine::FieldError;

use crate::fetch::FetchError;
use crate::incoming::{receive_field, NotReceived, Received, PAYLOAD_TOO_LARGE};
use crate::jobs::finish_or_queue;
use crate::server::{error_response, invalid, ApiKey, AppState, RequestId};
use crate::wire::{parse_request, ApiError, RequestParts};

/// Why an upload's body could not be read. axum calls a body that stopped arriving a server
/// error (500); it is the client's: cut short (400) or stalled past the client timeout (408).
fn multipart_failure(id: &str, what: &str, err: MultipartError) -> Response {
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

/// The 413 of an upload over the server's limit, in the words of the body limit's own.
fn upload_too_large(id: &str) -> Response {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        id,
        format!("the file could not be read: {PAYLOAD_TOO_LARGE}"),
        Vec::new(),
    )
}

/// The server could not write an input to its disk (full, read-only): its fault, not the
/// request's.
fn input_not_written(id: &str, err: &std::io::Error) -> Response {
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        id,
        format!("the input could not be written to disk: {err}"),
        Vec::new(),
    )
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
    headers: HeaderMap,
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
    // A body announced over the limit is refused before a byte of it is read (a client that
    // waits for `100 Continue` then sends none of it).
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if announced.is_some_and(|length| length > state.config.max_upload) {
        return upload_too_large(&id);
    }
    let mut file: Option<(Received, String)> = None;
    let mut seen = std::collections::HashSet::new();
    let mut parts = RequestParts::default();
    loop {
        let mut field = match multipart.next_field().await {
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
                // To disk as it arrives, and stopped at the limit: never whole in memory.
                match receive_field(&mut field, &state.config.data_dir, state.config.max_upload).await {
                    Ok(received) => file = Some((received, name)),
                    Err(NotReceived::Body(err)) => return multipart_failure(&id, "the file could not be read", err),
                    Err(NotReceived::TooLarge) => return upload_too_large(&id),
                    Err(NotReceived::Disk(err)) => return input_not_written(&id, &err),
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
    let Some((input, name)) = file else {
        return invalid(
            &id,
            vec![FieldError { field: "file".into(), message: "is required (multipart field \"file\")".into() }],
        );
    };
    finish_or_queue(&state, &id, &key, input, name, parts).await
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
    let fetched = crate::fetch::fetch(
        &url,
        &parts.headers,
        &config.reach,
        config.max_fetch,
        config.fetch_timeout,
        &config.data_dir,
    )
    .await;
    match fetched {
        Ok((input, name)) => finish_or_queue(&state, &id, &key, input, sanitize_name(&name), parts).await,
        Err(FetchError::Disk(err)) => input_not_written(&id, &err),
        Err(err) => invalid(
            &id,
            vec![FieldError { field: "url".into(), message: err.to_string().trim_start_matches("url: ").into() }],
        ),
    }
}

/// A file name safe to use as a path segment.
pub(crate) fn sanitize_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).collect();
    match cleaned.trim() {
        "" | "." | ".." => "file".into(),
        other => other.to_string(),
    }
}
