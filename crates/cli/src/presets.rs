//! `compressor presets`: list, show, export and import presets. User presets live in the
//! settings file the desktop app uses, so both shells offer the same ones.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use clap::Subcommand;
use compressor_pipeline::settings::{default_path, Settings};

#[derive(Subcommand)]
pub enum PresetsCommand {
    /// List built-in and user presets.
    List,
    /// Print a preset's options as API-shaped JSON.
    Show { name: String },
    /// Write a preset as shareable JSON (name, description, options) to FILE or stdout.
    Export { name: String, file: Option<PathBuf> },
    /// Add a user preset from exported JSON.
    Import {
        file: PathBuf,
        /// Overwrite a user preset of the same name.
        #[arg(long)]
        replace: bool,
    },
}

/// The shared settings file's path and contents.
pub fn load() -> anyhow::Result<(PathBuf, Settings)> {
    let path = default_path().map_err(|e| anyhow!(e))?;
    let settings = Settings::load(&path)?;
    Ok((path, settings))
}

/// Options of a built-in or user preset, for `compress` and `watch`.
pub fn options_of(name: &str) -> anyhow::Result<compressor_engine::Options> {
    if let Some(preset) = compressor_pipeline::presets::find(name) {
        return Ok(preset.options);
    }
    let (_, settings) = load()?;
    settings.find_preset(name).ok_or_else(|| anyhow!("no preset named '{name}' (see `compressor presets list`)"))
}

pub fn run(command: Option<PresetsCommand>) -> ExitCode {
    match run_command(command.unwrap_or(PresetsCommand::List)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("compressor: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run_command(command: PresetsCommand) -> anyhow::Result<()> {
    match command {
        PresetsCommand::List => {
            for preset in compressor_pipeline::presets::builtin() {
                println!("{:<16} {}", preset.name, preset.description);
            }
            let (_, settings) = load()?;
            for preset in settings.user_presets {
                println!("{:<16} {} (yours)", preset.name, preset.description);
            }
        }
        PresetsCommand::Show { name } => println!("{}", serde_json::to_string_pretty(&options_of(&name)?)?),
        PresetsCommand::Export { name, file } => {
            let (_, settings) = load()?;
            let preset = settings.export_preset(&name).ok_or_else(|| anyhow!("no preset named '{name}'"))?;
            let json = serde_json::to_string_pretty(&preset)?;
            match file {
                Some(file) => {
                    std::fs::write(&file, json + "\n").with_context(|| format!("writing {}", file.display()))?
                }
                None => println!("{json}"),
            }
        }
        PresetsCommand::Import { file, replace } => {
            let json = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let (path, mut settings) = load()?;
            let name = settings.import_preset(&json, replace).map_err(|e| anyhow!("{}: {e}", file.display()))?;
            settings.save(&path)?;
            println!("imported '{name}' into {}", path.display());
        }
    }
    Ok(())
}
