//! The engine's resource limits as command-line flags, shared by every command that
//! compresses: what a hostile or absurd input (a decompression bomb) is refused by.

use clap::Args;
use compressor_engine::Limits;

#[derive(Args, Debug, Clone)]
pub struct LimitArgs {
    /// Refuse images and video frames over this many megapixels (read from the header,
    /// before decoding).
    #[arg(long, value_name = "MP", default_value_t = 100)]
    max_megapixels: u64,
    /// The most memory one decoder may allocate at once, in megabytes.
    #[arg(long, value_name = "MB", default_value_t = 1024)]
    max_memory_mb: u64,
    /// The most an archive, a gzip stream or a PDF stream may expand to, in megabytes.
    #[arg(long, value_name = "MB", default_value_t = 1024)]
    max_expanded_mb: u64,
    /// The most memory the video and audio worker may use on one file, in megabytes; over it,
    /// the worker is stopped and that file fails.
    #[arg(long, value_name = "MB", default_value_t = 3072)]
    worker_memory_mb: u64,
    /// Seconds the video and audio worker may go without progress before it is taken to hang,
    /// stopped, and that file fails.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    worker_timeout: u64,
}

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            max_pixels: self.max_megapixels.saturating_mul(1_000_000).max(1),
            max_alloc: self.max_memory_mb.saturating_mul(1 << 20).max(1 << 20),
            max_expanded: self.max_expanded_mb.saturating_mul(1 << 20).max(1 << 20),
            worker_memory: self.worker_memory_mb.saturating_mul(1 << 20).max(64 << 20),
            worker_silence_ms: self.worker_timeout.saturating_mul(1000).max(1000),
            ..Limits::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        limits: LimitArgs,
    }

    #[test]
    fn the_defaults_are_the_engines() {
        assert_eq!(Command::parse_from(["x"]).limits.limits(), Limits::default());
        let lowered = Command::parse_from(["x", "--max-megapixels", "2", "--max-expanded-mb", "5"]).limits.limits();
        assert_eq!((lowered.max_pixels, lowered.max_expanded), (2_000_000, 5 << 20));
    }
}
