//! `compressor`: the command-line shell over the engine and pipeline crates.

mod compress;
mod connectors;
mod limits;
mod presets;
mod remote;
mod serve;
mod sync;
mod watch;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "compressor", version, about = "Make files smaller, with the numbers to prove it.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compress files and folders (recursively).
    Compress(compress::CompressArgs),
    /// Compress every finished file that lands in a folder, until Ctrl-C.
    Watch(watch::WatchArgs),
    /// Storage connectors (S3, R2, Spaces, B2, GCS, Azure, local folder): add, list, test, remove.
    Connectors {
        #[command(subcommand)]
        action: connectors::ConnectorsCommand,
    },
    /// API keys of Compressor API servers, for `compress --remote URL`.
    Remote {
        #[command(subcommand)]
        action: remote::RemoteCommand,
    },
    /// Serve the Compressor API 1.0 over HTTP (upload, fetch, temporary download URLs, connectors).
    Serve(serve::ServeArgs),
    /// Compress the objects under a bucket prefix and upload the results (only new or changed ones).
    Sync(sync::SyncArgs),
    /// List, show, export and import presets (shared with the desktop app).
    Presets {
        #[command(subcommand)]
        action: Option<presets::PresetsCommand>,
    },
}

fn main() -> ExitCode {
    compressor_pipeline::memory::keep_freed_buffers();
    let cli = Cli::parse();
    match cli.command {
        Command::Compress(args) => compress::run(args),
        Command::Watch(args) => watch::run(args),
        Command::Presets { action } => presets::run(action),
        Command::Connectors { action } => connectors::run(action),
        Command::Sync(args) => sync::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Remote { action } => remote::run(action),
    }
}
