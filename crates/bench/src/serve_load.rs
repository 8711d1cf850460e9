//! Load on `compressor serve`, loopback only: real JPEGs uploaded at a fixed rate (the
//! hosted API's advertised 110 requests/s) for a fixed time, then a burst past a low rate
//! limit. Prints the achieved rate, latency percentiles, errors, and the 429s' headers.
//!
//! Usage: serve-load BASE_URL API_KEY JPEG RATE SECONDS      (steady load)
//!        serve-load BASE_URL API_KEY JPEG burst REQUESTS    (against a server with a low limit)

use std::time::{Duration, Instant};

use anyhow::{bail, Context};

async fn upload(client: &reqwest::Client, base: &str, key: &str, jpeg: &[u8]) -> (u16, Duration, Option<String>) {
    let started = Instant::now();
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(jpeg.to_vec()).file_name("photo.jpg"));
    match client.post(format!("{base}/1.0/upload")).basic_auth(key, Some("")).multipart(form).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let headers = response.headers();
            let rate = (status == 429).then(|| {
                let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("-").to_string();
                format!(
                    "Retry-After {} · X-RateLimit-Limit {} · Remaining {} · Reset {}",
                    get("retry-after"),
                    get("x-ratelimit-limit"),
                    get("x-ratelimit-remaining"),
                    get("x-ratelimit-reset")
                )
            });
            let _ = response.bytes().await;
            (status, started.elapsed(), rate)
        }
        Err(_) => (0, started.elapsed(), None),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        bail!("usage: serve-load BASE_URL API_KEY JPEG (RATE SECONDS | burst REQUESTS)");
    }
    let (base, key) = (args[1].clone(), args[2].clone());
    let jpeg = std::fs::read(&args[3]).with_context(|| format!("cannot read {}", args[3]))?;
    let client = reqwest::Client::new();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let mut latencies = Vec::new();

    if args[4] == "burst" {
        let count: usize = args[5].parse()?;
        let tasks: Vec<_> = (0..count)
            .map(|_| {
                let (client, base, key, jpeg) = (client.clone(), base.clone(), key.clone(), jpeg.clone());
                tokio::spawn(async move { upload(&client, &base, &key, &jpeg).await })
            })
            .collect();
        let mut example = None;
        for task in tasks {
            let (status, _, rate) = task.await?;
            *statuses.entry(status).or_default() += 1;
            example = example.or(rate);
        }
        println!("burst of {count} uploads: {statuses:?} (0 = connection error)");
        println!("a 429's headers: {}", example.unwrap_or_else(|| "none seen".into()));
        let server_errors: usize = statuses.iter().filter(|(s, _)| **s >= 500 || **s == 0).map(|(_, n)| n).sum();
        println!("5xx or dropped: {server_errors}");
        return Ok(());
    }

    let rate: f64 = args[4].parse()?;
    let seconds: f64 = args[5].parse()?;
    let total = (rate * seconds) as usize;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        // A fixed schedule: request i leaves at i / rate seconds, whatever the answers do.
        let due = started + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let (client, base, key, jpeg) = (client.clone(), base.clone(), key.clone(), jpeg.clone());
        tasks.push(tokio::spawn(async move { upload(&client, &base, &key, &jpeg).await }));
    }
    for task in tasks {
        let (status, latency, _) = task.await?;
        *statuses.entry(status).or_default() += 1;
        latencies.push(latency);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let ok = statuses.get(&200).copied().unwrap_or(0);
    println!("| offered | achieved (200s) | p50 | p99 | max | errors |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {rate:.0}/s for {seconds:.0} s ({total}) | {:.1}/s ({ok}) | {:.1} ms | {:.1} ms | {:.1} ms | {} |",
        ok as f64 / elapsed,
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        total - ok
    );
    println!("statuses: {statuses:?}");
    Ok(())
}
