//! Webhooks: a job's final answer POSTed to the caller's URL, signed with HMAC-SHA256 under
//! the caller's API key (`X-Compressor-Signature: sha256=<hex>`), retried with backoff.

use std::time::Duration;

/// Attempts, with 1, 2, 4 … seconds between them.
const ATTEMPTS: u32 = 4;

/// The signature header's value for `body`.
pub fn signature(key: &str, body: &[u8]) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key.as_bytes());
    format!("sha256={}", hex::encode(aws_lc_rs::hmac::sign(&key, body).as_ref()))
}

/// Delivers `body` to `url`; gives up quietly after the last attempt (the job's answer
/// stays available at its URL).
pub async fn deliver(url: &str, job: &str, body: &[u8], key: &str, reach: &crate::fetch::Reach) {
    let Ok(parsed) = reqwest::Url::parse(url) else { return };
    if crate::fetch::check(&parsed, reach).await.is_err() {
        return;
    }
    let Ok(client) =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(30)).build()
    else {
        return;
    };
    let signature = signature(key, body);
    let mut wait = Duration::from_secs(1);
    for attempt in 1..=ATTEMPTS {
        let sent = client
            .post(parsed.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("x-compressor-signature", &signature)
            .header("x-compressor-job", job)
            .header("x-compressor-attempt", attempt)
            .body(body.to_vec())
            .send()
            .await;
        if sent.is_ok_and(|response| response.status().is_success()) {
            return;
        }
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signatures_match_rfc_4231() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            super::signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
