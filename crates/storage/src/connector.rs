//! Connectors: a named storage account everything else refers to by id. The connector
//! itself (provider, endpoint, defaults, access key id) is plain data kept in the settings;
//! its secret lives only in the OS keychain, under the connector's id.

use compressor_engine::options::FieldError;
use serde::{Deserialize, Serialize};

use crate::options::check_region;
use crate::provider::Provider;

/// The keychain service name Compressor's secrets are filed under.
const KEYCHAIN_SERVICE: &str = "compressor";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Connector {
    pub id: String,
    pub name: String,
    pub provider: Provider,
    /// The service's URL (an S3-compatible service, R2's account endpoint, an emulator);
    /// a local folder's path. `None`: the provider's own endpoint for the region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The default region, when requests name none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The default bucket (Azure: container), when requests name none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// The access key id (Azure: the storage account's name). Not the secret.
    #[serde(default)]
    pub access_key_id: String,
}

/// What a user gives to create a connector; the id is assigned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct ConnectorSpec {
    pub name: String,
    pub provider: Option<Provider>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub bucket: Option<String>,
    pub access_key_id: String,
}

fn error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.into(), message: message.into() }
}

impl ConnectorSpec {
    /// A connector with a new id, or what is wrong, field by field.
    pub fn validate(&self) -> Result<Connector, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(error("name", "is required"));
        }
        let Some(provider) = self.provider else {
            errors.push(error("provider", "is required: one of s3, r2, spaces, b2, gcs, azure, local"));
            return Err(errors);
        };
        let blank_to_none =
            |value: &Option<String>| value.as_ref().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let endpoint = blank_to_none(&self.endpoint);
        let region = blank_to_none(&self.region);
        let bucket = blank_to_none(&self.bucket);

        match (&endpoint, provider) {
            (None, p) if p.needs_endpoint() => errors.push(error(
                "endpoint",
                if p == Provider::Local {
                    "is required: the folder's path"
                } else {
                    "is required: https://<account-id>.r2.cloudflarestorage.com"
                },
            )),
            (Some(path), Provider::Local) if !std::path::Path::new(path).is_absolute() => {
                errors.push(error("endpoint", "must be an absolute folder path"))
            }
            (Some(url), p) if p != Provider::Local => {
                let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
                if !scheme_ok || url.contains(char::is_whitespace) {
                    errors.push(error("endpoint", "must be an http:// or https:// URL"));
                }
            }
            _ => {}
        }
        if let Some(region) = &region {
            if let Err(message) = check_region(provider, endpoint.is_some(), region) {
                errors.push(error("region", message));
            }
        }
        if provider.has_secret() && self.access_key_id.trim().is_empty() {
            let what = if provider == Provider::Azure { "the storage account name" } else { "the access key id" };
            errors.push(error("access_key_id", format!("is required: {what}")));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Connector {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_string(),
            provider,
            endpoint,
            region,
            bucket,
            access_key_id: self.access_key_id.trim().to_string(),
        })
    }
}

/// Why the keychain could not be used. Never carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    #[error(
        "the system keychain is not available ({0}); on Linux Compressor keeps secrets in the \
         Secret Service (GNOME Keyring or KWallet), which must be running and unlocked"
    )]
    Unavailable(String),
    #[error("no secret is stored for connector {0}; add the connector again")]
    Missing(String),
    #[error("no API key is stored for {0}; add it with `compressor remote add {0} --key-stdin`")]
    NoApiKey(String),
}

/// The OS keychain (on Linux the Secret Service), holding each connector's secret under
/// its id. No fallback: if there is no keychain, secrets are refused, not kept elsewhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct Keychain;

impl Keychain {
    fn entry(id: &str) -> Result<keyring::Entry, KeychainError> {
        Self::named(&format!("connector:{id}"))
    }

    fn named(account: &str) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(KEYCHAIN_SERVICE, account).map_err(|e| KeychainError::Unavailable(e.to_string()))
    }

    /// Keeps the API key of a remote Compressor API (`compressor remote add`).
    pub fn store_api_key(&self, server: &str, key: &str) -> Result<(), KeychainError> {
        Self::named(&format!("api-key:{}", server.trim_end_matches('/')))?
            .set_password(key)
            .map_err(|e| KeychainError::Unavailable(e.to_string()))
    }

    pub fn api_key(&self, server: &str) -> Result<String, KeychainError> {
        match Self::named(&format!("api-key:{}", server.trim_end_matches('/')))?.get_password() {
            Ok(key) => Ok(key),
            Err(keyring::Error::NoEntry) => Err(KeychainError::NoApiKey(server.into())),
            Err(e) => Err(KeychainError::Unavailable(e.to_string())),
        }
    }

    pub fn delete_api_key(&self, server: &str) -> Result<(), KeychainError> {
        match Self::named(&format!("api-key:{}", server.trim_end_matches('/')))?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(KeychainError::Unavailable(e.to_string())),
        }
    }

    pub fn store(&self, id: &str, secret: &str) -> Result<(), KeychainError> {
        Self::entry(id)?.set_password(secret).map_err(|e| KeychainError::Unavailable(e.to_string()))
    }

    pub fn secret(&self, id: &str) -> Result<String, KeychainError> {
        match Self::entry(id)?.get_password() {
            Ok(secret) => Ok(secret),
            Err(keyring::Error::NoEntry) => Err(KeychainError::Missing(id.into())),
            Err(e) => Err(KeychainError::Unavailable(e.to_string())),
        }
    }

    /// Removes the secret; removing one that is not there is not an error.
    pub fn delete(&self, id: &str) -> Result<(), KeychainError> {
        match Self::entry(id)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(KeychainError::Unavailable(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_checked_field_by_field() {
        let spec = ConnectorSpec {
            name: " ".into(),
            provider: Some(Provider::R2),
            region: Some("eu-west-1".into()),
            ..Default::default()
        };
        let fields: Vec<String> = spec.validate().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "endpoint", "region", "access_key_id"]);

        let spec = ConnectorSpec {
            name: "Photos".into(),
            provider: Some(Provider::Spaces),
            region: Some("ams3".into()),
            access_key_id: "DO00".into(),
            ..Default::default()
        };
        let connector = spec.validate().unwrap();
        assert_eq!(connector.provider, Provider::Spaces);
        assert_eq!(connector.id.len(), 36);
    }
}
