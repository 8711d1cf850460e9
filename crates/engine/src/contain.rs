//! A panic in a decoder or encoder (a bug in a library, met on one file) becomes that file's
//! error, as any other failure would: the batch, the watcher and the server carry on, and
//! the person sees which file and why instead of a backtrace.
//!
//! The standard panic hook prints to stderr from whichever thread panicked (rayon's workers
//! too), so while any engine work is contained the hook installed here keeps quiet; the
//! message reaches the user through the error instead. Panics elsewhere print as before.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

use crate::EngineError;

/// How many contained calls are running, on any thread.
static CONTAINED: AtomicUsize = AtomicUsize::new(0);

fn install_quiet_hook() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CONTAINED.load(Ordering::SeqCst) == 0 {
                previous(info);
            }
        }));
    });
}

/// Runs `work`; a panic inside it becomes `EngineError::Crashed` with `what` ("the TIFF
/// decoder failed on this file") and the panic's message.
pub(crate) fn contain<T>(
    what: impl FnOnce() -> String,
    work: impl FnOnce() -> Result<T, EngineError>,
) -> Result<T, EngineError> {
    install_quiet_hook();
    CONTAINED.fetch_add(1, Ordering::SeqCst);
    let outcome = catch_unwind(AssertUnwindSafe(work));
    CONTAINED.fetch_sub(1, Ordering::SeqCst);
    outcome.unwrap_or_else(|payload| {
        let message = panic_message(payload.as_ref()).unwrap_or_else(|| "no message".into());
        Err(EngineError::Crashed(format!("{}: {message}", what())))
    })
}

/// The text a panic was raised with (`panic!("…")`, a failed assertion), when it has one.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> Option<String> {
    payload.downcast_ref::<String>().cloned().or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_the_error() {
        let result: Result<(), _> =
            contain(|| "the test decoder failed on this file".into(), || panic!("assertion failed: x"));
        let message = result.unwrap_err().to_string();
        assert_eq!(message, "the test decoder failed on this file: assertion failed: x");
        assert_eq!(CONTAINED.load(Ordering::SeqCst), 0);
    }
}
