//! What differs between storage providers: regions, endpoints, which `store` options each
//! accepts (as the Compressor API's storage pages list them) and how object URLs look.

use serde::{Deserialize, Serialize};

/// A storage service. Every S3-family provider is reached through aws-sdk-s3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// Amazon S3, or any S3-compatible service when an endpoint is given.
    S3,
    /// Cloudflare R2 (endpoint `https://<account-id>.r2.cloudflarestorage.com`).
    R2,
    /// DigitalOcean Spaces.
    Spaces,
    /// Backblaze B2 through its S3-compatible API.
    B2,
    /// Google Cloud Storage through its XML API with HMAC keys.
    Gcs,
    /// Azure Blob Storage (the bucket is a container, the access key id the account name).
    Azure,
    /// A folder on this computer (the endpoint is its path).
    Local,
}

/// Every provider, in the order the app offers them.
pub const PROVIDERS: [Provider; 7] =
    [Provider::S3, Provider::R2, Provider::Spaces, Provider::B2, Provider::Gcs, Provider::Azure, Provider::Local];

const AWS_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "cn-north-1",
    "cn-northwest-1",
];
const SPACES_REGIONS: &[&str] =
    &["nyc3", "ams3", "sfo2", "sfo3", "sgp1", "fra1", "lon1", "tor1", "blr1", "syd1", "atl1"];
/// As the Backblaze B2 storage page lists them.
const B2_REGIONS: &[&str] =
    &["us-west-000", "us-west-001", "us-west-002", "us-east-005", "eu-central-003", "ca-central-001"];
const R2_REGIONS: &[&str] = &["auto"];
const GCS_REGIONS: &[&str] = &[
    "auto",
    "us",
    "eu",
    "asia",
    "us-central1",
    "us-east1",
    "us-east4",
    "us-east5",
    "us-south1",
    "us-west1",
    "us-west2",
    "us-west3",
    "us-west4",
    "northamerica-northeast1",
    "northamerica-northeast2",
    "southamerica-east1",
    "europe-central2",
    "europe-north1",
    "europe-southwest1",
    "europe-west1",
    "europe-west2",
    "europe-west3",
    "europe-west4",
    "europe-west6",
    "europe-west8",
    "europe-west9",
    "asia-east1",
    "asia-east2",
    "asia-northeast1",
    "asia-northeast2",
    "asia-northeast3",
    "asia-south1",
    "asia-southeast1",
    "asia-southeast2",
    "australia-southeast1",
    "me-west1",
];

const S3_HEADERS: &[&str] =
    &["Expires", "Cache-Control", "Content-Type", "Content-Encoding", "Content-Language", "Content-Disposition"];
/// As the B2 and Spaces storage pages list them.
const SHORT_HEADERS: &[&str] = &["Cache-Control", "Content-Type", "Content-Encoding", "Content-Disposition"];
const AZURE_HEADERS: &[&str] =
    &["Cache-Control", "Content-Type", "Content-Encoding", "Content-Language", "Content-Disposition"];

const S3_ACLS: &[&str] = &[
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
];
const SIMPLE_ACLS: &[&str] = &["private", "public-read"];

/// Storage classes as the API names them, with the value sent on the wire.
const S3_CLASSES: &[(&str, &str)] = &[
    ("standard", "STANDARD"),
    ("reduced-redundancy", "REDUCED_REDUNDANCY"),
    ("standard-ia", "STANDARD_IA"),
    ("onezone-ia", "ONEZONE_IA"),
    ("intelligent-tiering", "INTELLIGENT_TIERING"),
    ("glacier", "GLACIER"),
    ("deep-archive", "DEEP_ARCHIVE"),
];
const GCS_CLASSES: &[(&str, &str)] =
    &[("standard", "STANDARD"), ("nearline", "NEARLINE"), ("coldline", "COLDLINE"), ("archive", "ARCHIVE")];
const AZURE_TIERS: &[(&str, &str)] = &[("hot", "Hot"), ("cool", "Cool"), ("cold", "Cold"), ("archive", "Archive")];

impl Provider {
    pub fn label(self) -> &'static str {
        match self {
            Provider::S3 => "Amazon S3",
            Provider::R2 => "Cloudflare R2",
            Provider::Spaces => "DigitalOcean Spaces",
            Provider::B2 => "Backblaze B2",
            Provider::Gcs => "Google Cloud Storage",
            Provider::Azure => "Azure Blob Storage",
            Provider::Local => "Local folder",
        }
    }

    pub fn parse(text: &str) -> Option<Provider> {
        PROVIDERS.into_iter().find(|p| p.id() == text)
    }

    /// The name used on the command line and in JSON.
    pub fn id(self) -> &'static str {
        match self {
            Provider::S3 => "s3",
            Provider::R2 => "r2",
            Provider::Spaces => "spaces",
            Provider::B2 => "b2",
            Provider::Gcs => "gcs",
            Provider::Azure => "azure",
            Provider::Local => "local",
        }
    }

    pub fn is_s3_family(self) -> bool {
        !matches!(self, Provider::Azure | Provider::Local)
    }

    /// The regions a bucket can be in; `None` where any well-formed name is accepted (an
    /// S3-compatible service at a custom endpoint) or regions do not apply.
    pub fn regions(self, custom_endpoint: bool) -> Option<&'static [&'static str]> {
        match self {
            Provider::S3 if custom_endpoint => None,
            Provider::S3 => Some(AWS_REGIONS),
            Provider::R2 => Some(R2_REGIONS),
            Provider::Spaces => Some(SPACES_REGIONS),
            Provider::B2 => Some(B2_REGIONS),
            Provider::Gcs => Some(GCS_REGIONS),
            Provider::Azure | Provider::Local => None,
        }
    }

    /// Whether `store.region` must be given (on the connector or per request).
    pub fn needs_region(self) -> bool {
        self.is_s3_family()
    }

    /// The region used when neither the request nor the connector names one.
    pub fn default_region(self) -> Option<&'static str> {
        match self {
            Provider::R2 | Provider::Gcs => Some("auto"),
            _ => None,
        }
    }

    /// Whether the connector must name an endpoint (R2's holds the account id; a local
    /// folder's is its path).
    pub fn needs_endpoint(self) -> bool {
        matches!(self, Provider::R2 | Provider::Local)
    }

    /// Whether the connector has a secret kept in the keychain.
    pub fn has_secret(self) -> bool {
        self != Provider::Local
    }

    /// The S3 endpoint for `region` when the connector names none.
    pub fn default_endpoint(self, region: &str, account: &str) -> Option<String> {
        match self {
            Provider::S3 => None, // the SDK knows AWS's endpoints
            Provider::R2 => None,
            Provider::Spaces => Some(format!("https://{region}.digitaloceanspaces.com")),
            Provider::B2 => Some(format!("https://s3.{region}.backblazeb2.com")),
            Provider::Gcs => Some("https://storage.googleapis.com".into()),
            Provider::Azure => Some(format!("https://{account}.blob.core.windows.net")),
            Provider::Local => None,
        }
    }

    /// HTTP headers `store.headers` may set, in their canonical spelling.
    pub fn allowed_headers(self) -> &'static [&'static str] {
        match self {
            Provider::S3 | Provider::R2 | Provider::Gcs => S3_HEADERS,
            Provider::Spaces | Provider::B2 => SHORT_HEADERS,
            Provider::Azure => AZURE_HEADERS,
            Provider::Local => &[],
        }
    }

    /// Canned ACLs `store.acl` accepts; empty where objects have no ACL of their own.
    pub fn acls(self, custom_endpoint: bool) -> &'static [&'static str] {
        match self {
            Provider::S3 if !custom_endpoint => S3_ACLS,
            Provider::S3 | Provider::Spaces | Provider::B2 | Provider::Gcs => SIMPLE_ACLS,
            Provider::R2 | Provider::Azure | Provider::Local => &[],
        }
    }

    /// The ACL objects get when `store.acl` is not given: `public-read`, as the storage pages
    /// say, where the provider has per-object ACLs on by default. Not for GCS, whose new
    /// buckets (uniform access) refuse object ACLs.
    pub fn default_acl(self) -> Option<&'static str> {
        matches!(self, Provider::S3 | Provider::Spaces | Provider::B2).then_some("public-read")
    }

    /// Why `store.acl` does not apply, for the field error.
    pub fn acl_note(self) -> &'static str {
        match self {
            Provider::R2 => "Cloudflare R2 has no per-object ACL; make the bucket public in its settings",
            Provider::Azure => "Azure Blob Storage sets access per container, not per blob",
            _ => "a local folder has no ACL",
        }
    }

    /// Storage classes as `(API name, wire value)`.
    pub fn classes(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Provider::S3 => S3_CLASSES,
            Provider::Gcs => GCS_CLASSES,
            Provider::Azure => AZURE_TIERS,
            _ => &[],
        }
    }

    pub fn supports_tags(self) -> bool {
        matches!(self, Provider::S3 | Provider::Azure)
    }

    /// What a failed write usually means for this provider's credentials.
    pub fn permission_hint(self) -> &'static str {
        match self {
            Provider::S3 => "the IAM user or role needs s3:PutObject and s3:PutObjectAcl on the bucket",
            Provider::B2 => "the application key needs the writeFiles capability for this bucket",
            Provider::Spaces => "the Spaces key needs write access to this Space",
            Provider::R2 => "the R2 API token needs Object Read & Write on this bucket",
            Provider::Gcs => "the HMAC key's service account needs Storage Object Admin on the bucket",
            Provider::Azure => "the account key must belong to this storage account",
            Provider::Local => "the folder must be writable by you",
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// Percent-encodes an object key for a URL, keeping its `/` separators.
pub(crate) fn encode_key(key: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const KEY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    utf8_percent_encode(key, KEY).to_string()
}

/// The public URL of `key` in `bucket`, as each provider's storage page shows it. With a
/// custom endpoint (an S3-compatible service, an emulator) the URL is path-style under it.
pub fn object_url(
    provider: Provider,
    endpoint: Option<&str>,
    account: &str,
    region: &str,
    bucket: &str,
    key: &str,
) -> String {
    let key = encode_key(key);
    if let Some(endpoint) = endpoint.filter(|e| !e.is_empty()) {
        if provider != Provider::Local {
            return format!("{}/{bucket}/{key}", endpoint.trim_end_matches('/'));
        }
    }
    match provider {
        Provider::S3 => format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"),
        Provider::Spaces => format!("https://{bucket}.{region}.digitaloceanspaces.com/{key}"),
        Provider::B2 => format!("https://{bucket}.s3.{region}.backblazeb2.com/{key}"),
        Provider::Gcs => format!("https://storage.googleapis.com/{bucket}/{key}"),
        Provider::Azure => format!("https://{account}.blob.core.windows.net/{bucket}/{key}"),
        // R2 always has an endpoint; a local folder's URL is built by the local store.
        Provider::R2 | Provider::Local => format!("{bucket}/{key}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_match_the_storage_pages() {
        assert_eq!(
            object_url(Provider::Spaces, None, "", "ams3", "my-bucket", "assets/image.jpg"),
            "https://my-bucket.ams3.digitaloceanspaces.com/assets/image.jpg"
        );
        assert_eq!(
            object_url(Provider::S3, None, "", "eu-central-1", "bucket-name", "assets/image.jpg"),
            "https://bucket-name.s3.eu-central-1.amazonaws.com/assets/image.jpg"
        );
        assert_eq!(
            object_url(Provider::B2, None, "", "eu-central-003", "my-bucket", "image.jpg"),
            "https://my-bucket.s3.eu-central-003.backblazeb2.com/image.jpg"
        );
        assert_eq!(
            object_url(Provider::Azure, None, "acct", "", "photos", "a b/ü.jpg"),
            "https://acct.blob.core.windows.net/photos/a%20b/%C3%BC.jpg"
        );
        assert_eq!(
            object_url(Provider::R2, Some("https://abc.r2.cloudflarestorage.com/"), "", "auto", "b", "k.png"),
            "https://abc.r2.cloudflarestorage.com/b/k.png"
        );
    }

    #[test]
    fn providers_round_trip_through_their_ids() {
        for provider in PROVIDERS {
            assert_eq!(Provider::parse(provider.id()), Some(provider));
        }
        assert_eq!(Provider::parse("dropbox"), None);
    }
}
