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
//! [`BUILD`] matches this program's. The fingerprint leaves the engine's features out, so
//! the types that cross (`Options`, `Compressed` and its `Report`, `FileFacts`,
//! `EngineError`, `Control`, `Limits`, `Format`) must never have a field that depends on a
//! feature.

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

/// The compiler, its flags and the engine sources this build came from (see `build.rs`):
/// a module is only called when its engine's `BUILD` is this one. A C string, because the
/// module hands it over through a C function (see the media crate).
pub const BUILD: &std::ffi::CStr =
    match std::ffi::CStr::from_bytes_with_nul(concat!(env!("COMPRESSOR_ENGINE_BUILD"), "\0").as_bytes()) {
        Ok(build) => build,
        Err(_) => panic!("the build fingerprint is plain hex"),
    };

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
    use std::ffi::{c_char, CStr, OsString};
    use std::path::PathBuf;
    use std::sync::OnceLock;

    use super::{MediaCodec, BUILD};

    /// How to build the module next to this program.
    const BUILD_IT: &str = if cfg!(debug_assertions) {
        "cargo build -p compressor-cli -p compressor-media"
    } else {
        "cargo build --release -p compressor-cli -p compressor-media"
    };

    /// Where the module may be: beside the program (cargo's target folder, an unpacked
    /// release), in ../lib/compressor (an installed layout), and for test programs (which
    /// cargo puts in target/*/deps) in the folder above.
    fn places() -> Vec<PathBuf> {
        let file = module_file();
        let Some(dir) = std::env::current_exe().ok().and_then(|exe| exe.parent().map(PathBuf::from)) else {
            return Vec::new();
        };
        let mut places = vec![dir.join(&file)];
        if let Some(parent) = dir.parent() {
            places.push(parent.join("lib/compressor").join(&file));
            if dir.file_name().is_some_and(|name| name == "deps") {
                places.push(parent.join(&file));
            }
        }
        places
    }

    /// The module's file: `COMPRESSOR_MEDIA_MODULE` when set, else the first of [`places`].
    /// Absolute, because `dlopen` looks a bare name up in the system's library folders. The
    /// reasons name no folder unless the user did: `compressor serve` passes them to clients.
    fn find() -> Result<PathBuf, String> {
        if let Some(path) = std::env::var_os("COMPRESSOR_MEDIA_MODULE") {
            let path = PathBuf::from(path);
            return std::path::absolute(&path).ok().filter(|path| path.is_file()).ok_or_else(|| {
                format!("the media module is missing: COMPRESSOR_MEDIA_MODULE names {}", path.display())
            });
        }
        places().into_iter().find(|path| path.is_file()).ok_or_else(|| {
            format!(
                "the media module is missing: {} is not beside the program; build it with `{BUILD_IT}`",
                module_file().to_string_lossy()
            )
        })
    }

    /// `libcompressor_media.so` (the platform's name for the library).
    fn module_file() -> OsString {
        libloading::library_filename("compressor_media")
    }

    /// The module's codec, opened once; the reason it cannot be used otherwise.
    pub(super) fn open() -> Result<&'static dyn MediaCodec, String> {
        static OPENED: OnceLock<Result<&'static dyn MediaCodec, String>> = OnceLock::new();
        OPENED.get_or_init(load).clone()
    }

    fn load() -> Result<&'static dyn MediaCodec, String> {
        let path = find()?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // SAFETY: a library found where this program keeps its module (or where the user
        // pointed); its initialisers are FFmpeg's and its dependencies'.
        let library = unsafe { libloading::Library::new(&path) }.map_err(|e| format!("cannot open {name}: {e}"))?;
        let not_ours = |e: libloading::Error| format!("{name} is not Compressor's media module ({e})");
        // SAFETY: the build probe is a C function returning a static NUL-terminated string, so
        // it is safe to call whatever compiler built the library.
        let module_build = unsafe {
            let probe =
                library.get::<extern "C" fn() -> *const c_char>(b"compressor_media_build\0").map_err(not_ours)?;
            CStr::from_ptr(probe())
        };
        if module_build != BUILD {
            return Err(format!(
                "{name} was built from other engine sources or by another compiler than this program \
                 (engine build {}, this program's {}); rebuild both with `{BUILD_IT}`",
                module_build.to_string_lossy(),
                BUILD.to_string_lossy()
            ));
        }
        // SAFETY: same compiler and engine sources (checked above), so this Rust function
        // and the types behind the trait object are the ones this program knows.
        let codec =
            unsafe { *library.get::<fn() -> &'static dyn MediaCodec>(b"compressor_media_codec\0").map_err(not_ours)? };
        // Loaded for the rest of the process: the codec lives in it.
        std::mem::forget(library);
        Ok(codec())
    }
}
