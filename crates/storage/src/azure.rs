//! Azure Blob Storage through object_store (account key auth; the emulator at a custom
//! endpoint). A connector's bucket is a container, its access key id the account name.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::azure::{MicrosoftAzure, MicrosoftAzureBuilder};
use object_store::path::Path;
use object_store::{
    Attribute, AttributeValue, Attributes, ObjectStore, ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload,
    TagSet,
};

use crate::source::Source;
use crate::{Connector, ObjectInfo, Provider, StorageError, Target, Transfer};

pub(crate) struct AzureStore {
    account: String,
    key: String,
    endpoint: Option<String>,
    /// object_store binds a client to one container.
    containers: Mutex<HashMap<String, Arc<MicrosoftAzure>>>,
}

impl AzureStore {
    pub(crate) fn new(connector: &Connector, key: String) -> AzureStore {
        AzureStore {
            account: connector.access_key_id.clone(),
            key,
            endpoint: connector.endpoint.clone(),
            containers: Mutex::new(HashMap::new()),
        }
    }

    fn container(&self, name: &str) -> Result<Arc<MicrosoftAzure>, StorageError> {
        let mut containers = self.containers.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(store) = containers.get(name) {
            return Ok(store.clone());
        }
        let mut builder = MicrosoftAzureBuilder::new()
            .with_account(&self.account)
            .with_access_key(&self.key)
            .with_container_name(name);
        if let Some(endpoint) = &self.endpoint {
            builder = builder.with_endpoint(endpoint.clone()).with_allow_http(endpoint.starts_with("http://"));
        }
        // Not `Invalid(e)`: a builder error may quote the configuration, key included.
        let store = Arc::new(builder.build().map_err(|_| {
            StorageError::Invalid("the Azure account name, key or endpoint is malformed (the key is base64)".into())
        })?);
        containers.insert(name.to_string(), store.clone());
        Ok(store)
    }

    pub(crate) async fn upload(
        &self,
        target: &Target,
        key: &str,
        source: &Source<'_>,
        content_type: &str,
        transfer: &Transfer<'_>,
    ) -> Result<(), StorageError> {
        let store = self.container(&target.bucket)?;
        let path = blob_path(key)?;
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, AttributeValue::from(content_type.to_string()));
        for (name, value) in &target.headers {
            let attribute = match *name {
                "Cache-Control" => Attribute::CacheControl,
                "Content-Type" => Attribute::ContentType,
                "Content-Encoding" => Attribute::ContentEncoding,
                "Content-Language" => Attribute::ContentLanguage,
                "Content-Disposition" => Attribute::ContentDisposition,
                _ => continue,
            };
            attributes.insert(attribute, AttributeValue::from(value.clone()));
        }
        for (name, value) in &target.metadata {
            attributes.insert(Attribute::Metadata(name.clone().into()), AttributeValue::from(value.clone()));
        }
        if let Some(tier) = target.class {
            attributes.insert(Attribute::StorageClass, AttributeValue::from(tier));
        }
        let mut tags = TagSet::default();
        for (name, value) in &target.tags {
            tags.push(name, value);
        }
        let total = source.len();
        let explain = |e| explain(e, "writing a blob", &target.bucket, key);

        if !source.multipart() {
            let options = PutOptions { tags, attributes, ..Default::default() };
            let bytes = source.whole().await?;
            store.put_opts(&path, PutPayload::from(bytes), options).await.map_err(explain)?;
            (transfer.progress)(total, total);
            return Ok(());
        }
        let options = PutMultipartOptions { tags, attributes, ..Default::default() };
        let mut upload = store.put_multipart_opts(&path, options).await.map_err(explain)?;
        let mut done = 0u64;
        for (offset, length) in source.parts() {
            if transfer.cancelled() {
                let _ = upload.abort().await;
                return Err(StorageError::Cancelled);
            }
            // One part in memory at a time: it is dropped once sent, before the next is read.
            let sent = match source.part(offset, length).await {
                Ok(chunk) => upload.put_part(PutPayload::from(chunk)).await.map_err(explain),
                Err(err) => Err(err),
            };
            if let Err(err) = sent {
                let _ = upload.abort().await;
                return Err(err);
            }
            done += length as u64;
            (transfer.progress)(done, total);
        }
        upload.complete().await.map_err(explain)?;
        Ok(())
    }

    pub(crate) async fn list_objects(&self, target: &Target, prefix: &str) -> Result<Vec<ObjectInfo>, StorageError> {
        let store = self.container(&target.bucket)?;
        // object_store lists whole path segments: filter a partial name (`photos/IMG_`) here.
        let folder = prefix.rfind('/').map(|i| &prefix[..i]).unwrap_or("");
        let listing = if folder.is_empty() { None } else { Some(blob_path(folder)?) };
        let objects: Vec<_> = store
            .list(listing.as_ref())
            .try_collect()
            .await
            .map_err(|e| explain(e, "listing blobs", &target.bucket, ""))?;
        Ok(objects
            .into_iter()
            .filter(|meta| meta.location.as_ref().starts_with(prefix))
            .map(|meta| ObjectInfo {
                key: meta.location.to_string(),
                size: meta.size,
                etag: meta.e_tag.unwrap_or_default().trim_matches('"').to_string(),
            })
            .collect())
    }

    pub(crate) async fn download(&self, target: &Target, key: &str, limit: u64) -> Result<Bytes, StorageError> {
        let store = self.container(&target.bucket)?;
        let got = store.get(&blob_path(key)?).await.map_err(|e| explain(e, "reading a blob", &target.bucket, key))?;
        if got.meta.size > limit {
            return Err(StorageError::TooLarge { key: key.into(), size: got.meta.size, limit });
        }
        got.bytes().await.map_err(|e| explain(e, "reading a blob", &target.bucket, key))
    }

    pub(crate) async fn delete(&self, target: &Target, key: &str) -> Result<(), StorageError> {
        let store = self.container(&target.bucket)?;
        store.delete(&blob_path(key)?).await.map_err(|e| explain(e, "deleting a blob", &target.bucket, key))
    }
}

/// The blob's path, exactly as named: `Path::from` would percent-encode characters such
/// as `#`, storing `photo #1.jpg` under another name than its URL says.
fn blob_path(key: &str) -> Result<Path, StorageError> {
    Path::parse(key).map_err(|e| StorageError::Invalid(format!("{key:?} is not a valid blob name: {e}")))
}

fn explain(err: object_store::Error, operation: &str, container: &str, key: &str) -> StorageError {
    match err {
        object_store::Error::NotFound { .. } if key.is_empty() => StorageError::NoSuchBucket(container.into()),
        object_store::Error::NotFound { source, .. } => {
            // A missing container and a missing blob both come back as 404.
            if source.to_string().contains("ContainerNotFound") {
                StorageError::NoSuchBucket(container.into())
            } else {
                StorageError::NoSuchKey(key.into())
            }
        }
        object_store::Error::PermissionDenied { .. } => StorageError::Denied {
            operation: operation.into(),
            bucket: container.into(),
            hint: Provider::Azure.permission_hint().into(),
        },
        object_store::Error::Unauthenticated { .. } => {
            StorageError::BadCredentials("the account name or key was refused".into())
        }
        other => {
            let text = other.to_string();
            if text.contains("ContainerNotFound") {
                StorageError::NoSuchBucket(container.into())
            } else if text.contains("AuthenticationFailed") || text.contains("AuthorizationFailure") {
                StorageError::BadCredentials("the account name or key was refused".into())
            } else if text.contains("error sending request") || text.contains("Connection refused") {
                StorageError::Unreachable { endpoint: container.into(), reason: text }
            } else {
                StorageError::Service(format!("{operation} in {container} failed: {text}"))
            }
        }
    }
}
