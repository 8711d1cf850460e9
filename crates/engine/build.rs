//! `COMPRESSOR_ENGINE_BUILD`: a fingerprint of the compiler, its flags and this crate's
//! sources.
//! The media module (a separately loaded library, see src/media.rs) passes the engine's
//! Rust types across; it is only called when its fingerprint equals the program's.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.toml");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let mut hasher = DefaultHasher::new();
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc).arg("-vV").output().map(|o| o.stdout).unwrap_or_default();
    version.hash(&mut hasher);
    std::env::var("TARGET").unwrap_or_default().hash(&mut hasher);
    std::env::var("CARGO_PKG_VERSION").unwrap_or_default().hash(&mut hasher);
    // The flags, but not the features: cargo builds the engine with other features for other
    // package selections (the CLI alone, the whole workspace), and a module from one must
    // still serve a program from the other. No type that crosses has a feature-dependent
    // field (see src/media.rs).
    std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default().hash(&mut hasher);
    let mut files = Vec::new();
    sources(Path::new("src"), &mut files);
    files.sort();
    for file in files {
        file.hash(&mut hasher);
        std::fs::read(&file).unwrap_or_default().hash(&mut hasher);
    }
    println!("cargo:rustc-env=COMPRESSOR_ENGINE_BUILD={:016x}", hasher.finish());
}
