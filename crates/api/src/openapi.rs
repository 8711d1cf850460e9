//! The OpenAPI 3.1 document `compressor serve` answers at `/openapi.json`, generated from the
//! wire types and the handlers' annotations (utoipa), so it cannot drift from what the
//! server parses and answers. The contract test (schemathesis) runs against it.

use std::collections::BTreeMap;

use compressor_engine::options::{ArchiveOptions, AudioOptions, DamagedInput, ImageOptions, PdfOptions, VideoOptions};
use compressor_storage::StoreOptions;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, OpenApi as Document, Ref, ResponseBuilder, ServerBuilder, Type};
use utoipa::{Modify, OpenApi, ToSchema};

/// `POST /1.0/upload`'s form.
#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Describes the form; the handler reads it field by field.
pub struct UploadForm {
    /// The file to compress; its name is kept for the result.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    file: Vec<u8>,
    /// The options, as JSON.
    options: Option<UploadOptions>,
}

/// An upload's options: `/1.0/fetch`'s fields without `url` and `headers`.
#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Describes the JSON; `wire::parse_request` reads it.
pub struct UploadOptions {
    /// Store the result through a connector instead of a temporary download URL.
    store: Option<StoreOptions>,
    /// Where the final answer is POSTed, signed `X-Compressor-Signature: sha256=HMAC(key, body)`.
    #[schema(format = "uri")]
    webhook: Option<String>,
    /// Answer at once with a job (202) whatever the input's size.
    #[serde(rename = "async")]
    asynchronous: Option<bool>,
    image: Option<ImageOptions>,
    pdf: Option<PdfOptions>,
    video: Option<VideoOptions>,
    audio: Option<AudioOptions>,
    archive: Option<ArchiveOptions>,
    /// A damaged input is refused (422) unless `salvage` asks for what can be read of it.
    damaged: Option<DamagedInput>,
}

/// `POST /1.0/fetch`'s body: the API's own fields and the per-kind compression options.
/// (The server splits the two in `wire::parse_request`; a unit test keeps these lists equal
/// to that split.)
#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Describes the body; `wire::parse_request` reads it.
pub struct FetchRequest {
    /// The file's public http(s) URL.
    #[schema(format = "uri", example = "https://www.example.com/document.pdf")]
    url: String,
    /// Headers sent when fetching `url` (an `Authorization` for a private origin).
    headers: Option<BTreeMap<String, String>>,
    /// Store the result through a connector instead of a temporary download URL.
    store: Option<StoreOptions>,
    /// Where the final answer is POSTed, signed `X-Compressor-Signature: sha256=HMAC(key, body)`.
    #[schema(format = "uri")]
    webhook: Option<String>,
    /// Answer at once with a job (202) whatever the input's size.
    #[serde(rename = "async")]
    asynchronous: Option<bool>,
    image: Option<ImageOptions>,
    pdf: Option<PdfOptions>,
    video: Option<VideoOptions>,
    audio: Option<AudioOptions>,
    archive: Option<ArchiveOptions>,
    /// A damaged input is refused (422) unless `salvage` asks for what can be read of it.
    damaged: Option<DamagedInput>,
}

/// The answers both compressing routes (`upload`, `fetch`) share.
#[derive(utoipa::IntoResponses)]
// Describes answers, never built (the handlers answer with `Response`s): neither its unused
// variants nor their sizes matter.
#[allow(dead_code, clippy::large_enum_variant)]
pub enum CompressionAnswers {
    /// Compressed; or `skipped` when the input was already as small as it gets
    #[response(status = 200)]
    Done(crate::wire::ApiResult),
    /// A long job (over 32 MB, `async`, or a `webhook`): follow its `url`
    #[response(status = 202)]
    Queued(crate::wire::JobRunning),
    /// The compression failed on the server
    #[response(status = 500)]
    Failed(crate::wire::ApiError),
    /// Storing the result through the connector failed
    #[response(status = 502)]
    NotStored(crate::wire::ApiError),
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Compressor API",
        version = "1.0",
        description = "Compresses images, PDFs, video, audio and archives. Self-hosted with `compressor serve`.",
        license(name = "GPL-3.0-or-later", identifier = "GPL-3.0-or-later")
    ),
    paths(
        crate::routes::upload,
        crate::routes::fetch,
        crate::jobs::job_status,
        crate::jobs::cancel_job,
        crate::results::download
    ),
    modifiers(&Guarded),
    security(("api_key" = []))
)]
struct ApiDoc;

/// What the guard in front of every `/1.0/` route adds: Basic auth with the key as user,
/// the request id and rate-limit headers on every answer, 401 and 429.
struct Guarded;

fn header(description: &str, kind: Type) -> utoipa::openapi::header::Header {
    HeaderBuilder::new().schema(ObjectBuilder::new().schema_type(kind)).description(Some(description)).build()
}

fn error_answer(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ApiError"))).build())
        .build()
}

impl Modify for Guarded {
    fn modify(&self, document: &mut Document) {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                utoipa::openapi::security::HttpBuilder::from(Http::new(HttpAuthScheme::Basic))
                    .description(Some("The API key as the user name, no password (`curl -u your-api-key:`)"))
                    .build(),
            ),
        );
        for (path, item) in document.paths.paths.iter_mut() {
            if !path.starts_with("/1.0/") {
                continue;
            }
            for operation in [&mut item.get, &mut item.post, &mut item.delete].into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                responses.insert("401".into(), error_answer("Missing or invalid API key").into());
                let mut limited = error_answer("Over the key's rate limit; retry after `Retry-After` seconds");
                limited.headers.insert("Retry-After".into(), header("Seconds until the window resets", Type::Integer));
                responses.insert("429".into(), limited.into());
                for (status, response) in responses.iter_mut() {
                    let utoipa::openapi::RefOr::T(response) = response else { continue };
                    response.headers.insert("X-Request-Id".into(), header("The request's id", Type::String));
                    if status != "401" {
                        for (name, description) in [
                            ("X-RateLimit-Limit", "Requests allowed per window"),
                            ("X-RateLimit-Remaining", "Requests left in this window"),
                            ("X-RateLimit-Reset", "Seconds until the window resets"),
                        ] {
                            response.headers.insert(name.into(), header(description, Type::Integer));
                        }
                    }
                }
            }
        }
    }
}

/// The document, with `public_url` as its server.
pub fn document(public_url: &str) -> Document {
    let mut document = ApiDoc::openapi();
    document.servers = Some(vec![ServerBuilder::new().url(public_url.trim_end_matches('/')).build()]);
    document
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::PartialSchema;

    fn properties(schema: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>) -> Vec<String> {
        let value = serde_json::to_value(schema).unwrap();
        let mut names: Vec<String> = value["properties"].as_object().unwrap().keys().cloned().collect();
        names.sort();
        names
    }

    /// The documented fetch body is exactly what the server reads: its own fields plus the
    /// engine's options.
    #[test]
    fn the_fetch_body_lists_every_field_the_server_reads() {
        let mut expected: Vec<String> = crate::wire::CONTROL_FIELDS.iter().map(|f| f.to_string()).collect();
        expected.extend(properties(compressor_engine::Options::schema()));
        expected.sort();
        assert_eq!(properties(FetchRequest::schema()), expected);
        expected.retain(|field| field != "url" && field != "headers");
        assert_eq!(properties(UploadOptions::schema()), expected);
    }

    #[test]
    fn every_route_is_documented_with_its_guard() {
        let document = serde_json::to_value(document("http://127.0.0.1:1")).unwrap();
        let paths: Vec<&String> = document["paths"].as_object().unwrap().keys().collect();
        assert_eq!(paths, ["/1.0/fetch", "/1.0/jobs/{id}", "/1.0/upload", "/{expiry}/{id}/{name}"]);
        let upload = &document["paths"]["/1.0/upload"]["post"]["responses"];
        assert!(upload["429"]["headers"]["Retry-After"].is_object());
        assert!(upload["200"]["headers"]["X-RateLimit-Remaining"].is_object());
        assert_eq!(document["components"]["securitySchemes"]["api_key"]["scheme"], "basic");
        // The download URL is its own capability: no key.
        assert_eq!(document["paths"]["/{expiry}/{id}/{name}"]["get"]["security"], serde_json::json!([{}]));
        assert_eq!(document["servers"][0]["url"], "http://127.0.0.1:1");
        // Cancelling a job is guarded as reading it is.
        let cancel = &document["paths"]["/1.0/jobs/{id}"]["delete"]["responses"];
        assert!(cancel["401"].is_object() && cancel["429"].is_object(), "{cancel}");
    }
}
