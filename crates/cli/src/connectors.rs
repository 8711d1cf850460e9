//! `compressor connectors`: add, list, test and remove storage connectors. Connectors are
//! kept in the settings file the desktop app uses; secrets only in the OS keychain.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use clap::{Args, Subcommand};
use compressor_pipeline::settings::default_path;
use compressor_pipeline::store::{add_connector, describe_fields, remove_connector, StoreSink};
use compressor_storage::{ConnectorSpec, Keychain, Provider, Storage, StoreOptions};

#[derive(Subcommand)]
pub enum ConnectorsCommand {
    /// Add a connector and print its id. The secret is read from stdin (`--secret-stdin`),
    /// never from an argument, and kept in the OS keychain.
    Add(AddArgs),
    /// List connectors (id, name, provider, endpoint, defaults).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Write and delete a probe object, explaining what fails.
    Test {
        /// The connector's id or name.
        connector: String,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Remove a connector and its secret.
    Remove { connector: String },
    /// List the buckets the connector's credentials can see.
    Buckets { connector: String },
    /// List objects under a prefix.
    Objects {
        connector: String,
        #[command(flatten)]
        target: TargetArgs,
        /// Only keys starting with this.
        #[arg(long, default_value = "")]
        prefix: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct AddArgs {
    #[arg(long)]
    name: String,
    /// s3, r2, spaces, b2, gcs, azure or local.
    #[arg(long, value_parser = parse_provider)]
    provider: Provider,
    /// An S3-compatible service's URL, R2's account endpoint, or a local folder's path.
    #[arg(long)]
    endpoint: Option<String>,
    /// The default region.
    #[arg(long)]
    region: Option<String>,
    /// The default bucket (Azure: container).
    #[arg(long)]
    bucket: Option<String>,
    /// The access key id (Azure: the storage account name).
    #[arg(long, default_value = "")]
    access_key_id: String,
    /// Read the secret (secret access key, application key, account key) from stdin.
    #[arg(long)]
    secret_stdin: bool,
}

/// Which bucket and region an operation uses, when not the connector's defaults.
#[derive(Args)]
pub struct TargetArgs {
    #[arg(long)]
    bucket: Option<String>,
    #[arg(long)]
    region: Option<String>,
}

impl TargetArgs {
    fn options(&self) -> StoreOptions {
        StoreOptions { bucket: self.bucket.clone(), region: self.region.clone(), ..Default::default() }
    }
}

fn parse_provider(text: &str) -> Result<Provider, String> {
    Provider::parse(text).ok_or_else(|| "one of: s3, r2, spaces, b2, gcs, azure, local".into())
}

/// Reads `--store-options` JSON (or @FILE).
pub fn store_options(text: Option<&str>) -> anyhow::Result<StoreOptions> {
    let Some(text) = text else { return Ok(StoreOptions::default()) };
    let json = match text.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("cannot read store options file {path}"))?
        }
        None => text.to_string(),
    };
    // The API nests them as {"store": {...}}; accept both shapes.
    let inner = match serde_json::from_str::<serde_json::Value>(&json) {
        Ok(serde_json::Value::Object(map)) if map.len() == 1 && map.contains_key("store") => map["store"].to_string(),
        _ => json,
    };
    StoreOptions::from_json(&inner).map_err(|errors| anyhow!("invalid store options:\n{}", describe_fields(&errors)))
}

/// Opens `connector` as the sink of a batch (`compress --store`, `watch --store`).
pub fn open_sink(connector: &str, options: Option<&str>, single_file: bool) -> anyhow::Result<StoreSink> {
    let (_, settings) = crate::presets::load()?;
    let options = store_options(options)?;
    Ok(StoreSink::open(&settings, Some(connector), &options, &Keychain, single_file)?)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

pub fn run(command: ConnectorsCommand) -> ExitCode {
    match execute(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("compressor: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn execute(command: ConnectorsCommand) -> anyhow::Result<()> {
    match command {
        ConnectorsCommand::Add(args) => {
            let spec = ConnectorSpec {
                name: args.name,
                provider: Some(args.provider),
                endpoint: args.endpoint,
                region: args.region,
                bucket: args.bucket,
                access_key_id: args.access_key_id,
            };
            let mut secret = String::new();
            if args.secret_stdin {
                std::io::stdin().read_to_string(&mut secret).context("cannot read the secret from stdin")?;
            } else if args.provider.has_secret() {
                bail!("{} needs a secret: pipe it in with --secret-stdin", args.provider.label());
            }
            let secret = secret.trim_end_matches(['\r', '\n']);
            let path = default_path().map_err(|e| anyhow!(e))?;
            let connector = add_connector(&path, &spec, secret, &Keychain)?;
            println!("{}", connector.id);
        }
        ConnectorsCommand::List { json } => {
            let (_, settings) = crate::presets::load()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&settings.connectors)?);
            }
            for c in settings.connectors.iter().filter(|_| !json) {
                let mut line = format!("{}  {}  {}", c.id, c.name, c.provider.label());
                for (label, value) in [("endpoint", &c.endpoint), ("region", &c.region), ("bucket", &c.bucket)] {
                    if let Some(value) = value {
                        line.push_str(&format!("  {label}={value}"));
                    }
                }
                println!("{line}");
            }
        }
        ConnectorsCommand::Test { connector, target } => {
            let (_, settings) = crate::presets::load()?;
            let sink = StoreSink::open(&settings, Some(&connector), &target.options(), &Keychain, true)?;
            let test = sink.test()?;
            println!("ok: wrote and deleted {}", test.probe_url);
            for warning in test.warnings {
                eprintln!("warning: {warning}");
            }
        }
        ConnectorsCommand::Remove { connector } => {
            let path = default_path().map_err(|e| anyhow!(e))?;
            let removed = remove_connector(&path, &connector, &Keychain)?;
            println!("removed {} ({})", removed.name, removed.id);
        }
        ConnectorsCommand::Buckets { connector } => {
            let (_, settings) = crate::presets::load()?;
            let connector = settings.connector(&connector).ok_or_else(|| anyhow!("no connector {connector:?}"))?;
            let storage = Storage::open(connector, &Keychain)?;
            for bucket in runtime()?.block_on(storage.list_buckets())? {
                println!("{bucket}");
            }
        }
        ConnectorsCommand::Objects { connector, target, prefix, json } => {
            let (_, settings) = crate::presets::load()?;
            let connector = settings.connector(&connector).ok_or_else(|| anyhow!("no connector {connector:?}"))?;
            let target = target.options().resolve(connector).map_err(|e| anyhow!(describe_fields(&e)))?;
            let storage = Storage::open(connector, &Keychain)?;
            let objects = runtime()?.block_on(storage.list_objects(&target, &prefix))?;
            for object in &objects {
                if json {
                    println!("{}", serde_json::to_string(object)?);
                } else {
                    println!("{}\t{}\t{}", object.size, object.etag, object.key);
                }
            }
        }
    }
    Ok(())
}
