//! Built-in presets: named option sets shared by the CLI and the desktop app.

use compressor_engine::{
    ArchiveOptions, AudioOptions, Compression, ImageFormat, ImageOptions, Options, PdfOptions, Resize, ResizeMode,
    VideoOptions,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    pub name: &'static str,
    pub description: &'static str,
    pub options: Options,
}

fn image(options: ImageOptions) -> Options {
    Options { image: options, ..Options::default() }
}

/// Every kind of file at one level.
fn level(compression: Compression) -> Options {
    Options {
        image: ImageOptions { compression, ..Default::default() },
        pdf: PdfOptions { compression, ..Default::default() },
        video: VideoOptions { compression, ..Default::default() },
        audio: AudioOptions { compression, ..Default::default() },
        archive: ArchiveOptions { compression, ..Default::default() },
        damaged: Default::default(),
    }
}

/// The presets every installation has, in the order they are shown.
pub fn builtin() -> Vec<Preset> {
    vec![
        Preset {
            name: "balanced",
            description: "Default: much smaller, no visible change (compression 'high')",
            options: Options::default(),
        },
        Preset {
            name: "maximum",
            description: "Smallest files; fine detail may soften (compression 'ultra')",
            options: level(Compression::Ultra),
        },
        Preset {
            name: "lossless",
            description: "Every pixel kept: re-encoded JPEG coefficients, optimised PNG/GIF; PDFs and archives re-packed only; video and audio at the lightest level",
            options: Options {
                image: ImageOptions { lossless: true, ..Default::default() },
                pdf: PdfOptions { lossless: true, ..Default::default() },
                archive: ArchiveOptions { lossless: true, ..Default::default() },
                ..level(Compression::Medium)
            },
        },
        Preset {
            name: "web",
            description: "WebP, at most 1920 px wide",
            options: image(ImageOptions {
                format: Some(ImageFormat::Webp),
                resize: Some(Resize { width: Some(1920), height: None, mode: ResizeMode::Auto, upscale: false }),
                ..Default::default()
            }),
        },
        Preset {
            name: "email",
            description: "Fits in 1600×1600 px, compression 'high', for attachments",
            options: image(ImageOptions {
                resize: Some(Resize { width: Some(1600), height: Some(1600), mode: ResizeMode::Fit, upscale: false }),
                ..Default::default()
            }),
        },
    ]
}

/// Finds a built-in preset by name, case-insensitively.
pub fn find(name: &str) -> Option<Preset> {
    builtin().into_iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_preset_is_valid_and_findable() {
        for preset in builtin() {
            preset.options.validate().unwrap_or_else(|e| panic!("{}: {e}", preset.name));
            assert_eq!(find(&preset.name.to_uppercase()).unwrap().name, preset.name);
        }
        assert!(find("nope").is_none());
    }
}
