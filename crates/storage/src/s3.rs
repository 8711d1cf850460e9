//! The S3 family through aws-sdk-s3: AWS S3, Cloudflare R2, DigitalOcean Spaces, Backblaze
//! B2, Google Cloud Storage (HMAC keys) and any S3-compatible endpoint.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::{ByteStream, DateTime, DateTimeFormat};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ObjectCannedAcl, StorageClass};
use aws_sdk_s3::Client;
use bytes::Bytes;

use crate::source::Source;
use crate::{Connector, ObjectInfo, Provider, StorageError, Target, Transfer};

pub(crate) struct S3Store {
    provider: Provider,
    endpoint: Option<String>,
    access_key_id: String,
    secret: String,
    /// One client per region: the region is part of the endpoint and the signature.
    clients: Mutex<HashMap<String, Client>>,
}

/// The attributes an object is created with, shared by single and multipart uploads.
struct ObjectAttributes {
    acl: Option<ObjectCannedAcl>,
    class: Option<StorageClass>,
    metadata: Option<HashMap<String, String>>,
    tagging: Option<String>,
    content_type: String,
    cache_control: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
    expires: Option<DateTime>,
}

impl S3Store {
    pub(crate) fn new(connector: &Connector, secret: String) -> S3Store {
        S3Store {
            provider: connector.provider,
            endpoint: connector.endpoint.clone(),
            access_key_id: connector.access_key_id.clone(),
            secret,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn endpoint_for(&self, region: &str) -> Option<String> {
        self.endpoint.clone().or_else(|| self.provider.default_endpoint(region, ""))
    }

    fn client(&self, region: &str) -> Client {
        let region = if region.is_empty() { "us-east-1" } else { region };
        let mut clients = self.clients.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let credentials =
                    Credentials::new(&self.access_key_id, &self.secret, None, None, "compressor-connector");
                let mut config = aws_sdk_s3::Config::builder()
                    .behavior_version(BehaviorVersion::latest())
                    .region(Region::new(region.to_string()))
                    .credentials_provider(credentials)
                    // The SDK's standard mode backs off exponentially, with jitter, on
                    // throttling (SlowDown, 429) and on 5xx, and on dropped connections.
                    .retry_config(
                        RetryConfig::standard().with_max_attempts(5).with_initial_backoff(Duration::from_millis(200)),
                    )
                    .timeout_config(TimeoutConfig::builder().connect_timeout(Duration::from_secs(10)).build())
                    // Only AWS computes the newer default checksums; B2, GCS, Spaces and
                    // others reject or ignore them.
                    .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
                    .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
                if let Some(endpoint) = self.endpoint_for(region) {
                    // A custom endpoint may have no per-bucket DNS names (emulators, MinIO).
                    config = config.endpoint_url(endpoint).force_path_style(self.endpoint.is_some());
                }
                Client::from_conf(config.build())
            })
            .clone()
    }

    fn attributes(&self, target: &Target, content_type: &str) -> Result<ObjectAttributes, StorageError> {
        let header = |name: &str| target.headers.get(name).cloned();
        let expires = match header("Expires") {
            Some(value) => Some(DateTime::from_str(&value, DateTimeFormat::HttpDate).map_err(|_| {
                StorageError::Invalid(format!(
                    "store.headers.Expires must be an HTTP date (\"Wed, 21 Oct 2026 07:28:00 GMT\"), not {value:?}"
                ))
            })?),
            None => None,
        };
        let tagging = (!target.tags.is_empty()).then(|| {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (key, value) in &target.tags {
                query.append_pair(key, value);
            }
            query.finish()
        });
        Ok(ObjectAttributes {
            acl: target.acl.map(ObjectCannedAcl::from),
            class: target.class.map(StorageClass::from),
            metadata: (!target.metadata.is_empty())
                .then(|| target.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            tagging,
            content_type: header("Content-Type").unwrap_or_else(|| content_type.to_string()),
            cache_control: header("Cache-Control"),
            content_disposition: header("Content-Disposition"),
            content_encoding: header("Content-Encoding"),
            content_language: header("Content-Language"),
            expires,
        })
    }

    pub(crate) async fn upload(
        &self,
        target: &Target,
        key: &str,
        source: &Source<'_>,
        content_type: &str,
        transfer: &Transfer<'_>,
    ) -> Result<(), StorageError> {
        let client = self.client(&target.region);
        let a = self.attributes(target, content_type)?;
        let total = source.len();
        if !source.multipart() {
            let body = source.whole().await?;
            client
                .put_object()
                .bucket(&target.bucket)
                .key(key)
                .body(ByteStream::from(body))
                .set_acl(a.acl)
                .set_storage_class(a.class)
                .set_metadata(a.metadata)
                .set_tagging(a.tagging)
                .content_type(a.content_type)
                .set_cache_control(a.cache_control)
                .set_content_disposition(a.content_disposition)
                .set_content_encoding(a.content_encoding)
                .set_content_language(a.content_language)
                .set_expires(a.expires)
                .send()
                .await
                .map_err(|e| self.explain(e, "writing an object", &target.bucket, key))?;
            (transfer.progress)(total, total);
            return Ok(());
        }

        self.abort_stale_uploads(&client, target, key).await;
        let created = client
            .create_multipart_upload()
            .bucket(&target.bucket)
            .key(key)
            .set_acl(a.acl)
            .set_storage_class(a.class)
            .set_metadata(a.metadata)
            .set_tagging(a.tagging)
            .content_type(a.content_type)
            .set_cache_control(a.cache_control)
            .set_content_disposition(a.content_disposition)
            .set_content_encoding(a.content_encoding)
            .set_content_language(a.content_language)
            .set_expires(a.expires)
            .send()
            .await
            .map_err(|e| self.explain(e, "starting a multipart upload", &target.bucket, key))?;
        let upload_id = created.upload_id().unwrap_or_default().to_string();
        let parts = self.upload_parts(&client, target, key, &upload_id, source, transfer).await;
        let completed = match parts {
            Ok(parts) => client
                .complete_multipart_upload()
                .bucket(&target.bucket)
                .key(key)
                .upload_id(&upload_id)
                .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
                .send()
                .await
                .map_err(|e| self.explain(e, "finishing a multipart upload", &target.bucket, key)),
            Err(err) => Err(err),
        };
        if let Err(err) = completed {
            // Parts left behind cost money until the bucket's lifecycle removes them.
            let _ = client.abort_multipart_upload().bucket(&target.bucket).key(key).upload_id(&upload_id).send().await;
            return Err(err);
        }
        Ok(())
    }

    /// Aborts unfinished multipart uploads of `key` (a run killed mid-upload leaves its parts
    /// behind, billed but invisible): this upload replaces that object anyway.
    async fn abort_stale_uploads(&self, client: &Client, target: &Target, key: &str) {
        let Ok(listed) = client.list_multipart_uploads().bucket(&target.bucket).prefix(key).send().await else {
            return;
        };
        for upload in listed.uploads() {
            if let (Some(stale_key), Some(id)) = (upload.key(), upload.upload_id()) {
                if stale_key == key {
                    let _ = client.abort_multipart_upload().bucket(&target.bucket).key(key).upload_id(id).send().await;
                }
            }
        }
    }

    async fn upload_parts(
        &self,
        client: &Client,
        target: &Target,
        key: &str,
        upload_id: &str,
        source: &Source<'_>,
        transfer: &Transfer<'_>,
    ) -> Result<Vec<CompletedPart>, StorageError> {
        let total = source.len();
        let mut parts = Vec::new();
        let mut done = 0u64;
        for (index, (offset, length)) in source.parts().enumerate() {
            if transfer.cancelled() {
                return Err(StorageError::Cancelled);
            }
            // One part in memory at a time: it is dropped once sent, before the next is read.
            let chunk = source.part(offset, length).await?;
            let number = index as i32 + 1;
            let part = client
                .upload_part()
                .bucket(&target.bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number)
                .body(ByteStream::from(chunk))
                .send()
                .await
                .map_err(|e| self.explain(e, "uploading a part", &target.bucket, key))?;
            parts.push(CompletedPart::builder().part_number(number).set_e_tag(part.e_tag).build());
            done += length as u64;
            (transfer.progress)(done, total);
        }
        Ok(parts)
    }

    /// Sets a canned ACL on an existing object (the separate s3:PutObjectAcl permission).
    pub(crate) async fn set_acl(&self, target: &Target, key: &str, acl: &str) -> Result<(), StorageError> {
        self.client(&target.region)
            .put_object_acl()
            .bucket(&target.bucket)
            .key(key)
            .acl(ObjectCannedAcl::from(acl))
            .send()
            .await
            .map_err(|e| self.explain(e, "setting an ACL", &target.bucket, key))?;
        Ok(())
    }

    pub(crate) async fn list_buckets(&self) -> Result<Vec<String>, StorageError> {
        let region = self.provider.default_region().unwrap_or("us-east-1");
        let listed = self
            .client(region)
            .list_buckets()
            .send()
            .await
            .map_err(|e| self.explain(e, "listing buckets", "this account", ""))?;
        Ok(listed.buckets().iter().filter_map(|b| b.name().map(String::from)).collect())
    }

    pub(crate) async fn list_objects(&self, target: &Target, prefix: &str) -> Result<Vec<ObjectInfo>, StorageError> {
        let client = self.client(&target.region);
        let mut objects = Vec::new();
        let mut pages = client.list_objects_v2().bucket(&target.bucket).prefix(prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.explain(e, "listing objects", &target.bucket, ""))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                objects.push(ObjectInfo {
                    key: key.to_string(),
                    size: object.size().unwrap_or(0).max(0) as u64,
                    etag: object.e_tag().unwrap_or_default().trim_matches('"').to_string(),
                });
            }
        }
        Ok(objects)
    }

    pub(crate) async fn download(&self, target: &Target, key: &str, limit: u64) -> Result<Bytes, StorageError> {
        let object = self
            .client(&target.region)
            .get_object()
            .bucket(&target.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| self.explain(e, "reading an object", &target.bucket, key))?;
        let size = object.content_length().unwrap_or(0).max(0) as u64;
        if size > limit {
            return Err(StorageError::TooLarge { key: key.into(), size, limit });
        }
        let body = object.body.collect().await.map_err(|e| StorageError::Service(format!("reading {key}: {e}")))?;
        Ok(body.into_bytes())
    }

    pub(crate) async fn delete(&self, target: &Target, key: &str) -> Result<(), StorageError> {
        self.client(&target.region)
            .delete_object()
            .bucket(&target.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| self.explain(e, "deleting an object", &target.bucket, key))?;
        Ok(())
    }

    /// Turns an SDK error into one a user can act on, naming the bucket and the likely fix.
    fn explain<E>(&self, err: SdkError<E, HttpResponse>, operation: &str, bucket: &str, key: &str) -> StorageError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
        match &err {
            SdkError::DispatchFailure(failure) => {
                return StorageError::Unreachable {
                    endpoint: self.endpoint.clone().unwrap_or_else(|| self.provider.label().to_string()),
                    reason: format!("{:?}", failure.as_connector_error().map(|e| e.to_string())),
                }
            }
            SdkError::TimeoutError(_) => {
                return StorageError::Unreachable {
                    endpoint: self.endpoint.clone().unwrap_or_else(|| self.provider.label().to_string()),
                    reason: "timed out".into(),
                }
            }
            _ => {}
        }
        let code = err.code().unwrap_or_default().to_string();
        let message = err.message().unwrap_or_default().to_string();
        match code.as_str() {
            "NoSuchBucket" => StorageError::NoSuchBucket(bucket.into()),
            "NoSuchKey" | "NotFound" if !key.is_empty() => StorageError::NoSuchKey(key.into()),
            "AccessDenied" | "AllAccessDisabled" | "Forbidden" => StorageError::Denied {
                operation: operation.to_string(),
                bucket: bucket.to_string(),
                hint: self.provider.permission_hint().to_string(),
            },
            "AccessControlListNotSupported" => StorageError::Denied {
                operation: operation.to_string(),
                bucket: bucket.to_string(),
                hint: "the bucket has ACLs turned off (Object Ownership: bucket owner enforced): use \"acl\": \"private\" \
                       and a bucket policy for public reads, or turn ACLs on"
                    .into(),
            },
            "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "InvalidToken" | "AuthorizationHeaderMalformed" => {
                StorageError::BadCredentials(code)
            }
            "" if status == 404 && !key.is_empty() => StorageError::NoSuchKey(key.into()),
            "" if status == 403 => StorageError::Denied {
                operation: operation.to_string(),
                bucket: bucket.to_string(),
                hint: self.provider.permission_hint().to_string(),
            },
            "" => StorageError::Service(format!(
                "{operation} on {bucket} failed: {}",
                aws_sdk_s3::error::DisplayErrorContext(&err)
            )),
            _ => StorageError::Service(format!("{operation} on {bucket} failed: {code}: {message}")),
        }
    }
}
