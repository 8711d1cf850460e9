//! Inputs on their way in (an upload's file field, a fetched body): written to a temporary
//! file under the data folder as they arrive and counted against the server's size limit, so
//! a large input costs disk, not memory. The same working folder holds each compression's
//! scratch folder, on the results' filesystem, so that keeping a result is a rename.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use axum::extract::multipart::{Field, MultipartError};
use tokio::io::{AsyncWriteExt, BufWriter};

/// Under the data folder: inputs being received and compressions under way. Its name has no
/// `-`, so `server::remove_expired` never takes it for a result folder.
const WORKING_FOLDER: &str = "working";

/// Whatever is still in the working folder this long after its last change was left by a
/// server that stopped mid-request (a crash, a kill): no request takes a day.
const ABANDONED_AFTER: Duration = Duration::from_secs(24 * 3600);

/// axum's words for a body over `DefaultBodyLimit`. The server's own, earlier refusals use
/// them too, so that every 413 of an upload reads the same.
pub(crate) const PAYLOAD_TOO_LARGE: &str = "Request payload is too large";

/// How much of an input is gathered before it is written: an upload arrives in pieces of at
/// most 64 KB (the server's read buffer), and each write to a tokio file is a blocking task.
const WRITE_BUFFER_BYTES: usize = 1024 * 1024;

/// The working folder of `data_dir`, created on demand.
fn working_folder(data_dir: &Path) -> std::io::Result<PathBuf> {
    let folder = data_dir.join(WORKING_FOLDER);
    std::fs::create_dir_all(&folder)?;
    Ok(folder)
}

/// A folder for one compression's output, on the same filesystem as the result folders;
/// deleted with what it holds when dropped, unless it was renamed into place.
pub(crate) fn scratch_folder(data_dir: &Path) -> std::io::Result<tempfile::TempDir> {
    tempfile::TempDir::new_in(working_folder(data_dir)?)
}

/// Deletes what a stopped server left in the working folder (see [`ABANDONED_AFTER`]).
pub(crate) fn remove_abandoned(data_dir: &Path, now: SystemTime) {
    for entry in std::fs::read_dir(data_dir.join(WORKING_FOLDER)).into_iter().flatten().flatten() {
        let changed = entry.metadata().and_then(|metadata| metadata.modified());
        let abandoned = changed.is_ok_and(|changed| now.duration_since(changed).is_ok_and(|age| age > ABANDONED_AFTER));
        if !abandoned {
            continue;
        }
        // Another server sharing the folder may have removed it first: nothing to report.
        let _ = if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            std::fs::remove_dir_all(entry.path())
        } else {
            std::fs::remove_file(entry.path())
        };
    }
}

/// An input received whole. Its file is deleted when this is dropped, unless it was moved
/// away first (when a compression is skipped, the original is the result).
pub(crate) struct Received {
    pub(crate) path: tempfile::TempPath,
    pub(crate) size: u64,
}

/// Why a chunk of an input was not written.
#[derive(Debug)]
pub(crate) enum Refused {
    /// It would take the input past its size limit.
    TooLarge,
    /// Writing to the disk failed.
    Disk(std::io::Error),
}

/// An input being received: chunks are appended as they arrive, and counted against `limit`.
pub(crate) struct Incoming {
    file: BufWriter<tokio::fs::File>,
    path: tempfile::TempPath,
    size: u64,
    limit: u64,
}

impl Incoming {
    /// A new, empty temporary file in the working folder of `data_dir`.
    pub(crate) fn create(data_dir: &Path, limit: u64) -> std::io::Result<Incoming> {
        let (file, path) = tempfile::NamedTempFile::new_in(working_folder(data_dir)?)?.into_parts();
        let file = BufWriter::with_capacity(WRITE_BUFFER_BYTES, tokio::fs::File::from_std(file));
        Ok(Incoming { file, path, size: 0, limit })
    }

    /// Appends `chunk`, or refuses it without writing anything when it would take the input
    /// past its limit.
    pub(crate) async fn write(&mut self, chunk: &[u8]) -> Result<(), Refused> {
        let size = self.size.saturating_add(chunk.len() as u64);
        if size > self.limit {
            return Err(Refused::TooLarge);
        }
        self.file.write_all(chunk).await.map_err(Refused::Disk)?;
        self.size = size;
        Ok(())
    }

    /// The whole input, once every byte of it is on disk.
    pub(crate) async fn finish(mut self) -> std::io::Result<Received> {
        // Flushing writes what is still buffered, then waits for tokio's last background
        // write and reports its error, which dropping the file would lose.
        self.file.flush().await?;
        Ok(Received { path: self.path, size: self.size })
    }
}

/// Why an upload's file field was not received.
#[derive(Debug)]
pub(crate) enum NotReceived {
    /// The field is over the server's upload limit.
    TooLarge,
    /// Writing it to the disk failed (the server's fault).
    Disk(std::io::Error),
    /// The body broke off, stalled or is malformed (the client's).
    Body(MultipartError),
}

impl From<Refused> for NotReceived {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::TooLarge => NotReceived::TooLarge,
            Refused::Disk(err) => NotReceived::Disk(err),
        }
    }
}

/// Writes a multipart field to a temporary file chunk by chunk, stopping as soon as it passes
/// `limit` bytes. The file is deleted on every failure.
pub(crate) async fn receive_field(field: &mut Field<'_>, data_dir: &Path, limit: u64) -> Result<Received, NotReceived> {
    let mut incoming = Incoming::create(data_dir, limit).map_err(NotReceived::Disk)?;
    while let Some(chunk) = field.chunk().await.map_err(NotReceived::Body)? {
        incoming.write(&chunk).await?;
    }
    incoming.finish().await.map_err(NotReceived::Disk)
}
