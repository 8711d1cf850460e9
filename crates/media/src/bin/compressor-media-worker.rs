//! `compressor-media-worker`: FFmpeg's, libheif's and libjxl's side of the engine's media door. Started by the
//! engine, never by people: it reads requests on stdin and answers on stdout in the protocol
//! of the engine's `media::protocol` module, one file at a time, until stdin closes.
//!
//! `COMPRESSOR_WORKER_FAULT` (tests only) makes it misbehave on a file whose name contains
//! the text after the colon: `crash:NAME` (SIGSEGV), `abort:NAME`, `hang:NAME` (silent
//! forever), `grow:NAME` (allocates until stopped), `connect=HOST:PORT:NAME` (tries to open a
//! TCP connection, and fails the file with what happened). It is how the tests prove that a
//! worker's death costs one file and nothing else, and that it has no network.
//!
//! On Linux it first gives up the network for good (a seccomp filter, see
//! [`give_up_the_network`]): it reads and writes files the engine names, nothing else.

use std::io::{BufRead, Write};
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use compressor_engine::media::protocol::{Reply, Request, WireError, PROTOCOL_VERSION};
use compressor_engine::media::{CompressJob, MediaCodec};
use compressor_engine::{Control, EngineError, Limits};
use compressor_media::Ffmpeg;

/// Progress lines are sent at most this often: the engine only needs a heartbeat and a fraction.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

fn main() {
    if let Err(reason) = give_up_the_network() {
        // Said once, on stderr (which the engine keeps for a crash's message); the worker still
        // works, with the rest of its sandbox (no inherited secrets, descriptors or core dumps).
        eprintln!("compressor-media-worker: cannot give up the network: {reason}");
    }
    leave_when_orphaned();
    let stdout = Mutex::new(std::io::stdout());
    let say = |reply: &Reply| {
        // A reply that cannot be written means the engine is gone: nothing is left to do.
        let Ok(line) = serde_json::to_string(reply) else { std::process::exit(70) };
        let Ok(mut out) = stdout.lock() else { std::process::exit(70) };
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            std::process::exit(0);
        }
    };
    say(&Reply::Hello { protocol: PROTOCOL_VERSION });
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let reply = match serde_json::from_str::<Request>(&line) {
            Ok(Request::Compress(job)) => compress(&job, &say),
            Ok(Request::Verify { path, format, limits }) => match Ffmpeg.verify(&path, format, &limits) {
                Ok(()) => Reply::Verified,
                Err(err) => failed(&err),
            },
            Ok(Request::DecodeImage { input, name, format, pixels, limits }) => match misbehave_if_asked(&name) {
                Some(refusal) => failed(&EngineError::Refused(refusal)),
                None => match Ffmpeg.decode_image(&input, &name, format, &pixels, &limits) {
                    Ok(image) => Reply::DecodedImage { image: Box::new(image) },
                    Err(err) => failed(&err),
                },
            },
            Ok(Request::EncodeJxl(job)) => match Ffmpeg.encode_jxl(&job, &Limits::default()) {
                Ok(()) => Reply::Encoded,
                Err(err) => failed(&err),
            },
            Ok(Request::RebuildJpeg { jxl, jpeg }) => match Ffmpeg.rebuild_jpeg(&jxl, &jpeg, &Limits::default()) {
                Ok(()) => Reply::Encoded,
                Err(err) => failed(&err),
            },
            Err(err) => failed(&EngineError::Refused(format!("the media worker cannot read its request: {err}"))),
        };
        say(&reply);
    }
}

fn compress(job: &CompressJob, say: &(dyn Fn(&Reply) + Sync)) -> Reply {
    if let Some(refusal) = misbehave_if_asked(&job.name) {
        return failed(&EngineError::Refused(refusal));
    }
    // Never set: the engine cancels by stopping this process.
    let cancel = AtomicBool::new(false);
    let last = Mutex::new(Instant::now() - PROGRESS_EVERY);
    let progress = |done: f64| {
        let Ok(mut last) = last.lock() else { return };
        if last.elapsed() >= PROGRESS_EVERY || done >= 1.0 {
            *last = Instant::now();
            say(&Reply::Progress { done });
        }
    };
    let control = Control { cancel: &cancel, progress: &progress };
    match Ffmpeg.compress(job, &control) {
        Ok(report) => Reply::Compressed { report: Box::new(report) },
        Err(err) => failed(&err),
    }
}

fn failed(error: &EngineError) -> Reply {
    Reply::Failed { error: WireError::from(error) }
}

/// The test-only fault switch (see the module's comment); a message when the file is to fail.
fn misbehave_if_asked(name: &str) -> Option<String> {
    let fault = std::env::var("COMPRESSOR_WORKER_FAULT").ok()?;
    let (what, trigger) = fault.rsplit_once(':')?;
    if trigger.is_empty() || !name.contains(trigger) {
        return None;
    }
    if let Some(address) = what.strip_prefix("connect=") {
        return Some(match std::net::TcpStream::connect(address) {
            Ok(_) => format!("the worker connected to {address}"),
            Err(err) => format!("the worker could not connect to {address}: {err}"),
        });
    }
    match what {
        // SAFETY: deliberately none: a null write is the crash the tests need.
        "crash" => unsafe { std::ptr::null_mut::<u8>().write_volatile(1) },
        "abort" => std::process::abort(),
        "hang" => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
        "grow" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                // Touched, so that it is resident and not only reserved.
                hoard.push(vec![1u8; 16 << 20]);
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        _ => {}
    }
    None
}

/// Denies this process, for good, the system calls that reach a network or another process:
/// opening a socket of any kind (a local one could reach the desktop's session bus), and
/// io_uring (which can open sockets on its own). FFmpeg
/// reads and writes the files it is given; a hostile file that takes over a decoder gets no
/// way to send anything anywhere. Files stay open to it (a path filter such as landlock
/// would need every library's data files listed), but the engine gives it nothing secret:
/// no environment, no inherited descriptors.
#[cfg(target_os = "linux")]
fn give_up_the_network() -> Result<(), String> {
    use seccompiler::{SeccompAction, SeccompFilter};
    let rules = [
        (libc::SYS_socket, vec![]),
        (libc::SYS_io_uring_setup, vec![]),
        (libc::SYS_io_uring_enter, vec![]),
        (libc::SYS_io_uring_register, vec![]),
    ];
    let filter = SeccompFilter::new(
        rules.into_iter().collect(),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EACCES as u32),
        std::env::consts::ARCH.try_into().map_err(|e: seccompiler::BackendError| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let program: seccompiler::BpfProgram = filter.try_into().map_err(|e: seccompiler::BackendError| e.to_string())?;
    seccompiler::apply_filter_all_threads(&program).map_err(|e| e.to_string())
}

#[cfg(not(target_os = "linux"))]
fn give_up_the_network() -> Result<(), String> {
    Ok(())
}

/// A worker whose engine died without closing its stdin (killed while this one was busy)
/// stops too, instead of finishing a file nobody will collect.
fn leave_when_orphaned() {
    #[cfg(unix)]
    {
        let parent = std::os::unix::process::parent_id();
        let _ = std::thread::Builder::new().name("orphan-watch".into()).spawn(move || loop {
            std::thread::sleep(Duration::from_millis(500));
            if std::os::unix::process::parent_id() != parent {
                std::process::exit(0);
            }
        });
    }
}
