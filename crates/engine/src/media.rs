//! Video and audio come from the `compressor-media` crate, which links the system's FFmpeg.
//! The engine does not link it: FFmpeg's codecs pull in about 140 shared libraries, which
//! cost every process some 40 ms to load before `main` runs, also when it only compresses a
//! PNG. So the media crate implements [`MediaCodec`] and is either linked in and
//! [`install`]ed (the desktop app, tests), or, with the `media` feature, opened from
//! `libcompressor_media.so` beside the program when the first video or audio file comes
//! (the CLI and `compressor serve`).
//!
//! The module is called through a Rust trait object, not a C interface: both sides pass the
//! engine's own types (options, reports, errors). That is sound only when both were built
//! by the same compiler from the same engine sources, so the module is refused unless its
//! [`BUILD`] matches this program's.

use std::sync::OnceLock;

use crate::{Compressed, Control, EngineError, Format, Limits, Options};

/// Video and audio compression, as the media crate provides it.
pub trait MediaCodec: Send + Sync {
    fn compress(
        &self,
        input: &[u8],
        name: &str,
        format: Format,
        options: &Options,
        limits: &Limits,
        control: &Control,
    ) -> Result<Compressed, EngineError>;

    /// Decodes every stream of `bytes`, proving a written output plays.
    fn verify(&self, bytes: &[u8], format: Format, limits: &Limits) -> Result<(), EngineError>;
}

/// The compiler and engine sources this build came from (see `build.rs`): a module is
/// only called when its engine's `BUILD` is this one.
pub const BUILD: &str = env!("COMPRESSOR_ENGINE_BUILD");

static INSTALLED: OnceLock<&'static dyn MediaCodec> = OnceLock::new();

/// Makes `codec` this process's video and audio support; the first call wins.
pub fn install(codec: &'static dyn MediaCodec) {
    let _ = INSTALLED.set(codec);
}

/// The codec for `format`: the installed one, else the module opened beside the program.
pub(crate) fn codec(format: Format) -> Result<&'static dyn MediaCodec, EngineError> {
    if let Some(codec) = INSTALLED.get() {
        return Ok(*codec);
    }
    #[cfg(feature = "media")]
    let opened = module::open().map_err(|why| EngineError::Unavailable(format!("{} files ({why})", format.name())));
    #[cfg(not(feature = "media"))]
    let opened =
        Err(EngineError::Unsupported(format!("{} (this build has no video and audio support)", format.name())));
    opened
}

#[cfg(feature = "media")]
mod module {
    use std::path::PathBuf;
    use std::sync::OnceLock;

    use super::{MediaCodec, BUILD};

    /// Where the module is looked for: `COMPRESSOR_MEDIA_MODULE` (a file), else beside the
    /// program (cargo's target folder, an unpacked release), else in the folder above it (for
    /// test programs in target/*/deps) and in ../lib/compressor (an installed layout).
    fn candidates() -> Vec<PathBuf> {
        if let Some(path) = std::env::var_os("COMPRESSOR_MEDIA_MODULE") {
            return vec![PathBuf::from(path)];
        }
        let file = libloading::library_filename("compressor_media");
        let Some(dir) = std::env::current_exe().ok().and_then(|exe| exe.parent().map(PathBuf::from)) else {
            return Vec::new();
        };
        let mut places = vec![dir.join(&file)];
        if let Some(parent) = dir.parent() {
            places.push(parent.join(&file));
            places.push(parent.join("lib/compressor").join(&file));
        }
        places
    }

    /// The module's codec, opened once; the reason it cannot be used otherwise.
    pub(super) fn open() -> Result<&'static dyn MediaCodec, String> {
        static OPENED: OnceLock<Result<&'static dyn MediaCodec, String>> = OnceLock::new();
        OPENED.get_or_init(load).clone()
    }

    fn load() -> Result<&'static dyn MediaCodec, String> {
        let places = candidates();
        let path = places.iter().find(|path| path.is_file()).ok_or_else(|| {
            let looked: Vec<String> = places.iter().map(|p| p.display().to_string()).collect();
            format!(
                "the media module is missing: looked for {}; build it with `cargo build -p compressor-media`",
                looked.join(", ")
            )
        })?;
        let shown = path.display();
        // SAFETY: the library is ours (its initialisers are FFmpeg's and its dependencies').
        let library = unsafe { libloading::Library::new(path) }.map_err(|e| format!("cannot open {shown}: {e}"))?;
        // SAFETY: both symbols are plain Rust functions of these signatures in the media crate;
        // the build check below runs before anything else is called.
        let (build, codec) = unsafe {
            let build = library
                .get::<fn() -> &'static str>(b"compressor_media_build\0")
                .map_err(|e| format!("{shown} is not Compressor's media module: {e}"))?;
            let codec = library
                .get::<fn() -> &'static dyn MediaCodec>(b"compressor_media_codec\0")
                .map_err(|e| format!("{shown} is not Compressor's media module: {e}"))?;
            (*build, *codec)
        };
        if build() != BUILD {
            return Err(format!(
                "{shown} was built from other engine sources or by another compiler than this program; \
                 rebuild both (`cargo build -p compressor-cli -p compressor-media`)"
            ));
        }
        // Loaded for the rest of the process: the codec lives in it.
        std::mem::forget(library);
        Ok(codec())
    }
}
