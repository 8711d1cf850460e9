//! `compressor serve` answering the Compressor API documentation's own requests: each curl
//! example of the seeds is run as written, with only the host, the API key and the
//! connector ids changed, and the answers are checked for the documented shape and for
//! what really happened (the downloaded result's hash, the object on the S3 server).

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};
use support::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).map(str::trim)
}

fn assert_result_shape(result: &Value) {
    for field in ["id", "url"] {
        assert!(result[field].is_string(), "{field} in {result}");
    }
    for side in ["input", "output"] {
        for field in ["name", "type", "mime"] {
            assert!(result[side][field].is_string(), "{side}.{field} in {result}");
        }
        assert!(result[side]["size"].is_u64() && result[side]["hashes"]["sha256"].is_string(), "{result}");
    }
}

/// The introduction's quick upload and quick fetch, and the download URL they return.
#[test]
fn the_introduction_examples_work_as_written() {
    let secrets = SecretService::start();
    let cli = Cli::new(&secrets);
    let server = Server::start(&cli, &["--allow-private-fetch"]);
    let user = format!("{}:", server.key);

    // curl https://api.compressor.app/1.0/upload -X POST -u your-api-key: -F "file=@/path/to/image.jpg"
    let image = fixture("photo.jpg");
    let (status, headers, body) = curl(&[
        &format!("{}/1.0/upload", server.base),
        "-X",
        "POST",
        "-u",
        &user,
        "-F",
        &format!("file=@{}", image.display()),
    ]);
    assert_eq!(status, 200, "{body}");
    let result = json(&body);
    assert_result_shape(&result);
    assert_eq!(result["input"]["name"], "photo.jpg");
    assert_eq!(result["input"]["type"], "image");
    assert!(result["output"]["size"].as_u64() < result["input"]["size"].as_u64());
    assert_eq!(header(&headers, "x-request-id"), result["id"].as_str());
    assert_eq!(header(&headers, "x-ratelimit-limit"), Some("100000"));
    assert_eq!(header(&headers, "x-ratelimit-remaining"), Some("99999"));
    // The temporary URL is shaped /<expiry>/<id>/<name> and serves exactly the output.
    let url = result["url"].as_str().unwrap();
    let path: Vec<&str> = url.trim_start_matches(&server.base).trim_start_matches('/').split('/').collect();
    assert_eq!(path.len(), 3, "{url}");
    let expiry: u64 = path[0].parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!((now + 7100..=now + 7300).contains(&expiry), "two hours from now: {expiry}");
    assert_eq!(path[1], result["id"].as_str().unwrap());
    let downloaded = tempfile::NamedTempFile::new().unwrap();
    let fetched =
        std::process::Command::new("curl").args(["-sf", "-o"]).arg(downloaded.path()).arg(url).status().unwrap();
    assert!(fetched.success(), "the download URL answers");
    assert_eq!(
        hex::encode(Sha256::digest(fs::read(downloaded.path()).unwrap())),
        result["output"]["hashes"]["sha256"].as_str().unwrap()
    );
    // A byte range of it (a resumed download): 206, those bytes of the whole, and which they are.
    let whole = fs::read(downloaded.path()).unwrap();
    let part = tempfile::NamedTempFile::new().unwrap();
    let ranged = std::process::Command::new("curl")
        .args(["-s", "-D", "-", "-H", "Range: bytes=0-9", "-o"])
        .arg(part.path())
        .arg(url)
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&ranged.stdout).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 206"), "{head}");
    assert_eq!(header(&head, "content-range"), Some(format!("bytes 0-9/{}", whole.len()).as_str()), "{head}");
    assert_eq!(header(&head, "content-length"), Some("10"), "{head}");
    assert_eq!(fs::read(part.path()).unwrap(), whole[..10].to_vec());
    let (status, headers, _) = curl(&[url, "-H", "Range: bytes=100000000-"]);
    assert_eq!(status, 416, "a range past the end: {headers}");
    assert_eq!(header(&headers, "content-range"), Some(format!("bytes */{}", whole.len()).as_str()));

    // curl https://api.compressor.app/1.0/fetch -X POST -u your-api-key: -H "Content-Type: application/json"
    //   -d '{"url": "https://www.example.com/document.pdf"}'
    let site = tempfile::tempdir().unwrap();
    fs::copy(fixture("documents/report.docx"), site.path().join("report.docx")).unwrap();
    let files = HttpFiles::start(site.path());
    let body = format!(
        r#"{{
    "url": "{}/report.docx"
  }}"#,
        files.base
    );
    let (status, _, answer) = curl(&[
        &format!("{}/1.0/fetch", server.base),
        "-X",
        "POST",
        "-u",
        &user,
        "-H",
        "Content-Type: application/json",
        "-d",
        &body,
    ]);
    assert_eq!(status, 200, "{answer}");
    let result = json(&answer);
    assert_result_shape(&result);
    assert_eq!(result["input"]["name"], "report.docx");
    assert_eq!(result["input"]["type"], "document");
    let stderr = server.stop();
    assert!(!stderr.contains("test-api-key"), "the key is never logged: {stderr}");
}

/// Errors as documented: 401, 422 (with the exact validation message), 429 with its
/// headers and body, and fetches of private addresses refused.
#[test]
fn errors_and_rate_limits_are_as_documented() {
    let secrets = SecretService::start();
    let cli = Cli::new(&secrets);
    let server = Server::start(&cli, &["--rate-limit", "3"]);
    let user = format!("{}:", server.key);
    let fetch = format!("{}/1.0/fetch", server.base);

    let (status, headers, body) = curl(&[&fetch, "-X", "POST", "-u", "wrong-key:", "-d", "{}"]);
    assert_eq!(status, 401);
    let error = json(&body);
    assert_eq!((error["success"].as_bool(), error["status"].as_u64()), (Some(false), Some(401)));
    assert_eq!(header(&headers, "x-request-id"), error["id"].as_str());
    let (status, _, _) = curl(&[&fetch, "-X", "POST", "-d", "{}"]);
    assert_eq!(status, 401, "no key");

    let (status, _, body) =
        curl(&[&fetch, "-X", "POST", "-u", &user, "-H", "Content-Type: application/json", "-d", "{not json"]);
    assert_eq!(status, 422);
    assert_eq!(json(&body)["message"], "Incoming request body does not contain a valid JSON data");

    let (status, _, body) = curl(&[
        &fetch,
        "-X",
        "POST",
        "-u",
        &user,
        "-d",
        r#"{"url": "http://example.invalid/a.mp4", "video": {"resize": {"mode": "auto"}}}"#,
    ]);
    assert_eq!(status, 422);
    let error = json(&body);
    assert_eq!(error["message"], "Validation failed for one or more parameters");
    assert_eq!(error["errors"][0]["field"], "video.resize");
    assert_eq!(
        error["errors"][0]["message"],
        "When mode='auto', at least one of 'width' or 'height' must be specified."
    );

    // Loopback is private: refused unless the server allows it.
    let (status, _, body) =
        curl(&[&fetch, "-X", "POST", "-u", &user, "-d", r#"{"url": "http://127.0.0.1:9/secret.jpg"}"#]);
    assert_eq!(status, 422);
    assert!(json(&body)["errors"][0]["message"].as_str().unwrap().contains("private"), "{body}");

    // The fourth request with the key is over the limit of three (refused keys do not count).
    let (status, headers, body) = curl(&[&fetch, "-X", "POST", "-u", &user, "-d", "{}"]);
    assert_eq!(status, 429, "{body}");
    let error = json(&body);
    let retry: u64 = header(&headers, "retry-after").unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 900);
    assert_eq!(error["message"], format!("Rate limit exceeded. Retry in {retry} seconds."));
    assert_eq!(header(&headers, "x-ratelimit-remaining"), Some("0"));
    assert_eq!(header(&headers, "x-ratelimit-limit"), Some("3"));
    assert_eq!((error["success"].as_bool(), error["status"].as_u64()), (Some(false), Some(429)));
}

/// The storage pages' fetch examples (S3, B2, Spaces), with a resize and `store`: the
/// answer's `url` is the object's, and the object on the S3 server is the resized image.
#[test]
fn the_storage_examples_store_into_buckets() {
    let secrets = SecretService::start();
    let moto = Moto::start();
    let cli = Cli::new(&secrets);
    let site = tempfile::tempdir().unwrap();
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/colorful-cups.jpg"),
        site.path().join("image.jpg"),
    )
    .unwrap();
    let files = HttpFiles::start(site.path());
    python(
        "import boto3, sys\ns3 = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id='a', aws_secret_access_key='b', region_name='us-east-1')\ns3.create_bucket(Bucket='my-bucket')",
        &[&moto.endpoint],
    );
    let mut connectors = Vec::new();
    for provider in ["s3", "b2", "spaces"] {
        let id = assert_ok(&cli.run_with_stdin(
            &[
                "connectors",
                "add",
                "--name",
                provider,
                "--provider",
                provider,
                "--endpoint",
                &moto.endpoint,
                "--access-key-id",
                "AKIATEST",
                "--secret-stdin",
            ],
            "secret",
        ));
        connectors.push((provider, id.trim().to_string()));
    }
    let server = Server::start(&cli, &["--allow-private-fetch"]);
    let user = format!("{}:", server.key);
    for ((provider, id), (region, path)) in connectors.iter().zip([
        ("eu-central-1", "processed/image.jpg"),
        ("eu-central-003", "assets/image.jpg"),
        ("ams3", "assets/image.jpg"),
    ]) {
        let body = format!(
            r#"{{
    "url": "{}/image.jpg",
    "image": {{
      "resize": {{
        "width": 640,
        "height": 480,
        "mode": "fit"
      }}
    }},
    "store": {{
      "id": "{id}",
      "bucket": "my-bucket",
      "region": "{region}",
      "path": "{path}",
      "headers": {{
        "Cache-Control": "max-age=2592000000"
      }}
    }}
  }}"#,
            files.base
        );
        let (status, _, answer) = curl(&[
            &format!("{}/1.0/fetch", server.base),
            "-X",
            "POST",
            "-u",
            &user,
            "-H",
            "Content-Type: application/json",
            "-d",
            &body,
        ]);
        assert_eq!(status, 200, "{provider}: {answer}");
        let result = json(&answer);
        assert_result_shape(&result);
        assert_eq!(result["url"], format!("{}/my-bucket/{path}", moto.endpoint), "{provider}");
        assert_eq!((result["output"]["width"].as_u64(), result["output"]["height"].as_u64()), (Some(640), Some(400)));
        let facts = python(
            "import boto3, sys, json\ns3 = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id='a', aws_secret_access_key='b', region_name='us-east-1')\nh = s3.head_object(Bucket='my-bucket', Key=sys.argv[2])\nprint(json.dumps([h['ContentLength'], h.get('CacheControl')]))",
            &[&moto.endpoint, path],
        );
        assert_eq!(json(&facts), serde_json::json!([result["output"]["size"], "max-age=2592000000"]), "{provider}");
    }
}

/// Remote mode: `compress --remote` sends each file to the server and writes what comes
/// back exactly as a local run would; 429s are waited out (Retry-After), not failed.
#[test]
fn remote_mode_gives_the_local_results() {
    let secrets = SecretService::start();
    let cli = Cli::new(&secrets);
    // One request per two seconds: the second and third files meet a 429 first.
    let server = Server::start(&cli, &["--rate-limit", "1", "--rate-window", "2"]);
    let out = assert_ok(&cli.run_with_stdin(&["remote", "add", &server.base, "--key-stdin"], &server.key));
    assert!(out.contains("keychain"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    for name in ["photo.jpg", "photo.png", "gray.png"] {
        fs::copy(fixture(name), input.join(name)).unwrap();
    }
    let input_arg = input.to_string_lossy().into_owned();
    let remote_out = dir.path().join("remote");
    let local_out = dir.path().join("local");
    let started = std::time::Instant::now();
    let remote = cli.run(&[
        "compress",
        &input_arg,
        "--out",
        &remote_out.to_string_lossy(),
        "--remote",
        &server.base,
        "-j",
        "1",
        "--json",
    ]);
    let waited = started.elapsed();
    assert_ok(&remote);
    assert_ok(&cli.run(&["compress", &input_arg, "--out", &local_out.to_string_lossy(), "--json"]));
    for name in ["photo.jpg", "photo.png", "gray.png"] {
        let remote_file = fs::read(remote_out.join(name)).unwrap();
        let local_file = fs::read(local_out.join(name)).unwrap();
        assert_eq!(Sha256::digest(&remote_file), Sha256::digest(&local_file), "{name}: the same bytes as a local run");
    }
    assert!(waited >= std::time::Duration::from_secs(2), "the 429s were waited out ({waited:?})");
    let lines: Vec<Value> = String::from_utf8_lossy(&remote.stdout).lines().map(json).collect();
    assert!(lines.iter().all(|l| l["status"] != "failed"), "{lines:?}");

    // A wrong key fails each file with the server's message; nothing is written.
    assert_ok(&cli.run_with_stdin(&["remote", "add", &server.base, "--key-stdin"], "not-the-key"));
    let refused_out = dir.path().join("refused");
    let refused = cli.run(&["compress", &input_arg, "--out", &refused_out.to_string_lossy(), "--remote", &server.base]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("Missing or invalid API key"), "{}", text(&refused));
    assert!(!refused_out.exists() || fs::read_dir(&refused_out).unwrap().count() == 0);
    // The API key lives in the keychain only: not in the settings, state or any output.
    assert_secret_nowhere(&server.key, cli.home.path(), &format!("{}{}", text(&remote), text(&refused)));
}

/// Long jobs: asked for (`"async": true`) or over 32 MB, the answer is a job at once; its
/// URL, long-polled, gives the result. Remote mode follows jobs by itself.
#[test]
fn long_jobs_are_followed_by_long_polling() {
    let secrets = SecretService::start();
    let cli = Cli::new(&secrets);
    let server = Server::start(&cli, &[]);
    let user = format!("{}:", server.key);
    let image = fixture("photo.png");
    let (status, _, body) = curl(&[
        &format!("{}/1.0/upload", server.base),
        "-X",
        "POST",
        "-u",
        &user,
        "-F",
        &format!("file=@{}", image.display()),
        "-F",
        r#"options={"async": true}"#,
    ]);
    assert_eq!(status, 202, "{body}");
    let job = json(&body);
    let job_url = job["url"].as_str().unwrap().to_string();
    assert_eq!(job_url, format!("{}/1.0/jobs/{}", server.base, job["id"].as_str().unwrap()));
    let (status, _, body) = curl(&[&format!("{job_url}?wait=30"), "-u", &user]);
    assert_eq!(status, 200, "{body}");
    let result = json(&body);
    assert_result_shape(&result);
    assert_eq!(result["id"], job["id"]);
    assert_eq!(result["input"]["name"], "photo.png");
    // Another key cannot read it (there is one key: an unknown id answers the same 404).
    let (status, _, _) = curl(&[&format!("{}/1.0/jobs/{}", server.base, uuid_like()), "-u", &user]);
    assert_eq!(status, 404);

    // A real video's job reports its progress; each long poll returns when it moves.
    let media = std::env::var_os("COMPRESSOR_MEDIA").map(PathBuf::from).expect("COMPRESSOR_MEDIA (scripts/test.sh)");
    let video = media.join("video/Megamind.avi");
    let (status, _, body) = curl(&[
        &format!("{}/1.0/upload", server.base),
        "-u",
        &user,
        "-F",
        &format!("file=@{}", video.display()),
        "-F",
        r#"options={"async": true}"#,
    ]);
    assert_eq!(status, 202, "{body}");
    let job_url = json(&body)["url"].as_str().unwrap().to_string();
    let mut seen = Vec::new();
    let result = loop {
        let (status, _, body) = curl(&[&format!("{job_url}?wait=10"), "-u", &user]);
        match status {
            202 => seen.push(json(&body)["progress"].as_f64().unwrap()),
            200 => break json(&body),
            other => panic!("the video job answered {other}: {body}"),
        }
        assert!(seen.len() < 500, "the job never finished: {seen:?}");
    };
    assert_eq!(result["output"]["type"], "video", "{result}");
    assert!(seen.windows(2).all(|pair| pair[0] <= pair[1]), "progress went back: {seen:?}");
    assert!(seen.iter().any(|p| *p > 0.0 && *p < 1.0), "no progress between start and end: {seen:?}");

    // Remote mode with a 33 MB file: the server answers with a job, the client follows it.
    assert_ok(&cli.run_with_stdin(&["remote", "add", &server.base, "--key-stdin"], &server.key));
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("in").join("big.gz");
    fs::create_dir_all(big.parent().unwrap()).unwrap();
    incompressible_gz(&big, 33, 0x9E37_79B9_7F4A_7C15u64);
    let out = dir.path().join("out");
    let output = cli.run(&[
        "compress",
        &big.to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
        "--remote",
        &server.base,
        "--json",
    ]);
    let line = json(assert_ok(&output).trim());
    assert_eq!(line["status"], "skipped", "random data cannot be made smaller: {line}");
    assert_eq!(Sha256::digest(fs::read(out.join("big.gz")).unwrap()), Sha256::digest(fs::read(&big).unwrap()));
}

fn uuid_like() -> &'static str {
    "00000000-0000-4000-8000-000000000000"
}

const RECEIVER: &str = r#"
import hashlib, hmac, json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, log, key = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        attempt = self.headers["X-Compressor-Attempt"]
        with open(log, "a") as f:
            f.write(json.dumps({"attempt": attempt, "valid": hmac.compare_digest(expected, self.headers["X-Compressor-Signature"]),
                                "job": self.headers["X-Compressor-Job"], "body": json.loads(body)}) + "\n")
        # The first delivery fails: the server must try again.
        self.send_response(503 if attempt == "1" else 200)
        self.end_headers()
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", port), Hook).serve_forever()
"#;

/// A webhook gets the job's final answer, signed with the caller's key, and is retried
/// when the receiver fails.
#[test]
fn webhooks_are_signed_and_retried() {
    let secrets = SecretService::start();
    let cli = Cli::new(&secrets);
    let server = Server::start(&cli, &["--allow-private-fetch"]);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("hooks.jsonl");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut receiver = std::process::Command::new("python3")
        .args(["-c", RECEIVER, &port.to_string()])
        .arg(&log)
        .arg(&server.key)
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let user = format!("{}:", server.key);
    let (status, _, body) = curl(&[
        &format!("{}/1.0/upload", server.base),
        "-X",
        "POST",
        "-u",
        &user,
        "-F",
        &format!("file=@{}", fixture("photo.jpg").display()),
        "-F",
        &format!(r#"options={{"webhook": "http://127.0.0.1:{port}/hook"}}"#),
    ]);
    assert_eq!(status, 202, "a webhook makes the request asynchronous: {body}");
    let job = json(&body);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let deliveries = loop {
        let lines: Vec<Value> = fs::read_to_string(&log).unwrap_or_default().lines().map(json).collect();
        if lines.len() >= 2 || std::time::Instant::now() > deadline {
            break lines;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let _ = receiver.kill();
    let _ = receiver.wait();
    assert_eq!(deliveries.len(), 2, "one failed delivery, then one that worked: {deliveries:?}");
    for (delivery, attempt) in deliveries.iter().zip(["1", "2"]) {
        assert_eq!(delivery["attempt"], attempt);
        assert_eq!(delivery["valid"], true, "signed with the caller's key");
        assert_eq!(delivery["job"], job["id"]);
        assert_eq!(delivery["body"]["id"], job["id"]);
        assert_result_shape(&delivery["body"]);
    }
}

/// A damaged upload is refused with the reason (422), and salvaged only when asked, with the
/// damage in the answer; a tiled, planar TIFF that makes its decoder panic is a 422 with the
/// decoder named, and the server keeps answering.
#[test]
fn damaged_uploads_are_refused_or_salvaged_with_the_damage_said() {
    let secrets = SecretService::start();
    let cli = Cli::new(&secrets);
    let server = Server::start(&cli, &[]);
    let user = format!("{}:", server.key);
    let upload = format!("{}/1.0/upload", server.base);
    let cut = tempfile::tempdir().unwrap();
    let photo = fs::read(fixture("photo.jpg")).unwrap();
    let cut_photo = cut.path().join("cut.jpg");
    fs::write(&cut_photo, &photo[..photo.len() * 2 / 3]).unwrap();
    let file = format!("file=@{}", cut_photo.display());

    let (status, _, body) = curl(&[&upload, "-X", "POST", "-u", &user, "-F", &file]);
    assert_eq!(status, 422, "{body}");
    let message = json(&body)["message"].as_str().unwrap_or_default().to_string();
    assert!(message.contains("cut.jpg") && message.contains("the JPEG data ends early"), "{message}");

    let salvage = r#"options={"damaged": "salvage"}"#;
    let (status, _, body) = curl(&[&upload, "-X", "POST", "-u", &user, "-F", &file, "-F", salvage]);
    assert_eq!(status, 200, "{body}");
    let result = json(&body);
    let damage = result["damage"].as_str().unwrap_or_default();
    assert!(damage.contains("% of the picture is missing"), "{result}");
    assert!(result["warnings"][0].as_str().unwrap_or_default().contains("damaged"), "{result}");

    let tiff = cut.path().join("tiled.tif");
    let made = std::process::Command::new("/usr/bin/convert")
        .arg(fixture("photo.png"))
        .args(["-define", "tiff:tile-geometry=64x64", "-interlace", "Plane", "-compress", "None"])
        .arg(&tiff)
        .status()
        .expect("ImageMagick's convert (scripts/setup.sh installs it)");
    assert!(made.success());
    let (status, _, body) = curl(&[&upload, "-X", "POST", "-u", &user, "-F", &format!("file=@{}", tiff.display())]);
    if status != 200 {
        assert_eq!(status, 422, "{body}");
        assert!(json(&body)["message"].as_str().unwrap_or_default().contains("TIFF"), "{body}");
    }
    let (status, _, body) =
        curl(&[&upload, "-X", "POST", "-u", &user, "-F", &format!("file=@{}", fixture("photo.jpg").display())]);
    assert_eq!(status, 200, "the server still answers: {body}");
}
