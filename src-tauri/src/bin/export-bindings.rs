//! Regenerates `ui/src/bindings.ts` from the Rust commands and types.

fn main() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(compressor_desktop::BINDINGS_PATH);
    if let Err(err) = compressor_desktop::export_bindings(&path) {
        eprintln!("export-bindings: {err}");
        std::process::exit(1);
    }
    println!("wrote {}", path.display());
}
