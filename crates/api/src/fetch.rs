//! `POST /1.0/fetch`'s download: only public addresses (unless the server allows private
//! ones), every redirect checked the same way, a size and a time limit. The body goes to a
//! temporary file as it arrives, never whole into memory.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use futures::StreamExt;

use crate::incoming::{Incoming, Received, Refused};

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("url: {0}")]
    Invalid(String),
    #[error("url: {0} is a private, loopback or link-local address, which this server does not fetch")]
    Private(String),
    #[error("url: the file is over the {0}-byte limit")]
    TooLarge(u64),
    #[error("url: fetching failed: {0}")]
    Failed(String),
    #[error("url: the server answered {0}")]
    Status(u16),
    /// Not the URL's fault: this server could not write what it fetched.
    #[error("the fetched file could not be written to disk: {0}")]
    Disk(std::io::Error),
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]) // carrier-grade NAT
                || v4.octets()[0] == 0)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link local
                || v6.to_ipv4_mapped().is_some_and(|v4| !is_public(IpAddr::V4(v4))))
        }
    }
}

/// Which non-public addresses the server may reach (`fetch` downloads and webhooks).
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// Any loopback or private address (a trusted network, tests).
    pub private: bool,
    /// These host names, as written in URLs, whatever they resolve to (an intranet CDN).
    pub hosts: Vec<String>,
}

/// Refuses a URL that is not http(s) or whose host resolves to a non-public address, unless
/// `reach` allows it.
pub(crate) async fn check(url: &reqwest::Url, reach: &Reach) -> Result<(), FetchError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FetchError::Invalid(format!("only http and https URLs are fetched, not {}", url.scheme())));
    }
    let host = url.host_str().ok_or_else(|| FetchError::Invalid("the URL has no host".into()))?;
    if reach.private || reach.hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(host)) {
        return Ok(());
    }
    let port = url.port_or_known_default().unwrap_or(80);
    let addresses = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| FetchError::Failed(format!("cannot resolve {host}: {e}")))?;
    for address in addresses {
        if !is_public(address.ip()) {
            return Err(FetchError::Private(host.to_string()));
        }
    }
    Ok(())
}

/// Downloads `url` into a temporary file in the working folder of `data_dir`, following up to
/// five redirects, each checked before it is requested. Returns the file (with its size) and
/// the file name the URL's path ends with.
pub(crate) async fn fetch(
    url: &str,
    headers: &std::collections::BTreeMap<String, String>,
    reach: &Reach,
    max_bytes: u64,
    timeout: Duration,
    data_dir: &Path,
) -> Result<(Received, String), FetchError> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| FetchError::Failed(e.to_string()))?;
    let mut url = reqwest::Url::parse(url).map_err(|e| FetchError::Invalid(format!("{e}")))?;
    for _ in 0..=5 {
        // Name resolution has no timeout of its own.
        tokio::time::timeout(timeout, check(&url, reach)).await.map_err(|_| {
            FetchError::Failed(format!("resolving {} took over {} s", url.host_str().unwrap_or(""), timeout.as_secs()))
        })??;
        let mut request = client.get(url.clone());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| FetchError::Failed(e.to_string()))?;
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or(FetchError::Status(response.status().as_u16()))?;
            url = url.join(location).map_err(|e| FetchError::Invalid(format!("a redirect to a bad URL: {e}")))?;
            continue;
        }
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        if response.content_length().is_some_and(|length| length > max_bytes) {
            return Err(FetchError::TooLarge(max_bytes));
        }
        let name = url
            .path_segments()
            .and_then(|mut segments| segments.next_back().map(String::from))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "file".into());
        // The client's timeout covers the body too: a server that trickles it is cut off.
        let mut incoming = Incoming::create(data_dir, max_bytes).map_err(FetchError::Disk)?;
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| FetchError::Failed(e.to_string()))?;
            incoming.write(&chunk).await.map_err(|refused| match refused {
                Refused::TooLarge => FetchError::TooLarge(max_bytes),
                Refused::Disk(err) => FetchError::Disk(err),
            })?;
        }
        let received = incoming.finish().await.map_err(FetchError::Disk)?;
        return Ok((received, name));
    }
    Err(FetchError::Failed("more than five redirects".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_recognised() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.0.1",
            "169.254.169.254",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "100.64.0.1",
            "0.0.0.0",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
