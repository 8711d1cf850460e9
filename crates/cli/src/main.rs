//! `compressor`: the command-line shell over the engine and pipeline crates.

mod compress;
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
    /// List the built-in presets, or show one as JSON options.
    Presets {
        /// A preset to print as API-shaped JSON.
        name: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Compress(args) => compress::run(args),
        Command::Watch(args) => watch::run(args),
        Command::Presets { name: None } => {
            for preset in compressor_pipeline::presets::builtin() {
                println!("{:<10} {}", preset.name, preset.description);
            }
            ExitCode::SUCCESS
        }
        Command::Presets { name: Some(name) } => match compressor_pipeline::presets::find(&name) {
            Some(preset) => {
                println!("{}", serde_json::to_string_pretty(&preset.options).unwrap_or_default());
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("compressor: no preset named '{name}' (see `compressor presets`)");
                ExitCode::from(2)
            }
        },
    }
}
