//! Sinks: where results go, written so that nothing is ever lost. Every output is written to
//! a temporary file in the destination folder, synced, read back and checked, and only then
//! renamed into place. In place, the original goes to the system trash, never deleted.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use filetime::FileTime;

use crate::discover::Source;

pub(crate) use compressor_engine::{TEMP_PREFIX, TEMP_SUFFIX};

/// Where a result is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputPolicy {
    /// Beside the original, with a suffix before the extension: `photo.jpg` → `photo-min.jpg`.
    Suffix(String),
    /// Under this folder, mirroring the tree below each folder the user named.
    Folder(PathBuf),
    /// Replace the original, which is moved to the system trash.
    InPlace,
    /// Nothing is written locally: results are uploaded by the job's store sink.
    Store,
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
            OutputPolicy::Store => return Err("results go to a storage connector, not to a local file".into()),
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

/// What a sink writes.
#[derive(Debug)]
pub enum Payload<'a> {
    Bytes(&'a [u8]),
    /// A finished temporary file (the engine's output), best in the destination's folder so
    /// that placing it is a rename; from elsewhere it is copied.
    Staged(tempfile::NamedTempFile),
    /// A copy of this file (the original, into an output folder), read in pieces.
    CopyOf(&'a Path),
}

/// Writes `bytes` to `destination` atomically. `check` runs on the bytes read back from
/// disk before anything is renamed; `like` lends its permissions (and, with `keep_dates`,
/// its modification time) to the new file. For small files (settings, journals).
pub fn write_atomically(
    destination: &Path,
    bytes: &[u8],
    like: &Path,
    keep_dates: bool,
    check: impl FnOnce(&[u8]) -> Result<(), String>,
) -> Result<(), WriteError> {
    write_file(destination, Payload::Bytes(bytes), like, keep_dates, |written| {
        let read_back = fs::read(written).map_err(|e| format!("cannot read {} back: {e}", written.display()))?;
        if read_back != bytes {
            return Err(format!("{} did not read back as written", written.display()));
        }
        check(&read_back)
    })
}

/// Puts `payload` at `destination` atomically: in a temporary file of the destination's
/// folder, synced, then `check`ed on disk (by path: the caller reads it back in pieces), and
/// only then renamed into place. `like` lends its permissions (and, with `keep_dates`, its
/// modification time) to the new file. Nothing is left behind when anything fails.
pub fn write_file(
    destination: &Path,
    payload: Payload<'_>,
    like: &Path,
    keep_dates: bool,
    check: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), WriteError> {
    let folder = destination.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(folder).map_err(io_error(folder))?;
    let temp = match payload {
        Payload::Staged(staged) if same_folder(staged.path(), folder) => staged,
        Payload::Staged(staged) => copy_into(folder, staged.path())?,
        Payload::CopyOf(original) => copy_into(folder, original)?,
        Payload::Bytes(bytes) => {
            let mut temp = temporary_in(folder)?;
            temp.write_all(bytes).map_err(io_error(temp.path()))?;
            temp
        }
    };
    temp.as_file().sync_all().map_err(io_error(temp.path()))?;
    check(temp.path()).map_err(WriteError::Check)?;

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

/// A new temporary file in `folder`. The process id in the name lets a later run tell a dead
/// run's leftovers from files another running process is still writing (see `recover`).
fn temporary_in(folder: &Path) -> Result<tempfile::NamedTempFile, WriteError> {
    let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
    tempfile::Builder::new().prefix(&prefix).suffix(TEMP_SUFFIX).tempfile_in(folder).map_err(io_error(folder))
}

/// A copy of `source` in a new temporary file of `folder`.
fn copy_into(folder: &Path, source: &Path) -> Result<tempfile::NamedTempFile, WriteError> {
    let mut temp = temporary_in(folder)?;
    let mut from = fs::File::open(source).map_err(io_error(source))?;
    std::io::copy(&mut from, &mut temp).map_err(io_error(temp.path()))?;
    Ok(temp)
}

fn same_folder(file: &Path, folder: &Path) -> bool {
    let canonical = |path: &Path| fs::canonicalize(path).ok();
    file.parent().and_then(canonical).is_some_and(|parent| Some(parent) == canonical(folder))
}

/// Replaces `original` by `payload` written at `destination` (the same path, or the same
/// stem with a new extension): output written and checked first, then the original is moved
/// to the trash, then the output is renamed into place.
pub fn replace_in_place(
    original: &Path,
    destination: &Path,
    payload: Payload<'_>,
    keep_dates: bool,
    check: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), WriteError> {
    let folder = destination.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // Stage beside the destination under a temporary name, fully checked.
    let stem = format!("{TEMP_PREFIX}{}-{}", std::process::id(), unique());
    let staged = folder.join(format!("{stem}{TEMP_SUFFIX}"));
    write_file(&staged, payload, original, keep_dates, check)?;
    // A journal says what the staged file is for, so that a run killed between the trash
    // and the rename is finished by the next one (`recover`) instead of leaving a hole.
    let journal = folder.join(format!("{stem}{JOURNAL_SUFFIX}"));
    let entry =
        Journal { original: original.to_path_buf(), staged: staged.clone(), destination: destination.to_path_buf() };
    let json = serde_json::to_vec(&entry).map_err(|e| WriteError::Check(e.to_string()))?;
    if let Err(err) = write_atomically(&journal, &json, &journal, false, |_| Ok(())) {
        let _ = fs::remove_file(&staged);
        return Err(err);
    }
    if let Err(err) = trash::delete(original) {
        let _ = fs::remove_file(&staged);
        let _ = fs::remove_file(&journal);
        return Err(WriteError::Trash { path: original.to_path_buf(), reason: err.to_string() });
    }
    // Crash here: the original is in the trash and the output is staged; nothing is lost,
    // and the journal lets the next run put the output in place.
    fs::rename(&staged, destination).map_err(io_error(destination))?;
    sync_folder(folder);
    let _ = fs::remove_file(&journal);
    Ok(())
}

const JOURNAL_SUFFIX: &str = ".journal";

/// An in-place replacement in progress.
#[derive(serde::Serialize, serde::Deserialize)]
struct Journal {
    original: PathBuf,
    staged: PathBuf,
    destination: PathBuf,
}

/// What `recover` did in a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// A dead run's half-written temporary file was removed.
    RemovedTemporary(PathBuf),
    /// A dead run had moved the original to the trash but not yet renamed the checked
    /// output into place: it is now in place.
    FinishedReplacement(PathBuf),
}

/// Whether the process that made a temporary file is gone (its id is in the name).
fn owner_is_gone(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(TEMP_PREFIX) else { return false };
    let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else { return false };
    pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists()
}

/// Cleans up after runs that were killed while writing into `folder` (and, with `depth`
/// above 1, its sub-folders): a replacement that had got as far as the trash is finished,
/// and half-written temporary files are removed. Files of live processes are left alone.
pub fn recover(folder: &Path, depth: usize) -> Vec<Recovery> {
    if !cfg!(target_os = "linux") {
        return Vec::new(); // the owner check reads /proc
    }
    let mut done = Vec::new();
    let mut temporaries = Vec::new();
    for entry in walkdir::WalkDir::new(folder).max_depth(depth).into_iter().filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.file_type().is_file() || !owner_is_gone(&name) {
            continue;
        }
        if name.ends_with(JOURNAL_SUFFIX) {
            if let Some(journal) = fs::read(entry.path()).ok().and_then(|b| serde_json::from_slice::<Journal>(&b).ok())
            {
                // Only when the original is gone (in the trash) and nothing took its place.
                let unfinished =
                    journal.staged.is_file() && !journal.original.exists() && !journal.destination.exists();
                if unfinished && fs::rename(&journal.staged, &journal.destination).is_ok() {
                    done.push(Recovery::FinishedReplacement(journal.destination.clone()));
                }
            }
            let _ = fs::remove_file(entry.path());
        } else if name.ends_with(TEMP_SUFFIX) {
            temporaries.push(entry.into_path());
        }
    }
    // After the journals: a staged file whose replacement was just finished is gone by now.
    for path in temporaries {
        if path.exists() && fs::remove_file(&path).is_ok() {
            done.push(Recovery::RemovedTemporary(path));
        }
    }
    done
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

    #[test]
    fn a_replacement_killed_after_the_trash_is_finished_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        // What a run with id 4194999 (above any real pid) leaves when killed between moving
        // the original to the trash and renaming the checked output into place.
        let dead = "4194999";
        let staged = dir.path().join(format!("{TEMP_PREFIX}{dead}-7{TEMP_SUFFIX}"));
        fs::write(&staged, b"the checked output").unwrap();
        let original = dir.path().join("photo.jpg");
        let journal = Journal { original: original.clone(), staged: staged.clone(), destination: original.clone() };
        let journal_path = dir.path().join(format!("{TEMP_PREFIX}{dead}-7{JOURNAL_SUFFIX}"));
        fs::write(&journal_path, serde_json::to_vec(&journal).unwrap()).unwrap();
        // And a half-written temporary file of the same run, and one of a live process.
        let half = dir.path().join(format!("{TEMP_PREFIX}{dead}-abc{TEMP_SUFFIX}"));
        fs::write(&half, b"half").unwrap();
        let live = dir.path().join(format!("{TEMP_PREFIX}{}-xyz{TEMP_SUFFIX}", std::process::id()));
        fs::write(&live, b"being written").unwrap();
        let other_live = dir.path().join(format!("{TEMP_PREFIX}1-xyz{TEMP_SUFFIX}"));
        fs::write(&other_live, b"pid 1 is alive").unwrap();

        let done = recover(dir.path(), 1);
        assert!(done.contains(&Recovery::FinishedReplacement(original.clone())), "{done:?}");
        assert!(done.contains(&Recovery::RemovedTemporary(half.clone())), "{done:?}");
        assert_eq!(fs::read(&original).unwrap(), b"the checked output");
        assert!(!staged.exists() && !journal_path.exists() && !half.exists());
        assert!(live.exists() && other_live.exists(), "files of live processes are left alone");

        // Had the original still been there, the staged copy is dropped instead.
        fs::write(&staged, b"second output").unwrap();
        fs::write(&journal_path, serde_json::to_vec(&journal).unwrap()).unwrap();
        recover(dir.path(), 1);
        assert_eq!(fs::read(&original).unwrap(), b"the checked output");
        assert!(!staged.exists() && !journal_path.exists());
    }
}
