//! Compression options: serde types mirroring the Compressor API's JSON
//! (`{"image": {"resize": {"width": 640, "height": 480, "mode": "fit"}}}`), and their
//! validation into field-level errors shaped like the API's 422 `errors` array.
//! Unknown fields are errors, never silently ignored.

use serde::{Deserialize, Serialize};

use crate::error::InvalidOptions;

/// One invalid field: `{"field": "image.resize", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Everything a caller can ask of the engine for one file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Options {
    #[serde(default)]
    pub image: ImageOptions,
    #[serde(default, skip_serializing_if = "is_default")]
    pub pdf: PdfOptions,
    #[serde(default, skip_serializing_if = "is_default")]
    pub video: VideoOptions,
    #[serde(default, skip_serializing_if = "is_default")]
    pub audio: AudioOptions,
    #[serde(default, skip_serializing_if = "is_default")]
    pub archive: ArchiveOptions,
    /// What to do with a damaged input (a file cut short, a failed checksum).
    #[serde(default, skip_serializing_if = "is_default")]
    pub damaged: DamagedInput,
}

/// A damaged input (a photo cut off by an interrupted copy, a half-downloaded video) is
/// refused by default: compressing it would hand back a damaged output that looks fine.
/// `salvage` compresses what its decoder can still read, with a warning naming the damage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DamagedInput {
    #[default]
    Refuse,
    Salvage,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// PDFs: `medium` is lossless (streams re-deflated, objects packed and de-duplicated);
/// `high` and `ultra` also recompress and downsample images (to 200 and 120 ppi).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PdfOptions {
    #[serde(default)]
    pub compression: Compression,
    /// Only lossless changes, whatever the level.
    #[serde(default, skip_serializing_if = "is_false")]
    pub lossless: bool,
    /// The largest output wanted, in bytes. When the level's rewrite is bigger, images are
    /// re-encoded at coarser steps (down to 72 ppi at JPEG q40) until one fits; when none
    /// does, the file fails with the closest size reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum VideoCodec {
    H264,
    H265,
    Vp9,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum VideoContainer {
    Mp4,
    Mkv,
    Webm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AudioCodec {
    Aac,
    Opus,
    Mp3,
}

/// Videos: re-encoded with a constant quality (CRF) chosen by the level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VideoOptions {
    #[serde(default)]
    pub compression: Compression,
    /// Default: H.264 (VP9 for WebM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codec: Option<VideoCodec>,
    /// Default: MP4, or WebM for a WebM input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<VideoContainer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resize: Option<Resize>,
    /// The soundtrack's codec. Default: AAC (Opus in WebM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_codec: Option<AudioCodec>,
    /// Drop the soundtrack.
    #[serde(default, skip_serializing_if = "is_false")]
    pub mute: bool,
    /// The largest output wanted, in bytes. When the level's quality makes a bigger file, the
    /// video is encoded again at the bitrate its duration allows (the soundtrack keeps at most
    /// a quarter); when even that does not fit, the file fails with the closest size reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u64>,
}

/// Audio files: re-encoded at a bitrate chosen by the level (or given).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AudioOptions {
    #[serde(default)]
    pub compression: Compression,
    /// Default: AAC in an M4A file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codec: Option<AudioCodec>,
    /// kbit/s, 8–512; overrides the level's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate: Option<u32>,
    /// 1 (mono) or 2 (stereo). Default: as the input, at most 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<u8>,
    /// Hz. Default: as the input (resampled to 48000 for Opus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<u32>,
    /// The largest output wanted, in bytes: the bitrate is lowered (never raised) to what the
    /// duration allows; when even that does not fit, the file fails with the closest size reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u64>,
}

/// Sample rates the encoders all accept.
pub const SAMPLE_RATES: [u32; 6] = [8000, 16000, 22050, 24000, 44100, 48000];

/// ZIP, office documents, EPUB and gzip: members go through the engine where it has a
/// handler, the rest is re-deflated (with Zopfli at `ultra`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ArchiveOptions {
    #[serde(default)]
    pub compression: Compression,
    /// Re-pack only: members are not recompressed (every byte of every member kept).
    #[serde(default, skip_serializing_if = "is_false")]
    pub lossless: bool,
}

/// How hard to compress. `high` is the API's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Light: visually lossless, keeps full chroma resolution.
    Medium,
    /// Balanced: the default.
    #[default]
    High,
    /// Strong: smallest files, visible softening on close inspection.
    Ultra,
}

/// Output format for images. Absent means "keep the input's format" (BMP and TIFF become PNG).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Jpeg,
    Png,
    Webp,
    Avif,
    Gif,
    /// JPEG XL; with `lossless`, a JPEG is transcoded without loss (it rebuilds byte for byte).
    Jxl,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ImageOptions {
    #[serde(default)]
    pub compression: Compression,
    /// Encoder quality for lossy formats: `"auto"` (the default) picks it per image for the
    /// level's perceptual target; a number 1–100 fixes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<Quality>,
    /// Keep every pixel exactly (JPEG: re-encode the existing coefficients only).
    #[serde(default, skip_serializing_if = "is_false")]
    pub lossless: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<ImageFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resize: Option<Resize>,
    /// Keep the EXIF block (camera, date, GPS). Stripped by default.
    #[serde(default, skip_serializing_if = "is_false")]
    pub keep_exif: bool,
    /// Keep the ICC colour profile. By default a non-sRGB image is converted to sRGB instead.
    #[serde(default, skip_serializing_if = "is_false")]
    pub keep_icc: bool,
    /// The largest output wanted, in bytes. Lossy formats lower their quality (never above
    /// the level's) until the output fits; when even the lowest does not, the file fails
    /// with the closest size reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u64>,
}

/// `"auto"` or a fixed encoder quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Quality {
    /// One encoder quality, 1–100, for every image.
    Fixed(u8),
    /// Per image, the lowest quality whose SSIMULACRA2 score keeps the level's target (JPEG
    /// and WebP; a PNG palette is kept only when it keeps the target).
    Auto(AutoQuality),
}

/// The word `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AutoQuality {
    Auto,
}

impl Quality {
    pub const AUTO: Quality = Quality::Auto(AutoQuality::Auto);
}

// By hand, not `untagged`: serde's untagged error ("did not match any variant") names
// neither what was given nor what is wanted.
impl<'de> Deserialize<'de> for Quality {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Quality;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a quality from 1 to 100, or \"auto\"")
            }
            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Quality, E> {
                u8::try_from(value)
                    .map(Quality::Fixed)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(value), &self))
            }
            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Quality, E> {
                u64::try_from(value)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(value), &self))
                    .and_then(|value| self.visit_u64(value))
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Quality, E> {
                if value == "auto" {
                    Ok(Quality::AUTO)
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Str(value), &self))
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ResizeMode {
    /// Scale to fit inside width×height, keeping the aspect ratio.
    Fit,
    /// Scale to cover width×height, then centre-crop to exactly that size.
    Fill,
    /// Cut a width×height region from the centre, without scaling.
    Crop,
    /// Scale by whichever of width/height is given (both: like `fit`).
    Auto,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Resize {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    pub mode: ResizeMode,
    /// Allow results larger than the original. Off by default: never upscale unless asked.
    #[serde(default, skip_serializing_if = "is_false")]
    pub upscale: bool,
}

/// The first JSON array in `text`, as a field error under `root`. No option is a list, but
/// serde reads a struct from an array of its fields in order (`"resize": [640, 480, "fit"]`),
/// which would let a malformed request through as if it were meant.
pub fn array_in(text: &str, root: &str) -> Option<FieldError> {
    fn find(value: &serde_json::Value, path: &str) -> Option<String> {
        match value {
            serde_json::Value::Array(_) => Some(path.to_string()),
            serde_json::Value::Object(map) => map.iter().find_map(|(key, value)| {
                find(value, &if path.is_empty() { key.clone() } else { format!("{path}.{key}") })
            }),
            _ => None,
        }
    }
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let path = find(&value, "")?;
    let field = match (root, path.as_str()) {
        (root, "") => root.to_string(),
        ("options", path) => path.to_string(),
        (root, path) => format!("{root}.{path}"),
    };
    Some(FieldError::new(&field, "must be an object or a single value, not a list"))
}

/// Largest width or height accepted for a resize target (the JPEG format's own limit).
pub const MAX_DIMENSION: u32 = 65_535;

impl Options {
    /// Parses API-shaped JSON and validates it. Every problem found is reported, each
    /// with the dotted path of its field.
    pub fn from_json(text: &str) -> Result<Options, InvalidOptions> {
        if let Some(error) = array_in(text, "options") {
            return Err(InvalidOptions { errors: vec![error] });
        }
        let deserializer = &mut serde_json::Deserializer::from_str(text);
        let options: Options = serde_path_to_error::deserialize(deserializer).map_err(|err| {
            let path = err.path().to_string();
            // An unknown key that is itself empty leaves an empty path (or a trailing dot).
            let trimmed = path.trim_matches('.');
            let field = if trimmed.is_empty() { "options".to_string() } else { trimmed.to_string() };
            InvalidOptions { errors: vec![FieldError::new(&field, err.inner().to_string())] }
        })?;
        options.validate()?;
        Ok(options)
    }

    /// Checks combinations serde cannot express.
    pub fn validate(&self) -> Result<(), InvalidOptions> {
        let mut errors = Vec::new();
        self.image.validate(&mut errors);
        self.video.validate(&mut errors);
        self.audio.validate(&mut errors);
        validate_max_size(self.pdf.max_size, "pdf.max_size", &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(InvalidOptions { errors })
        }
    }
}

impl ImageOptions {
    /// The quality asked for, unless it is `auto` or absent.
    pub fn fixed_quality(&self) -> Option<u8> {
        match self.quality {
            Some(Quality::Fixed(quality)) => Some(quality),
            _ => None,
        }
    }

    fn validate(&self, errors: &mut Vec<FieldError>) {
        if let Some(Quality::Fixed(quality)) = self.quality {
            if !(1..=100).contains(&quality) {
                errors.push(FieldError::new("image.quality", "Must be between 1 and 100."));
            }
            if self.lossless {
                errors.push(FieldError::new(
                    "image.quality",
                    "Cannot be combined with 'lossless': lossless output has no quality setting.",
                ));
            }
        }
        validate_max_size(self.max_size, "image.max_size", errors);
        if self.lossless && self.format == Some(ImageFormat::Avif) {
            errors.push(FieldError::new("image.lossless", "AVIF output has no lossless mode; use 'png' or 'webp'."));
        }
        if let Some(resize) = &self.resize {
            resize.validate("image.resize", errors);
        }
    }
}

fn validate_max_size(max_size: Option<u64>, field: &str, errors: &mut Vec<FieldError>) {
    if max_size == Some(0) {
        errors.push(FieldError::new(field, "Must be at least 1 byte."));
    }
    // The API documents sizes as int64, as JSON clients commonly hold them.
    if max_size.is_some_and(|size| size > i64::MAX as u64) {
        errors.push(FieldError::new(field, format!("Must be at most {}.", i64::MAX)));
    }
}

impl VideoOptions {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        validate_max_size(self.max_size, "video.max_size", errors);
        if let Some(resize) = &self.resize {
            resize.validate("video.resize", errors);
        }
        if self.format == Some(VideoContainer::Webm) {
            if matches!(self.codec, Some(VideoCodec::H264 | VideoCodec::H265)) {
                errors.push(FieldError::new("video.codec", "WebM holds VP9 video only."));
            }
            if matches!(self.audio_codec, Some(AudioCodec::Aac | AudioCodec::Mp3)) {
                errors.push(FieldError::new("video.audio_codec", "WebM holds Opus audio only."));
            }
        }
    }
}

impl AudioOptions {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        validate_max_size(self.max_size, "audio.max_size", errors);
        if let Some(bitrate) = self.bitrate {
            if !(8..=512).contains(&bitrate) {
                errors.push(FieldError::new("audio.bitrate", "Must be between 8 and 512 (kbit/s)."));
            }
        }
        if let Some(channels) = self.channels {
            if !(1..=2).contains(&channels) {
                errors.push(FieldError::new("audio.channels", "Must be 1 (mono) or 2 (stereo)."));
            }
        }
        if let Some(rate) = self.sample_rate {
            if !SAMPLE_RATES.contains(&rate) {
                let list: Vec<String> = SAMPLE_RATES.iter().map(u32::to_string).collect();
                errors.push(FieldError::new("audio.sample_rate", format!("Must be one of {}.", list.join(", "))));
            }
        }
    }
}

impl Resize {
    /// `field` is where the resize sits: `image.resize` or `video.resize`.
    fn validate(&self, field: &str, errors: &mut Vec<FieldError>) {
        for (name, value) in [("width", self.width), ("height", self.height)] {
            if let Some(v) = value {
                if v == 0 || v > MAX_DIMENSION {
                    errors.push(FieldError::new(
                        &format!("{field}.{name}"),
                        format!("Must be between 1 and {MAX_DIMENSION}."),
                    ));
                }
            }
        }
        match self.mode {
            ResizeMode::Auto => {
                if self.width.is_none() && self.height.is_none() {
                    errors.push(FieldError::new(
                        field,
                        "When mode='auto', at least one of 'width' or 'height' must be specified.",
                    ));
                }
            }
            mode => {
                if self.width.is_none() || self.height.is_none() {
                    let name = serde_json::to_value(mode).ok().and_then(|v| v.as_str().map(str::to_owned));
                    errors.push(FieldError::new(
                        field,
                        format!(
                            "When mode='{}', both 'width' and 'height' must be specified.",
                            name.unwrap_or_default()
                        ),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(json: &str) -> Vec<FieldError> {
        Options::from_json(json).expect_err("should be invalid").errors
    }

    #[test]
    fn parses_the_api_shape() {
        let options =
            Options::from_json(r#"{"image": {"resize": {"width": 640, "height": 480, "mode": "fit"}}}"#).unwrap();
        assert_eq!(
            options.image.resize,
            Some(Resize { width: Some(640), height: Some(480), mode: ResizeMode::Fit, upscale: false })
        );
        assert_eq!(options.image.compression, Compression::High);
        assert_eq!(Options::from_json("{}").unwrap(), Options::default());
    }

    #[test]
    fn auto_resize_without_dimensions_gives_the_seed_message() {
        assert_eq!(
            errors_of(r#"{"image": {"resize": {"mode": "auto"}}}"#),
            vec![FieldError::new(
                "image.resize",
                "When mode='auto', at least one of 'width' or 'height' must be specified."
            )]
        );
    }

    #[test]
    fn every_refusal_names_a_field_even_for_broken_json() {
        // Found by fuzzing (fuzz/artifacts/detect_and_options): a stray quote before a key.
        let broken = "{\"image\": {\"resize\": {\"mode\": \"auto\"}},\"\"pdf\": {\"compression\": \"ultra\"}}\n";
        for text in [broken, "", "[", "{\"\": 1}", "\"x\""] {
            let errors = errors_of(text);
            assert!(errors.iter().all(|e| !e.field.is_empty() && !e.message.is_empty()), "{text:?}: {errors:?}");
        }
    }

    /// Found by the API's contract test (schemathesis): serde reads a struct from a list of
    /// its fields, so `"resize": [640, 480, "fit"]` passed as if it were meant.
    #[test]
    fn lists_are_never_options() {
        assert_eq!(
            errors_of(r#"{"image": {"resize": [640, 480, "fit"]}}"#),
            vec![FieldError::new("image.resize", "must be an object or a single value, not a list")]
        );
        assert_eq!(errors_of("[]")[0].field, "options");
        assert_eq!(array_in(r#"{"tags": {"a": [1]}}"#, "store").unwrap().field, "store.tags.a");
    }

    #[test]
    fn the_seeds_video_example_gives_its_exact_error() {
        assert_eq!(
            errors_of(r#"{"video": {"resize": {"mode": "auto"}}}"#),
            vec![FieldError::new(
                "video.resize",
                "When mode='auto', at least one of 'width' or 'height' must be specified."
            )]
        );
    }

    #[test]
    fn media_options_name_their_fields() {
        let errors = errors_of(r#"{"audio": {"bitrate": 4, "channels": 6, "sample_rate": 12345}}"#);
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["audio.bitrate", "audio.channels", "audio.sample_rate"]);
        let errors = errors_of(r#"{"video": {"format": "webm", "codec": "h264"}}"#);
        assert_eq!(errors[0].field, "video.codec");
        assert!(errors_of(r#"{"pdf": {"level": 3}}"#)[0].field.starts_with("pdf"));
        Options::from_json(r#"{"pdf": {"compression": "ultra"}, "archive": {"lossless": true}}"#).unwrap();
    }

    #[test]
    fn fit_needs_both_dimensions() {
        let errors = errors_of(r#"{"image": {"resize": {"width": 10, "mode": "fit"}}}"#);
        assert_eq!(errors[0].field, "image.resize");
        assert!(errors[0].message.contains("mode='fit'"), "{errors:?}");
    }

    #[test]
    fn unknown_fields_are_errors_with_their_path() {
        let errors = errors_of(r#"{"image": {"qualty": 80}}"#);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].field.starts_with("image"), "{errors:?}");
        assert!(errors[0].message.contains("qualty"), "{errors:?}");
        let errors = errors_of(r#"{"imgae": {}}"#);
        assert!(errors[0].message.contains("imgae"), "{errors:?}");
    }

    #[test]
    fn wrong_values_name_their_field() {
        let errors = errors_of(r#"{"image": {"compression": "extreme"}}"#);
        assert_eq!(errors[0].field, "image.compression");
        let errors = errors_of(r#"{"image": {"quality": 0}}"#);
        assert_eq!(errors[0].field, "image.quality");
        let errors = errors_of(r#"{"image": {"resize": {"width": 0, "height": 70000, "mode": "fill"}}}"#);
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["image.resize.width", "image.resize.height"]);
        let errors = errors_of(r#"{"image": {"lossless": true, "quality": 50}}"#);
        assert_eq!(errors[0].field, "image.quality");
        let errors = errors_of("not json");
        assert_eq!(errors[0].field, "options");
        let errors = errors_of(r#"{"image": {"max_size": 9223372036854775808}}"#);
        assert_eq!(errors[0].field, "image.max_size");
        for kind in ["image", "pdf", "video", "audio"] {
            let errors = errors_of(&format!(r#"{{"{kind}": {{"max_size": 0}}}}"#));
            assert_eq!((errors[0].field.as_str(), errors.len()), (format!("{kind}.max_size").as_str(), 1));
        }
    }

    #[test]
    fn quality_is_a_number_or_auto() {
        let auto = Options::from_json(r#"{"image": {"quality": "auto"}}"#).unwrap();
        assert_eq!(auto.image.quality, Some(Quality::AUTO));
        assert_eq!(auto.image.fixed_quality(), None);
        assert_eq!(serde_json::to_string(&auto.image.quality).unwrap(), r#""auto""#);
        let fixed = Options::from_json(r#"{"image": {"quality": 62}}"#).unwrap();
        assert_eq!(fixed.image.fixed_quality(), Some(62));
        for wrong in [r#""best""#, "-3", "300", "7.5", "[75]"] {
            let errors = errors_of(&format!(r#"{{"image": {{"quality": {wrong}}}}}"#));
            assert_eq!(errors[0].field, "image.quality", "{wrong}: {errors:?}");
        }
        let errors = errors_of(r#"{"image": {"quality": "best"}}"#);
        assert!(errors[0].message.contains(r#"from 1 to 100, or "auto""#), "{errors:?}");
    }

    #[test]
    fn round_trips_through_json() {
        let json = r#"{"image":{"compression":"ultra","quality":70,"format":"webp","resize":{"width":1920,"mode":"auto"},"keep_icc":true}}"#;
        let options = Options::from_json(json).unwrap();
        assert_eq!(serde_json::to_string(&options).unwrap(), json);
    }
}
