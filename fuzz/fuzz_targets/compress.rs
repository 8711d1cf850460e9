//! The whole engine on any bytes (images, PDFs, zips, gzip): an error or a result, never a
//! panic (the engine turns a library's panic into `Crashed`, which counts as one here); a
//! result always verifies, and a `compressed` image decodes to the size its report states.
#![no_main]

use compressor_engine::{EngineError, Engine, Limits, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small limits keep each run fast; the limits themselves are what stop bombs.
    let engine =
        Engine::new(Limits { max_pixels: 1 << 20, max_alloc: 64 << 20, max_expanded: 16 << 20, max_members: 1000, ..Limits::default() });
    match engine.compress(data, "fuzz", &Options::default()) {
        Ok(result) => {
            if let Some(output) = &result.output {
                engine.verify(output).expect("an output the engine made must verify");
                let size = engine.picture_size(output).expect("an output the engine made must decode");
                let reported = result.report.output.width.zip(result.report.output.height);
                if size.is_some() {
                    assert_eq!(size, reported, "the output decodes to another size than the report says");
                }
            }
        }
        Err(EngineError::Crashed(message)) => panic!("{message}"),
        Err(_) => {}
    }
});
