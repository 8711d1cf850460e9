//! A bucket as a source: list objects under a prefix, and for each new or changed one
//! (by ETag) download it, compress it and upload the result: beside it with a suffix, under
//! another prefix, or to another connector. What was synced is remembered in a state file,
//! so a scheduled run touches only what changed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use compressor_engine::{Compressed, Engine, EngineError, Options};
use compressor_storage::{Keychain, ObjectInfo, Storage, StorageError, StoreOptions, Target, Transfer};
use serde::{Deserialize, Serialize};

use crate::settings::Settings;
use crate::store::{BlockingRuntime, ConnectorError};

/// Where synced results go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncDestination {
    /// Beside the object, with a suffix before the extension (`a.jpg` → `a-min.jpg`).
    Suffix(String),
    /// Under another prefix, in the same bucket or through another connector: `options.path`
    /// is the prefix (a folder), `options.id` the connector (the source's when `None`).
    Store(StoreOptions),
}

/// One sync: which objects, what to do with them, where results go.
#[derive(Debug, Clone)]
pub struct SyncSpec {
    /// The source connector's id or name.
    pub source: String,
    /// The source bucket and region (defaults: the connector's).
    pub source_options: StoreOptions,
    pub prefix: String,
    /// Only these keys (resyncing selected objects); empty means every object under `prefix`.
    pub keys: Vec<String>,
    pub destination: SyncDestination,
    pub options: Options,
    /// Compress objects again even when their ETag has not changed.
    pub force: bool,
    /// Objects bigger than this are not downloaded.
    pub max_object_size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    /// Compressed and uploaded.
    Compressed,
    /// Could not be made smaller (copied as is to another prefix or connector).
    Skipped,
    /// Same ETag as the last sync: not downloaded.
    Unchanged,
    Failed,
}

/// What happened to one object.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SyncOutcome {
    pub key: String,
    pub status: SyncStatus,
    pub size_before: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_after: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The key the result was written to.
    #[serde(skip)]
    pub output_key: Option<String>,
}

/// The ETags seen at the last sync, per source key, and the keys this sync wrote (which
/// it may overwrite; any other object it must not).
#[derive(Debug, Default, Serialize, Deserialize)]
struct SyncState {
    objects: BTreeMap<String, String>,
    #[serde(default)]
    outputs: std::collections::BTreeSet<String>,
}

impl SyncState {
    fn load(path: &Path) -> SyncState {
        std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
    }

    fn save(&self, path: &Path) -> std::io::Result<()> {
        let folder = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(folder)?;
        let mut temp = tempfile::NamedTempFile::new_in(folder)?;
        serde_json::to_writer_pretty(&mut temp, self)?;
        temp.as_file().sync_all()?;
        temp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// The state file of a sync: one per source, prefix and destination, in `state_dir`.
pub fn state_path(state_dir: &Path, source: &str, target: &Target, spec: &SyncSpec) -> PathBuf {
    let identity = format!("{source}\n{}\n{}\n{:?}", target.bucket, spec.prefix, spec.destination);
    let digest = compressor_engine::report::sha256_hex(identity.as_bytes());
    state_dir.join(format!("sync-{}.json", &digest[..16]))
}

/// `photos/a.jpg` → `photos/a-min.jpg`.
fn with_suffix(key: &str, suffix: &str) -> String {
    let (folder, name) = key.rsplit_once('/').map(|(f, n)| (format!("{f}/"), n)).unwrap_or((String::new(), key));
    match name.rfind('.') {
        Some(dot) if dot > 0 => format!("{folder}{}{suffix}{}", &name[..dot], &name[dot..]),
        _ => format!("{folder}{name}{suffix}"),
    }
}

fn replace_name(key: &str, name: &str) -> String {
    match key.rsplit_once('/') {
        Some((folder, _)) => format!("{folder}/{name}"),
        None => name.to_string(),
    }
}

/// Runs one sync. `on_outcome` hears about each object as it is done; `cancel` stops
/// between objects (and inside long uploads).
pub fn run_sync(
    engine: &Engine,
    settings: &Settings,
    spec: &SyncSpec,
    keychain: &Keychain,
    state_dir: &Path,
    cancel: &AtomicBool,
    mut on_outcome: impl FnMut(&SyncOutcome),
) -> Result<Vec<SyncOutcome>, ConnectorError> {
    let runtime = BlockingRuntime::new()?;
    let source_connector =
        settings.connector(&spec.source).ok_or_else(|| ConnectorError::Unknown(spec.source.clone()))?;
    let source_target = spec.source_options.resolve(source_connector).map_err(ConnectorError::InvalidStore)?;
    let source = Storage::open(source_connector, keychain)?;

    // Where results go: the same storage, or another connector's.
    let (destination, destination_target, prefix_out) = match &spec.destination {
        SyncDestination::Suffix(suffix) if suffix.is_empty() => {
            return Err(ConnectorError::Runtime("an empty suffix would overwrite the objects".into()))
        }
        // Copies of possibly private objects are not published unless an ACL is asked for.
        SyncDestination::Suffix(_) => (None, Target { acl: None, ..source_target.clone() }, None),
        SyncDestination::Store(options) => {
            let connector = match options.id.as_deref() {
                Some(id) => settings.connector(id).ok_or_else(|| ConnectorError::Unknown(id.into()))?,
                None => source_connector,
            };
            let options = StoreOptions { id: Some(connector.id.clone()), path: None, ..options.clone() };
            let mut target = options.resolve(connector).map_err(ConnectorError::InvalidStore)?;
            if options.acl.is_none() {
                target.acl = None;
            }
            let prefix = match &spec.destination {
                SyncDestination::Store(o) => o.path.clone().unwrap_or_default(),
                SyncDestination::Suffix(_) => String::new(),
            };
            let prefix = if prefix.is_empty() || prefix.ends_with('/') { prefix } else { format!("{prefix}/") };
            // The same storage, whatever connector names it: same provider, endpoint, account.
            let same_account = connector.provider == source_connector.provider
                && connector.endpoint == source_connector.endpoint
                && connector.access_key_id == source_connector.access_key_id;
            let same = same_account && target.bucket == source_target.bucket;
            if same && prefix.is_empty() {
                return Err(ConnectorError::Runtime(
                    "the destination is the source itself; give another prefix, a suffix or another bucket".into(),
                ));
            }
            let storage =
                if connector.id == source_connector.id { None } else { Some(Storage::open(connector, keychain)?) };
            // A local bucket is a sub-folder: one inside the source is part of its listing.
            let nested = same_account && connector.provider == compressor_storage::Provider::Local && !same;
            let inside = target.bucket.strip_prefix(&source_target.bucket).map(|rest| rest.trim_start_matches('/'));
            let (prefix, same) = match inside.filter(|rest| nested && !rest.is_empty()) {
                Some(rest)
                    if source_target.bucket.is_empty()
                        || target.bucket[source_target.bucket.len()..].starts_with('/') =>
                {
                    (format!("{rest}/{prefix}"), true)
                }
                _ => (prefix, same),
            };
            (storage, target, Some((prefix, same)))
        }
    };
    let destination = destination.as_ref().unwrap_or(&source);

    let state_file = state_path(state_dir, &source_connector.id, &source_target, spec);
    let mut state = SyncState::load(&state_file);

    let listed = runtime.block_on(source.list_objects(&source_target, &spec.prefix))?;
    let existing: std::collections::BTreeSet<String> = listed.iter().map(|o| o.key.clone()).collect();
    let wanted: Vec<ObjectInfo> = listed
        .into_iter()
        .filter(|o| spec.keys.is_empty() || spec.keys.contains(&o.key))
        .filter(|o| !o.key.ends_with('/'))
        .filter(|o| crate::discover::has_known_extension(Path::new(&o.key)))
        .filter(|o| match (&spec.destination, &prefix_out) {
            // Our own results are not sources.
            (SyncDestination::Suffix(suffix), _) => {
                let stem = o.key.rsplit('/').next().unwrap_or(&o.key);
                let stem = stem.rfind('.').map(|dot| &stem[..dot]).unwrap_or(stem);
                !stem.ends_with(suffix.as_str())
            }
            (_, Some((prefix, true))) => !o.key.starts_with(prefix.as_str()),
            _ => true,
        })
        .collect();
    let mut missing = Vec::new();
    for key in &spec.keys {
        if !wanted.iter().any(|o| &o.key == key) {
            let outcome = SyncOutcome {
                key: key.clone(),
                status: SyncStatus::Failed,
                size_before: 0,
                size_after: None,
                url: None,
                message: Some("no such object under the prefix (or not a file Compressor handles)".into()),
                output_key: None,
            };
            on_outcome(&outcome);
            missing.push(outcome);
        }
    }

    let mut outcomes = missing;
    for object in wanted {
        if cancel.load(Ordering::SeqCst) {
            break;
        }
        if !spec.force && state.objects.get(&object.key) == Some(&object.etag) {
            let outcome = SyncOutcome {
                key: object.key.clone(),
                status: SyncStatus::Unchanged,
                size_before: object.size,
                size_after: None,
                url: None,
                message: None,
                output_key: None,
            };
            on_outcome(&outcome);
            outcomes.push(outcome);
            continue;
        }
        let result = sync_one(
            engine,
            &runtime,
            &source,
            &source_target,
            destination,
            &destination_target,
            spec,
            prefix_out.as_ref().map(|(p, _)| p.as_str()),
            &object,
            cancel,
            // In the source's own bucket, an existing object this sync did not write is an
            // original: never overwrite it.
            &|key: &str| {
                let same = matches!(&spec.destination, SyncDestination::Suffix(_))
                    || prefix_out.as_ref().is_some_and(|(_, same)| *same);
                same && (key == object.key || existing.contains(key) && !state.outputs.contains(key))
            },
        );
        let outcome = match result {
            Ok(outcome) => {
                state.objects.insert(object.key.clone(), object.etag.clone());
                if let Some(key) = &outcome.output_key {
                    state.outputs.insert(key.clone());
                }
                if let Err(err) = state.save(&state_file) {
                    return Err(ConnectorError::Runtime(format!(
                        "cannot save the sync state {}: {err}",
                        state_file.display()
                    )));
                }
                outcome
            }
            Err(SyncFailure::Cancelled) => break,
            Err(SyncFailure::Failed(message)) => SyncOutcome {
                key: object.key.clone(),
                status: SyncStatus::Failed,
                size_before: object.size,
                size_after: None,
                url: None,
                message: Some(message),
                output_key: None,
            },
        };
        on_outcome(&outcome);
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

enum SyncFailure {
    Cancelled,
    Failed(String),
}

impl From<StorageError> for SyncFailure {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::Cancelled => SyncFailure::Cancelled,
            other => SyncFailure::Failed(other.to_string()),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn sync_one(
    engine: &Engine,
    runtime: &BlockingRuntime,
    source: &Storage,
    source_target: &Target,
    destination: &Storage,
    destination_target: &Target,
    spec: &SyncSpec,
    prefix_out: Option<&str>,
    object: &ObjectInfo,
    cancel: &AtomicBool,
    is_original: &dyn Fn(&str) -> bool,
) -> Result<SyncOutcome, SyncFailure> {
    let input = runtime.block_on(source.download(source_target, &object.key, spec.max_object_size))?;
    let name = object.key.rsplit('/').next().unwrap_or(&object.key).to_string();
    let control = compressor_engine::Control { cancel, progress: &|_| {} };
    let Compressed { report, output } = match engine.compress_with(&input, &name, &spec.options, &control) {
        Ok(compressed) => compressed,
        Err(EngineError::Cancelled) => return Err(SyncFailure::Cancelled),
        Err(err) => return Err(SyncFailure::Failed(err.to_string())),
    };
    if let Some(bytes) = &output {
        engine.verify(bytes).map_err(|e| SyncFailure::Failed(format!("the output does not decode: {e}")))?;
    }
    let output_key = replace_name(&object.key, &report.output.name);
    let (key, bytes, mime) = match (&spec.destination, output) {
        (SyncDestination::Suffix(_), None) => {
            return Ok(SyncOutcome {
                key: object.key.clone(),
                status: SyncStatus::Skipped,
                size_before: object.size,
                size_after: None,
                url: None,
                message: report.reason.clone(),
                output_key: None,
            })
        }
        (SyncDestination::Suffix(suffix), Some(bytes)) => {
            (with_suffix(&output_key, suffix), bytes, report.output.mime.clone())
        }
        (SyncDestination::Store(_), output) => {
            // Below the prefix's folder: `--prefix photos/IMG_` keeps `IMG_` in the name.
            let folder = spec.prefix.rfind('/').map(|i| &spec.prefix[..=i]).unwrap_or("");
            let relative = output_key.strip_prefix(folder).unwrap_or(&output_key).trim_start_matches('/');
            let key = format!("{}{relative}", prefix_out.unwrap_or(""));
            match output {
                Some(bytes) => (key, bytes, report.output.mime.clone()),
                None => (key, input.to_vec(), report.input.mime.clone()),
            }
        }
    };
    if is_original(&key) {
        return Err(SyncFailure::Failed(format!(
            "the result would overwrite {key}, an object this sync did not write; choose another prefix or suffix"
        )));
    }
    let size_after = bytes.len() as u64;
    let transfer = Transfer::quiet(cancel);
    let url = runtime.block_on(destination.upload(destination_target, &key, bytes.into(), &mime, &transfer))?;
    let status = if report.status == compressor_engine::Status::Compressed {
        SyncStatus::Compressed
    } else {
        SyncStatus::Skipped
    };
    Ok(SyncOutcome {
        key: object.key.clone(),
        status,
        size_before: object.size,
        size_after: Some(size_after),
        url: Some(url),
        message: None,
        output_key: Some(key),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_keys() {
        assert_eq!(with_suffix("photos/a.jpg", "-min"), "photos/a-min.jpg");
        assert_eq!(with_suffix("a", "-min"), "a-min");
        assert_eq!(with_suffix("x/.hidden", "-min"), "x/.hidden-min");
        assert_eq!(replace_name("photos/a.bmp", "a.png"), "photos/a.png");
    }
}
