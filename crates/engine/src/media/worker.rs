//! The engine's side of `compressor-media-worker`: a pool of child processes that run the
//! media crate, each doing one file at a time (see [`super::protocol`] for what is said).
//!
//! - Started on demand (on the first video or audio file) and reused; idle workers exit
//!   when this process closes their stdin, or dies.
//! - A worker that dies (SIGSEGV, abort), is silent for longer than
//!   [`Limits::worker_silence_ms`] (progress is its heartbeat), or grows past
//!   [`Limits::worker_memory`] of resident memory fails that one file with a message that
//!   says so, is killed, and is replaced for the next file.
//! - Cancel kills the worker at once (it may be deep inside a C library that checks no flag)
//!   and removes what it was writing.
//! - What it gets on Linux: an empty environment but for the few variables it uses, no
//!   descriptors but its stdin, stdout and stderr (everything else is close-on-exec), no core
//!   dumps (they would hold the user's media), an address-space ceiling as a backstop to the
//!   resident-memory watch, and `/` as its working folder.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::protocol::{remove_trials, CompressJob, DecodedImage, JxlJob, Reply, Request, PROTOCOL_VERSION};
use super::MediaCodec;
use crate::{Control, EngineError, Format, Kind, Limits, Report};

/// The program's file name.
pub const PROGRAM: &str = "compressor-media-worker";

/// Environment variables a worker is given, when this process has them: where the system's
/// libraries are, where temporary files go, and the test-only fault switch (see the worker).
/// Nothing else crosses: no credentials, tokens or keys of this process's environment.
const PASSED_ENVIRONMENT: [&str; 3] = ["LD_LIBRARY_PATH", "TMPDIR", "COMPRESSOR_WORKER_FAULT"];

/// How long a new worker has to say hello.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How often the worker's state is looked at while it works.
const TICK: Duration = Duration::from_millis(50);
/// How often its resident memory is read from /proc.
const MEMORY_CHECK: Duration = Duration::from_millis(200);
/// The most of a worker's stderr kept to explain its death.
const STDERR_TAIL: usize = 8 * 1024;

/// Every worker of this process.
pub struct Pool {
    idle: Mutex<Vec<Worker>>,
}

pub(super) static POOL: Pool = Pool { idle: Mutex::new(Vec::new()) };

impl MediaCodec for Pool {
    fn compress(&self, job: &CompressJob, control: &Control) -> Result<Report, EngineError> {
        let request = Request::Compress(Box::new(job.clone()));
        let outcome = self.exchange(&request, job.format, &job.limits, control);
        if outcome.is_err() {
            remove_trials(&job.output);
        }
        match outcome? {
            Reply::Compressed { report } => Ok(*report),
            other => Err(unexpected(&other)),
        }
    }

    fn verify(&self, path: &Path, format: Format, limits: &Limits) -> Result<(), EngineError> {
        let request = Request::Verify { path: path.to_path_buf(), format, limits: limits.clone() };
        match self.exchange(&request, format, limits, &Control::default())? {
            Reply::Verified => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    fn decode_image(
        &self,
        input: &Path,
        name: &str,
        format: Format,
        pixels: &Path,
        limits: &Limits,
    ) -> Result<DecodedImage, EngineError> {
        let request = Request::DecodeImage {
            input: input.to_path_buf(),
            name: name.to_string(),
            format,
            pixels: pixels.to_path_buf(),
            limits: limits.clone(),
        };
        match self.exchange(&request, format, limits, &Control::default())? {
            Reply::DecodedImage { image } => Ok(*image),
            other => Err(unexpected(&other)),
        }
    }

    fn rebuild_jpeg(&self, jxl: &Path, jpeg: &Path, limits: &Limits) -> Result<(), EngineError> {
        let request = Request::RebuildJpeg { jxl: jxl.to_path_buf(), jpeg: jpeg.to_path_buf() };
        match self.exchange(&request, Format::Jxl, limits, &Control::default())? {
            Reply::Encoded => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    fn encode_jxl(&self, job: &JxlJob, limits: &Limits) -> Result<(), EngineError> {
        let request = Request::EncodeJxl(Box::new(job.clone()));
        match self.exchange(&request, Format::Jxl, limits, &Control::default())? {
            Reply::Encoded => Ok(()),
            other => Err(unexpected(&other)),
        }
    }
}

fn unexpected(reply: &Reply) -> EngineError {
    EngineError::Crashed(format!("the media worker answered out of turn: {reply:?}"))
}

impl Pool {
    /// Sends `request` to a worker and waits for its final reply, passing progress on.
    fn exchange(
        &self,
        request: &Request,
        format: Format,
        limits: &Limits,
        control: &Control,
    ) -> Result<Reply, EngineError> {
        let what = Decoder::of(format);
        let line = serde_json::to_string(request)
            .map_err(|e| EngineError::Refused(format!("the request to the media worker cannot be written: {e}")))?;
        // An idle worker may have died since (killed by someone): one fresh start is tried.
        let mut worker = self.take(what)?;
        if worker.send(&line).is_err() {
            worker.kill();
            worker = Worker::start(what)?;
            worker.send(&line).map_err(|e| what.failed(format!("it could not be sent the file ({e})")))?;
        }
        let started = Instant::now();
        let mut last_word = Instant::now();
        let mut last_memory_check = Instant::now();
        let silence = Duration::from_millis(limits.worker_silence_ms.max(1));
        loop {
            if control.cancelled() {
                worker.kill();
                return Err(EngineError::Cancelled);
            }
            match worker.replies.recv_timeout(TICK) {
                Ok(WorkerLine::Reply(Reply::Progress { done })) => {
                    last_word = Instant::now();
                    (control.progress)(done.clamp(0.0, 1.0));
                }
                Ok(WorkerLine::Reply(Reply::Failed { error })) => {
                    self.give_back(worker);
                    return Err(error.into());
                }
                Ok(WorkerLine::Reply(Reply::Hello { .. })) => last_word = Instant::now(),
                Ok(WorkerLine::Reply(reply)) => {
                    self.give_back(worker);
                    return Ok(reply);
                }
                Ok(WorkerLine::NotProtocol(text)) => {
                    worker.kill();
                    return Err(what.failed(format!("it wrote something that is not its protocol: {text:.200}")));
                }
                Ok(WorkerLine::Closed) | Err(RecvTimeoutError::Disconnected) => {
                    let status = worker.wait();
                    return Err(what.crashed(status, &worker.stderr_tail()));
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            if last_word.elapsed() > silence {
                worker.kill();
                return Err(what.failed(format!(
                    "it stopped making progress for {} s and was stopped (after {} s in all)",
                    silence.as_secs_f64().round(),
                    started.elapsed().as_secs()
                )));
            }
            if last_memory_check.elapsed() >= MEMORY_CHECK {
                last_memory_check = Instant::now();
                if let Some(resident) = worker.resident_bytes().filter(|&r| r > limits.worker_memory) {
                    worker.kill();
                    return Err(what.failed(format!(
                        "it used {} MB of memory, over the limit of {} MB, and was stopped",
                        resident >> 20,
                        limits.worker_memory >> 20
                    )));
                }
            }
        }
    }

    fn take(&self, what: Decoder) -> Result<Worker, EngineError> {
        while let Some(mut worker) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            if worker.is_alive() {
                return Ok(worker);
            }
            worker.kill();
        }
        Worker::start(what)
    }

    /// Keeps a worker that finished its request for the next one: as many as there are
    /// cores, since each works on one file at a time.
    fn give_back(&self, mut worker: Worker) {
        let keep = std::thread::available_parallelism().map_or(2, |n| n.get());
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < keep {
                idle.push(worker);
                return;
            }
        }
        worker.kill();
    }

    /// How many workers wait for work (for tests).
    pub fn idle_workers(&self) -> usize {
        self.idle.lock().map_or(0, |idle| idle.len())
    }
}

/// The words for what failed, by the file's kind: "the video decoder", "the HEIC decoder".
#[derive(Debug, Clone, Copy)]
struct Decoder(&'static str);

impl Decoder {
    fn of(format: Format) -> Self {
        Decoder(match format.kind() {
            Kind::Audio => "audio",
            Kind::Video => "video",
            _ => format.name(),
        })
    }

    fn failed(self, how: String) -> EngineError {
        EngineError::Crashed(format!("the {} decoder failed on this file: {how}; nothing was written", self.0))
    }

    fn crashed(self, status: Option<ExitStatus>, stderr: &str) -> EngineError {
        let how = match status.as_ref().and_then(signal_of) {
            Some(signal) => format!("{} ({signal})", signal_name(signal)),
            None => match status.and_then(|s| s.code()) {
                Some(code) => format!("it exited with status {code}"),
                None => "it vanished".to_string(),
            },
        };
        let hint = stderr.lines().rev().find(|line| !line.trim().is_empty()).map(|line| format!(": {line:.300}"));
        EngineError::Crashed(format!(
            "the {} decoder crashed on this file ({how}{}); nothing was written",
            self.0,
            hint.unwrap_or_default()
        ))
    }
}

#[cfg(unix)]
fn signal_of(status: &ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(status)
}

#[cfg(not(unix))]
fn signal_of(_: &ExitStatus) -> Option<i32> {
    None
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        4 => "SIGILL, an illegal instruction",
        6 => "SIGABRT, it aborted",
        7 => "SIGBUS, a bad memory access",
        8 => "SIGFPE, an arithmetic fault",
        9 => "SIGKILL, killed",
        11 => "SIGSEGV, a segmentation fault",
        _ => "killed by a signal",
    }
}

/// What the reader thread makes of one line of the worker's stdout.
enum WorkerLine {
    Reply(Reply),
    NotProtocol(String),
    Closed,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<WorkerLine>,
    stderr: Arc<Mutex<VecDeque<u8>>>,
}

impl Worker {
    fn start(what: Decoder) -> Result<Worker, EngineError> {
        let program = find_program().map_err(EngineError::Unavailable)?;
        let mut command = Command::new(&program);
        command.env_clear().current_dir("/").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        for key in PASSED_ENVIRONMENT {
            if let Some(value) = std::env::var_os(key) {
                command.env(key, value);
            }
        }
        // Its own process group: a Ctrl-C at the terminal goes to this program, which cancels
        // and stops the worker itself, instead of killing the worker first (a false "crash").
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        sandbox(&mut command);
        let mut child = command.spawn().map_err(|e| {
            EngineError::Unavailable(format!(
                "video and audio (the media worker {} cannot start: {e})",
                program.display()
            ))
        })?;
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            return Err(EngineError::Unavailable("video and audio (the media worker's pipes did not open)".into()));
        };
        let (sender, replies) = mpsc::channel();
        std::thread::Builder::new()
            .name("media-worker-stdout".into())
            .spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    let parsed = match serde_json::from_str::<Reply>(&line) {
                        Ok(reply) => WorkerLine::Reply(reply),
                        Err(_) => WorkerLine::NotProtocol(line),
                    };
                    if sender.send(parsed).is_err() {
                        return;
                    }
                }
                let _ = sender.send(WorkerLine::Closed);
            })
            .map_err(|e| EngineError::Unavailable(format!("video and audio (no thread for the media worker: {e})")))?;
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let kept = tail.clone();
        let _ = std::thread::Builder::new().name("media-worker-stderr".into()).spawn(move || {
            let mut stderr = stderr;
            let mut buffer = [0u8; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut buffer) {
                if let Ok(mut tail) = kept.lock() {
                    tail.extend(&buffer[..n]);
                    let excess = tail.len().saturating_sub(STDERR_TAIL);
                    tail.drain(..excess);
                }
            }
        });
        let mut worker = Worker { child, stdin, replies, stderr: tail };
        match worker.replies.recv_timeout(START_TIMEOUT) {
            Ok(WorkerLine::Reply(Reply::Hello { protocol: PROTOCOL_VERSION })) => Ok(worker),
            Ok(WorkerLine::Reply(Reply::Hello { protocol })) => {
                worker.kill();
                Err(EngineError::Unavailable(format!(
                    "video and audio (the media worker {} speaks protocol {protocol}, this program {PROTOCOL_VERSION}: \
                     install them from one build)",
                    program.display()
                )))
            }
            _ => {
                worker.kill();
                let status = worker.wait();
                Err(match what.crashed(status, &worker.stderr_tail()) {
                    EngineError::Crashed(message) => EngineError::Unavailable(format!(
                        "video and audio (the media worker {} did not start: {message})",
                        program.display()
                    )),
                    other => other,
                })
            }
        }
    }

    fn send(&mut self, line: &str) -> std::io::Result<()> {
        self.stdin.write_all(line.as_bytes())?;
        self.stdin.write_all(b"\n")?;
        self.stdin.flush()
    }

    fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Its exit status, waiting briefly: the pipe closes a moment before the process is reaped.
    fn wait(&mut self) -> Option<ExitStatus> {
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.kill();
        self.child.try_wait().ok().flatten()
    }

    fn stderr_tail(&self) -> String {
        // The reader thread may still be taking the last words.
        std::thread::sleep(Duration::from_millis(20));
        let tail: Vec<u8> = self.stderr.lock().map(|tail| tail.iter().copied().collect()).unwrap_or_default();
        String::from_utf8_lossy(&tail).into_owned()
    }

    /// Resident memory, from /proc (Linux).
    fn resident_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
        let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kilobytes * 1024)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing stdin tells an idle worker to exit; a busy one is killed.
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The worker's limits as the kernel enforces them, set in the child between fork and exec.
#[cfg(target_os = "linux")]
fn sandbox(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: only async-signal-safe system calls (setrlimit, close_range) run in the child
    // between fork and exec; nothing allocates.
    unsafe {
        command.pre_exec(|| {
            let no_core = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            // A ceiling on address space well above the resident limit the pool watches:
            // it stops an allocation storm the 200 ms watch would see too late.
            let ceiling = libc::rlimit { rlim_cur: ADDRESS_SPACE_CEILING, rlim_max: ADDRESS_SPACE_CEILING };
            libc::setrlimit(libc::RLIMIT_AS, &ceiling);
            // Descriptors a C library of this process opened without O_CLOEXEC do not cross.
            // (Linux 5.11+; on older kernels std's own close-on-exec flags still hold.)
            libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, libc::CLOSE_RANGE_CLOEXEC);
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn sandbox(_: &mut Command) {}

/// 16 GiB of address space: FFmpeg's threads reserve far more than they touch.
#[cfg(target_os = "linux")]
const ADDRESS_SPACE_CEILING: libc::rlim_t = 16 << 30;

/// Where the worker is: `COMPRESSOR_MEDIA_WORKER` when set, else beside this program (cargo's
/// target folder, an unpacked release, the desktop app's bundle), in ../lib/compressor (an
/// installed layout), and for test programs (which cargo puts in target/*/deps) the folder above.
fn find_program() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("COMPRESSOR_MEDIA_WORKER") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("video and audio (COMPRESSOR_MEDIA_WORKER names {}, which is not a file)", path.display()))
        };
    }
    let file = format!("{PROGRAM}{}", std::env::consts::EXE_SUFFIX);
    let dir = std::env::current_exe().ok().and_then(|exe| exe.parent().map(PathBuf::from));
    let mut places = Vec::new();
    if let Some(dir) = dir {
        places.push(dir.join(&file));
        if let Some(parent) = dir.parent() {
            places.push(parent.join("lib/compressor").join(&file));
            if dir.file_name().is_some_and(|name| name == "deps") {
                places.push(parent.join(&file));
            }
        }
    }
    places.into_iter().find(|path| path.is_file()).ok_or_else(|| {
        let build = if cfg!(debug_assertions) { "cargo build" } else { "cargo build --release" };
        format!("video and audio ({file} is not beside the program; build it with `{build} -p compressor-media`)")
    })
}
