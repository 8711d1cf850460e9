//! `compressor remote`: the API keys of Compressor API servers, kept in the OS keychain,
//! for `compress --remote URL`.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Subcommand;
use compressor_storage::Keychain;

#[derive(Subcommand)]
pub enum RemoteCommand {
    /// Keep the API key of a server (read from stdin, never from an argument).
    Add {
        /// The server's base URL, as given to `--remote`.
        url: String,
        #[arg(long)]
        key_stdin: bool,
    },
    /// Forget a server's API key.
    Remove { url: String },
}

pub fn run(command: RemoteCommand) -> ExitCode {
    let result = (|| -> anyhow::Result<()> {
        match command {
            RemoteCommand::Add { url, key_stdin } => {
                if !key_stdin {
                    bail!("pipe the API key in with --key-stdin");
                }
                let mut key = String::new();
                std::io::stdin().read_to_string(&mut key).context("cannot read the key from stdin")?;
                let key = key.trim();
                if key.is_empty() {
                    bail!("the API key is empty");
                }
                Keychain.store_api_key(&url, key)?;
                println!("saved the API key for {url} in the system keychain");
            }
            RemoteCommand::Remove { url } => {
                Keychain.delete_api_key(&url)?;
                println!("removed the API key for {url}");
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("compressor: {err:#}");
            ExitCode::FAILURE
        }
    }
}
