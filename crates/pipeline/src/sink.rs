//! Sinks: where results go, written so that nothing is ever lost. Every output is written to
//! a temporary file in the destination folder, synced, read back and checked, and only then
//! renamed into place. In place, the original goes to the system trash, never deleted.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use filetime::FileTime;

use crate::discover::Source;

pub(crate) const TEMP_PREFIX: &str = ".compressor-";
pub(crate) const TEMP_SUFFIX: &str = ".tmp";

/// Where a result is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputPolicy {
    /// Beside the original, with a suffix before the extension: `photo.jpg` → `photo-min.jpg`.
    Suffix(String),
    /// Under this folder, mirroring the tree below each folder the user named.
    Folder(PathBuf),
    /// Replace the original, which is moved to the system trash.
    InPlace,
}

impl Default for OutputPolicy {
    fn default() -> Self {
        OutputPolicy::Suffix("-min".into())
    }
}

impl OutputPolicy {
    /// The path the output of `source` goes to, given the output's file name (which may
    /// have a new extension after a format conversion).
    pub fn destination(&self, source: &Source, output_name: &str) -> Result<PathBuf, String> {
        let parent = source.path.parent().unwrap_or(Path::new(""));
        let destination = match self {
            OutputPolicy::Suffix(suffix) => {
                if suffix.is_empty() {
                    return Err("an empty suffix would overwrite the original; use in-place mode for that".into());
                }
                let (stem, extension) = split_extension(output_name);
                parent.join(format!("{stem}{suffix}{extension}"))
            }
            OutputPolicy::Folder(folder) => {
                let relative = source.relative_path();
                folder.join(relative.parent().unwrap_or(Path::new(""))).join(output_name)
            }
            OutputPolicy::InPlace => parent.join(output_name),
        };
        Ok(destination)
    }
}

/// `("photo", ".jpg")`; a leading dot is part of the stem (`.hidden` has no extension).
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(0) | None => (name, ""),
        Some(dot) => name.split_at(dot),
    }
}

/// Why writing failed. The original is untouched whenever this is returned.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Check(String),
    #[error("cannot move the original {path} to the trash ({reason}); it was left as it was")]
    Trash { path: PathBuf, reason: String },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io { path: path.to_path_buf(), source }
}

/// Writes `bytes` to `destination` atomically. `check` runs on the bytes read back from
/// disk before anything is renamed; `like` lends its permissions (and, with `keep_dates`,
/// its modification time) to the new file.
pub fn write_atomically(
    destination: &Path,
    bytes: &[u8],
    like: &Path,
    keep_dates: bool,
    check: impl FnOnce(&[u8]) -> Result<(), String>,
) -> Result<(), WriteError> {
    let folder = destination.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(folder).map_err(io_error(folder))?;
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(folder)
        .map_err(io_error(folder))?;
    temp.write_all(bytes).map_err(io_error(temp.path()))?;
    temp.as_file().sync_all().map_err(io_error(temp.path()))?;

    let written = fs::read(temp.path()).map_err(io_error(temp.path()))?;
    if written != bytes {
        return Err(WriteError::Check(format!("{} did not read back as written", temp.path().display())));
    }
    check(&written).map_err(WriteError::Check)?;

    if let Ok(meta) = fs::metadata(like) {
        // tempfile creates 0600 files; the output should be as readable as the original.
        fs::set_permissions(temp.path(), meta.permissions()).map_err(io_error(temp.path()))?;
        if keep_dates {
            let modified = FileTime::from_last_modification_time(&meta);
            let accessed = FileTime::from_last_access_time(&meta);
            filetime::set_file_times(temp.path(), accessed, modified).map_err(io_error(temp.path()))?;
        }
    }
    temp.persist(destination).map_err(|err| WriteError::Io { path: destination.to_path_buf(), source: err.error })?;
    sync_folder(folder);
    Ok(())
}

/// Replaces `original` by `bytes` written at `destination` (the same path, or the same
/// stem with a new extension): output written and checked first, then the original is moved
/// to the trash, then the output is renamed into place.
pub fn replace_in_place(
    original: &Path,
    destination: &Path,
    bytes: &[u8],
    keep_dates: bool,
    check: impl FnOnce(&[u8]) -> Result<(), String>,
) -> Result<(), WriteError> {
    let folder = destination.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // Stage beside the destination under a temporary name, fully checked.
    let staged = folder.join(format!("{TEMP_PREFIX}{}-{}{TEMP_SUFFIX}", std::process::id(), unique()));
    write_atomically(&staged, bytes, original, keep_dates, check)?;
    if let Err(err) = trash::delete(original) {
        let _ = fs::remove_file(&staged);
        return Err(WriteError::Trash { path: original.to_path_buf(), reason: err.to_string() });
    }
    // Crash here: the original is in the trash and the output is staged; nothing is lost.
    fs::rename(&staged, destination).map_err(io_error(destination))?;
    sync_folder(folder);
    Ok(())
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Makes the rename itself durable (on Unix a directory can be opened and synced).
fn sync_folder(folder: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = fs::File::open(folder) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(path: &str, root: Option<&str>) -> Source {
        Source { path: path.into(), root: root.map(Into::into) }
    }

    #[test]
    fn destinations_follow_the_policy() {
        let suffix = OutputPolicy::Suffix("-min".into());
        assert_eq!(suffix.destination(&source("/p/a.jpg", None), "a.jpg").unwrap(), PathBuf::from("/p/a-min.jpg"));
        assert_eq!(suffix.destination(&source("/p/a.bmp", None), "a.png").unwrap(), PathBuf::from("/p/a-min.png"));
        assert!(OutputPolicy::Suffix(String::new()).destination(&source("/p/a.jpg", None), "a.jpg").is_err());
        let folder = OutputPolicy::Folder("/out".into());
        assert_eq!(
            folder.destination(&source("/in/x/y/a.jpg", Some("/in/x")), "a.jpg").unwrap(),
            PathBuf::from("/out/y/a.jpg")
        );
        assert_eq!(folder.destination(&source("/in/a.jpg", None), "a.webp").unwrap(), PathBuf::from("/out/a.webp"));
        assert_eq!(
            OutputPolicy::InPlace.destination(&source("/p/a.bmp", None), "a.png").unwrap(),
            PathBuf::from("/p/a.png")
        );
    }

    #[test]
    fn a_failed_check_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let original = dir.path().join("a.jpg");
        fs::write(&original, b"original").unwrap();
        let destination = dir.path().join("a-min.jpg");
        let result = write_atomically(&destination, b"new", &original, false, |_| Err("bad output".into()));
        assert!(matches!(result, Err(WriteError::Check(ref m)) if m == "bad output"));
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["a.jpg"]);
    }

    #[test]
    fn keeps_dates_and_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let original = dir.path().join("a.jpg");
        fs::write(&original, b"original").unwrap();
        fs::set_permissions(&original, fs::Permissions::from_mode(0o640)).unwrap();
        let old = FileTime::from_unix_time(1_000_000_000, 0);
        filetime::set_file_mtime(&original, old).unwrap();
        let destination = dir.path().join("out/a.jpg");
        write_atomically(&destination, b"new", &original, true, |_| Ok(())).unwrap();
        let meta = fs::metadata(&destination).unwrap();
        assert_eq!(FileTime::from_last_modification_time(&meta), old);
        assert_eq!(meta.permissions().mode() & 0o777, 0o640);
        assert_eq!(fs::read(&destination).unwrap(), b"new");
    }
}
