//! Progress as a fraction of the input's duration, reported at most once per percent so the
//! callback (a UI event, a terminal redraw, a line to the engine) stays cheap, and at least
//! every [`HEARTBEAT`] while frames come: the engine takes a worker silent for long to hang,
//! and a percent of a three-hour film is minutes.

use compressor_engine::Control;
use compressor_engine::EngineError;

const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(1);

pub(super) struct Progress<'a, 'c> {
    control: &'a Control<'c>,
    duration: f64,
    reported: f64,
    last_report: std::time::Instant,
}

impl<'a, 'c> Progress<'a, 'c> {
    pub(super) fn new(control: &'a Control<'c>, duration: Option<f64>) -> Self {
        Self { control, duration: duration.unwrap_or(0.0), reported: 0.0, last_report: std::time::Instant::now() }
    }

    /// Checked between frames: the point where stopping loses nothing but time.
    pub(super) fn check_cancel(&self) -> Result<(), EngineError> {
        if self.control.cancelled() {
            Err(EngineError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// The decoder has reached `seconds` into the file.
    pub(super) fn reached(&mut self, seconds: f64) {
        let fraction = if self.duration <= 0.0 || !seconds.is_finite() {
            self.reported
        } else {
            (seconds / self.duration).clamp(0.0, 1.0)
        };
        if fraction >= self.reported + 0.01 || self.last_report.elapsed() >= HEARTBEAT {
            self.reported = self.reported.max(fraction);
            self.last_report = std::time::Instant::now();
            (self.control.progress)(self.reported);
        }
    }

    pub(super) fn finished(&mut self) {
        if self.reported < 1.0 {
            self.reported = 1.0;
            (self.control.progress)(1.0);
        }
    }
}
