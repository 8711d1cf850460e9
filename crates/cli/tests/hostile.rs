//! `compressor serve` under hostile input: stalled clients (slow-loris), malformed and
//! oversize requests, names built to escape its folders, fetches aimed at private addresses
//! directly and through redirects, and 10,000 requests from one key. The server must stay
//! up, answer each request with the documented error, keep to its folders and log no key.

mod support;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;
use support::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

fn address(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_string()
}

fn basic(key: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{key}:")))
}

/// Sends `request` as raw bytes and reads the answer until the server closes the connection.
fn raw(address: &str, request: &[u8]) -> (u16, String) {
    exchange(address, request, false)
}

/// As `raw`, then closes the sending side: a body shorter than announced ends there.
fn raw_then_hang_up(address: &str, request: &[u8]) -> (u16, String) {
    exchange(address, request, true)
}

fn exchange(address: &str, request: &[u8], hang_up: bool) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(request).unwrap();
    if hang_up {
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default();
    (status, body)
}

/// A multipart upload with `file` named `file_name` (raw bytes: it may be invalid UTF-8).
fn upload_request(key: &str, file_name: &[u8], content: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"");
    body.extend_from_slice(file_name);
    body.extend_from_slice(b"\"\r\nContent-Type: application/octet-stream\r\n\r\n");
    body.extend_from_slice(content);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    let mut request = format!(
        "POST /1.0/upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: {}\r\n\
         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {}\r\n\r\n",
        basic(key),
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    request
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body:?}"))
}

/// An API error body: `success: false`, the status, an id and a message.
fn assert_api_error(status: u16, body: &str, expected: u16, words: &str) {
    assert_eq!(status, expected, "{body}");
    let error = json(body);
    assert_eq!((error["success"].as_bool(), error["status"].as_u64()), (Some(false), Some(expected as u64)), "{body}");
    assert!(error["id"].is_string(), "{body}");
    let text = error.to_string();
    assert!(text.contains(words), "{words:?} not in {body}");
}

#[test]
fn stalled_clients_lose_their_connections_and_others_are_served() {
    let secrets = SecretService::start();
    let cli = Cli::new(&secrets);
    let server = Server::start(&cli, &["--client-timeout", "2"]);
    let address = address(&server);

    // 200 clients that never finish their headers, and 20 that stop halfway through a body.
    let mut stalled = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(&address).unwrap();
        stream.write_all(b"POST /1.0/upload HTTP/1.1\r\nHost: x\r\nX-Slow: ").unwrap();
        stalled.push(("headers", stream));
    }
    for _ in 0..20 {
        let mut stream = TcpStream::connect(&address).unwrap();
        let head = format!(
            "POST /1.0/upload HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\n\
             Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 100000\r\n\r\n--XyZ\r\n",
            basic(&server.key)
        );
        stream.write_all(head.as_bytes()).unwrap();
        stalled.push(("body", stream));
    }

    // Meanwhile a real upload is served.
    let (status, _, body) = curl(&[
        &format!("{}/1.0/upload", server.base),
        "-u",
        &format!("{}:", server.key),
        "-F",
        &format!("file=@{}", fixture("photo.png").display()),
    ]);
    assert_eq!(status, 200, "{body}");

    // Each stalled client is cut off once it has been silent for the client timeout; one
    // stalled in its body is told why.
    let started = Instant::now();
    let mut body_answers = Vec::new();
    for (stage, mut stream) in stalled {
        stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut answer = Vec::new();
        let closed = match stream.read_to_end(&mut answer) {
            Ok(_) => true,
            Err(err) => err.kind() == std::io::ErrorKind::ConnectionReset,
        };
        assert!(closed, "a client stalled in its {stage} was still connected after {:?}", started.elapsed());
        if stage == "body" {
            body_answers.push(String::from_utf8_lossy(&answer).into_owned());
        }
    }
    for answer in &body_answers {
        let status: u16 = answer.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
        assert!(status == 0 || (400..500).contains(&status), "a stalled body was answered {answer}");
    }
    assert!(started.elapsed() < Duration::from_secs(15), "stalled clients held on for {:?}", started.elapsed());

    // The server is still there.
    let (status, _, _) = curl(&[&format!("{}/openapi.json", server.base)]);
    assert_eq!(status, 200);
}

#[test]
fn malformed_requests_and_escaping_names_get_clear_answers() {
    let secrets = SecretService::start();
    let cli = Cli::new(&secrets);
    let server = Server::start(&cli, &["--max-size-mb", "1"]);
    let address = address(&server);
    let key = server.key.clone();
    let user = format!("{key}:");
    let upload = format!("{}/1.0/upload", server.base);
    let fetch = format!("{}/1.0/fetch", server.base);
    let png = fs::read(fixture("photo.png")).unwrap();

    // Not multipart at all, no boundary, a body cut short, garbage between boundaries.
    let (status, _, body) = curl(&[&upload, "-u", &user, "-H", "Content-Type: text/plain", "-d", "hello"]);
    assert_api_error(status, &body, 422, "multipart/form-data");
    let (status, _, body) = curl(&[&upload, "-u", &user, "-H", "Content-Type: multipart/form-data", "-d", "x"]);
    assert_api_error(status, &body, 422, "multipart/form-data");
    let mut truncated = upload_request(&key, b"photo.png", &png);
    truncated.truncate(truncated.len() - 12);
    // The client hangs up mid-body: nobody is left to answer (hyper drops the connection),
    // or, if the answer is quicker, it says why; never a 5xx.
    let (status, body) = raw_then_hang_up(&address, &truncated);
    if status != 0 {
        assert_api_error(status, &body, 400, "ended early");
    }
    let parts = "--XyZ\r\n\x01\x02 no headers here\r\n--XyZ--";
    let garbage = format!(
        "POST /1.0/upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: {}\r\n\
         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {}\r\n\r\n{parts}",
        basic(&key),
        parts.len()
    );
    let (status, body) = raw(&address, garbage.as_bytes());
    assert_api_error(status, &body, 400, "malformed");

    // Over the size limit (1 MB here): 413, as JSON.
    let work = tempfile::tempdir().unwrap();
    let big = work.path().join("big.gz");
    incompressible_gz(&big, 2, 7);
    let (status, _, body) = curl(&[&upload, "-u", &user, "-F", &format!("file=@{}", big.display())]);
    assert_api_error(status, &body, 413, "");

    // Names: invalid UTF-8, paths climbing out. Each result is named safely and served from
    // the server's own folder. Control characters cannot be in a header at all.
    let (status, body) = raw(&address, &upload_request(&key, b"a\x01b\x7f.png", &png));
    assert_api_error(status, &body, 400, "malformed");
    for (name, expected) in [
        (&b"\xff\xfe\x80photo.png"[..], None),
        (&b"../../../../escape.png"[..], Some("escape.png")),
        (&b"..\\..\\windows.png"[..], Some("windows.png")),
        (&b".."[..], Some("file")),
    ] {
        let (status, body) = raw(&address, &upload_request(&key, name, &png));
        assert_eq!(status, 200, "{}: {body}", String::from_utf8_lossy(name));
        let result = json(&body);
        let output = result["output"]["name"].as_str().unwrap();
        assert!(!output.contains(['/', '\\']) && !output.chars().any(char::is_control), "{output:?}");
        if let Some(expected) = expected {
            assert_eq!(result["input"]["name"], expected, "{body}");
        }
        let (status, _, downloaded) = curl(&[result["url"].as_str().unwrap()]);
        assert_eq!(status, 200, "{body}");
        assert!(!downloaded.is_empty());
    }
    assert!(!Path::new("/escape.png").exists() && !Path::new("/tmp/escape.png").exists());

    // Download URLs cannot climb out of the results folder to the key file beside it.
    let (_, _, body) = curl(&[&upload, "-u", &user, "-F", &format!("file=@{}", fixture("photo.png").display())]);
    let url = json(&body)["url"].as_str().unwrap().to_string();
    let (prefix, _) = url.rsplit_once('/').unwrap();
    for attempt in ["..%2F..%2Fkeys", "..%2Fkeys", "%2E%2E%2F%2E%2E%2Fkeys", "..", "."] {
        let (status, _, body) = curl(&["--path-as-is", &format!("{prefix}/{attempt}")]);
        assert_eq!(status, 404, "{attempt}: {body}");
        assert!(!body.contains(&key));
    }
    let (status, _, _) = curl(&["--path-as-is", &format!("{prefix}/../../keys")]);
    assert_eq!(status, 404);

    // JSON: not UTF-8, nested beyond reason, a list for an object.
    let (status, body) = raw(
        &address,
        &[
            format!(
                "POST /1.0/fetch HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: {}\r\nContent-Length: 4\r\n\r\n",
                basic(&key)
            )
            .into_bytes(),
            b"\xff\xfe{}".to_vec(),
        ]
        .concat(),
    );
    assert_api_error(status, &body, 422, "valid JSON");
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_file = work.path().join("deep.json");
    fs::write(&deep_file, &deep).unwrap();
    let (status, _, body) = curl(&[&fetch, "-u", &user, "--data-binary", &format!("@{}", deep_file.display())]);
    assert_api_error(status, &body, 422, "valid JSON");
    let (status, _, body) = curl(&[&fetch, "-u", &user, "-d", r#"{"url": "http://a.example/x.jpg", "image": [1, 2]}"#]);
    assert_api_error(status, &body, 422, "not a list");

    // Not HTTP at all, and a header too large to read: the connection is refused, and the
    // server carries on.
    let (status, _) = raw(&address, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n");
    assert!(status == 0 || status == 400, "{status}");
    let huge_header =
        format!("GET /openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: {}\r\n\r\n", "a".repeat(200_000));
    let (status, _) = raw(&address, huge_header.as_bytes());
    assert!(status == 0 || status == 431, "{status}");

    // Still up; nothing was written outside its results folder; the key never logged.
    let (status, _, _) = curl(&[&format!("{}/openapi.json", server.base)]);
    assert_eq!(status, 200);
    let data = server.data_dir();
    let outside: Vec<PathBuf> = files_under(&data)
        .into_iter()
        .filter(|p| !p.starts_with(data.join("results")) && *p != data.join("keys"))
        .collect();
    assert!(outside.is_empty(), "written outside the results folder: {outside:?}");
    let log = server.stop();
    assert!(!log.contains(&key), "the key reached the log:\n{log}");
}

/// A website on `localhost` that redirects `/away` to a loopback address by number.
struct Redirector {
    _server: Running,
    base: String,
}

impl Redirector {
    fn start(dir: &Path) -> Redirector {
        let port = free_port();
        let script = r#"
import http.server, sys, functools
port, folder = int(sys.argv[1]), sys.argv[2]
class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/away"):
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{port}/photo.png")
            self.end_headers()
        else:
            super().do_GET()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Handler, directory=folder)).serve_forever()
"#;
        let mut child = spawn(
            Command::new("python3")
                .args(["-c", script, &port.to_string()])
                .arg(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            "python3",
        );
        wait_for_port(port, "redirector", &mut child);
        Redirector { _server: Running(child), base: format!("http://localhost:{port}") }
    }
}

#[test]
fn fetch_reaches_only_what_it_is_allowed_to() {
    let secrets = SecretService::start();
    let cli = Cli::new(&secrets);
    // `localhost` is allowed by name; its address, 127.0.0.1, is not.
    let server = Server::start(&cli, &["--allow-fetch-host", "localhost"]);
    let user = format!("{}:", server.key);
    let fetch = format!("{}/1.0/fetch", server.base);
    let site = tempfile::tempdir().unwrap();
    fs::copy(fixture("photo.png"), site.path().join("photo.png")).unwrap();
    let redirector = Redirector::start(site.path());
    let port = redirector.base.rsplit(':').next().unwrap().to_string();

    let (status, _, body) =
        curl(&[&fetch, "-u", &user, "-d", &format!(r#"{{"url": "{}/photo.png"}}"#, redirector.base)]);
    assert_eq!(status, 200, "the allowed host is fetched: {body}");

    for url in [
        format!("http://127.0.0.1:{port}/photo.png"),
        format!("{}/away", redirector.base),
        format!("http://[::1]:{port}/photo.png"),
        format!("http://0.0.0.0:{port}/photo.png"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        format!("http://2130706433:{port}/photo.png"),
    ] {
        let (status, _, body) = curl(&[&fetch, "-u", &user, "-d", &format!(r#"{{"url": "{url}"}}"#)]);
        assert_api_error(status, &body, 422, "private");
    }
    for url in ["file:///etc/passwd", "ftp://example.com/a.png", "gopher://127.0.0.1:70/"] {
        let (status, _, body) = curl(&[&fetch, "-u", &user, "-d", &format!(r#"{{"url": "{url}"}}"#)]);
        assert_api_error(status, &body, 422, "only http and https");
    }

    // store.path cannot climb out of the bucket (a local-folder connector here).
    let bucket = tempfile::tempdir().unwrap();
    let added = cli.run(&[
        "connectors",
        "add",
        "--name",
        "folder",
        "--provider",
        "local",
        "--endpoint",
        &bucket.path().to_string_lossy(),
        "--bucket",
        "b",
    ]);
    let id = assert_ok(&added).trim().to_string();
    let server = Server::start(&cli, &["--allow-fetch-host", "localhost"]);
    let user = format!("{}:", server.key);
    for path in ["../escape.png", "a/../../escape.png", "/etc/escape.png", "a/./b.png"] {
        let body =
            format!(r#"{{"url": "{}/photo.png", "store": {{"id": "{id}", "path": "{path}"}}}}"#, redirector.base);
        let (status, _, answer) = curl(&[&format!("{}/1.0/fetch", server.base), "-u", &user, "-d", &body]);
        assert_api_error(status, &answer, 422, "store.path");
    }
    assert!(files_under(bucket.path()).is_empty(), "{:?}", files_under(bucket.path()));
    assert!(!bucket.path().parent().unwrap().join("escape.png").exists());
}

#[test]
fn ten_thousand_requests_from_one_key() {
    let secrets = SecretService::start();
    let cli = Cli::new(&secrets);
    let server = Server::start(&cli, &["--rate-limit", "9000"]);
    let rss_before = server.rss_kb();
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("requests.curl");
    let mut lines = format!("user = \"{}:\"\nwrite-out = \"%{{http_code}}\\n\"\nsilent\n", server.key);
    for i in 0..10_000 {
        lines.push_str(&format!(
            "url = \"{}/1.0/jobs/{i:08x}-0000-4000-8000-000000000000\"\noutput = \"/dev/null\"\n",
            server.base
        ));
    }
    fs::write(&config, lines).unwrap();
    let started = Instant::now();
    let output = Command::new("curl").arg("-K").arg(&config).output().expect("curl is installed");
    let elapsed = started.elapsed();
    let codes = String::from_utf8_lossy(&output.stdout);
    let count = |code: &str| codes.lines().filter(|line| *line == code).count();
    assert_eq!((count("404"), count("429")), (9000, 1000), "other answers: {:?}", {
        let mut others: Vec<&str> = codes.lines().filter(|l| *l != "404" && *l != "429").collect();
        others.dedup();
        others
    });
    let rss_after = server.rss_kb();
    eprintln!(
        "10,000 requests in {:.1} s ({:.0}/s); server memory {} kB before, {} kB after",
        elapsed.as_secs_f64(),
        10_000.0 / elapsed.as_secs_f64(),
        rss_before,
        rss_after
    );
    // The limiter keeps one entry per key, not per request.
    assert!(rss_after < rss_before + 50_000, "memory grew from {rss_before} to {rss_after} kB");
    let (status, _, _) = curl(&[&format!("{}/openapi.json", server.base)]);
    assert_eq!(status, 200);
}
