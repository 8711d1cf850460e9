//! User settings: a versioned JSON file in the user's config folder, written atomically and
//! migrated forward when an older version is read.

use std::path::{Path, PathBuf};

use compressor_engine::Options;
use serde::{Deserialize, Serialize};

use compressor_storage::{Connector, StoreOptions};

use crate::sink::OutputPolicy;

/// Bump when the file's shape changes, and teach [`migrate`] the step.
pub const SETTINGS_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct Settings {
    pub version: u32,
    /// The preset selected for new files (built-in or user preset name).
    pub preset: String,
    pub output: OutputSetting,
    pub keep_dates: bool,
    pub keep_exif: bool,
    pub keep_icc: bool,
    /// Files compressed at once; 0 means one per core.
    pub jobs: u32,
    pub engine: EngineMode,
    /// With [`EngineMode::Remote`]: the Compressor API server (its key is in the keychain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_url: Option<String>,
    pub user_presets: Vec<UserPreset>,
    /// Folders compressed as files land in them (`compressor watch --rules`).
    pub watch_rules: Vec<WatchRuleSetting>,
    /// Storage connectors; their secrets are in the OS keychain, never here.
    pub connectors: Vec<Connector>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            version: SETTINGS_VERSION,
            preset: "balanced".into(),
            output: OutputSetting::default(),
            keep_dates: false,
            keep_exif: false,
            keep_icc: false,
            jobs: 0,
            engine: EngineMode::Local,
            remote_url: None,
            user_presets: Vec::new(),
            watch_rules: Vec::new(),
            connectors: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum OutputMode {
    /// Beside the original, with a suffix.
    Suffix,
    /// Under an output folder.
    Folder,
    /// Replace the original, which goes to the trash.
    InPlace,
    /// Upload to a storage connector (`store`); nothing is written locally.
    Store,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct OutputSetting {
    pub mode: OutputMode,
    pub suffix: String,
    pub folder: Option<String>,
    /// With [`OutputMode::Store`]: the connector (`id`) and the API's `store` options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreOptions>,
}

impl Default for OutputSetting {
    fn default() -> Self {
        OutputSetting { mode: OutputMode::Suffix, suffix: "-min".into(), folder: None, store: None }
    }
}

impl OutputSetting {
    pub fn policy(&self) -> Result<OutputPolicy, String> {
        match self.mode {
            OutputMode::Suffix if self.suffix.is_empty() => Err("the suffix is empty".into()),
            OutputMode::Suffix => Ok(OutputPolicy::Suffix(self.suffix.clone())),
            OutputMode::Folder => match &self.folder {
                Some(folder) if !folder.is_empty() => Ok(OutputPolicy::Folder(PathBuf::from(folder))),
                _ => Err("no output folder is chosen".into()),
            },
            OutputMode::InPlace => Ok(OutputPolicy::InPlace),
            OutputMode::Store => match &self.store {
                Some(store) if store.id.as_deref().is_some_and(|id| !id.is_empty()) => Ok(OutputPolicy::Store),
                _ => Err("no storage connector is chosen".into()),
            },
        }
    }

    /// The bucket this setting uploads to, opened (secret from the keychain), or `None`
    /// when results are written locally.
    pub fn open_store(
        &self,
        settings: &Settings,
        keychain: &compressor_storage::Keychain,
    ) -> Result<Option<std::sync::Arc<crate::store::StoreSink>>, String> {
        match (&self.mode, &self.store) {
            (OutputMode::Store, Some(store)) => crate::store::StoreSink::open(settings, None, store, keychain, false)
                .map(|sink| Some(std::sync::Arc::new(sink)))
                .map_err(|e| e.to_string()),
            (OutputMode::Store, None) => Err("no storage connector is chosen".into()),
            _ => Ok(None),
        }
    }
}

/// Where compression runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum EngineMode {
    /// The engine in this app.
    Local,
    /// A Compressor API server (`compressor serve`, or the hosted API) at `remote_url`.
    Remote,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UserPreset {
    pub name: String,
    pub description: String,
    pub options: Options,
}

/// A watched folder as kept in the settings: what to compress there and where results go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct WatchRuleSetting {
    pub folder: String,
    pub preset: String,
    pub output: OutputSetting,
    /// Sub-folder levels watched below the folder.
    pub depth: u32,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Kept, but not watched.
    pub paused: bool,
}

impl Default for WatchRuleSetting {
    fn default() -> Self {
        WatchRuleSetting {
            folder: String::new(),
            preset: "balanced".into(),
            output: OutputSetting::default(),
            depth: 8,
            include: Vec::new(),
            exclude: Vec::new(),
            paused: false,
        }
    }
}

/// Why settings could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read settings {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("cannot write settings {path}: {message}")]
    Write { path: PathBuf, message: String },
}

/// `$COMPRESSOR_CONFIG_DIR/settings.json` when set (tests, portable use), else the
/// platform's config folder (`~/.config/compressor/settings.json` on Linux). The CLI and the
/// desktop app share this file, and so their presets.
pub fn default_path() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("COMPRESSOR_CONFIG_DIR") {
        return Ok(PathBuf::from(dir).join("settings.json"));
    }
    directories::ProjectDirs::from("app", "Compressor", "compressor")
        .map(|dirs| dirs.config_dir().join("settings.json"))
        .ok_or_else(|| "no home folder to keep settings in".to_string())
}

impl Settings {
    /// Where the user preset of this name (case-insensitively) is.
    fn user_preset_index(&self, name: &str) -> Option<usize> {
        self.user_presets.iter().position(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// A preset by name: built-in first, then the user's (case-insensitively).
    pub fn find_preset(&self, name: &str) -> Option<Options> {
        crate::presets::find(name)
            .map(|p| p.options)
            .or_else(|| self.user_preset_index(name).map(|i| self.user_presets[i].options.clone()))
    }

    /// The options for new files: the chosen preset with the metadata switches applied.
    pub fn options(&self) -> Options {
        self.preset_options(&self.preset).unwrap_or_default()
    }

    /// A preset's options with the settings' metadata switches applied (what a watch rule
    /// naming that preset uses).
    pub fn preset_options(&self, name: &str) -> Option<Options> {
        let mut options = self.find_preset(name)?;
        options.image.keep_exif |= self.keep_exif;
        options.image.keep_icc |= self.keep_icc;
        Some(options)
    }

    /// A preset as shareable JSON (`{"name", "description", "options"}`), built-in or user.
    pub fn export_preset(&self, name: &str) -> Option<UserPreset> {
        if let Some(builtin) = crate::presets::find(name) {
            return Some(UserPreset {
                name: builtin.name.into(),
                description: builtin.description.into(),
                options: builtin.options,
            });
        }
        self.user_preset_index(name).map(|i| self.user_presets[i].clone())
    }

    /// Adds a user preset from exported JSON. Its options are validated like API options;
    /// a built-in name is refused, and an existing user preset is replaced only if asked.
    pub fn import_preset(&mut self, json: &str, replace: bool) -> Result<String, String> {
        let preset: UserPreset = serde_json::from_str(json).map_err(|e| format!("not a preset: {e}"))?;
        let options = serde_json::to_string(&preset.options).map_err(|e| e.to_string())?;
        Options::from_json(&options).map_err(|e| e.to_string())?;
        let name = preset.name.trim().to_string();
        if name.is_empty() {
            return Err("the preset has no name".into());
        }
        if crate::presets::find(&name).is_some() {
            return Err(format!("'{name}' is a built-in preset; rename the imported one"));
        }
        match self.user_preset_index(&name) {
            Some(_) if !replace => Err(format!("a preset named '{name}' exists; use --replace to overwrite it")),
            Some(index) => {
                self.user_presets[index] = UserPreset { name: name.clone(), ..preset };
                Ok(name)
            }
            None => {
                self.user_presets.push(UserPreset { name: name.clone(), ..preset });
                Ok(name)
            }
        }
    }

    /// Reads settings; a missing file gives the defaults. A file from a newer version is
    /// refused rather than silently rewritten.
    pub fn load(path: &Path) -> Result<Settings, SettingsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
            Err(err) => return Err(SettingsError::Read { path: path.into(), message: err.to_string() }),
        };
        let read_error = |message: String| SettingsError::Read { path: path.into(), message };
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| read_error(e.to_string()))?;
        let value = migrate(value).map_err(read_error)?;
        serde_json::from_value(value).map_err(|e| read_error(e.to_string()))
    }

    /// Writes settings atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        let write_error = |message: String| SettingsError::Write { path: path.into(), message };
        let json = serde_json::to_vec_pretty(self).map_err(|e| write_error(e.to_string()))?;
        crate::sink::write_atomically(path, &json, path, false, |_| Ok(())).map_err(|e| write_error(e.to_string()))
    }
}

/// Brings an older settings document up to [`SETTINGS_VERSION`].
fn migrate(mut value: serde_json::Value) -> Result<serde_json::Value, String> {
    let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
    if version > u64::from(SETTINGS_VERSION) {
        return Err(format!("written by a newer Compressor (settings version {version})"));
    }
    if version == 0 {
        // Version 0 (before versioning) kept the suffix at the top level.
        if let Some(object) = value.as_object_mut() {
            if let Some(suffix) = object.remove("suffix") {
                object.insert("output".into(), serde_json::json!({"mode": "suffix", "suffix": suffix}));
            }
            object.insert("version".into(), SETTINGS_VERSION.into());
        }
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_defaults_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config/settings.json");
        assert_eq!(Settings::load(&path).unwrap(), Settings::default());
        let settings = Settings {
            preset: "web".into(),
            output: OutputSetting {
                mode: OutputMode::Folder,
                suffix: "-x".into(),
                folder: Some("/tmp/o".into()),
                store: None,
            },
            keep_exif: true,
            ..Default::default()
        };
        settings.save(&path).unwrap();
        assert_eq!(Settings::load(&path).unwrap(), settings);
        assert_eq!(settings.options().image.format, Some(compressor_engine::ImageFormat::Webp));
        assert!(settings.options().image.keep_exif);
    }

    #[test]
    fn presets_export_and_import_with_validation() {
        let mut settings = Settings::default();
        let web = serde_json::to_string(&settings.export_preset("web").unwrap()).unwrap();
        assert!(settings.import_preset(&web, false).unwrap_err().contains("built-in"));
        let mine = web.replace("\"web\"", "\"Mine\"");
        assert_eq!(settings.import_preset(&mine, false).unwrap(), "Mine");
        assert!(settings.import_preset(&mine, false).unwrap_err().contains("--replace"));
        assert_eq!(settings.import_preset(&mine, true).unwrap(), "Mine");
        assert_eq!(settings.user_presets.len(), 1);
        assert_eq!(settings.find_preset("mine"), settings.find_preset("web"));
        let bad = r#"{"name": "Bad", "description": "", "options": {"image": {"quality": 0}}}"#;
        assert!(settings.import_preset(bad, false).unwrap_err().contains("image.quality"));
        assert!(settings.import_preset("{}", false).is_err());
    }

    #[test]
    fn migrates_old_files_and_refuses_newer_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, r#"{"suffix": ".small", "keep_dates": true}"#).unwrap();
        let settings = Settings::load(&path).unwrap();
        assert_eq!(settings.version, SETTINGS_VERSION);
        assert_eq!(settings.output.suffix, ".small");
        assert!(settings.keep_dates);
        std::fs::write(&path, r#"{"version": 99}"#).unwrap();
        assert!(Settings::load(&path).unwrap_err().to_string().contains("newer"));
        std::fs::write(&path, "{not json").unwrap();
        assert!(Settings::load(&path).is_err());
    }
}
