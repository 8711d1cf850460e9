//! What an upload sends: bytes already in memory, or a file read one part at a time, so
//! that every provider has one upload path for both and a multi-gigabyte file is never
//! held in memory whole.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use bytes::Bytes;

use crate::{StorageError, MULTIPART_THRESHOLD, PART_SIZE};

pub(crate) enum Source<'a> {
    Bytes(Bytes),
    /// A file, with its length when the upload started: exactly that many bytes are sent,
    /// and a file that has got shorter since is an error rather than a truncated object.
    File {
        path: &'a Path,
        len: u64,
    },
}

impl<'a> Source<'a> {
    /// `path` as a source, refusing what is not a regular file.
    pub(crate) fn file(path: &'a Path) -> Result<Source<'a>, StorageError> {
        let metadata = std::fs::metadata(path).map_err(|e| unreadable(path, e))?;
        if !metadata.is_file() {
            return Err(StorageError::Invalid(format!("{} is not a file", path.display())));
        }
        Ok(Source::File { path, len: metadata.len() })
    }

    pub(crate) fn len(&self) -> u64 {
        match self {
            Source::Bytes(bytes) => bytes.len() as u64,
            Source::File { len, .. } => *len,
        }
    }

    /// Whether this goes up in parts rather than in one request.
    pub(crate) fn multipart(&self) -> bool {
        self.len() >= MULTIPART_THRESHOLD as u64
    }

    /// The `(offset, length)` of each part, in order: PART_SIZE bytes each but the last,
    /// which holds what is left.
    pub(crate) fn parts(&self) -> impl Iterator<Item = (u64, usize)> {
        let total = self.len();
        (0..total).step_by(PART_SIZE).map(move |offset| (offset, (total - offset).min(PART_SIZE as u64) as usize))
    }

    /// The whole content, for an upload in one request (under MULTIPART_THRESHOLD bytes).
    pub(crate) async fn whole(&self) -> Result<Bytes, StorageError> {
        match self {
            Source::Bytes(bytes) => Ok(bytes.clone()),
            Source::File { len, .. } => self.part(0, *len as usize).await,
        }
    }

    /// `length` bytes from `offset`: a slice of the bytes (no copy), or read from the file now.
    pub(crate) async fn part(&self, offset: u64, length: usize) -> Result<Bytes, StorageError> {
        match self {
            Source::Bytes(bytes) => {
                // Offsets come from `parts`, within the bytes' length, which is a usize.
                let start = offset as usize;
                Ok(bytes.slice(start..start + length))
            }
            Source::File { path, .. } => {
                // Off the async threads: reading a part takes long enough to stall other tasks.
                let owned = path.to_path_buf();
                tokio::task::spawn_blocking(move || read_part(&owned, offset, length))
                    .await
                    .map_err(|e| StorageError::Service(format!("reading {} failed: {e}", path.display())))?
            }
        }
    }
}

fn read_part(path: &Path, offset: u64, length: usize) -> Result<Bytes, StorageError> {
    let mut file = std::fs::File::open(path).map_err(|e| unreadable(path, e))?;
    file.seek(SeekFrom::Start(offset)).map_err(|e| unreadable(path, e))?;
    let mut part = vec![0; length];
    file.read_exact(&mut part).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => got_shorter(path),
        _ => unreadable(path, e),
    })?;
    Ok(Bytes::from(part))
}

pub(crate) fn unreadable(path: &Path, err: std::io::Error) -> StorageError {
    StorageError::Service(format!("cannot read {}: {err}", path.display()))
}

/// The file lost bytes while it was being uploaded: sending what is left would store a
/// truncated object under a name that says it is complete.
pub(crate) fn got_shorter(path: &Path) -> StorageError {
    StorageError::Service(format!("{} got shorter while it was being uploaded; nothing was stored", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_content_once_in_order() {
        let total = 2 * PART_SIZE + 5;
        let source = Source::Bytes(Bytes::from(vec![0; total]));
        let parts: Vec<(u64, usize)> = source.parts().collect();
        assert_eq!(parts, [(0, PART_SIZE), (PART_SIZE as u64, PART_SIZE), (2 * PART_SIZE as u64, 5)]);
        let exact = Source::Bytes(Bytes::from(vec![0; 2 * PART_SIZE]));
        assert_eq!(exact.parts().last(), Some((PART_SIZE as u64, PART_SIZE)));
    }

    #[test]
    fn a_part_past_the_end_of_a_file_is_an_error_not_a_short_part() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short.bin");
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(read_part(&path, 2, 8).unwrap(), Bytes::from_static(b"23456789"));
        let err = read_part(&path, 4, 8).unwrap_err();
        assert!(err.to_string().contains("got shorter"), "{err}");
    }
}
