//! The API's `store` object (`{"id", "bucket", "region", "path", "acl", "class", "metadata",
//! "headers", "tags"}`) and its validation against a connector into field-level errors
//! (`store.region`, `store.headers.X-Foo`, …).

use std::collections::BTreeMap;

use compressor_engine::options::FieldError;
use serde::{Deserialize, Serialize};

use crate::connector::Connector;
use crate::provider::Provider;

/// Where and how one result is stored, as the API's storage pages give it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StoreOptions {
    /// The connector's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The bucket (Azure: the container). Defaults to the connector's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The object's key, without a leading slash; ending in `/` it is a folder the file's
    /// name is added to. Defaults to the file's name at the bucket's root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A canned ACL; defaults to `public-read` where objects have ACLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<String>,
    /// The storage class (Azure: the access tier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// Validated `store` options: everything an upload needs besides the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub bucket: String,
    pub region: String,
    pub path: Option<String>,
    pub acl: Option<&'static str>,
    /// The class's wire value (`STANDARD_IA`, `Cool`, …).
    pub class: Option<&'static str>,
    pub metadata: BTreeMap<String, String>,
    /// Header names in their canonical spelling.
    pub headers: BTreeMap<&'static str, String>,
    pub tags: BTreeMap<String, String>,
}

impl Target {
    /// The object key for a file: `path` when it names one object, `path` + the relative
    /// name when it is a folder (ends in `/`, or several files go to it), else the
    /// relative name at the root.
    pub fn key_for(&self, relative_name: &str, single_file: bool) -> String {
        let relative_name = relative_name.trim_start_matches('/');
        match &self.path {
            None => relative_name.to_string(),
            Some(path) if path.ends_with('/') => format!("{path}{relative_name}"),
            Some(path) if single_file => path.clone(),
            Some(path) => format!("{path}/{relative_name}"),
        }
    }
}

fn error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: format!("store.{field}"), message: message.into() }
}

impl StoreOptions {
    pub fn from_json(json: &str) -> Result<StoreOptions, Vec<FieldError>> {
        if let Some(error) = compressor_engine::options::array_in(json, "store") {
            return Err(vec![error]);
        }
        let mut deserializer = serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
            let path = err.path().to_string();
            let field = if path == "." { "store".to_string() } else { format!("store.{path}") };
            vec![FieldError { field, message: err.into_inner().to_string() }]
        })
    }

    /// Checks these options against `connector`'s provider and fills in its defaults.
    pub fn resolve(&self, connector: &Connector) -> Result<Target, Vec<FieldError>> {
        let provider = connector.provider;
        let custom_endpoint = connector.endpoint.as_deref().is_some_and(|e| !e.is_empty());
        let mut errors = Vec::new();

        if let Some(id) = &self.id {
            if id != &connector.id {
                errors.push(error("id", format!("does not match the connector {}", connector.id)));
            }
        }

        let bucket = self.bucket.clone().or_else(|| connector.bucket.clone()).unwrap_or_default();
        if let Err(message) = check_bucket(provider, &bucket) {
            errors.push(error("bucket", message));
        }

        let region = self
            .region
            .clone()
            .or_else(|| connector.region.clone())
            .or_else(|| provider.default_region().map(String::from))
            .unwrap_or_default();
        if let Err(message) = check_region(provider, custom_endpoint, &region) {
            errors.push(error("region", message));
        }

        if let Some(path) = &self.path {
            if let Err(message) = check_path(path) {
                errors.push(error("path", message));
            }
        }

        let acls = provider.acls(custom_endpoint);
        let acl = match self.acl.as_deref() {
            None => provider.default_acl(),
            // Sending no ACL gives the owner-only default without needing s3:PutObjectAcl,
            // and works on buckets with ACLs turned off.
            Some("private") if acls.contains(&"private") => None,
            Some(_) if acls.is_empty() => {
                errors.push(error("acl", provider.acl_note()));
                None
            }
            Some(acl) => match acls.iter().find(|a| **a == acl) {
                Some(known) => Some(*known),
                None => {
                    errors.push(error("acl", format!("must be one of: {}", acls.join(", "))));
                    None
                }
            },
        };

        let class = match self.class.as_deref() {
            None => None,
            Some(class) => {
                let classes = provider.classes();
                if classes.is_empty() {
                    errors.push(error("class", format!("{} has no storage classes to choose", provider.label())));
                    None
                } else if let Some((_, wire)) = classes.iter().find(|(name, _)| name.eq_ignore_ascii_case(class)) {
                    Some(*wire)
                } else {
                    let names: Vec<&str> = classes.iter().map(|(name, _)| *name).collect();
                    errors.push(error("class", format!("must be one of: {}", names.join(", "))));
                    None
                }
            }
        };

        for (key, value) in &self.metadata {
            if let Err(message) = check_metadata(provider, key, value) {
                errors.push(error(&format!("metadata.{key}"), message));
            }
        }
        let metadata_size: usize = self.metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
        if metadata_size > 2048 {
            errors.push(error("metadata", "must total at most 2 KB (keys and values)"));
        }

        let mut headers = BTreeMap::new();
        let allowed = provider.allowed_headers();
        for (name, value) in &self.headers {
            match allowed.iter().find(|h| h.eq_ignore_ascii_case(name)) {
                Some(&"Expires") if !is_http_date(value) => errors.push(error(
                    &format!("headers.{name}"),
                    "must be an HTTP date, e.g. \"Wed, 21 Oct 2026 07:28:00 GMT\"",
                )),
                Some(canonical) if value.chars().all(|c| (' '..='~').contains(&c)) => {
                    headers.insert(*canonical, value.clone());
                }
                Some(_) => errors.push(error(&format!("headers.{name}"), "must be printable ASCII")),
                None if allowed.is_empty() => {
                    errors.push(error(&format!("headers.{name}"), "a local folder keeps no headers"))
                }
                None => errors.push(error(
                    &format!("headers.{name}"),
                    format!("is not allowed; {} accepts: {}", provider.label(), allowed.join(", ")),
                )),
            }
        }

        if !self.tags.is_empty() && !provider.supports_tags() {
            errors.push(error("tags", format!("{} does not support object tags", provider.label())));
        } else {
            if self.tags.len() > 10 {
                errors.push(error("tags", "at most 10 tags"));
            }
            for (key, value) in &self.tags {
                if key.is_empty() || key.chars().count() > 128 {
                    errors.push(error(&format!("tags.{key}"), "a tag key has 1 to 128 characters"));
                } else if value.chars().count() > 256 {
                    errors.push(error(&format!("tags.{key}"), "a tag value has at most 256 characters"));
                }
            }
        }

        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Target {
            bucket,
            region,
            path: self.path.clone(),
            acl,
            class,
            metadata: self.metadata.clone(),
            headers,
            tags: self.tags.clone(),
        })
    }
}

fn check_bucket(provider: Provider, bucket: &str) -> Result<(), String> {
    if provider == Provider::Local {
        // A sub-folder of the connector's folder, or the folder itself.
        return if bucket.is_empty() { Ok(()) } else { check_path(bucket) };
    }
    if bucket.is_empty() {
        return Err("is required (here or on the connector)".into());
    }
    let word = if provider == Provider::Azure { "a container name" } else { "a bucket name" };
    if !(3..=63).contains(&bucket.len()) {
        return Err(format!("{word} has 3 to 63 characters"));
    }
    let dots_allowed = provider != Provider::Azure;
    let valid_chars =
        bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (dots_allowed && c == '.'));
    let ends_ok = bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !valid_chars || !ends_ok {
        let allowed = if dots_allowed {
            "lowercase letters, digits, dots and hyphens"
        } else {
            "lowercase letters, digits and hyphens"
        };
        return Err(format!("{word} has only {allowed}, and starts and ends with a letter or digit"));
    }
    Ok(())
}

/// Checks a region name for `provider`; `""` means none was given.
pub fn check_region(provider: Provider, custom_endpoint: bool, region: &str) -> Result<(), String> {
    if region.is_empty() {
        return if provider.needs_region() { Err("is required (here or on the connector)".into()) } else { Ok(()) };
    }
    match provider.regions(custom_endpoint) {
        Some(regions) if !regions.contains(&region) => {
            Err(format!("{} has no region {region:?}; one of: {}", provider.label(), regions.join(", ")))
        }
        Some(_) => Ok(()),
        None if region.len() <= 40
            && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') =>
        {
            Ok(())
        }
        None => Err("a region name has only lowercase letters, digits and hyphens".into()),
    }
}

/// An object path: relative, no `.`/`..` or empty segments, no control characters.
fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("is empty; leave it out to store at the bucket's root".into());
    }
    if path.starts_with('/') {
        return Err("must not start with a slash".into());
    }
    if path.len() > 1024 {
        return Err("has at most 1024 bytes".into());
    }
    if path.chars().any(|c| c.is_control() || c == '\\') {
        return Err("must not hold control characters or backslashes".into());
    }
    let segments: Vec<&str> = path.strip_suffix('/').unwrap_or(path).split('/').collect();
    if segments.iter().any(|s| *s == ".." || *s == ".") {
        return Err("must not hold `.` or `..` segments".into());
    }
    if segments.iter().any(|s| s.is_empty()) {
        return Err("must not hold empty segments (`//`)".into());
    }
    Ok(())
}

fn is_http_date(value: &str) -> bool {
    use aws_sdk_s3::primitives::{DateTime, DateTimeFormat};
    DateTime::from_str(value, DateTimeFormat::HttpDate).is_ok()
}

fn check_metadata(provider: Provider, key: &str, value: &str) -> Result<(), String> {
    // Azure metadata names are C# identifiers; S3 sends them as x-amz-meta-* headers.
    let key_ok = match provider {
        Provider::Azure => {
            key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        _ => !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
    };
    if !key_ok {
        return Err(match provider {
            Provider::Azure => "a metadata name has only letters, digits and underscores, not starting with a digit",
            _ => "a metadata key has only letters, digits, hyphens and underscores",
        }
        .into());
    }
    if !value.chars().all(|c| (' '..='~').contains(&c)) {
        return Err("a metadata value must be printable ASCII".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connector(provider: Provider) -> Connector {
        Connector {
            id: "c1".into(),
            name: "test".into(),
            provider,
            endpoint: None,
            region: None,
            bucket: None,
            access_key_id: "AKIA".into(),
        }
    }

    fn fields(result: Result<Target, Vec<FieldError>>) -> Vec<String> {
        result.err().unwrap_or_default().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn the_seed_examples_resolve() {
        let s3 = StoreOptions::from_json(
            r#"{"id": "c1", "bucket": "images", "region": "eu-central-1", "path": "assets/image.jpg",
                "acl": "public-read", "metadata": {"key": "value"},
                "headers": {"Cache-Control": "max-age=2592000000"}, "tags": {"key": "value"}}"#,
        )
        .unwrap();
        let target = s3.resolve(&connector(Provider::S3)).unwrap();
        assert_eq!(target.key_for("photo.jpg", true), "assets/image.jpg");
        assert_eq!(target.headers.get("Cache-Control").map(String::as_str), Some("max-age=2592000000"));

        let b2 = StoreOptions::from_json(r#"{"id": "c1", "bucket": "my-bucket", "region": "eu-central-003"}"#).unwrap();
        let target = b2.resolve(&connector(Provider::B2)).unwrap();
        assert_eq!(target.acl, Some("public-read"));
        assert_eq!(target.key_for("image.jpg", true), "image.jpg");

        let spaces = StoreOptions::from_json(r#"{"bucket": "my-bucket", "region": "ams3"}"#).unwrap();
        assert!(spaces.resolve(&connector(Provider::Spaces)).is_ok());
    }

    #[test]
    fn wrong_values_name_their_fields() {
        let options = StoreOptions::from_json(
            r#"{"bucket": "My_Bucket", "region": "mars-1", "path": "/a/../b", "acl": "world",
                "class": "frozen", "headers": {"X-Secret": "1"}, "tags": {"a": "b"}}"#,
        )
        .unwrap();
        assert_eq!(
            fields(options.resolve(&connector(Provider::B2))),
            [
                "store.bucket",
                "store.region",
                "store.path",
                "store.acl",
                "store.class",
                "store.headers.X-Secret",
                "store.tags"
            ]
        );
        let unknown = StoreOptions::from_json(r#"{"bucket": "b", "colour": "red"}"#).unwrap_err();
        assert_eq!(unknown[0].field, "store.colour");
        assert!(unknown[0].message.contains("colour"), "{}", unknown[0].message);
    }

    #[test]
    fn classes_and_acls_follow_the_provider() {
        let options = StoreOptions {
            bucket: Some("photos".into()),
            region: Some("us-east-1".into()),
            class: Some("standard-ia".into()),
            acl: Some("private".into()),
            ..Default::default()
        };
        let target = options.resolve(&connector(Provider::S3)).unwrap();
        // "private" is the owner-only default: no ACL is sent for it.
        assert_eq!((target.class, target.acl), (Some("STANDARD_IA"), None));
        let public = StoreOptions { acl: Some("public-read".into()), ..options.clone() };
        assert_eq!(public.resolve(&connector(Provider::S3)).unwrap().acl, Some("public-read"));
        let gcs = StoreOptions { region: Some("auto".into()), ..options.clone() };
        assert_eq!(
            StoreOptions { acl: None, class: None, ..gcs }.resolve(&connector(Provider::Gcs)).unwrap().acl,
            None
        );
        let expires = StoreOptions { headers: [("Expires".to_string(), "soon".to_string())].into(), ..options.clone() };
        assert_eq!(fields(expires.resolve(&connector(Provider::S3))), ["store.headers.Expires"]);
        let doubled = StoreOptions { path: Some("out//".into()), ..options };
        assert_eq!(fields(doubled.resolve(&connector(Provider::S3))), ["store.path"]);

        let azure = StoreOptions { bucket: Some("photos".into()), class: Some("cool".into()), ..Default::default() };
        let target = azure.resolve(&connector(Provider::Azure)).unwrap();
        assert_eq!((target.class, target.acl), (Some("Cool"), None));
        let azure_acl = StoreOptions { acl: Some("public-read".into()), ..azure };
        assert_eq!(fields(azure_acl.resolve(&connector(Provider::Azure))), ["store.acl"]);
    }

    #[test]
    fn keys_follow_the_path() {
        let mut target = StoreOptions { bucket: Some("b-1".into()), region: Some("nyc3".into()), ..Default::default() }
            .resolve(&connector(Provider::Spaces))
            .unwrap();
        assert_eq!(target.key_for("sub/a.jpg", false), "sub/a.jpg");
        target.path = Some("out/".into());
        assert_eq!(target.key_for("a.jpg", true), "out/a.jpg");
        target.path = Some("out".into());
        assert_eq!(target.key_for("sub/a.jpg", false), "out/sub/a.jpg");
    }
}
