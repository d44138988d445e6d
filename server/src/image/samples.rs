//! Sample-level helpers shared by the operations: every `DynamicImage` layout, one generic
//! kernel. The macros expand a body once per layout, so kernels are monomorphised per
//! sample type (u8, u16, f32) and never go through a slow per-pixel enum match.

use image::{DynamicImage, Pixel};

use crate::idl::image::Color;

/// A sample type, mapped to and from 0..1.
pub trait Sample: Copy + Send + Sync + 'static {
    fn to_unit(self) -> f32;
    fn from_unit(v: f32) -> Self;
}

impl Sample for u8 {
    fn to_unit(self) -> f32 {
        f32::from(self) / 255.0
    }
    fn from_unit(v: f32) -> Self {
        (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8
    }
}

impl Sample for u16 {
    fn to_unit(self) -> f32 {
        f32::from(self) / 65535.0
    }
    fn from_unit(v: f32) -> Self {
        (v.clamp(0.0, 1.0) * 65535.0 + 0.5) as u16
    }
}

impl Sample for f32 {
    fn to_unit(self) -> f32 {
        self
    }
    fn from_unit(v: f32) -> Self {
        v
    }
}

/// `image` with `$b` bound to each layout's `ImageBuffer` in turn, rebuilt from `$body`
/// (which must return a buffer of the same layout). A layout newer than this code is
/// converted to RGBA f32 first.
macro_rules! map_image {
    ($image:expr, $b:ident => $body:expr) => {
        match $image {
            ::image::DynamicImage::ImageLuma8($b) => ::image::DynamicImage::ImageLuma8($body),
            ::image::DynamicImage::ImageLumaA8($b) => ::image::DynamicImage::ImageLumaA8($body),
            ::image::DynamicImage::ImageRgb8($b) => ::image::DynamicImage::ImageRgb8($body),
            ::image::DynamicImage::ImageRgba8($b) => ::image::DynamicImage::ImageRgba8($body),
            ::image::DynamicImage::ImageLuma16($b) => ::image::DynamicImage::ImageLuma16($body),
            ::image::DynamicImage::ImageLumaA16($b) => ::image::DynamicImage::ImageLumaA16($body),
            ::image::DynamicImage::ImageRgb16($b) => ::image::DynamicImage::ImageRgb16($body),
            ::image::DynamicImage::ImageRgba16($b) => ::image::DynamicImage::ImageRgba16($body),
            ::image::DynamicImage::ImageRgb32F($b) => ::image::DynamicImage::ImageRgb32F($body),
            ::image::DynamicImage::ImageRgba32F($b) => ::image::DynamicImage::ImageRgba32F($body),
            other => {
                let $b = other.to_rgba32f();
                ::image::DynamicImage::ImageRgba32F($body)
            }
        }
    };
}
pub(crate) use map_image;

/// Runs `$body` with `$s` bound to the samples of `image` (`&mut [S]`), `$ch` to the
/// channel count and `$alpha` to whether the last channel is alpha.
macro_rules! with_samples_mut {
    ($image:expr, $s:ident, $ch:ident, $alpha:ident => $body:expr) => {
        match $image {
            ::image::DynamicImage::ImageLuma8(b) => {
                let ($s, $ch, $alpha) = (&mut **b, 1usize, false);
                $body
            }
            ::image::DynamicImage::ImageLumaA8(b) => {
                let ($s, $ch, $alpha) = (&mut **b, 2usize, true);
                $body
            }
            ::image::DynamicImage::ImageRgb8(b) => {
                let ($s, $ch, $alpha) = (&mut **b, 3usize, false);
                $body
            }
            ::image::DynamicImage::ImageRgba8(b) => {
                let ($s, $ch, $alpha) = (&mut **b, 4usize, true);
                $body
            }
            ::image::DynamicImage::ImageLuma16(b) => {
                let ($s, $ch, $alpha) = (&mut **b, 1usize, false);
                $body
            }
            ::image::DynamicImage::ImageLumaA16(b) => {
                let ($s, $ch, $alpha) = (&mut **b, 2usize, true);
                $body
            }
            ::image::DynamicImage::ImageRgb16(b) => {
                let ($s, $ch, $alpha) = (&mut **b, 3usize, false);
                $body
            }
            ::image::DynamicImage::ImageRgba16(b) => {
                let ($s, $ch, $alpha) = (&mut **b, 4usize, true);
                $body
            }
            ::image::DynamicImage::ImageRgb32F(b) => {
                let ($s, $ch, $alpha) = (&mut **b, 3usize, false);
                $body
            }
            ::image::DynamicImage::ImageRgba32F(b) => {
                let ($s, $ch, $alpha) = (&mut **b, 4usize, true);
                $body
            }
            _ => {}
        }
    };
}
pub(crate) use with_samples_mut;

/// Applies `f` (on 0..1 values) to every colour sample, leaving alpha alone.
pub fn map_colour<S: Sample>(
    samples: &mut [S],
    channels: usize,
    alpha: bool,
    f: impl Fn(f32) -> f32,
) {
    let colour = if alpha { channels - 1 } else { channels };
    for pixel in samples.chunks_exact_mut(channels) {
        for s in &mut pixel[..colour] {
            *s = S::from_unit(f(s.to_unit()));
        }
    }
}

/// A pixel of layout `P` holding `colour` (grayscale layouts take its Rec. 601 luma).
pub fn pixel_of<P>(colour: &Color) -> P
where
    P: Pixel,
    P::Subpixel: Sample,
{
    let (r, g, b, a) = (
        colour.r as f32,
        colour.g as f32,
        colour.b as f32,
        colour.a.unwrap_or(1.0) as f32,
    );
    let luma = 0.299 * r + 0.587 * g + 0.114 * b;
    let units: &[f32] = match P::CHANNEL_COUNT {
        1 => &[luma],
        2 => &[luma, a],
        3 => &[r, g, b],
        _ => &[r, g, b, a],
    };
    let samples: Vec<P::Subpixel> = units.iter().map(|&v| Sample::from_unit(v)).collect();
    *P::from_slice(&samples)
}

/// The maximum of a layout's sample range, in its own units.
pub fn sample_max(image: &DynamicImage) -> f32 {
    match image {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => 255.0,
        DynamicImage::ImageLuma16(_)
        | DynamicImage::ImageLumaA16(_)
        | DynamicImage::ImageRgb16(_)
        | DynamicImage::ImageRgba16(_) => 65535.0,
        _ => 1.0,
    }
}

/// Pixels for tests: a byte pattern, or finite floats in 0..1 for the f32 layouts.
#[cfg(test)]
pub fn test_pixels(count: usize, bpp: usize, float: bool, step: usize) -> Vec<u8> {
    if float {
        (0..count * bpp / 4)
            .flat_map(|i| ((i * step % 101) as f32 / 100.0).to_le_bytes())
            .collect()
    } else {
        (0..count * bpp).map(|i| (i * step) as u8).collect()
    }
}
