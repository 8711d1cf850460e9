//! Compression options: serde types mirroring the Compressor API's JSON
//! (`{"image": {"resize": {"width": 640, "height": 480, "mode": "fit"}}}`), and their
//! validation into field-level errors shaped like the API's 422 `errors` array.
//! Unknown fields are errors, never silently ignored.

use serde::{Deserialize, Serialize};

use crate::error::InvalidOptions;

/// One invalid field: `{"field": "image.resize", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
#[serde(deny_unknown_fields)]
pub struct Options {
    #[serde(default)]
    pub image: ImageOptions,
}

/// How hard to compress. `high` is the API's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Jpeg,
    Png,
    Webp,
    Avif,
    Gif,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct ImageOptions {
    #[serde(default)]
    pub compression: Compression,
    /// Encoder quality 1–100 for lossy formats; overrides the level's own quality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<u8>,
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
}

fn is_false(value: &bool) -> bool {
    !*value
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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

/// Largest width or height accepted for a resize target (the JPEG format's own limit).
pub const MAX_DIMENSION: u32 = 65_535;

impl Options {
    /// Parses API-shaped JSON and validates it. Every problem found is reported, each
    /// with the dotted path of its field.
    pub fn from_json(text: &str) -> Result<Options, InvalidOptions> {
        let deserializer = &mut serde_json::Deserializer::from_str(text);
        let options: Options = serde_path_to_error::deserialize(deserializer).map_err(|err| {
            let path = err.path().to_string();
            let field = if path == "." { "options".to_string() } else { path };
            InvalidOptions { errors: vec![FieldError::new(&field, err.inner().to_string())] }
        })?;
        options.validate()?;
        Ok(options)
    }

    /// Checks combinations serde cannot express.
    pub fn validate(&self) -> Result<(), InvalidOptions> {
        let mut errors = Vec::new();
        self.image.validate(&mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(InvalidOptions { errors })
        }
    }
}

impl ImageOptions {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        if let Some(quality) = self.quality {
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
        if self.lossless && self.format == Some(ImageFormat::Avif) {
            errors.push(FieldError::new("image.lossless", "AVIF output has no lossless mode; use 'png' or 'webp'."));
        }
        if let Some(resize) = &self.resize {
            resize.validate(errors);
        }
    }
}

impl Resize {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        for (name, value) in [("width", self.width), ("height", self.height)] {
            if let Some(v) = value {
                if v == 0 || v > MAX_DIMENSION {
                    errors.push(FieldError::new(
                        &format!("image.resize.{name}"),
                        format!("Must be between 1 and {MAX_DIMENSION}."),
                    ));
                }
            }
        }
        match self.mode {
            ResizeMode::Auto => {
                if self.width.is_none() && self.height.is_none() {
                    errors.push(FieldError::new(
                        "image.resize",
                        "When mode='auto', at least one of 'width' or 'height' must be specified.",
                    ));
                }
            }
            mode => {
                if self.width.is_none() || self.height.is_none() {
                    let name = serde_json::to_value(mode).ok().and_then(|v| v.as_str().map(str::to_owned));
                    errors.push(FieldError::new(
                        "image.resize",
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
    }

    #[test]
    fn round_trips_through_json() {
        let json = r#"{"image":{"compression":"ultra","quality":70,"format":"webp","resize":{"width":1920,"mode":"auto"},"keep_icc":true}}"#;
        let options = Options::from_json(json).unwrap();
        assert_eq!(serde_json::to_string(&options).unwrap(), json);
    }
}
