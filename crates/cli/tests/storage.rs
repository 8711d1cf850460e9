//! Storage connectors end to end, through the real `compressor` binary, against real
//! servers: moto_server (S3 API) and Azurite (Azure Blob Storage), with secrets in a real
//! Secret Service. What landed is checked with independent clients (boto3,
//! azure-storage-blob, anonymous HTTP GETs), never only with our own code.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;
use sha2::{Digest, Sha256};
use support::*;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY-compressor-test-secret-7f3a";

const BOTO: &str = r#"
import boto3, json, sys, urllib.request, urllib.error, hashlib
endpoint = sys.argv[1]
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="AKIATEST", aws_secret_access_key="x", region_name="us-east-1")
def anonymous_get(url):
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, hashlib.sha256(response.read()).hexdigest()
    except urllib.error.HTTPError as e:
        return e.code, None
"#;

fn boto(moto: &Moto, body: &str, args: &[&str]) -> String {
    let mut all = vec![moto.endpoint.as_str()];
    all.extend_from_slice(args);
    python(&format!("{BOTO}\n{body}"), &all)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

fn sha256_file(path: &Path) -> String {
    hex::encode(Sha256::digest(fs::read(path).unwrap()))
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// `connectors add` for a moto-backed connector; returns its id.
fn add_s3(cli: &Cli, moto: &Moto, provider: &str, region: &str, bucket: &str) -> String {
    let stdout = assert_ok(&cli.run_with_stdin(
        &[
            "connectors",
            "add",
            "--name",
            &format!("{provider} on moto"),
            "--provider",
            provider,
            "--endpoint",
            &moto.endpoint,
            "--region",
            region,
            "--bucket",
            bucket,
            "--access-key-id",
            "AKIATEST",
            "--secret-stdin",
        ],
        &format!("{SECRET}\n"),
    ));
    stdout.trim().to_string()
}

fn input_folder(names: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    for name in names {
        fs::copy(fixture(name), input.join(name)).unwrap();
    }
    (dir, input)
}

/// Everything a user (or script) does with an S3 connector, and what landed on the server.
#[test]
fn s3_connector_add_test_compress_into_bucket_and_remove() {
    let secrets = SecretService::start();
    let moto = Moto::start();
    let cli = Cli::new(&secrets);
    boto(&moto, "s3.create_bucket(Bucket='photos')", &[]);

    let id = add_s3(&cli, &moto, "s3", "eu-central-1", "photos");
    assert_eq!(id.len(), 36, "the new id is printed: {id}");
    // The secret is in the Secret Service (read back with libsecret, not our code)...
    assert_eq!(secrets.lookup(&id).as_deref(), Some(SECRET));
    // ...and not in the settings.
    let settings = fs::read_to_string(cli.config_dir().join("settings.json")).unwrap();
    assert!(settings.contains(&id) && !settings.contains(SECRET));

    let listed = assert_ok(&cli.run(&["connectors", "list"]));
    assert!(listed.contains(&id) && listed.contains("Amazon S3"), "{listed}");
    let tested = assert_ok(&cli.run(&["connectors", "test", &id]));
    assert!(tested.contains("ok: wrote and deleted"), "{tested}");
    let leftovers = boto(&moto, "print(s3.list_objects_v2(Bucket='photos').get('KeyCount', 0))", &[]);
    assert_eq!(leftovers.trim(), "0", "the probe object is deleted");

    // Two files into a prefix with the seed's options.
    let (_dir, input) = input_folder(&["photo.jpg", "photo.png"]);
    let before: Vec<String> = ["photo.jpg", "photo.png"].iter().map(|n| sha256_file(&input.join(n))).collect();
    let store = r#"{"path": "assets/", "class": "standard-ia", "metadata": {"origin": "test"},
        "headers": {"Cache-Control": "max-age=2592000000", "Content-Disposition": "inline"},
        "tags": {"project": "compressor"}}"#;
    let input_arg = input.to_string_lossy().into_owned();
    let output = cli.run(&["compress", &input_arg, "--store", &id, "--store-options", store, "--json"]);
    let lines = json_lines(&assert_ok(&output));
    assert_eq!(lines.len(), 2, "{}", text(&output));
    for line in &lines {
        let url = line["url"].as_str().unwrap();
        let name = Path::new(line["path"].as_str().unwrap()).file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(url, format!("{}/photos/assets/{name}", moto.endpoint), "path-style URL under the endpoint");
        let facts = boto(
            &moto,
            r#"
head = s3.head_object(Bucket="photos", Key=sys.argv[2])
tags = s3.get_object_tagging(Bucket="photos", Key=sys.argv[2])["TagSet"]
status, digest = anonymous_get(sys.argv[3])
print(json.dumps({"class": head.get("StorageClass"), "meta": head["Metadata"], "cache": head.get("CacheControl"),
    "disposition": head.get("ContentDisposition"), "type": head["ContentType"], "size": head["ContentLength"],
    "tags": {t["Key"]: t["Value"] for t in tags}, "status": status, "sha256": digest}))
"#,
            &[&format!("assets/{name}"), url],
        );
        let facts: Value = serde_json::from_str(&facts).unwrap();
        assert_eq!(facts["class"], "STANDARD_IA");
        assert_eq!(facts["meta"]["origin"], "test");
        assert_eq!(facts["cache"], "max-age=2592000000");
        assert_eq!(facts["disposition"], "inline");
        assert_eq!(facts["tags"]["project"], "compressor");
        assert_eq!(facts["type"], line["report"]["output"]["mime"]);
        // public-read by default: anyone can fetch it, and it is exactly the reported output.
        assert_eq!(facts["status"], 200);
        assert_eq!(facts["sha256"], line["report"]["output"]["hashes"]["sha256"]);
        assert_eq!(facts["size"], line["report"]["output"]["size"]);
    }
    let after: Vec<String> = ["photo.jpg", "photo.png"].iter().map(|n| sha256_file(&input.join(n))).collect();
    assert_eq!(before, after, "the originals are untouched");
    assert_eq!(fs::read_dir(&input).unwrap().count(), 2, "nothing is written locally");

    // Two inputs that would become one object: the second is refused, the first kept.
    let (_other, other) = input_folder(&["photo.jpg"]);
    let (_third, third) = input_folder(&["photo.jpg"]);
    let output = cli.run(&["compress", &other.to_string_lossy(), &third.to_string_lossy(), "--store", &id, "--json"]);
    assert!(!output.status.success());
    assert!(text(&output).contains("would overwrite another file's result"), "{}", text(&output));
    let uploaded = json_lines(&String::from_utf8_lossy(&output.stdout)).iter().filter(|l| l["url"].is_string()).count();
    assert_eq!(uploaded, 1);

    // One file with a private ACL and a full key: anonymous reads are refused.
    let photo = input.join("photo.jpg").to_string_lossy().into_owned();
    let output = cli.run(&[
        "compress",
        &photo,
        "--store",
        "s3 on moto",
        "--store-options",
        r#"{"store": {"path": "private/holiday.jpg", "acl": "private"}}"#,
        "--json",
    ]);
    let line = &json_lines(&assert_ok(&output))[0];
    let url = line["url"].as_str().unwrap();
    assert!(url.ends_with("/photos/private/holiday.jpg"), "{url}");
    let status = boto(&moto, "print(anonymous_get(sys.argv[2])[0])", &[url]);
    assert_eq!(status.trim(), "403");

    // Removing the connector removes its secret.
    assert_ok(&cli.run(&["connectors", "remove", &id]));
    assert_eq!(secrets.lookup(&id), None);
    let settings = fs::read_to_string(cli.config_dir().join("settings.json")).unwrap();
    assert!(!settings.contains(&id));
    let output = cli.run(&["compress", &photo, "--store", &id]);
    assert!(!output.status.success() && text(&output).contains("no connector"), "{}", text(&output));

    // After the whole session (add, test, uploads, remove), the secret was never written to
    // the settings, state or logs under the session's home, nor printed.
    assert_secret_nowhere(SECRET, cli.home.path(), &text(&output));
}

/// Wrong values are refused by field before anything is sent; a wrong bucket fails with a
/// clear message; the original is untouched either way; no secret shows anywhere.
#[test]
fn bad_store_options_and_missing_buckets_are_explained() {
    let secrets = SecretService::start();
    let moto = Moto::start();
    let cli = Cli::new(&secrets);
    let b2 = add_s3(&cli, &moto, "b2", "eu-central-003", "my-bucket");
    let mut seen = String::new();

    let (_dir, input) = input_folder(&["photo.jpg"]);
    let photo = input.join("photo.jpg");
    let before = sha256_file(&photo);
    let photo_arg = photo.to_string_lossy().into_owned();
    let output = cli.run(&[
        "compress", &photo_arg, "--store", &b2, "--store-options",
        r#"{"region": "us-east-1", "class": "glacier", "headers": {"Expires": "never"}, "tags": {"a": "b"}, "path": "/abs"}"#,
    ]);
    let message = text(&output);
    seen.push_str(&message);
    assert!(!output.status.success());
    for field in ["store.region", "store.class", "store.headers.Expires", "store.tags", "store.path"] {
        assert!(message.contains(field), "{field} is named: {message}");
    }
    assert!(message.contains("eu-central-003"), "the B2 regions are listed: {message}");

    // The connector's bucket does not exist on the server.
    let output = cli.run(&["compress", &photo_arg, "--store", &b2]);
    let message = text(&output);
    seen.push_str(&message);
    assert!(!output.status.success());
    assert!(message.contains("photo.jpg") && message.contains("\"my-bucket\" does not exist"), "{message}");
    let output = cli.run(&["connectors", "test", &b2]);
    seen.push_str(&text(&output));
    assert!(!output.status.success() && text(&output).contains("does not exist"), "{}", text(&output));
    assert_eq!(sha256_file(&photo), before);

    // An unreachable endpoint is named.
    let dead = assert_ok(&cli.run_with_stdin(
        &[
            "connectors",
            "add",
            "--name",
            "dead",
            "--provider",
            "s3",
            "--endpoint",
            "http://127.0.0.1:9",
            "--region",
            "us-east-1",
            "--bucket",
            "photos",
            "--access-key-id",
            "AKIATEST",
            "--secret-stdin",
        ],
        SECRET,
    ));
    let output = cli.run(&["connectors", "test", dead.trim()]);
    seen.push_str(&text(&output));
    assert!(text(&output).contains("cannot reach http://127.0.0.1:9"), "{}", text(&output));

    // Invalid connectors are refused by field; a secret is never taken from an argument.
    let output = cli.run(&["connectors", "add", "--name", "x", "--provider", "r2", "--access-key-id", "k"]);
    assert!(text(&output).contains("--secret-stdin"), "{}", text(&output));
    let output = cli.run_with_stdin(
        &[
            "connectors",
            "add",
            "--name",
            "x",
            "--provider",
            "spaces",
            "--region",
            "mars1",
            "--access-key-id",
            "k",
            "--secret-stdin",
        ],
        SECRET,
    );
    assert!(text(&output).contains("region") && text(&output).contains("ams3"), "{}", text(&output));
    seen.push_str(&text(&output));
    seen.push_str(&text(&cli.run(&["connectors", "list", "--json"])));
    assert!(!seen.contains(SECRET), "the secret was printed");

    // No secret in the settings, in any output above, or in the config folder.
    assert_secret_nowhere(SECRET, cli.home.path(), &seen);
}

/// A key allowed to write objects but not to set their ACL: "Test connection" says so.
#[test]
fn a_missing_put_object_acl_permission_is_explained() {
    let secrets = SecretService::start();
    let moto = Moto::start_with_iam(4);
    let cli = Cli::new(&secrets);
    let keys = boto(
        &moto,
        r#"
s3.create_bucket(Bucket="photos")
iam = boto3.client("iam", endpoint_url=endpoint, aws_access_key_id="AKIATEST", aws_secret_access_key="x", region_name="us-east-1")
iam.create_user(UserName="uploader")
iam.put_user_policy(UserName="uploader", PolicyName="write-only", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"], "Resource": ["arn:aws:s3:::photos/*"]}]}))
key = iam.create_access_key(UserName="uploader")["AccessKey"]
print(key["AccessKeyId"], key["SecretAccessKey"])
"#,
        &[],
    );
    let (key_id, secret) = keys.trim().split_once(' ').unwrap();
    let id = assert_ok(&cli.run_with_stdin(
        &[
            "connectors",
            "add",
            "--name",
            "limited",
            "--provider",
            "s3",
            "--endpoint",
            &moto.endpoint,
            "--region",
            "us-east-1",
            "--bucket",
            "photos",
            "--access-key-id",
            key_id,
            "--secret-stdin",
        ],
        secret,
    ));
    let output = cli.run(&["connectors", "test", id.trim()]);
    let message = text(&output);
    assert!(!output.status.success());
    assert!(message.contains("s3:PutObjectAcl"), "the missing permission is named: {message}");
    assert!(!message.contains(secret), "no secret in errors");
    // With "acl": "private" no ACL is sent (it is the owner-only default), so the key works.
    let (_dir, input) = input_folder(&["photo.jpg"]);
    let photo = input.join("photo.jpg").to_string_lossy().into_owned();
    let output = cli.run(&["compress", &photo, "--store", id.trim(), "--store-options", r#"{"acl": "private"}"#]);
    assert!(output.status.success(), "{}", text(&output));
}

/// A file of 50 MB goes up in parts, whole.
#[test]
fn large_files_are_uploaded_in_parts() {
    let secrets = SecretService::start();
    let moto = Moto::start();
    let cli = Cli::new(&secrets);
    boto(&moto, "s3.create_bucket(Bucket='videos')", &[]);
    let id = add_s3(&cli, &moto, "s3", "us-east-1", "videos");

    // Incompressible content in a gzip wrapper: the engine finds nothing to gain, and the
    // original goes up as is (a bucket, like an output folder, gets every file).
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("noise.gz");
    incompressible_gz(&big, 50, 0x9E37_79B9_7F4A_7C15u64);
    let digest = sha256_file(&big);

    let big_arg = big.to_string_lossy().into_owned();
    let output = cli.run(&["compress", &big_arg, "--store", &id, "--json"]);
    let line = &json_lines(&assert_ok(&output))[0];
    assert!(line["url"].as_str().unwrap().ends_with("/videos/noise.gz"), "{line}");
    let facts = boto(
        &moto,
        r#"
head = s3.head_object(Bucket="videos", Key="noise.gz")
body = s3.get_object(Bucket="videos", Key="noise.gz")["Body"].read()
print(json.dumps({"etag": head["ETag"], "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}))
"#,
        &[],
    );
    let facts: Value = serde_json::from_str(&facts).unwrap();
    assert_eq!(facts["sha256"], digest.as_str());
    // A multipart object's ETag ends in -<parts>: 50 MiB in 8 MiB parts is 7.
    assert!(facts["etag"].as_str().unwrap().ends_with("-7\""), "{facts}");
}

/// Azure Blob Storage on Azurite: content settings, metadata, tags and tier land.
#[test]
fn azure_connector_stores_blobs_with_their_settings() {
    let secrets = SecretService::start();
    let azurite = Azurite::start();
    let cli = Cli::new(&secrets);
    const AZ: &str = r#"
import json, sys
from azure.storage.blob import BlobServiceClient
service = BlobServiceClient.from_connection_string(sys.argv[1])
"#;
    python(&format!("{AZ}\nservice.create_container('images')"), &[&azurite.connection_string()]);
    let id = assert_ok(&cli.run_with_stdin(
        &[
            "connectors",
            "add",
            "--name",
            "azurite",
            "--provider",
            "azure",
            "--endpoint",
            &azurite.endpoint,
            "--bucket",
            "images",
            "--access-key-id",
            AZURITE_ACCOUNT,
            "--secret-stdin",
        ],
        AZURITE_KEY,
    ));
    let id = id.trim();
    assert_eq!(secrets.lookup(id).as_deref(), Some(AZURITE_KEY));
    assert!(assert_ok(&cli.run(&["connectors", "test", id])).contains("ok"));

    let (_dir, input) = input_folder(&["photo.jpg"]);
    // A name with characters URLs encode is stored under that very name.
    let odd = input.join("photo #1.jpg");
    fs::copy(input.join("photo.jpg"), &odd).unwrap();
    let output = cli.run(&["compress", &odd.to_string_lossy(), "--store", id, "--json"]);
    let line = &json_lines(&assert_ok(&output))[0];
    assert!(line["url"].as_str().unwrap().ends_with("/images/photo%20%231.jpg"), "{line}");
    let names = python(
        &format!("{AZ}\nprint(json.dumps([b.name for b in service.get_container_client('images').list_blobs()]))"),
        &[&azurite.connection_string()],
    );
    assert!(names.contains("\"photo #1.jpg\""), "{names}");
    let photo = input.join("photo.jpg").to_string_lossy().into_owned();
    let output = cli.run(&[
        "compress",
        &photo,
        "--store",
        id,
        "--json",
        "--store-options",
        r#"{"path": "web/photo.jpg", "class": "cool", "metadata": {"origin": "test"},
            "headers": {"Cache-Control": "max-age=60", "Content-Language": "en"}, "tags": {"project": "compressor"}}"#,
    ]);
    let line = &json_lines(&assert_ok(&output))[0];
    assert_eq!(line["url"].as_str().unwrap(), format!("{}/images/web/photo.jpg", azurite.endpoint));
    let facts = python(
        &format!(
            "{AZ}\n{}",
            r#"
import hashlib
blob = service.get_blob_client("images", "web/photo.jpg")
p = blob.get_blob_properties()
print(json.dumps({"type": p.content_settings.content_type, "cache": p.content_settings.cache_control,
    "language": p.content_settings.content_language, "meta": p.metadata, "tier": p.blob_tier,
    "tags": blob.get_blob_tags(), "sha256": hashlib.sha256(blob.download_blob().readall()).hexdigest()}))
"#
        ),
        &[&azurite.connection_string()],
    );
    let facts: Value = serde_json::from_str(&facts).unwrap();
    assert_eq!(facts["type"], "image/jpeg");
    assert_eq!(facts["cache"], "max-age=60");
    assert_eq!(facts["language"], "en");
    assert_eq!(facts["meta"]["origin"], "test");
    assert_eq!(facts["tier"], "Cool");
    assert_eq!(facts["tags"]["project"], "compressor");
    assert_eq!(facts["sha256"], line["report"]["output"]["hashes"]["sha256"]);

    // A container that does not exist is named.
    let output = cli.run(&["compress", &photo, "--store", id, "--store-options", r#"{"bucket": "nope-nope"}"#]);
    assert!(text(&output).contains("\"nope-nope\" does not exist"), "{}", text(&output));
}

/// A bucket prefix as a source: compressed into another prefix; a second run touches
/// nothing; a changed object is synced again; one object can be resynced by key.
#[test]
fn sync_compresses_new_and_changed_objects_only() {
    let secrets = SecretService::start();
    let moto = Moto::start();
    let cli = Cli::new(&secrets);
    let jpg = fixture("photo.jpg").to_string_lossy().into_owned();
    let png = fixture("photo.png").to_string_lossy().into_owned();
    let cups = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/colorful-cups.jpg");
    let cups = cups.to_string_lossy().into_owned();
    boto(
        &moto,
        r#"
s3.create_bucket(Bucket="site")
s3.upload_file(sys.argv[2], "site", "uploads/a.jpg")
s3.upload_file(sys.argv[3], "site", "uploads/b.png")
s3.upload_file(sys.argv[4], "site", "uploads/deep/c.jpg")
s3.put_object(Bucket="site", Key="uploads/notes.txt", Body=b"not a file Compressor handles")
s3.upload_file(sys.argv[2], "site", "elsewhere/d.jpg")
"#,
        &[&jpg, &png, &cups],
    );
    let id = add_s3(&cli, &moto, "spaces", "ams3", "site");
    let objects = assert_ok(&cli.run(&["connectors", "objects", &id, "--prefix", "uploads/"]));
    assert_eq!(objects.lines().count(), 4, "{objects}");

    let sync = |extra: &[&str]| {
        let mut args = vec!["sync", "--from", &id, "--prefix", "uploads/", "--to-prefix", "optimized/", "--json"];
        args.extend_from_slice(extra);
        let output = cli.run(&args);
        let lines = json_lines(&assert_ok(&output));
        lines
            .into_iter()
            .map(|l| (l["key"].as_str().unwrap().to_string(), l))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let first = sync(&[]);
    assert_eq!(first.len(), 3, "three images, the text file left alone: {first:?}");
    for (key, line) in &first {
        assert_eq!(line["status"], "compressed", "{key}: {line}");
        assert!(line["size_after"].as_u64().unwrap() < line["size_before"].as_u64().unwrap());
    }
    let landed = boto(
        &moto,
        r#"
keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="site", Prefix="optimized/")["Contents"])
sizes = [s3.head_object(Bucket="site", Key=k)["ContentLength"] for k in keys]
print(json.dumps(dict(zip(keys, sizes))))
"#,
        &[],
    );
    let landed: Value = serde_json::from_str(&landed).unwrap();
    assert_eq!(landed["optimized/a.jpg"], first["uploads/a.jpg"]["size_after"]);
    assert_eq!(landed["optimized/b.png"], first["uploads/b.png"]["size_after"]);
    assert_eq!(landed["optimized/deep/c.jpg"], first["uploads/deep/c.jpg"]["size_after"]);
    // The results decode (read back with boto3, decoded by ImageMagick), and are not made
    // public unless asked: copies of private objects stay private.
    let fetched = tempfile::tempdir().unwrap();
    let out = fetched.path().join("c.jpg");
    let status = boto(
        &moto,
        "s3.download_file('site', 'optimized/deep/c.jpg', sys.argv[3]); print(anonymous_get(sys.argv[2])[0])",
        &[first["uploads/deep/c.jpg"]["url"].as_str().unwrap(), &out.to_string_lossy()],
    );
    assert_eq!(status.trim(), "403");
    let identify = std::process::Command::new("identify").arg("-format").arg("%wx%h").arg(&out).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&identify.stdout), "1920x1200");

    let second = sync(&[]);
    assert_eq!(second.len(), 3);
    assert!(second.values().all(|l| l["status"] == "unchanged"), "{second:?}");

    // b.png is replaced by other content: only it is synced again.
    boto(&moto, "s3.upload_file(sys.argv[2], 'site', 'uploads/b.png')", &[&fixture("gray.png").to_string_lossy()]);
    let third = sync(&[]);
    assert_eq!(third["uploads/b.png"]["status"], "compressed", "{third:?}");
    assert_eq!(third["uploads/a.jpg"]["status"], "unchanged");

    // Resync one object by key.
    let fourth = sync(&["--key", "uploads/a.jpg"]);
    assert_eq!(fourth.len(), 1);
    assert_eq!(fourth["uploads/a.jpg"]["status"], "compressed");

    // Suffix mode writes beside the objects and does not take its own results as sources.
    let output = cli.run(&["sync", "--from", &id, "--prefix", "elsewhere/", "--suffix", "-min", "--json"]);
    let lines = json_lines(&assert_ok(&output));
    assert_eq!(lines.len(), 1);
    assert!(lines[0]["url"].as_str().unwrap().ends_with("/site/elsewhere/d-min.jpg"));
    let again = json_lines(&assert_ok(&cli.run(&[
        "sync",
        "--from",
        &id,
        "--prefix",
        "elsewhere/",
        "--suffix",
        "-min",
        "--json",
    ])));
    assert_eq!(again.len(), 1, "d-min.jpg is not a source: {again:?}");
    assert_eq!(again[0]["status"], "unchanged");

    // A key that is not there fails the run.
    let output = cli.run(&[
        "sync",
        "--from",
        &id,
        "--prefix",
        "uploads/",
        "--to-prefix",
        "optimized/",
        "--key",
        "uploads/nope.jpg",
    ]);
    assert!(!output.status.success() && text(&output).contains("uploads/nope.jpg"), "{}", text(&output));

    // A second connector to the same account and bucket is the same storage: results onto
    // the objects themselves are refused.
    let twin = add_s3(&cli, &moto, "spaces", "ams3", "site");
    let output = cli.run(&["sync", "--from", &id, "--prefix", "elsewhere/", "--to", &twin, "--force"]);
    assert!(
        !output.status.success() && text(&output).contains("the destination is the source itself"),
        "{}",
        text(&output)
    );
    // A result that would land on an original (root `d.jpg` → `elsewhere/d.jpg`) is refused,
    // and the original keeps its content.
    boto(&moto, "s3.upload_file(sys.argv[2], 'site', 'd.jpg')", &[&jpg]);
    let before = boto(&moto, "print(s3.head_object(Bucket='site', Key='elsewhere/d.jpg')['ETag'])", &[]);
    let output = cli.run(&["sync", "--from", &id, "--to-prefix", "elsewhere/", "--key", "d.jpg"]);
    assert!(!output.status.success() && text(&output).contains("would overwrite elsewhere/d.jpg"), "{}", text(&output));
    let after = boto(&moto, "print(s3.head_object(Bucket='site', Key='elsewhere/d.jpg')['ETag'])", &[]);
    assert_eq!(before, after);
}

/// Kills `compressor` (SIGKILL) at spread-out moments while it uploads a folder, one file
/// going up in parts: the originals are intact, every object in the bucket is complete,
/// and after the next run every file is there once, with no unfinished multipart upload.
#[test]
fn killed_while_uploading_into_a_bucket() {
    let secrets = SecretService::start();
    let moto = Moto::start();
    let cli = Cli::new(&secrets);
    boto(&moto, "s3.create_bucket(Bucket='crash')", &[]);
    let id = add_s3(&cli, &moto, "s3", "us-east-1", "crash");

    let media = support::media_dir();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    for name in ["Kite.jpg", "EveningGlow.jpg", "FallenLeaf.jpg", "Path.jpg", "ColorfulCups.jpg"] {
        fs::copy(media.join("jpeg").join(name), input.join(name)).unwrap();
    }
    fs::copy(fixture("photo.png"), input.join("photo.png")).unwrap();
    // 40 MB that cannot be made smaller: uploaded as is, in five parts.
    incompressible_gz(&input.join("noise.gz"), 40, 0x2545_F491_4F6C_DD1Du64);
    let originals: Vec<(PathBuf, String)> = files_under(&input)
        .into_iter()
        .map(|p| {
            let h = sha256_file(&p);
            (p, h)
        })
        .collect();

    let check_bucket = |complete: bool| -> Value {
        let facts = boto(
            &moto,
            r#"
import subprocess, tempfile, os
objects = s3.list_objects_v2(Bucket="crash").get("Contents", [])
report = {"keys": [], "undecodable": [], "unfinished": len(s3.list_multipart_uploads(Bucket="crash").get("Uploads", []))}
for o in objects:
    body = s3.get_object(Bucket="crash", Key=o["Key"])["Body"].read()
    report["keys"].append(o["Key"])
    if o["Key"].endswith(".gz"):
        ok = hashlib.sha256(body).hexdigest() == sys.argv[2]
    else:
        path = os.path.join(tempfile.mkdtemp(), o["Key"])
        open(path, "wb").write(body)
        ok = subprocess.run(["identify", "-regard-warnings", path], capture_output=True).returncode == 0
    if not ok:
        report["undecodable"].append(o["Key"])
print(json.dumps(report))
"#,
            &[&originals.iter().find(|(p, _)| p.ends_with("noise.gz")).unwrap().1],
        );
        let facts: Value = serde_json::from_str(&facts).unwrap();
        assert_eq!(facts["undecodable"], serde_json::json!([]), "every object is complete (complete run: {complete})");
        facts
    };

    let input_arg = input.to_string_lossy().into_owned();
    let start_compressing = || {
        cli.command(&["compress", &input_arg, "--store", &id, "-j", "2"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    for delay in [200u64, 500, 900, 1400, 2200, 3200] {
        let mut child = start_compressing();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        for (path, hash) in &originals {
            assert_eq!(&sha256_file(path), hash, "{} is intact after a kill at {delay} ms", path.display());
        }
        let facts = check_bucket(false);
        eprintln!(
            "killed at {delay} ms: {} objects, {} unfinished multipart uploads",
            facts["keys"].as_array().map_or(0, |k| k.len()),
            facts["unfinished"]
        );
    }
    // Once more, killed the moment the large file's multipart upload has begun. The watcher
    // starts from a bucket without uploads and is polling before the CLI starts: a CLI that
    // reaches the large file quickly must not finish it before anyone looks.
    boto(
        &moto,
        r#"
s3.delete_object(Bucket='crash', Key='noise.gz')
for u in s3.list_multipart_uploads(Bucket='crash').get('Uploads', []):
    s3.abort_multipart_upload(Bucket='crash', Key=u['Key'], UploadId=u['UploadId'])
"#,
        &[],
    );
    let watch = format!(
        r#"{BOTO}
import sys, time
s3.list_multipart_uploads(Bucket="crash")
print("polling", flush=True)
deadline = time.time() + 60
while not s3.list_multipart_uploads(Bucket="crash").get("Uploads") and time.time() < deadline:
    time.sleep(0.005)
print("begun", flush=True)
"#
    );
    let mut watcher = std::process::Command::new("python3")
        .arg("-c")
        .arg(&watch)
        .arg(&moto.endpoint)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is installed");
    let mut said = std::io::BufReader::new(watcher.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut said, &mut line).unwrap();
    assert_eq!(line.trim(), "polling");
    let mut child = start_compressing();
    // Killed on the watcher's word, not on its exit: Python's shutdown takes long enough for
    // the CLI to finish the upload.
    line.clear();
    std::io::BufRead::read_line(&mut said, &mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(line.trim(), "begun");
    assert!(watcher.wait().unwrap().success());
    let facts = check_bucket(false);
    assert_eq!(facts["unfinished"], 1, "killed mid-multipart: {facts}");
    assert!(!facts["keys"].as_array().unwrap().iter().any(|k| k == "noise.gz"), "a half upload is not an object");

    assert_ok(&cli.run(&["compress", &input_arg, "--store", &id]));
    let facts = check_bucket(true);
    assert_eq!(facts["keys"].as_array().unwrap().len(), originals.len(), "one object per file: {facts}");
    assert_eq!(facts["unfinished"], 0, "no unfinished multipart upload is left: {facts}");
    assert_eq!(fs::read_dir(&input).unwrap().count(), originals.len(), "nothing written locally");
}
