//! Format detection on any bytes, and option JSON parsing and validation on any text:
//! never a panic, and every refusal names a field.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = compressor_engine::detect(data);
    let _ = compressor_engine::detect::describe_unknown(data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(invalid) = compressor_engine::Options::from_json(text) {
            assert!(!invalid.errors.is_empty());
            assert!(invalid.errors.iter().all(|e| !e.field.is_empty() && !e.message.is_empty()));
        }
    }
});
