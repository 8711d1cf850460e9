//! Storage connectors as sinks and sources: the connectors kept in the settings (their
//! secrets in the keychain), and a sink that uploads each result to a bucket.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use compressor_engine::FieldError;
use compressor_storage::{Connector, ConnectorSpec, Keychain, Storage, StorageError, StoreOptions, Target, Transfer};

use crate::settings::{Settings, SettingsError};

/// Why a connector could not be added, removed or opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error("invalid connector:\n{}", describe_fields(.0))]
    Invalid(Vec<FieldError>),
    #[error("invalid store options:\n{}", describe_fields(.0))]
    InvalidStore(Vec<FieldError>),
    #[error("no connector {0:?}; `compressor connectors list` shows them")]
    Unknown(String),
    #[error("connector {id} is used by the watched folder {folder}; change that rule first")]
    InUse { id: String, folder: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Keychain(#[from] compressor_storage::KeychainError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("{0}")]
    Runtime(String),
}

pub fn describe_fields(errors: &[FieldError]) -> String {
    errors.iter().map(|e| format!("  {}: {}", e.field, e.message)).collect::<Vec<_>>().join("\n")
}

impl Settings {
    /// A connector by id, or by name when no id matches.
    pub fn connector(&self, id_or_name: &str) -> Option<&Connector> {
        self.connectors
            .iter()
            .find(|c| c.id == id_or_name)
            .or_else(|| self.connectors.iter().find(|c| c.name == id_or_name))
    }
}

/// Adds a connector: its secret to the keychain first, then the rest to the settings file.
/// If the settings cannot be saved, the secret is removed again.
pub fn add_connector(
    settings_path: &Path,
    spec: &ConnectorSpec,
    secret: &str,
    keychain: &Keychain,
) -> Result<Connector, ConnectorError> {
    let connector = spec.validate().map_err(ConnectorError::Invalid)?;
    if connector.provider.has_secret() {
        if secret.is_empty() {
            return Err(ConnectorError::Invalid(vec![FieldError {
                field: "secret".into(),
                message: "is required".into(),
            }]));
        }
        keychain.store(&connector.id, secret)?;
    }
    let saved = Settings::load(settings_path).and_then(|mut settings| {
        settings.connectors.push(connector.clone());
        settings.save(settings_path)
    });
    if let Err(err) = saved {
        let _ = keychain.delete(&connector.id);
        return Err(err.into());
    }
    Ok(connector)
}

/// Removes a connector and its secret. A watched folder still sending results to it keeps
/// it from being removed.
pub fn remove_connector(settings_path: &Path, id: &str, keychain: &Keychain) -> Result<Connector, ConnectorError> {
    let mut settings = Settings::load(settings_path)?;
    let connector = settings.connector(id).cloned().ok_or_else(|| ConnectorError::Unknown(id.into()))?;
    if let Some(rule) = settings
        .watch_rules
        .iter()
        .find(|r| r.output.store.as_ref().and_then(|s| s.id.as_deref()) == Some(&connector.id))
    {
        return Err(ConnectorError::InUse { id: connector.id, folder: rule.folder.clone() });
    }
    // The secret first: if that fails the connector stays listed, so removing can be retried.
    keychain.delete(&connector.id)?;
    settings.connectors.retain(|c| c.id != connector.id);
    settings.save(settings_path)?;
    Ok(connector)
}

/// A runtime for the storage clients, which are async, driven from the pipeline's worker
/// threads. Shut down in the background so that dropping it inside an async context (the
/// desktop app's commands) is allowed.
pub(crate) struct BlockingRuntime(Option<tokio::runtime::Runtime>);

impl BlockingRuntime {
    pub(crate) fn new() -> Result<BlockingRuntime, ConnectorError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("compressor-storage")
            .enable_all()
            .build()
            .map_err(|e| ConnectorError::Runtime(format!("cannot start the storage runtime: {e}")))?;
        Ok(BlockingRuntime(Some(runtime)))
    }

    pub(crate) fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        match &self.0 {
            Some(runtime) => runtime.block_on(future),
            None => unreachable!("the runtime is only taken when dropped"),
        }
    }
}

impl Drop for BlockingRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// A bucket (or folder) results are uploaded to, opened once for a batch.
pub struct StoreSink {
    storage: Storage,
    target: Target,
    runtime: BlockingRuntime,
    /// With one file, `store.path` names the object itself; with more it is a folder.
    single_file: bool,
}

impl std::fmt::Debug for StoreSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSink")
            .field("connector", &self.storage.connector().id)
            .field("target", &self.target)
            .finish()
    }
}

impl StoreSink {
    /// Opens the connector `options.id` names (or `connector`, which wins), reading its
    /// secret from the keychain and validating the options against its provider.
    pub fn open(
        settings: &Settings,
        connector: Option<&str>,
        options: &StoreOptions,
        keychain: &Keychain,
        single_file: bool,
    ) -> Result<StoreSink, ConnectorError> {
        let id = connector.or(options.id.as_deref()).ok_or_else(|| {
            ConnectorError::InvalidStore(vec![FieldError { field: "store.id".into(), message: "is required".into() }])
        })?;
        let connector = settings.connector(id).ok_or_else(|| ConnectorError::Unknown(id.into()))?;
        let options = StoreOptions { id: Some(connector.id.clone()), ..options.clone() };
        let target = options.resolve(connector).map_err(ConnectorError::InvalidStore)?;
        let storage = Storage::open(connector, keychain)?;
        Ok(StoreSink { storage, target, runtime: BlockingRuntime::new()?, single_file })
    }

    pub fn connector(&self) -> &Connector {
        self.storage.connector()
    }

    /// The object key for a result whose path below the folder the user named is `relative_name`.
    pub fn key_for(&self, relative_name: &str) -> String {
        self.target.key_for(relative_name, self.single_file)
    }

    /// Uploads one result as `key`; returns the object's URL.
    pub fn upload(&self, key: &str, bytes: Vec<u8>, mime: &str, cancel: &AtomicBool) -> Result<String, StorageError> {
        let transfer = Transfer::quiet(cancel);
        self.runtime.block_on(self.storage.upload(&self.target, key, bytes.into(), mime, &transfer))
    }

    /// Uploads the file at `path` in parts (never read whole).
    pub fn upload_file(&self, key: &str, path: &Path, mime: &str, cancel: &AtomicBool) -> Result<String, StorageError> {
        let transfer = Transfer::quiet(cancel);
        self.runtime.block_on(self.storage.upload_file(&self.target, key, path, mime, &transfer))
    }

    /// Writes and deletes a probe object.
    pub fn test(&self) -> Result<compressor_storage::ConnectionTest, StorageError> {
        self.runtime.block_on(self.storage.test(&self.target))
    }
}
