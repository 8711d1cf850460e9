//! The API's client: remote mode. A file goes up with `POST /1.0/upload`, the result comes
//! down from its URL and is checked against the reported SHA-256; the pipeline then writes
//! it like a local result. 429 waits for `Retry-After`; 5xx and dropped connections are
//! retried with backoff.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use compressor_engine::{Compressed, EngineError, Options, Report, Status};
use reqwest::blocking::multipart::{Form, Part};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

use crate::wire::{ApiError, ApiResult};

const ATTEMPTS: u32 = 5;
/// The longest `Retry-After` honoured before giving up on a file.
const MAX_WAIT: Duration = Duration::from_secs(120);

#[derive(Clone)]
pub struct Client {
    base: String,
    key: String,
    http: reqwest::blocking::Client,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Client").field("base", &self.base).finish()
    }
}

fn unavailable(message: impl Into<String>) -> EngineError {
    EngineError::Unavailable(message.into())
}

impl Client {
    pub fn new(base: &str, key: &str) -> Result<Client, EngineError> {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(600))
            .build()
            .map_err(|e| unavailable(format!("cannot start the HTTP client: {e}")))?;
        Ok(Client { base: base.trim_end_matches('/').to_string(), key: key.to_string(), http })
    }

    /// Sends one request, retrying as the API asks: waits out 429s (`Retry-After`), backs off
    /// on 5xx and connection failures.
    fn send(
        &self,
        cancel: &AtomicBool,
        request: impl Fn() -> reqwest::blocking::RequestBuilder,
    ) -> Result<reqwest::blocking::Response, EngineError> {
        let mut backoff = Duration::from_millis(500);
        for attempt in 1..=ATTEMPTS {
            if cancel.load(Ordering::SeqCst) {
                return Err(EngineError::Cancelled);
            }
            let last = attempt == ATTEMPTS;
            match request().send() {
                Ok(response) if response.status() == StatusCode::TOO_MANY_REQUESTS && !last => {
                    let wait = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                        .map(Duration::from_secs)
                        .unwrap_or(backoff);
                    if wait > MAX_WAIT {
                        return Err(unavailable(format!("{}: rate limited for {} s", self.base, wait.as_secs())));
                    }
                    std::thread::sleep(wait);
                }
                Ok(response) if response.status().is_server_error() && !last => std::thread::sleep(backoff),
                Ok(response) => return Ok(response),
                // A server that refuses early (a 429 before the body is read) may close the
                // connection while the file is still going up: a transport error, retried.
                Err(err) if (err.is_connect() || err.is_timeout() || err.is_request() || err.is_body()) && !last => {
                    std::thread::sleep(backoff)
                }
                Err(err) => return Err(unavailable(format!("cannot reach {}: {err}", self.base))),
            }
            backoff *= 2;
        }
        Err(unavailable(format!("{} did not answer", self.base)))
    }
}

impl compressor_pipeline::RemoteCompressor for Client {
    /// Compresses on the server; the same answer the local engine would give.
    fn compress(
        &self,
        input: &[u8],
        name: &str,
        options: &Options,
        cancel: &AtomicBool,
    ) -> Result<Compressed, EngineError> {
        let options_json = serde_json::to_string(options).map_err(|e| unavailable(e.to_string()))?;
        let response = self.send(cancel, || {
            let form = Form::new()
                .part("file", Part::bytes(input.to_vec()).file_name(name.to_string()))
                .text("options", options_json.clone());
            self.http.post(format!("{}/1.0/upload", self.base)).basic_auth(&self.key, Some("")).multipart(form)
        })?;
        let mut status = response.status();
        let mut text = response.text().map_err(|e| unavailable(format!("reading the answer failed: {e}")))?;
        // A long job: follow it by long polling until it has its answer.
        while status == StatusCode::ACCEPTED {
            let job: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| unavailable(format!("the job answer is not JSON: {e}")))?;
            let url = job["url"].as_str().ok_or_else(|| unavailable("the job answer has no url"))?.to_string();
            let polled =
                self.send(cancel, || self.http.get(format!("{url}?wait=30")).basic_auth(&self.key, Some("")))?;
            status = polled.status();
            text = polled.text().map_err(|e| unavailable(format!("reading the job failed: {e}")))?;
        }
        if !status.is_success() {
            let message = match serde_json::from_str::<ApiError>(&text) {
                Ok(error) if !error.errors.is_empty() => {
                    let fields: Vec<String> =
                        error.errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
                    format!("{} ({})", error.message, fields.join("; "))
                }
                Ok(error) => error.message,
                Err(_) => format!("the server answered {status}"),
            };
            return Err(EngineError::Refused(format!("the server refused it: {message}")));
        }
        let result: ApiResult = serde_json::from_str(&text)
            .map_err(|e| unavailable(format!("the server's answer is not a result: {e}")))?;
        let download = self.send(cancel, || self.http.get(&result.url))?;
        if !download.status().is_success() {
            return Err(unavailable(format!("downloading the result failed: {}", download.status())));
        }
        let bytes = download.bytes().map_err(|e| unavailable(format!("downloading the result failed: {e}")))?.to_vec();
        if hex::encode(Sha256::digest(&bytes)) != result.output.hashes.sha256 {
            return Err(unavailable("the downloaded result's SHA-256 differs from the server's report"));
        }
        let report = Report {
            status: result.status,
            reason: result.reason,
            input: result.input,
            output: result.output,
            actions: result.actions,
            warnings: result.warnings,
            damage: result.damage,
        };
        let output = (report.status == Status::Compressed).then_some(bytes);
        Ok(Compressed { report, output })
    }
}
