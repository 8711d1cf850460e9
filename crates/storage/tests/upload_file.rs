//! `Storage::upload_file` against real servers: moto_server (S3) and Azurite (Azure Blob
//! Storage), each started on a free loopback port and stopped when dropped, as the CLI's
//! storage tests start them, and a local folder. A generated file just over
//! MULTIPART_THRESHOLD goes up in parts read from disk; what landed is checked with
//! independent clients (boto3, azure-storage-blob) or read back from the folder.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use compressor_storage::{
    Connector, Provider, Storage, StorageError, StoreOptions, Transfer, MULTIPART_THRESHOLD, PART_SIZE,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for_port(port: u16, what: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited at start ({status})");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not listen on port {port} within 30 s");
}

fn spawn(command: &mut Command, what: &str) -> Child {
    command.spawn().unwrap_or_else(|e| {
        panic!("cannot start {what}: {e}; scripts/setup.sh installs it (the README's test command runs it)")
    })
}

/// A server the test started, killed (and reaped) when dropped, so a failing test leaves
/// no server behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Moto {
    _child: Running,
    endpoint: String,
}

impl Moto {
    fn start() -> Moto {
        let port = free_port();
        let mut child = spawn(
            Command::new("moto_server")
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            "moto_server",
        );
        wait_for_port(port, "moto_server", &mut child);
        Moto { _child: Running(child), endpoint: format!("http://127.0.0.1:{port}") }
    }
}

const AZURITE_ACCOUNT: &str = "devstoreaccount1";
const AZURITE_KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

struct Azurite {
    _child: Running,
    endpoint: String,
    _data: tempfile::TempDir,
}

impl Azurite {
    fn start() -> Azurite {
        let port = free_port();
        let data = tempfile::tempdir().unwrap();
        let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/servers/node_modules/.bin/azurite-blob");
        let mut child = spawn(
            Command::new(&bin)
                .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string(), "--location"])
                .arg(data.path())
                .args(["--skipApiVersionCheck", "--disableTelemetry", "--silent"])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            "azurite-blob (npm --prefix tests/servers install)",
        );
        wait_for_port(port, "azurite", &mut child);
        Azurite { _child: Running(child), endpoint: format!("http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"), _data: data }
    }

    fn connection_string(&self) -> String {
        format!(
            "DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};BlobEndpoint={};",
            self.endpoint
        )
    }
}

/// Runs a Python snippet (an independent client) and returns its stdout; fails the test
/// with its stderr if it fails.
fn python(script: &str, args: &[&str]) -> String {
    let output = Command::new("python3").arg("-c").arg(script).args(args).output().expect("python3 is installed");
    assert!(output.status.success(), "python check failed:\n{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

const BOTO: &str = r#"
import boto3, hashlib, json, sys
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id="AKIATEST", aws_secret_access_key="x", region_name="us-east-1")
"#;

const AZ: &str = r#"
import hashlib, json, sys
from azure.storage.blob import BlobServiceClient
service = BlobServiceClient.from_connection_string(sys.argv[1])
"#;

/// Three parts: two whole ones and a last one that is not a multiple of anything.
const LARGE: usize = MULTIPART_THRESHOLD + PART_SIZE / 2 + 4321;

/// A file of `size` pseudo-random bytes (xorshift64: no two parts alike, so a part sent
/// twice or out of order changes the digest); returns its path and content.
fn generated_file(dir: &Path, name: &str, size: usize) -> (PathBuf, Vec<u8>) {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut content = Vec::with_capacity(size + 8);
    while content.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        content.extend_from_slice(&state.to_le_bytes());
    }
    content.truncate(size);
    let path = dir.join(name);
    std::fs::write(&path, &content).unwrap();
    (path, content)
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The progress a three-part upload reports: after each part, the total last.
fn progress_of_three_parts() -> Vec<(u64, u64)> {
    let total = LARGE as u64;
    vec![(PART_SIZE as u64, total), (2 * PART_SIZE as u64, total), (total, total)]
}

/// Uploads `path` as `key`, returning the URL and every progress report.
async fn upload_file(
    storage: &Storage,
    options: &StoreOptions,
    key: &str,
    path: &Path,
) -> (Result<String, StorageError>, Vec<(u64, u64)>) {
    let target = storage.target(options).unwrap();
    let cancel = AtomicBool::new(false);
    let reports = Mutex::new(Vec::new());
    let progress = |done: u64, total: u64| reports.lock().unwrap().push((done, total));
    let transfer = Transfer { progress: &progress, cancel: &cancel };
    let result = storage.upload_file(&target, key, path, "video/mp4", &transfer).await;
    let reports = reports.lock().unwrap().clone();
    (result, reports)
}

/// Uploads `path` as `key`, cancelling from the first progress report (after the first
/// part): the upload must stop there and store nothing.
async fn upload_file_cancelled_after_a_part(storage: &Storage, key: &str, path: &Path) {
    let target = storage.target(&StoreOptions::default()).unwrap();
    let cancel = AtomicBool::new(false);
    let cancel_now = |_: u64, _: u64| cancel.store(true, Ordering::SeqCst);
    let transfer = Transfer { progress: &cancel_now, cancel: &cancel };
    let result = storage.upload_file(&target, key, path, "video/mp4", &transfer).await;
    assert!(matches!(result, Err(StorageError::Cancelled)), "{result:?}");
}

/// S3: a large file goes up in parts, whole, with its ACL, metadata and headers, exactly as
/// the same bytes from memory do; a small one in one request; a cancelled one leaves no
/// object and no unfinished multipart upload behind.
#[tokio::test]
async fn upload_file_to_s3_in_parts_read_from_disk() {
    let moto = Moto::start();
    python(&format!("{BOTO}\ns3.create_bucket(Bucket='videos')"), &[&moto.endpoint]);
    let connector = Connector {
        id: "moto".into(),
        name: "moto".into(),
        provider: Provider::S3,
        endpoint: Some(moto.endpoint.clone()),
        region: Some("us-east-1".into()),
        bucket: Some("videos".into()),
        access_key_id: "AKIATEST".into(),
    };
    let storage = Storage::with_secret(&connector, "test-secret".into()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (large, content) = generated_file(dir.path(), "large.bin", LARGE);
    let (small, small_content) = generated_file(dir.path(), "small.bin", 100_003);
    let options = StoreOptions {
        metadata: [("origin".to_string(), "test".to_string())].into(),
        headers: [("Cache-Control".to_string(), "max-age=60".to_string())].into(),
        ..Default::default()
    };

    let (url, progress) = upload_file(&storage, &options, "big/large.bin", &large).await;
    assert_eq!(url.unwrap(), format!("{}/videos/big/large.bin", moto.endpoint));
    assert_eq!(progress, progress_of_three_parts());
    let (url, progress) = upload_file(&storage, &options, "small.bin", &small).await;
    assert_eq!(url.unwrap(), format!("{}/videos/small.bin", moto.endpoint));
    assert_eq!(progress, [(100_003, 100_003)]);
    // The same bytes through `upload`: the same parts make the same multipart ETag.
    let target = storage.target(&options).unwrap();
    let cancel = AtomicBool::new(false);
    storage
        .upload(&target, "big/from-memory.bin", content.clone().into(), "video/mp4", &Transfer::quiet(&cancel))
        .await
        .unwrap();
    upload_file_cancelled_after_a_part(&storage, "big/cancelled.bin", &large).await;

    let facts = python(
        &format!(
            "{BOTO}\n{}",
            r#"
def facts(key):
    head = s3.head_object(Bucket="videos", Key=key)
    body = s3.get_object(Bucket="videos", Key=key)["Body"]
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: body.read(1 << 20), b""):
        digest.update(chunk)
        size += len(chunk)
    grants = s3.get_object_acl(Bucket="videos", Key=key)["Grants"]
    return {"etag": head["ETag"], "length": head["ContentLength"], "size": size, "sha256": digest.hexdigest(),
        "type": head["ContentType"], "cache": head.get("CacheControl"), "meta": head["Metadata"],
        "public": any(g["Grantee"].get("URI", "").endswith("/AllUsers") and g["Permission"] == "READ" for g in grants)}
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="videos").get("Contents", [])]
unfinished = len(s3.list_multipart_uploads(Bucket="videos").get("Uploads", []))
print(json.dumps({"large": facts("big/large.bin"), "small": facts("small.bin"),
    "memory": facts("big/from-memory.bin"), "keys": keys, "unfinished": unfinished}))
"#
        ),
        &[&moto.endpoint],
    );
    let facts: Value = serde_json::from_str(&facts).unwrap();
    let large_facts = &facts["large"];
    assert_eq!(large_facts["size"], LARGE, "{facts}");
    assert_eq!(large_facts["length"], LARGE, "{facts}");
    assert_eq!(large_facts["sha256"], sha256(&content), "{facts}");
    // A multipart object's ETag ends in -<parts>.
    assert!(large_facts["etag"].as_str().unwrap().ends_with("-3\""), "{facts}");
    assert_eq!(large_facts["etag"], facts["memory"]["etag"], "{facts}");
    assert_eq!(large_facts["type"], "video/mp4", "{facts}");
    assert_eq!(large_facts["cache"], "max-age=60", "{facts}");
    assert_eq!(large_facts["meta"]["origin"], "test", "{facts}");
    assert_eq!(large_facts["public"], true, "{facts}");
    let small_facts = &facts["small"];
    assert_eq!(small_facts["size"], 100_003, "{facts}");
    assert_eq!(small_facts["sha256"], sha256(&small_content), "{facts}");
    assert!(!small_facts["etag"].as_str().unwrap().contains('-'), "one request: {facts}");
    assert_eq!(small_facts["meta"]["origin"], "test", "{facts}");
    assert_eq!(small_facts["public"], true, "{facts}");
    assert_eq!(facts["keys"], serde_json::json!(["big/from-memory.bin", "big/large.bin", "small.bin"]), "{facts}");
    assert_eq!(facts["unfinished"], 0, "{facts}");

    // A file that is not there, or not a file, is named.
    let (missing, _) = upload_file(&storage, &options, "missing.bin", &dir.path().join("missing.bin")).await;
    assert!(missing.as_ref().is_err_and(|e| e.to_string().contains("missing.bin")), "{missing:?}");
    let (folder, _) = upload_file(&storage, &options, "folder.bin", dir.path()).await;
    assert!(matches!(folder, Err(StorageError::Invalid(_))), "{folder:?}");
}

/// Azure: a large file goes up as blocks read from disk, whole, with its content type.
#[tokio::test]
async fn upload_file_to_azure_in_parts_read_from_disk() {
    let azurite = Azurite::start();
    python(&format!("{AZ}\nservice.create_container('videos')"), &[&azurite.connection_string()]);
    let connector = Connector {
        id: "azurite".into(),
        name: "azurite".into(),
        provider: Provider::Azure,
        endpoint: Some(azurite.endpoint.clone()),
        region: None,
        bucket: Some("videos".into()),
        access_key_id: AZURITE_ACCOUNT.into(),
    };
    let storage = Storage::with_secret(&connector, AZURITE_KEY.into()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (large, content) = generated_file(dir.path(), "large.bin", LARGE);

    let (url, progress) = upload_file(&storage, &StoreOptions::default(), "big/large.bin", &large).await;
    assert_eq!(url.unwrap(), format!("{}/videos/big/large.bin", azurite.endpoint));
    assert_eq!(progress, progress_of_three_parts());
    upload_file_cancelled_after_a_part(&storage, "big/cancelled.bin", &large).await;

    let facts = python(
        &format!(
            "{AZ}\n{}",
            r#"
container = service.get_container_client("videos")
blob = container.get_blob_client("big/large.bin")
p = blob.get_blob_properties()
body = blob.download_blob().readall()
print(json.dumps({"size": p.size, "read": len(body), "sha256": hashlib.sha256(body).hexdigest(),
    "type": p.content_settings.content_type, "names": [b.name for b in container.list_blobs()]}))
"#
        ),
        &[&azurite.connection_string()],
    );
    let facts: Value = serde_json::from_str(&facts).unwrap();
    assert_eq!(facts["size"], LARGE, "{facts}");
    assert_eq!(facts["read"], LARGE, "{facts}");
    assert_eq!(facts["sha256"], sha256(&content), "{facts}");
    assert_eq!(facts["type"], "video/mp4", "{facts}");
    assert_eq!(facts["names"], serde_json::json!(["big/large.bin"]), "{facts}");
}

/// A local folder: the file is copied in, whole, with progress as the other providers
/// report it; a cancelled copy leaves nothing, not even its temporary file.
#[tokio::test]
async fn upload_file_to_a_local_folder_copies_it() {
    let root = tempfile::tempdir().unwrap();
    let connector = Connector {
        id: "folder".into(),
        name: "folder".into(),
        provider: Provider::Local,
        endpoint: Some(root.path().to_string_lossy().into_owned()),
        region: None,
        bucket: None,
        access_key_id: String::new(),
    };
    let storage = Storage::with_secret(&connector, String::new()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (large, content) = generated_file(dir.path(), "large.bin", LARGE);

    let (url, progress) = upload_file(&storage, &StoreOptions::default(), "big/large.bin", &large).await;
    assert!(url.unwrap().starts_with("file://"));
    assert_eq!(progress, progress_of_three_parts());
    let stored = std::fs::read(root.path().join("big/large.bin")).unwrap();
    assert_eq!(stored.len(), LARGE);
    assert_eq!(sha256(&stored), sha256(&content));
    assert_eq!(std::fs::read(&large).unwrap(), content, "the source file is left as it was");

    upload_file_cancelled_after_a_part(&storage, "big/cancelled.bin", &large).await;
    let mut names: Vec<String> = std::fs::read_dir(root.path().join("big"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["large.bin"]);
}
