//! `compressor serve`: the Compressor API 1.0 over HTTP, for self-hosting and for the app's
//! and CLI's remote mode.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use clap::Args;
use compressor_api::ServerConfig;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// A file of API keys, one per line (`#` comments). Without it a key is generated and
    /// written to DATA_DIR/api-key (readable by you only); keys are never printed or logged.
    #[arg(long, value_name = "FILE")]
    api_key_file: Option<PathBuf>,
    /// Where results wait for download [default: a folder in the system's temp folder].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The base of download URLs, when clients reach the server under another name.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Let `fetch` reach loopback and private addresses (a trusted network, tests).
    #[arg(long)]
    allow_private_fetch: bool,
    /// A host `fetch` may reach even when it is private, as written in URLs (repeatable).
    #[arg(long, value_name = "HOST")]
    allow_fetch_host: Vec<String>,
    /// Requests per key per window.
    #[arg(long, default_value_t = 100_000)]
    rate_limit: u64,
    /// The rate-limit window in seconds.
    #[arg(long, default_value_t = 900)]
    rate_window: u64,
    /// The longest a `fetch` download may take, in seconds.
    #[arg(long, default_value_t = 60)]
    fetch_timeout: u64,
    /// How long a client may stall while sending its headers or body, in seconds.
    #[arg(long, default_value_t = 30)]
    client_timeout: u64,
    #[command(flatten)]
    limits: crate::limits::LimitArgs,
    /// The largest upload or fetched file, in megabytes.
    #[arg(long, default_value_t = 256)]
    max_size_mb: u64,
}

fn read_keys(path: &PathBuf) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the API key file {}", path.display()))?;
    let keys: Vec<String> =
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from).collect();
    if keys.is_empty() {
        bail!("the API key file {} holds no key", path.display());
    }
    Ok(keys)
}

/// A new random key in `DATA_DIR/api-key`, created readable by the owner only.
fn generated_key(data_dir: &std::path::Path) -> anyhow::Result<(Vec<String>, PathBuf)> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = data_dir.join("api-key");
    if path.exists() {
        return Ok((read_keys(&path)?, path));
    }
    std::fs::create_dir_all(data_dir)?;
    let key = uuid::Uuid::new_v4().simple().to_string();
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
    writeln!(file, "{key}")?;
    Ok((vec![key], path))
}

fn config(args: &ServeArgs) -> anyhow::Result<ServerConfig> {
    let mut config = ServerConfig::default();
    if let Some(dir) = &args.data_dir {
        config.data_dir = dir.clone();
    }
    config.api_keys = match &args.api_key_file {
        Some(path) => read_keys(path)?,
        None => {
            let (keys, path) = generated_key(&config.data_dir)?;
            eprintln!("compressor serve: API key in {}", path.display());
            keys
        }
    };
    config.public_url = args.public_url.clone();
    config.reach =
        compressor_api::fetch::Reach { private: args.allow_private_fetch, hosts: args.allow_fetch_host.clone() };
    config.rate_limit = args.rate_limit;
    config.rate_window = Duration::from_secs(args.rate_window.max(1));
    config.max_upload = args.max_size_mb.saturating_mul(1024 * 1024);
    config.max_fetch = config.max_upload;
    config.fetch_timeout = Duration::from_secs(args.fetch_timeout.max(1));
    config.client_timeout = Duration::from_secs(args.client_timeout.max(1));
    config.limits = args.limits.limits();
    config.settings_path = compressor_pipeline::settings::default_path().ok();
    Ok(config)
}

pub fn run(args: ServeArgs) -> ExitCode {
    let result = (|| -> anyhow::Result<()> {
        let config = config(&args)?;
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind(args.listen)
                .await
                .map_err(|e| anyhow!("cannot listen on {}: {e}", args.listen))?;
            eprintln!("compressor serve: listening on http://{}", listener.local_addr()?);
            compressor_api::serve(listener, config).await.map_err(|e| anyhow!("the server stopped: {e}"))
        })
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("compressor: {err:#}");
            ExitCode::FAILURE
        }
    }
}
