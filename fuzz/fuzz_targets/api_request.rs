//! The API's request parsing on any bytes: as a JSON body (`wire::parse_request`, what
//! `/1.0/fetch` and an upload's `options` go through), and as a multipart body posted to
//! `/1.0/upload` through the server's real router. Never a panic; every refusal names a
//! field; every answer is the API's JSON, and never a 5xx (a 500 from a file that decodes
//! but cannot be encoded would be a bug too).
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

struct Server {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    _data: tempfile::TempDir,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let data = tempfile::tempdir().expect("a temporary folder");
        let config = compressor_api::ServerConfig {
            api_keys: vec!["fuzz".into()],
            data_dir: data.path().to_path_buf(),
            ..Default::default()
        };
        // One worker: long jobs (`"async": true`) finish in the background between inputs.
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let router = compressor_api::router(config, "127.0.0.1:1".parse().unwrap());
        Server { runtime, router, _data: data }
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(errors) = compressor_api::wire::parse_request(text) {
            assert!(!errors.is_empty());
            assert!(errors.iter().all(|e| !e.field.is_empty() && !e.message.is_empty()), "{errors:?}");
        }
    }
    let server = server();
    let request = Request::post("/1.0/upload")
        .header("authorization", "Basic ZnV6ejo=") // fuzz:
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(Body::from(data.to_vec()))
        .unwrap();
    let response = server.runtime.block_on(server.router.clone().oneshot(request)).unwrap();
    let status = response.status();
    let body = server.runtime.block_on(axum::body::to_bytes(response.into_body(), usize::MAX)).unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&body).expect("every answer is JSON");
    assert!(!status.is_server_error(), "{status}: {answer}");
    assert!(answer["id"].is_string(), "{answer}");
});
