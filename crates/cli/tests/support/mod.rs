//! Real servers for the storage tests, each started on a free loopback port and stopped
//! when dropped: a D-Bus session with GNOME Keyring's Secret Service (the keychain a Linux
//! desktop uses), moto_server (S3) and Azurite (Azure Blob Storage). No mocks: a missing
//! tool fails the test with how to install it (`scripts/setup.sh` installs them all).
//! Also where the fetched test media are.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The real media `tests/media/fetch.sh` fetched (`COMPRESSOR_MEDIA`, else the cache it
/// fills). Missing media is a failure, not a skip.
pub fn media_dir() -> PathBuf {
    let dir = std::env::var_os("COMPRESSOR_MEDIA")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/compressor-media")))
        .expect("COMPRESSOR_MEDIA or HOME");
    assert!(dir.join(".complete").exists(), "no test media in {}: run tests/media/fetch.sh first", dir.display());
    dir
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn wait_for_port(port: u16, what: &str, child: &mut Child) {
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

pub fn spawn(command: &mut Command, what: &str) -> Child {
    command.spawn().unwrap_or_else(|e| {
        panic!("cannot start {what}: {e}; scripts/setup.sh installs it (the README's test command runs it)")
    })
}

/// A process the tests started, killed (and reaped) when the fixture holding it is dropped,
/// so a failing test leaves no server behind.
pub struct Running(pub Child);

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private D-Bus session bus with an unlocked GNOME Keyring serving the Secret Service.
pub struct SecretService {
    /// The keyring daemon leaves with its bus.
    bus: Running,
    pub address: String,
    dir: tempfile::TempDir,
}

impl SecretService {
    pub fn start() -> SecretService {
        let dir = tempfile::tempdir().unwrap();
        let mut bus = spawn(
            Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--print-address=1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
            "dbus-daemon",
        );
        let mut address = String::new();
        BufReader::new(bus.stdout.take().unwrap()).read_line(&mut address).unwrap();
        let address = address.trim().to_string();
        let runtime = dir.path().join("run");
        std::fs::create_dir_all(&runtime).unwrap();
        std::fs::set_permissions(&runtime, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        let mut keyring = spawn(
            Command::new("gnome-keyring-daemon")
                .args(["--unlock", "--components=secrets"])
                .env("DBUS_SESSION_BUS_ADDRESS", &address)
                .env("XDG_RUNTIME_DIR", &runtime)
                .env("XDG_DATA_HOME", dir.path().join("data"))
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            "gnome-keyring-daemon",
        );
        keyring.stdin.take().unwrap().write_all(b"test-keyring-password").unwrap();
        keyring.wait().unwrap();
        SecretService { bus: Running(bus), address, dir }
    }

    /// Looks a connector's secret up with libsecret's `secret-tool`, not with our code.
    pub fn lookup(&self, connector_id: &str) -> Option<String> {
        let output = Command::new("secret-tool")
            .args(["lookup", "service", "compressor", "username", &format!("connector:{connector_id}")])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .expect("secret-tool (libsecret-tools) is installed by scripts/setup.sh");
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// moto_server: an S3 API that honours ACLs, storage classes, metadata, headers, tags
/// and multipart uploads.
pub struct Moto {
    child: Running,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Moto {
        Self::start_with_env(&[])
    }

    /// With IAM checks on after the first `free_requests` requests (the test's own set-up):
    /// moto then enforces users' policies, as AWS does.
    pub fn start_with_iam(free_requests: u32) -> Moto {
        Self::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", &free_requests.to_string())])
    }

    fn start_with_env(env: &[(&str, &str)]) -> Moto {
        let port = free_port();
        let mut child = spawn(
            Command::new("moto_server")
                .envs(env.iter().copied())
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            "moto_server",
        );
        wait_for_port(port, "moto_server", &mut child);
        Moto { child: Running(child), endpoint: format!("http://127.0.0.1:{port}") }
    }
}

/// Azurite, the Azure Blob Storage emulator, with its well-known development account.
pub struct Azurite {
    child: Running,
    pub endpoint: String,
    _data: tempfile::TempDir,
}

pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

impl Azurite {
    pub fn start() -> Azurite {
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
        Azurite { child: Running(child), endpoint: format!("http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"), _data: data }
    }

    /// An azure-storage-blob connection string for the Python checks.
    pub fn connection_string(&self) -> String {
        format!(
            "DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};BlobEndpoint={};",
            self.endpoint
        )
    }
}

/// Runs a Python snippet (boto3 / azure-storage-blob: an independent client) and returns
/// its stdout; fails the test with its stderr if it fails.
pub fn python(script: &str, args: &[&str]) -> String {
    let output = Command::new("python3").arg("-c").arg(script).args(args).output().expect("python3 is installed");
    assert!(output.status.success(), "python check failed:\n{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The `compressor` binary with a private settings folder and keychain.
pub struct Cli {
    pub home: tempfile::TempDir,
    pub bus: String,
}

impl Cli {
    pub fn new(secrets: &SecretService) -> Cli {
        Cli { home: tempfile::tempdir().unwrap(), bus: secrets.address.clone() }
    }

    pub fn config_dir(&self) -> PathBuf {
        self.home.path().join("config")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_compressor"));
        command
            .args(args)
            .env("COMPRESSOR_CONFIG_DIR", self.config_dir())
            .env("HOME", self.home.path())
            .env("XDG_DATA_HOME", self.home.path().join("data"))
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus);
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs with `stdin` piped in.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child =
            self.command(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }
}

pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

pub fn assert_ok(output: &Output) -> String {
    assert!(output.status.success(), "command failed:\n{}", text(output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Serves a folder over HTTP on loopback (python's http.server), as a website `fetch` reads.
pub struct HttpFiles {
    child: Running,
    pub base: String,
}

impl HttpFiles {
    pub fn start(dir: &Path) -> HttpFiles {
        let port = free_port();
        let mut child = spawn(
            Command::new("python3")
                .args(["-m", "http.server", "--bind", "127.0.0.1", &port.to_string(), "--directory"])
                .arg(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            "python3 -m http.server",
        );
        wait_for_port(port, "http.server", &mut child);
        HttpFiles { child: Running(child), base: format!("http://127.0.0.1:{port}") }
    }
}

/// `compressor serve` on a free port, with the settings (connectors) of `cli`.
pub struct Server {
    child: Running,
    pub base: String,
    pub key: String,
    _data: tempfile::TempDir,
}

impl Server {
    pub fn start(cli: &Cli, extra: &[&str]) -> Server {
        Self::start_with_environment(cli, extra, &[])
    }

    /// [`Server::start`] with more environment variables.
    pub fn start_with_environment(cli: &Cli, extra: &[&str], environment: &[(&str, &str)]) -> Server {
        let data = tempfile::tempdir().unwrap();
        let key = "test-api-key-0123456789".to_string();
        let key_file = data.path().join("keys");
        std::fs::write(&key_file, format!("# test keys\n{key}\n")).unwrap();
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut command = cli.command(&["serve", "--listen", &listen, "--api-key-file"]);
        command.arg(&key_file).arg("--data-dir").arg(data.path().join("results")).args(extra);
        command.envs(environment.iter().copied());
        let mut child = spawn(command.stdout(Stdio::null()).stderr(Stdio::piped()), "compressor serve");
        wait_for_port(port, "compressor serve", &mut child);
        Server { child: Running(child), base: format!("http://{listen}"), key, _data: data }
    }

    /// The folder holding the key file (`keys`) and the results (`results/`).
    pub fn data_dir(&self) -> PathBuf {
        self._data.path().to_path_buf()
    }

    /// The server's resident memory, in kB.
    pub fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// What the server printed, once stopped.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let mut text = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        }
        let _ = self.child.wait();
        text
    }
}

/// Runs curl (as the API's documentation does) and returns (status, headers, body).
pub fn curl(args: &[&str]) -> (u16, String, String) {
    let output = Command::new("curl")
        .args(["-s", "-D", "-", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl is installed");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (mut rest, code) = text.rsplit_once('\n').unwrap_or(("", ""));
    // An interim "100 Continue" comes before the real answer's headers.
    while rest.starts_with("HTTP/1.1 100") {
        rest = rest.split_once("\r\n\r\n").map(|(_, after)| after).unwrap_or("");
    }
    let (headers, body) = rest.split_once("\r\n\r\n").unwrap_or((rest, ""));
    (code.trim().parse().unwrap_or(0), headers.to_ascii_lowercase(), body.to_string())
}

/// Writes a gzip file (stored, not deflated) of `mib` MiB of pseudo-random bytes from
/// `seed`: a big file the engine cannot make smaller, so it travels as is.
pub fn incompressible_gz(path: &Path, mib: usize, seed: u64) {
    let mut state = seed;
    let noise: Vec<u8> = (0..mib * 1024 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    std::io::Write::write_all(&mut gz, &noise).unwrap();
    std::fs::write(path, gz.finish().unwrap()).unwrap();
}

/// Every file under `dir`, at any depth.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Fails if `secret` appears in `printed` (what the commands printed) or in any file under
/// `dir` (settings, state, logs).
pub fn assert_secret_nowhere(secret: &str, dir: &Path, printed: &str) {
    assert!(!printed.contains(secret), "the secret was printed");
    for file in files_under(dir) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(!String::from_utf8_lossy(&bytes).contains(secret), "the secret leaked into {}", file.display());
    }
}

/// Runs an independent tool (heif-enc, avifenc, cjxl, djxl…), failing with its stderr.
pub fn run_tool(program: &str, args: &[&str]) {
    let output = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(output.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// The mean absolute difference of two pictures' RGB values (0–255), as Pillow decodes them;
/// fails unless they have the same size.
pub fn mean_difference(a: &Path, b: &Path) -> f64 {
    let script = "import sys
from PIL import Image, ImageChops, ImageStat
a = Image.open(sys.argv[1]).convert('RGB')
b = Image.open(sys.argv[2]).convert('RGB')
assert a.size == b.size, (a.size, b.size)
print(sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3)";
    python(script, &[&a.display().to_string(), &b.display().to_string()]).trim().parse().unwrap()
}

/// The `--json` line of the file whose path ends with `name`.
pub fn json_line<'a>(lines: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    lines
        .iter()
        .find(|l| l["path"].as_str().is_some_and(|p| p.ends_with(name)))
        .unwrap_or_else(|| panic!("no line for {name}: {lines:?}"))
}

/// A photo of the fetched test media (`jpeg/NAME`).
pub fn photo(name: &str) -> PathBuf {
    media_dir().join("jpeg").join(name)
}
