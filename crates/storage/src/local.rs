//! A local folder as a connector: the bucket is an optional sub-folder, keys are relative
//! paths. Writes go to a temporary file that is renamed into place.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::source::{got_shorter, unreadable, Source};
use crate::{Connector, ObjectInfo, StorageError, Target, Transfer, PART_SIZE};

pub(crate) struct LocalStore {
    root: PathBuf,
}

fn io<'a>(what: &str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StorageError + 'a {
    let what = what.to_string();
    move |e| StorageError::Service(format!("{what} {}: {e}", path.display()))
}

impl LocalStore {
    pub(crate) fn new(connector: &Connector) -> Result<LocalStore, StorageError> {
        let root = PathBuf::from(connector.endpoint.clone().unwrap_or_default());
        if !root.is_absolute() {
            return Err(StorageError::Invalid("a local connector needs an absolute folder path".into()));
        }
        Ok(LocalStore { root })
    }

    /// The path of `key` in `bucket`. Keys and buckets were validated (no `..`, not
    /// absolute); this refuses anything that would still leave the root.
    fn path(&self, bucket: &str, key: &str) -> Result<PathBuf, StorageError> {
        let relative = Path::new(bucket).join(key);
        let escapes = relative.components().any(|c| !matches!(c, std::path::Component::Normal(_)));
        if escapes || key.is_empty() {
            return Err(StorageError::Invalid(format!("the key {key:?} would leave the connector's folder")));
        }
        Ok(self.root.join(relative))
    }

    pub(crate) fn url(&self, bucket: &str, key: &str) -> String {
        let path = self.root.join(bucket).join(key);
        format!("file://{}", crate::provider::encode_key(&path.to_string_lossy()))
    }

    pub(crate) fn upload(
        &self,
        target: &Target,
        key: &str,
        source: &Source<'_>,
        transfer: &Transfer<'_>,
    ) -> Result<(), StorageError> {
        let destination = self.path(&target.bucket, key)?;
        let folder = destination.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(folder).map_err(io("cannot create", folder))?;
        let mut temp = tempfile::Builder::new()
            .prefix(".compressor-upload-")
            .tempfile_in(folder)
            .map_err(io("cannot write in", folder))?;
        match source {
            Source::Bytes(bytes) => temp.write_all(bytes).map_err(io("cannot write", &destination))?,
            Source::File { path, len } => copy(path, *len, temp.as_file_mut(), &destination, transfer)?,
        }
        temp.as_file().sync_all().map_err(io("cannot write", &destination))?;
        temp.persist(&destination).map_err(|e| io("cannot write", &destination)(e.error))?;
        (transfer.progress)(source.len(), source.len());
        Ok(())
    }

    pub(crate) fn list_buckets(&self) -> Result<Vec<String>, StorageError> {
        let entries = std::fs::read_dir(&self.root).map_err(io("cannot list", &self.root))?;
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        Ok(names)
    }

    pub(crate) fn list_objects(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectInfo>, StorageError> {
        let base = self.root.join(bucket);
        if !base.is_dir() {
            return Err(StorageError::NoSuchBucket(base.display().to_string()));
        }
        let mut objects = Vec::new();
        for entry in walkdir::WalkDir::new(&base).into_iter().flatten() {
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(relative) = entry.path().strip_prefix(&base) else { continue };
            let key = relative.to_string_lossy().replace('\\', "/");
            if !key.starts_with(prefix) || key.rsplit('/').next().is_some_and(|n| n.starts_with(".compressor-")) {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            // A local file has no ETag: size and modification time stand in for one.
            let modified = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            let etag = format!("{}-{}", meta.len(), modified.map(|d| d.as_nanos()).unwrap_or(0));
            objects.push(ObjectInfo { key, size: meta.len(), etag });
        }
        Ok(objects)
    }

    pub(crate) fn download(&self, bucket: &str, key: &str, limit: u64) -> Result<Bytes, StorageError> {
        let path = self.path(bucket, key)?;
        let size = std::fs::metadata(&path).map_err(|_| StorageError::NoSuchKey(key.into()))?.len();
        if size > limit {
            return Err(StorageError::TooLarge { key: key.into(), size, limit });
        }
        Ok(Bytes::from(std::fs::read(&path).map_err(io("cannot read", &path))?))
    }

    pub(crate) fn delete(&self, bucket: &str, key: &str) -> Result<(), StorageError> {
        let path = self.path(bucket, key)?;
        std::fs::remove_file(&path).map_err(io("cannot delete", &path))
    }
}

/// Copies the first `len` bytes of the file at `path` into `out`, a part at a time, so that
/// progress is reported and a cancel is heard during a large copy. A cancelled or failed copy
/// leaves the destination as it was: the temporary file is removed when dropped.
fn copy(
    path: &Path,
    len: u64,
    out: &mut std::fs::File,
    destination: &Path,
    transfer: &Transfer<'_>,
) -> Result<(), StorageError> {
    let mut file = std::fs::File::open(path).map_err(|e| unreadable(path, e))?;
    let mut done = 0u64;
    while done < len {
        if transfer.cancelled() {
            return Err(StorageError::Cancelled);
        }
        let step = (len - done).min(PART_SIZE as u64);
        // io::copy tells a read error from a write error only by its message: name both files.
        let copied = std::io::copy(&mut (&mut file).take(step), out)
            .map_err(io(&format!("cannot copy {} to", path.display()), destination))?;
        if copied < step {
            return Err(got_shorter(path));
        }
        done += copied;
        // The last step is reported once the file is in place.
        if done < len {
            (transfer.progress)(done, len);
        }
    }
    Ok(())
}
