//! The SHA-256 of every file Compressor wrote, so that a result dropped in again (or found
//! again by a watched folder or a sync) is recognised and not recompressed: a lossy codec
//! run twice loses quality a second time for little gain. An index rather than a marker in
//! the file: it costs the output no bytes and covers every format.
//!
//! One lower-case hex hash per line, appended as results are written; shared by the app,
//! the CLI and the watch service (appends of one short line are atomic on local disks).

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug)]
pub struct ProducedIndex {
    path: PathBuf,
    hashes: Mutex<HashSet<String>>,
}

impl ProducedIndex {
    /// The index beside the settings file (`produced.sha256`).
    pub fn beside_settings() -> Result<ProducedIndex, String> {
        let settings = crate::settings::default_path()?;
        let folder = settings.parent().ok_or("the settings file has no folder")?;
        Ok(ProducedIndex::open(&folder.join("produced.sha256")))
    }

    /// Reads the index at `path`; a missing or unreadable one starts empty (it is a cache
    /// of what we wrote, never the only copy of anything).
    pub fn open(path: &Path) -> ProducedIndex {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let hashes = text.lines().map(str::trim).filter(|l| l.len() == 64).map(String::from).collect();
        ProducedIndex { path: path.to_path_buf(), hashes: Mutex::new(hashes) }
    }

    pub fn contains(&self, sha256: &str) -> bool {
        self.hashes.lock().map(|hashes| hashes.contains(sha256)).unwrap_or(false)
    }

    /// Remembers a result. A failure to write the index only costs a later recompression.
    pub fn add(&self, sha256: &str) {
        let Ok(mut hashes) = self.hashes.lock() else { return };
        if !hashes.insert(sha256.to_string()) {
            return;
        }
        if let Some(folder) = self.path.parent() {
            let _ = std::fs::create_dir_all(folder);
        }
        if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(&self.path) {
            let _ = file.write_all(format!("{sha256}\n").as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/produced.sha256");
        let hash = "a".repeat(64);
        let index = ProducedIndex::open(&path);
        assert!(!index.contains(&hash));
        index.add(&hash);
        index.add(&hash);
        assert!(ProducedIndex::open(&path).contains(&hash));
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    }
}
