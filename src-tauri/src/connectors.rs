//! The Connectors screen's commands: providers and their fields, add (secret to the
//! keychain), test, remove, list buckets. A few lines each over the storage and pipeline crates.

use compressor_engine::FieldError;
use compressor_pipeline::settings::Settings;
use compressor_pipeline::store::{add_connector as add, remove_connector as remove, ConnectorError};
use compressor_pipeline::sync::{run_sync, SyncDestination, SyncOutcome, SyncSpec};
use compressor_storage::{
    ConnectionTest, Connector, ConnectorSpec, Keychain, Provider, Storage, StoreOptions, PROVIDERS,
};
use serde::Serialize;
use specta::Type;
use tauri::State;

use crate::state::AppState;

/// What the setup dialog needs to know about a provider: only its own fields are shown.
#[derive(Debug, Clone, Serialize, Type)]
pub struct ProviderInfo {
    pub provider: Provider,
    pub label: String,
    /// Regions to pick from; empty where any name is accepted or none applies.
    pub regions: Vec<String>,
    pub default_region: Option<String>,
    pub needs_region: bool,
    pub needs_endpoint: bool,
    pub endpoint_label: String,
    pub access_key_label: String,
    pub secret_label: String,
    pub has_secret: bool,
    pub bucket_label: String,
    pub classes: Vec<String>,
    pub acls: Vec<String>,
    pub headers: Vec<String>,
    pub supports_tags: bool,
    /// What the credentials need, shown under the fields.
    pub permissions: String,
}

/// A refused request: a message, and the fields it is about.
#[derive(Debug, Clone, Serialize, Type)]
pub struct ConnectorFailure {
    pub message: String,
    pub fields: Vec<FieldError>,
}

impl From<ConnectorError> for ConnectorFailure {
    fn from(err: ConnectorError) -> Self {
        let fields = match &err {
            ConnectorError::Invalid(fields) | ConnectorError::InvalidStore(fields) => fields.clone(),
            _ => Vec::new(),
        };
        ConnectorFailure { message: err.to_string(), fields }
    }
}

impl From<String> for ConnectorFailure {
    fn from(message: String) -> Self {
        ConnectorFailure { message, fields: Vec::new() }
    }
}

fn info(provider: Provider) -> ProviderInfo {
    let (endpoint_label, access_key_label, secret_label, bucket_label) = match provider {
        Provider::Azure => ("Blob endpoint (optional)", "Storage account name", "Account key", "Container"),
        Provider::Local => ("Folder", "", "", "Sub-folder (optional)"),
        Provider::R2 => ("Account endpoint", "Access key ID", "Secret access key", "Bucket"),
        Provider::B2 => ("Custom endpoint (optional)", "Key ID", "Application key", "Bucket"),
        Provider::Gcs => ("Custom endpoint (optional)", "HMAC access ID", "HMAC secret", "Bucket"),
        Provider::Spaces => ("Custom endpoint (optional)", "Spaces access key", "Spaces secret", "Space"),
        Provider::S3 => {
            ("Endpoint for S3-compatible services (optional)", "Access key ID", "Secret access key", "Bucket")
        }
    };
    ProviderInfo {
        provider,
        label: provider.label().into(),
        regions: provider.regions(false).unwrap_or_default().iter().map(|r| r.to_string()).collect(),
        default_region: provider.default_region().map(String::from),
        needs_region: provider.needs_region(),
        needs_endpoint: provider.needs_endpoint(),
        endpoint_label: endpoint_label.into(),
        access_key_label: access_key_label.into(),
        secret_label: secret_label.into(),
        has_secret: provider.has_secret(),
        bucket_label: bucket_label.into(),
        classes: provider.classes().iter().map(|(name, _)| name.to_string()).collect(),
        acls: provider.acls(false).iter().map(|a| a.to_string()).collect(),
        headers: provider.allowed_headers().iter().map(|h| h.to_string()).collect(),
        supports_tags: provider.supports_tags(),
        permissions: provider.permission_hint().into(),
    }
}

#[tauri::command]
#[specta::specta]
pub fn list_providers() -> Vec<ProviderInfo> {
    PROVIDERS.into_iter().map(info).collect()
}

#[tauri::command]
#[specta::specta]
pub fn list_connectors(state: State<'_, AppState>) -> Vec<Connector> {
    state.settings.lock().map(|s| s.connectors.clone()).unwrap_or_default()
}

/// Re-reads the settings file the pipeline just wrote, and makes it current.
fn reload(state: &AppState) -> Result<Vec<Connector>, String> {
    let settings = Settings::load(&state.settings_path).map_err(|e| e.to_string())?;
    let connectors = settings.connectors.clone();
    if let Ok(mut current) = state.settings.lock() {
        *current = settings;
    }
    Ok(connectors)
}

/// Adds a connector; its secret goes to the system keychain only.
#[tauri::command]
#[specta::specta]
pub fn add_connector(
    state: State<'_, AppState>,
    spec: ConnectorSpec,
    secret: String,
) -> Result<Connector, ConnectorFailure> {
    let connector = add(&state.settings_path, &spec, &secret, &Keychain)?;
    reload(&state)?;
    Ok(connector)
}

/// Removes a connector and its secret.
#[tauri::command]
#[specta::specta]
pub fn remove_connector(state: State<'_, AppState>, id: String) -> Result<Vec<Connector>, String> {
    remove(&state.settings_path, &id, &Keychain).map_err(|e| e.to_string())?;
    reload(&state)
}

async fn probe(
    connector: &Connector,
    storage: Storage,
    bucket: Option<String>,
) -> Result<ConnectionTest, ConnectorFailure> {
    let options = StoreOptions { bucket: bucket.filter(|b| !b.is_empty()), ..Default::default() };
    let target = options
        .resolve(connector)
        .map_err(|fields| ConnectorFailure { message: "choose a bucket (and region) to test with".into(), fields })?;
    storage.test(&target).await.map_err(|e| ConnectorFailure::from(e.to_string()))
}

/// Tests a saved connector: writes and deletes a probe object.
#[tauri::command]
#[specta::specta]
pub async fn test_connector(
    state: State<'_, AppState>,
    id: String,
    bucket: Option<String>,
) -> Result<ConnectionTest, ConnectorFailure> {
    let connector = state
        .settings
        .lock()
        .ok()
        .and_then(|s| s.connector(&id).cloned())
        .ok_or_else(|| ConnectorFailure::from(format!("no connector {id}")))?;
    let storage = Storage::open(&connector, &Keychain).map_err(|e| ConnectorFailure::from(e.to_string()))?;
    probe(&connector, storage, bucket).await
}

/// Tests a connector being set up, before anything is saved.
#[tauri::command]
#[specta::specta]
pub async fn test_connector_spec(spec: ConnectorSpec, secret: String) -> Result<ConnectionTest, ConnectorFailure> {
    let connector =
        spec.validate().map_err(|fields| ConnectorFailure { message: "check the fields".into(), fields })?;
    let storage = Storage::with_secret(&connector, secret).map_err(|e| ConnectorFailure::from(e.to_string()))?;
    probe(&connector, storage, None).await
}

/// The buckets a connector's credentials can see.
#[tauri::command]
#[specta::specta]
pub async fn list_buckets(state: State<'_, AppState>, id: String) -> Result<Vec<String>, String> {
    let connector = state.settings.lock().ok().and_then(|s| s.connector(&id).cloned()).ok_or("no such connector")?;
    let storage = Storage::open(&connector, &Keychain).map_err(|e| e.to_string())?;
    storage.list_buckets().await.map_err(|e| e.to_string())
}

/// A sync the Connectors screen starts: the objects under a prefix, compressed with a
/// preset, into another prefix of the same bucket (or beside them with a suffix).
#[derive(Debug, Clone, serde::Deserialize, Type)]
pub struct SyncRequest {
    pub connector: String,
    pub bucket: Option<String>,
    pub prefix: String,
    /// Results under this prefix; `None`: beside each object with `suffix`.
    pub destination_prefix: Option<String>,
    pub suffix: Option<String>,
    pub preset: String,
}

/// Syncs a bucket prefix once: only new or changed objects are downloaded (the state is
/// shared with `compressor sync`, next to the settings).
#[tauri::command]
#[specta::specta]
pub async fn sync_bucket(state: State<'_, AppState>, request: SyncRequest) -> Result<Vec<SyncOutcome>, String> {
    let settings = state.settings.lock().map(|s| s.clone()).map_err(|_| "the settings are unavailable")?;
    let options =
        settings.preset_options(&request.preset).ok_or_else(|| format!("no preset named '{}'", request.preset))?;
    let bucket = request.bucket.filter(|b| !b.is_empty());
    let destination = match request.destination_prefix.filter(|p| !p.trim().is_empty()) {
        // Results go to the bucket that is read, under the other prefix.
        Some(prefix) => SyncDestination::Store(StoreOptions {
            path: Some(prefix.trim().to_string()),
            bucket: bucket.clone(),
            ..Default::default()
        }),
        None => SyncDestination::Suffix(request.suffix.filter(|s| !s.is_empty()).unwrap_or_else(|| "-min".into())),
    };
    let spec = SyncSpec {
        source: request.connector,
        source_options: StoreOptions { bucket, ..Default::default() },
        prefix: request.prefix,
        keys: Vec::new(),
        destination,
        options,
        force: false,
        max_object_size: 512 * 1024 * 1024,
    };
    let state_dir = state.settings_path.parent().map(|p| p.join("sync")).unwrap_or_default();
    // The sync blocks on its own storage runtime: keep it off the app's async threads.
    tauri::async_runtime::spawn_blocking(move || {
        let engine = compressor_engine::Engine::default();
        let cancel = std::sync::atomic::AtomicBool::new(false);
        run_sync(&engine, &settings, &spec, &Keychain, &state_dir, &cancel, |_| {}).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| format!("the sync stopped: {e}"))?
}
