//! Sources: turns the paths a user gave into the files to compress.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

/// A file to compress, with the folder it was found under (for mirroring into an output folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub path: PathBuf,
    /// The folder the user named, when the file was found by walking it.
    pub root: Option<PathBuf>,
}

impl Source {
    /// The path to recreate under an output folder: relative to the walked folder, or just the name.
    pub fn relative_path(&self) -> PathBuf {
        self.root
            .as_deref()
            .and_then(|root| self.path.strip_prefix(root).ok())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.path.file_name().map(PathBuf::from).unwrap_or_default())
    }
}

/// A path that could not be read while discovering files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryError {
    pub path: PathBuf,
    pub message: String,
}

/// Our own temporary files (see `sink`): never inputs.
pub(crate) fn is_our_temp_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(crate::sink::TEMP_PREFIX) && n.ends_with(crate::sink::TEMP_SUFFIX))
}

/// Extensions of the formats the engine reads. A folder walk takes a file with one of these,
/// or whose first bytes the engine recognises; anything else in a folder (sidecar files,
/// notes) is not the user's request and is left out. Files named directly are always taken.
const KNOWN_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "jfif", "png", "apng", "gif", "webp", "tif", "tiff", "bmp", "dib", "avif", "heic", "heif",
    "jxl", "ico", "cur", "pdf", "zip", "docx", "xlsx", "pptx", "odt", "ods", "odp", "epub", "gz", "tgz", "mp4", "m4v",
    "mov", "mkv", "webm", "avi", "wav", "flac", "ogg", "oga", "opus", "mp3", "m4a",
];

/// Whether the name has the extension of a format the engine reads (images, PDFs, archives
/// and documents, video, audio).
pub fn has_known_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| KNOWN_EXTENSIONS.iter().any(|k| k.eq_ignore_ascii_case(e)))
}

fn looks_compressible(path: &Path) -> bool {
    has_known_extension(path) || sniff(path)
}

fn sniff(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 64];
    let Ok(mut file) = std::fs::File::open(path) else { return true }; // let the read error surface later
    let read = file.read(&mut head).unwrap_or(0);
    compressor_engine::detect(&head[..read]).is_some()
}

/// Expands files and folders (recursively, not following symlinked folders) into sources,
/// in a stable order. Inside folders, hidden files and files that are not images are
/// skipped; files named directly are always taken.
pub fn discover(paths: &[PathBuf]) -> (Vec<Source>, Vec<DiscoveryError>) {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut sources, &mut errors),
            Ok(_) => sources.push(Source { path: path.clone(), root: None }),
            Err(err) => errors.push(DiscoveryError { path: path.clone(), message: err.to_string() }),
        }
    }
    (sources, errors)
}

fn walk(root: &Path, sources: &mut Vec<Source>, errors: &mut Vec<DiscoveryError>) {
    let entries = WalkDir::new(root).sort_by_file_name().into_iter().filter_entry(|entry| {
        entry.depth() == 0 || !entry.file_name().to_str().is_some_and(|name| name.starts_with('.'))
    });
    for entry in entries {
        match entry {
            Ok(entry)
                if entry.file_type().is_file()
                    && !is_our_temp_file(entry.path())
                    && looks_compressible(entry.path()) =>
            {
                sources.push(Source { path: entry.into_path(), root: Some(root.to_path_buf()) })
            }
            Ok(_) => {}
            Err(err) => errors.push(DiscoveryError {
                path: err.path().unwrap_or(root).to_path_buf(),
                message: err.io_error().map_or_else(|| err.to_string(), ToString::to_string),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_folders_in_order_and_skips_hidden_and_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub/.git")).unwrap();
        for name in ["b.jpg", "a.png", "sub/c.gif", "sub/.git/x", ".hidden.jpg", ".compressor-1.tmp", "notes.txt"] {
            std::fs::write(root.join(name), b"x").unwrap();
        }
        // Found by content despite its name.
        std::fs::write(root.join("sub/d.bin"), b"\x89PNG\r\n\x1a\n").unwrap();
        let (sources, errors) = discover(&[root.to_path_buf(), root.join("missing.jpg")]);
        let relative: Vec<_> = sources.iter().map(|s| s.relative_path()).collect();
        assert_eq!(relative, [PathBuf::from("a.png"), "b.jpg".into(), "sub/c.gif".into(), "sub/d.bin".into()]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, root.join("missing.jpg"));
    }
}
