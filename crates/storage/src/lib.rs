//! Storage connectors: where results go when they leave this computer, and where a bucket
//! sync reads from. The S3 family (AWS S3, R2, Spaces, B2, GCS in HMAC mode, any
//! S3-compatible endpoint) goes through aws-sdk-s3, Azure Blob Storage through object_store,
//! and a local folder through the file system. Secrets come from the OS keychain only.

mod azure;
pub mod connector;
mod local;
pub mod options;
pub mod provider;
mod s3;
mod source;

use std::path::Path;
use std::sync::atomic::AtomicBool;

pub use connector::{Connector, ConnectorSpec, Keychain, KeychainError};
pub use options::{StoreOptions, Target};
pub use provider::{object_url, Provider, PROVIDERS};
use source::Source;

/// Objects at least this big are uploaded in parts.
pub const MULTIPART_THRESHOLD: usize = 16 * 1024 * 1024;
/// The size of each part of a multipart upload.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// An object in a bucket.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
    /// Changes whenever the content changes; what a sync compares.
    pub etag: String,
}

/// How a transfer reports progress and learns it should stop.
pub struct Transfer<'a> {
    /// Called with (bytes done, bytes in all).
    pub progress: &'a (dyn Fn(u64, u64) + Sync),
    pub cancel: &'a AtomicBool,
}

impl Transfer<'_> {
    pub fn quiet(cancel: &AtomicBool) -> Transfer<'_> {
        Transfer { progress: &|_, _| {}, cancel }
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Why a storage operation failed, in words a user can act on. Never holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{operation} was denied on {bucket}: {hint}")]
    Denied { operation: String, bucket: String, hint: String },
    #[error("the bucket {0:?} does not exist (or belongs to another account)")]
    NoSuchBucket(String),
    #[error("the object {0:?} does not exist")]
    NoSuchKey(String),
    #[error("the credentials were refused: check the access key id and secret ({0})")]
    BadCredentials(String),
    #[error("cannot reach {endpoint}: {reason}")]
    Unreachable { endpoint: String, reason: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{0} is not supported by this provider")]
    Unsupported(&'static str),
    #[error("the object {key:?} is {size} bytes, over the {limit}-byte limit")]
    TooLarge { key: String, size: u64, limit: u64 },
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    #[error("{0}")]
    Service(String),
}

/// What "Test connection" found.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ConnectionTest {
    pub bucket: String,
    /// The probe object's URL, written and then deleted.
    pub probe_url: String,
    /// Things that work but need attention (e.g. the probe could not be deleted).
    pub warnings: Vec<String>,
}

enum Backend {
    S3(s3::S3Store),
    Azure(azure::AzureStore),
    Local(local::LocalStore),
}

/// A connector opened with its secret, ready for transfers.
pub struct Storage {
    connector: Connector,
    backend: Backend,
}

impl Storage {
    /// Opens `connector`, reading its secret from the keychain.
    pub fn open(connector: &Connector, keychain: &Keychain) -> Result<Storage, StorageError> {
        let secret = if connector.provider.has_secret() { Some(keychain.secret(&connector.id)?) } else { None };
        Self::with_secret(connector, secret.unwrap_or_default())
    }

    /// Opens `connector` with a secret the caller holds (a connector being set up).
    pub fn with_secret(connector: &Connector, secret: String) -> Result<Storage, StorageError> {
        let backend = match connector.provider {
            Provider::Azure => Backend::Azure(azure::AzureStore::new(connector, secret)),
            Provider::Local => Backend::Local(local::LocalStore::new(connector)?),
            _ => Backend::S3(s3::S3Store::new(connector, secret)),
        };
        Ok(Storage { connector: connector.clone(), backend })
    }

    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    /// Validates `options` for this connector.
    pub fn target(&self, options: &StoreOptions) -> Result<Target, Vec<compressor_engine::FieldError>> {
        options.resolve(&self.connector)
    }

    /// The URL an object has once stored.
    pub fn object_url(&self, target: &Target, key: &str) -> String {
        match &self.backend {
            Backend::Local(local) => local.url(&target.bucket, key),
            _ => object_url(
                self.connector.provider,
                self.connector.endpoint.as_deref(),
                &self.connector.access_key_id,
                &target.region,
                &target.bucket,
                key,
            ),
        }
    }

    /// Stores `bytes` as `key`, in parts when large; returns the object's URL.
    pub async fn upload(
        &self,
        target: &Target,
        key: &str,
        bytes: bytes::Bytes,
        content_type: &str,
        transfer: &Transfer<'_>,
    ) -> Result<String, StorageError> {
        self.send(target, key, Source::Bytes(bytes), content_type, transfer).await
    }

    /// Uploads the file at `path` as `key`, reading it in parts: memory stays bounded
    /// whatever the file's size, by PART_SIZE (or by MULTIPART_THRESHOLD for a file small
    /// enough to go in one request, read whole). Same result and errors as `upload`, plus
    /// the file's own: unreadable, not a file, or shorter by the time a part is read.
    pub async fn upload_file(
        &self,
        target: &Target,
        key: &str,
        path: &Path,
        content_type: &str,
        transfer: &Transfer<'_>,
    ) -> Result<String, StorageError> {
        // Before looking at the file: a cancelled upload says so, whatever the file's state.
        if transfer.cancelled() {
            return Err(StorageError::Cancelled);
        }
        self.send(target, key, Source::file(path)?, content_type, transfer).await
    }

    /// The one upload path `upload` and `upload_file` share.
    async fn send(
        &self,
        target: &Target,
        key: &str,
        source: Source<'_>,
        content_type: &str,
        transfer: &Transfer<'_>,
    ) -> Result<String, StorageError> {
        if transfer.cancelled() {
            return Err(StorageError::Cancelled);
        }
        match &self.backend {
            Backend::S3(s3) => s3.upload(target, key, &source, content_type, transfer).await?,
            Backend::Azure(azure) => azure.upload(target, key, &source, content_type, transfer).await?,
            Backend::Local(local) => local.upload(target, key, &source, transfer)?,
        }
        Ok(self.object_url(target, key))
    }

    /// Writes and deletes a probe object, explaining what fails.
    pub async fn test(&self, target: &Target) -> Result<ConnectionTest, StorageError> {
        let key = format!("{}.compressor-connection-test-{}", target.path_prefix(), uuid::Uuid::new_v4());
        let cancel = AtomicBool::new(false);
        let probe = bytes::Bytes::from_static(b"Compressor connection test; safe to delete.\n");
        // Writing and setting an ACL are separate permissions (s3:PutObject and
        // s3:PutObjectAcl): try them one at a time, so that the failure names the missing one.
        let plain = Target { acl: None, ..target.clone() };
        let probe_url = self.upload(&plain, &key, probe, "text/plain", &Transfer::quiet(&cancel)).await?;
        if let (Some(acl), Backend::S3(s3)) = (target.acl, &self.backend) {
            if let Err(err) = s3.set_acl(target, &key, acl).await {
                let _ = self.delete(target, &key).await;
                return Err(match err {
                    // Only a plain refusal means the permission is missing (not ACLs turned off).
                    StorageError::Denied { bucket, hint, .. } if hint == self.connector.provider.permission_hint() => StorageError::Denied {
                        operation: format!("setting the ACL {acl:?}"),
                        bucket,
                        hint: "writing works but setting an ACL does not: allow s3:PutObjectAcl, or use \"acl\": \"private\""
                            .into(),
                    },
                    other => other,
                });
            }
        }
        let mut warnings = Vec::new();
        if let Err(err) = self.delete(target, &key).await {
            warnings.push(format!("the probe object {key} could not be deleted ({err}); delete it by hand"));
        }
        Ok(ConnectionTest { bucket: target.bucket.clone(), probe_url, warnings })
    }

    pub async fn list_buckets(&self) -> Result<Vec<String>, StorageError> {
        match &self.backend {
            Backend::S3(s3) => s3.list_buckets().await,
            Backend::Azure(_) => Err(StorageError::Unsupported("listing containers")),
            Backend::Local(local) => local.list_buckets(),
        }
    }

    /// Every object under `prefix`, in key order.
    pub async fn list_objects(&self, target: &Target, prefix: &str) -> Result<Vec<ObjectInfo>, StorageError> {
        let mut objects = match &self.backend {
            Backend::S3(s3) => s3.list_objects(target, prefix).await?,
            Backend::Azure(azure) => azure.list_objects(target, prefix).await?,
            Backend::Local(local) => local.list_objects(&target.bucket, prefix)?,
        };
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(objects)
    }

    /// Reads an object, refusing one over `limit` bytes before reading it.
    pub async fn download(&self, target: &Target, key: &str, limit: u64) -> Result<bytes::Bytes, StorageError> {
        match &self.backend {
            Backend::S3(s3) => s3.download(target, key, limit).await,
            Backend::Azure(azure) => azure.download(target, key, limit).await,
            Backend::Local(local) => local.download(&target.bucket, key, limit),
        }
    }

    pub async fn delete(&self, target: &Target, key: &str) -> Result<(), StorageError> {
        match &self.backend {
            Backend::S3(s3) => s3.delete(target, key).await,
            Backend::Azure(azure) => azure.delete(target, key).await,
            Backend::Local(local) => local.delete(&target.bucket, key),
        }
    }
}

impl Target {
    /// The folder part of `path` (`assets/` for `assets/image.jpg`), where probes go.
    fn path_prefix(&self) -> String {
        match &self.path {
            Some(path) if path.ends_with('/') => path.clone(),
            Some(path) => path.rfind('/').map(|i| path[..=i].to_string()).unwrap_or_default(),
            None => String::new(),
        }
    }
}
