//! The Compressor API 1.0's JSON, as the seeds show it: a result (`id`, `url`, `input`,
//! `output`), an error (`success: false`, `status`, `id`, `message`, and `errors` for 422),
//! and the request bodies, split into the API's own fields and the per-kind options.

use std::collections::BTreeMap;

use compressor_engine::{FieldError, FileFacts, Options, Report};
use compressor_storage::StoreOptions;
use serde::{Deserialize, Serialize};

/// A finished compression.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiResult {
    /// The request's id.
    pub id: String,
    /// Where the result is: a temporary download URL, or the object's URL with `store`.
    pub url: String,
    /// `compressed`, or `skipped` when the input could not be made smaller (then `output`
    /// describes the input, which is what `url` serves).
    pub status: compressor_engine::Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub input: FileFacts,
    pub output: FileFacts,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Only for a damaged input compressed with `"damaged": "salvage"`: what is wrong with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damage: Option<String>,
}

impl ApiResult {
    pub fn new(id: &str, url: String, report: Report) -> ApiResult {
        ApiResult {
            id: id.to_string(),
            url,
            status: report.status,
            reason: report.reason,
            input: report.input,
            output: report.output,
            actions: report.actions,
            warnings: report.warnings,
            damage: report.damage,
        }
    }
}

/// Every error answer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiError {
    pub success: bool,
    pub status: u16,
    pub id: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// A long job's answer while it runs (202), at once and from `GET /1.0/jobs/<id>`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobRunning {
    /// The job's id: the id of the request that started it.
    pub id: String,
    pub status: JobState,
    /// Where to follow the job (`GET`, with `?wait=SECONDS` to long-poll).
    pub url: String,
    /// Fraction done, 0.0 to 1.0.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub progress: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Running,
}

/// The fields of a request that are the API's own, not compression options.
pub(crate) const CONTROL_FIELDS: [&str; 5] = ["url", "headers", "store", "webhook", "async"];

/// A request's parts: the API's own fields, and the compression options.
#[derive(Debug, Clone, Default)]
pub struct RequestParts {
    pub url: Option<String>,
    /// Headers sent when fetching `url`.
    pub headers: BTreeMap<String, String>,
    pub store: Option<StoreOptions>,
    /// Answer at once with a job to follow (`GET /1.0/jobs/<id>`), whatever the size.
    pub asynchronous: bool,
    /// Where the final answer is POSTed, signed (implies `asynchronous`).
    pub webhook: Option<String>,
    pub options: Options,
}

/// Splits a JSON request body. Every problem is a field error, as a 422 reports them.
pub fn parse_request(json: &str) -> Result<RequestParts, Vec<FieldError>> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|_| {
        vec![FieldError {
            field: "body".into(),
            message: "Incoming request body does not contain a valid JSON data".into(),
        }]
    })?;
    let mut map = match value {
        serde_json::Value::Object(map) => map,
        // `null` (as a form's `options` may be) asks for nothing.
        serde_json::Value::Null => serde_json::Map::new(),
        _ => return Err(vec![FieldError { field: "body".into(), message: "must be a JSON object".into() }]),
    };
    // A field set to null is a field not given, as the OpenAPI document's optional fields say.
    map.retain(|_, value| !value.is_null());
    let mut errors = Vec::new();
    let mut parts = RequestParts::default();
    let control: BTreeMap<&str, serde_json::Value> =
        CONTROL_FIELDS.iter().filter_map(|name| map.remove(*name).map(|v| (*name, v))).collect();
    if let Some(url) = control.get("url") {
        match url.as_str() {
            Some(url) if !url.trim().is_empty() => parts.url = Some(url.trim().to_string()),
            _ => errors.push(FieldError { field: "url".into(), message: "must be a URL string".into() }),
        }
    }
    if let Some(headers) = control.get("headers") {
        match serde_json::from_value::<BTreeMap<String, String>>(headers.clone()) {
            Ok(headers) => parts.headers = headers,
            Err(_) => errors.push(FieldError { field: "headers".into(), message: "must map names to strings".into() }),
        }
    }
    if let Some(value) = control.get("async") {
        match value.as_bool() {
            Some(flag) => parts.asynchronous = flag,
            None => errors.push(FieldError { field: "async".into(), message: "must be true or false".into() }),
        }
    }
    if let Some(webhook) = control.get("webhook") {
        match webhook.as_str() {
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                parts.webhook = Some(url.to_string())
            }
            _ => errors
                .push(FieldError { field: "webhook".into(), message: "must be an http:// or https:// URL".into() }),
        }
    }
    if let Some(store) = control.get("store") {
        match StoreOptions::from_json(&store.to_string()) {
            Ok(store) => parts.store = Some(store),
            Err(store_errors) => errors.extend(store_errors),
        }
    }
    match Options::from_json(&serde_json::Value::Object(map).to_string()) {
        Ok(options) => parts.options = options,
        Err(invalid) => errors.extend(invalid.errors),
    }
    if errors.is_empty() {
        Ok(parts)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_fetch_body_splits_into_parts() {
        let parts = parse_request(
            r#"{"url": "https://www.website.com/image.jpg",
                "image": {"resize": {"width": 640, "height": 480, "mode": "fit"}},
                "store": {"id": "c", "bucket": "my-bucket", "region": "eu-central-1", "path": "processed/image.jpg",
                          "headers": {"Cache-Control": "max-age=2592000000"}}}"#,
        )
        .unwrap();
        assert_eq!(parts.url.as_deref(), Some("https://www.website.com/image.jpg"));
        assert_eq!(parts.store.unwrap().bucket.as_deref(), Some("my-bucket"));
        assert!(parts.options.image.resize.is_some());
    }

    #[test]
    fn bad_bodies_are_field_errors() {
        assert_eq!(
            parse_request("{nope").unwrap_err()[0].message,
            "Incoming request body does not contain a valid JSON data"
        );
        let errors =
            parse_request(r#"{"url": 5, "video": {"resize": {"mode": "auto"}}, "store": {"colour": 1}}"#).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "store.colour", "video.resize"]);
        assert_eq!(errors[2].message, "When mode='auto', at least one of 'width' or 'height' must be specified.");
    }
}
