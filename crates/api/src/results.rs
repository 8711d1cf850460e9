//! Where results go: kept behind a temporary download URL (`/<expiry>/<id>/<name>`, served
//! from disk with byte ranges), or stored through a connector, streamed from the file.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use compressor_engine::FieldError;
use compressor_storage::{Keychain, Storage, StoreOptions, Transfer};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::routes::sanitize_name;
use crate::server::{error_response, invalid, now_seconds, AppState};

/// A compression's result file: the engine's output, or the original when nothing smaller
/// came out.
pub(crate) enum ResultFile {
    Written(tempfile::NamedTempFile),
    Original(tempfile::TempPath),
}

impl ResultFile {
    pub(crate) fn path(&self) -> &Path {
        match self {
            ResultFile::Written(file) => file.path(),
            ResultFile::Original(path) => path,
        }
    }

    /// Moves the file to `destination` (a rename: both are under the data folder).
    fn persist(self, destination: &Path) -> std::io::Result<()> {
        match self {
            ResultFile::Written(file) => file.persist(destination).map(|_file| ()).map_err(|e| e.error),
            ResultFile::Original(path) => path.persist(destination).map_err(|e| e.error),
        }
    }
}

/// Keeps a result where its download URL finds it, `<data>/<expiry>-<id>/<name>`: the file
/// is renamed into its scratch folder, then the folder into place, so a download never sees
/// a result half there. The time to download starts now, however long the compression took.
pub(crate) fn keep_result(
    state: &AppState,
    id: &str,
    scratch: tempfile::TempDir,
    name: &str,
    result: ResultFile,
) -> std::io::Result<String> {
    result.persist(&scratch.path().join(name))?;
    let expiry = now_seconds() + state.config.result_ttl.as_secs();
    std::fs::rename(scratch.path(), state.config.data_dir.join(format!("{expiry}-{id}")))?;
    // The folder has moved: there is nothing left for the guard to delete.
    let _ = scratch.keep();
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

/// Where a result is stored: the connector `store.id` names, and the checked target.
pub(crate) type Destination = (compressor_storage::Connector, compressor_storage::Target);

/// An error answer waiting for the request id it will carry.
pub(crate) type DeferredError = Box<dyn FnOnce(&str) -> Response + Send>;

/// The connector `store.id` names and the validated target, or the 422 that says why not.
pub(crate) fn resolve_store(state: &AppState, store: &StoreOptions) -> Result<Destination, DeferredError> {
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

/// Uploads the file at `path` to the destination, read in parts; the object's URL.
pub(crate) async fn store_result(
    (connector, target): Destination,
    name: &str,
    path: &Path,
    mime: &str,
) -> Result<String, DeferredError> {
    let storage = Storage::open(&connector, &Keychain).map_err(|e| -> DeferredError {
        let message = e.to_string();
        Box::new(move |id: &str| error_response(StatusCode::INTERNAL_SERVER_ERROR, id, message, Vec::new()))
    })?;
    let key = target.key_for(name, true);
    let cancel = AtomicBool::new(false);
    storage.upload_file(&target, &key, path, mime, &Transfer::quiet(&cancel)).await.map_err(|e| -> DeferredError {
        let message = format!("storing the result failed: {e}");
        Box::new(move |id: &str| error_response(StatusCode::BAD_GATEWAY, id, message, Vec::new()))
    })
}

/// What a `Range` header asks of a result.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    /// No range, or one this server does not serve as a part (several ranges, bad syntax):
    /// the whole result, which HTTP allows as the answer to any range.
    Whole,
    /// The bytes from `first` to `last`, both included and inside the result.
    Part { first: u64, last: u64 },
    /// A range that starts past the end (416).
    Unsatisfiable,
}

/// A byte position of a range: digits only (`parse` would take a `+`). A number too large
/// for `u64` is past the end of any file.
fn position(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse().unwrap_or(u64::MAX))
}

/// The part of a result `length` bytes long that `range` (a `Range` header's value) asks
/// for: `bytes=first-last`, `bytes=first-` or `bytes=-suffix_length` (RFC 9110, 14.1.2).
fn wanted(range: &str, length: u64) -> Wanted {
    let Some((unit, set)) = range.split_once('=') else { return Wanted::Whole };
    if !unit.trim().eq_ignore_ascii_case("bytes") || set.contains(',') {
        return Wanted::Whole;
    }
    let Some((first_text, last_text)) = set.trim().split_once('-') else { return Wanted::Whole };
    let (first_text, last_text) = (first_text.trim(), last_text.trim());
    match (position(first_text), position(last_text)) {
        (None, Some(suffix)) if first_text.is_empty() => {
            if suffix == 0 || length == 0 {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part { first: length - suffix.min(length), last: length - 1 }
            }
        }
        (Some(first), None) if last_text.is_empty() => {
            if first >= length {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part { first, last: length - 1 }
            }
        }
        (Some(first), Some(last)) if first <= last => {
            if first >= length {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part { first, last: last.min(length - 1) }
            }
        }
        _ => Wanted::Whole,
    }
}

/// How much of a result is read at a time for a download.
const CHUNK_BYTES: usize = 64 * 1024;

/// The next `count` bytes of `file`, read a chunk at a time as the client takes them: a 2 GB
/// result costs one chunk of memory, not 2 GB.
fn chunks(
    file: tokio::fs::File,
    count: u64,
) -> impl futures::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static {
    futures::stream::try_unfold(file.take(count), |mut reader| async move {
        let mut chunk = bytes::BytesMut::with_capacity(CHUNK_BYTES);
        if reader.read_buf(&mut chunk).await? == 0 {
            return Ok(None);
        }
        Ok::<_, std::io::Error>(Some((chunk.freeze(), reader)))
    })
}

/// Downloads a result, streamed from disk; one byte range when asked (`Range: bytes=a-b`).
/// The URL is the capability: no API key.
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
        (status = 206, description = "The byte range a `Range` header asked for (`Content-Range` says which)", content_type = "*/*", body = Vec<u8>),
        (status = 404, description = "No such result, or it has expired", content_type = "text/plain", body = String),
        (status = 416, description = "The range asked for starts past the result's end", content_type = "text/plain", body = String),
    )
)]
pub(crate) async fn download(
    State(state): State<Arc<AppState>>,
    UrlPath((expiry, id, name)): UrlPath<(String, String, String)>,
    request_headers: HeaderMap,
) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "no such result, or it has expired").into_response();
    let Ok(expiry_seconds) = expiry.parse::<u64>() else { return not_found() };
    if expiry_seconds <= now_seconds() || uuid::Uuid::parse_str(&id).is_err() || sanitize_name(&name) != name {
        return not_found();
    }
    let path = state.config.data_dir.join(format!("{expiry}-{id}")).join(&name);
    let Ok(mut file) = tokio::fs::File::open(&path).await else { return not_found() };
    let length = match file.metadata().await {
        Ok(metadata) if metadata.is_file() => metadata.len(),
        _ => return not_found(),
    };
    let detected = tokio::task::spawn_blocking(move || compressor_engine::detect_file(&path)).await;
    let mime = match detected {
        Ok(Ok(Some(format))) => format.mime(),
        _ => "application/octet-stream",
    };
    // A range is for the same file only: with `If-Range` (a validator this server never
    // gives out) the whole result is the answer.
    let range = request_headers.get(header::RANGE).filter(|_| !request_headers.contains_key(header::IF_RANGE));
    let asked = range.and_then(|value| value.to_str().ok()).map_or(Wanted::Whole, |value| wanted(value, length));
    let (status, first, count) = match asked {
        Wanted::Whole => (StatusCode::OK, 0, length),
        Wanted::Part { first, last } => (StatusCode::PARTIAL_CONTENT, first, last - first + 1),
        Wanted::Unsatisfiable => {
            let mut response =
                (StatusCode::RANGE_NOT_SATISFIABLE, "the range starts past the result's end").into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{length}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return response;
        }
    };
    if first > 0 && file.seek(std::io::SeekFrom::Start(first)).await.is_err() {
        return not_found();
    }
    let mut response = Response::new(Body::from_stream(chunks(file, count)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(value) = HeaderValue::from_str(&format!("bytes {first}-{}/{length}", first + count - 1)) {
            headers.insert(header::CONTENT_RANGE, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        let part = |first, last| Wanted::Part { first, last };
        assert_eq!(wanted("bytes=0-9", 100), part(0, 9));
        assert_eq!(wanted("bytes=90-200", 100), part(90, 99), "the end is clamped to the result's");
        assert_eq!(wanted("bytes=95-", 100), part(95, 99));
        assert_eq!(wanted("bytes=-10", 100), part(90, 99));
        assert_eq!(wanted("bytes=-500", 100), part(0, 99), "a suffix longer than the result is all of it");
        assert_eq!(wanted("Bytes = 5-5", 100), part(5, 5));
        assert_eq!(wanted("bytes=100-", 100), Wanted::Unsatisfiable);
        assert_eq!(wanted("bytes=99999999999999999999999-", 100), Wanted::Unsatisfiable);
        assert_eq!(wanted("bytes=-0", 100), Wanted::Unsatisfiable);
        assert_eq!(wanted("bytes=0-", 0), Wanted::Unsatisfiable);
        for ignored in ["bytes=9-0", "bytes=0-1,5-6", "items=0-9", "bytes=-", "bytes=+1-2", "bytes=a-b", "0-9"] {
            assert_eq!(wanted(ignored, 100), Wanted::Whole, "{ignored}");
        }
    }
}
