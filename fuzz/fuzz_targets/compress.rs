//! The whole engine on any bytes (images, PDFs, zips, gzip): an error or a result, never a
//! panic; and a result always verifies.
#![no_main]

use compressor_engine::{Engine, Limits, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small limits keep each run fast; the limits themselves are what stop bombs.
    let engine =
        Engine::new(Limits { max_pixels: 1 << 20, max_alloc: 64 << 20, max_expanded: 16 << 20, max_members: 1000 });
    if let Ok(result) = engine.compress(data, "fuzz", &Options::default()) {
        if let Some(output) = &result.output {
            engine.verify(output).expect("an output the engine made must verify");
        }
    }
});
