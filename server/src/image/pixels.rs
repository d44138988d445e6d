//! Raw pixels: the contract's `PixelFormat`s and `RawImage` buffers, to and from the
//! `image` crate's `DynamicImage` (whose ten variants are exactly the contract's formats).
//!
//! Samples on the wire are little-endian; buffers are tightly packed rows.

use bytes::Bytes;
use image::{ColorType, DynamicImage, ImageBuffer};

use crate::error::ServiceError;
use crate::idl::image::{PixelFormat, RawImage};
use crate::image::codec::ImageLimits;

/// Bytes per pixel of a format, or None for a value this server does not know.
pub fn bytes_per_pixel(format: PixelFormat) -> Option<usize> {
    Some(match format {
        PixelFormat::GRAY8 => 1,
        PixelFormat::GRAYA8 | PixelFormat::GRAY16 => 2,
        PixelFormat::RGB8 => 3,
        PixelFormat::RGBA8 | PixelFormat::GRAYA16 => 4,
        PixelFormat::RGB16 => 6,
        PixelFormat::RGBA16 => 8,
        PixelFormat::RGB32F => 12,
        PixelFormat::RGBA32F => 16,
        _ => return None,
    })
}

/// The contract's name for the pixel layout of a decoder's colour type.
pub fn format_of_color(color: ColorType) -> PixelFormat {
    match color {
        ColorType::L8 => PixelFormat::GRAY8,
        ColorType::La8 => PixelFormat::GRAYA8,
        ColorType::L16 => PixelFormat::GRAY16,
        ColorType::La16 => PixelFormat::GRAYA16,
        ColorType::Rgb8 => PixelFormat::RGB8,
        ColorType::Rgba8 => PixelFormat::RGBA8,
        ColorType::Rgb16 => PixelFormat::RGB16,
        ColorType::Rgba16 => PixelFormat::RGBA16,
        ColorType::Rgb32F => PixelFormat::RGB32F,
        // Rgba32F, and any layout a newer `image` adds: the widest format holds it.
        _ => PixelFormat::RGBA32F,
    }
}

/// Checks a raw image's header against its buffer, without touching the pixels.
pub fn check_raw(raw: &RawImage) -> Result<usize, ServiceError> {
    let bpp = bytes_per_pixel(raw.pixel_format).ok_or_else(|| {
        ServiceError::unsupported(
            format!("pixel format {}", raw.pixel_format.0),
            format!(
                "pixel format {} is not known to this server",
                raw.pixel_format.0
            ),
        )
    })?;
    if raw.width <= 0 || raw.height <= 0 {
        return Err(ServiceError::InvalidImage(format!(
            "a raw image must be at least 1x1 pixels, not {}x{}",
            raw.width, raw.height
        )));
    }
    // In u128: 2^31 x 2^31 x 16 bytes does not fit in u64.
    let expected = raw.width as u128 * raw.height as u128 * bpp as u128;
    if raw.pixels.len() as u128 != expected {
        return Err(ServiceError::InvalidImage(format!(
            "a {}x{} {} image needs {expected} bytes of pixels, but {} were sent",
            raw.width,
            raw.height,
            name(raw.pixel_format),
            raw.pixels.len()
        )));
    }
    Ok(bpp)
}

/// Decodes raw pixels (one copy: the image crate owns its buffers, typed by sample).
pub fn from_raw(raw: &RawImage, limits: &ImageLimits) -> Result<DynamicImage, ServiceError> {
    check_raw(raw)?;
    let (w, h) = (raw.width as u32, raw.height as u32);
    limits.check(w, h)?;
    let bytes = &raw.pixels[..];
    let u16s = || -> Vec<u16> {
        bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect()
    };
    if matches!(raw.pixel_format, PixelFormat::RGB32F | PixelFormat::RGBA32F) {
        // NaN and infinity poison every later computation (means, comparisons, resizing).
        let bad = bytes
            .chunks_exact(4)
            .position(|c| !f32::from_le_bytes([c[0], c[1], c[2], c[3]]).is_finite());
        if let Some(i) = bad {
            return Err(ServiceError::InvalidImage(format!(
                "sample {i} of the {} image is not a finite number",
                name(raw.pixel_format)
            )));
        }
    }
    let f32s = || -> Vec<f32> {
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    // The lengths were checked above, so from_raw cannot fail.
    let image = match raw.pixel_format {
        PixelFormat::GRAY8 => {
            ImageBuffer::from_raw(w, h, bytes.to_vec()).map(DynamicImage::ImageLuma8)
        }
        PixelFormat::GRAYA8 => {
            ImageBuffer::from_raw(w, h, bytes.to_vec()).map(DynamicImage::ImageLumaA8)
        }
        PixelFormat::RGB8 => {
            ImageBuffer::from_raw(w, h, bytes.to_vec()).map(DynamicImage::ImageRgb8)
        }
        PixelFormat::RGBA8 => {
            ImageBuffer::from_raw(w, h, bytes.to_vec()).map(DynamicImage::ImageRgba8)
        }
        PixelFormat::GRAY16 => ImageBuffer::from_raw(w, h, u16s()).map(DynamicImage::ImageLuma16),
        PixelFormat::GRAYA16 => ImageBuffer::from_raw(w, h, u16s()).map(DynamicImage::ImageLumaA16),
        PixelFormat::RGB16 => ImageBuffer::from_raw(w, h, u16s()).map(DynamicImage::ImageRgb16),
        PixelFormat::RGBA16 => ImageBuffer::from_raw(w, h, u16s()).map(DynamicImage::ImageRgba16),
        PixelFormat::RGB32F => ImageBuffer::from_raw(w, h, f32s()).map(DynamicImage::ImageRgb32F),
        _ => ImageBuffer::from_raw(w, h, f32s()).map(DynamicImage::ImageRgba32F),
    };
    image.ok_or_else(|| ServiceError::Internal("raw buffer length mismatch".into()))
}

/// The pixels of `image` as a raw image with little-endian samples.
pub fn to_raw(image: DynamicImage) -> Result<RawImage, ServiceError> {
    let pixel_format = format_of_color(image.color());
    let (width, height) = (image.width() as i32, image.height() as i32);
    let image = match image {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_)
        | DynamicImage::ImageLuma16(_)
        | DynamicImage::ImageLumaA16(_)
        | DynamicImage::ImageRgb16(_)
        | DynamicImage::ImageRgba16(_)
        | DynamicImage::ImageRgb32F(_)
        | DynamicImage::ImageRgba32F(_) => image,
        other => DynamicImage::ImageRgba32F(other.to_rgba32f()),
    };
    Ok(RawImage {
        width,
        height,
        pixel_format,
        pixels: Bytes::from(le_bytes(image)),
    })
}

#[cfg(target_endian = "little")]
fn le_bytes(image: DynamicImage) -> Vec<u8> {
    match image {
        // 8-bit buffers are handed over without a copy.
        DynamicImage::ImageLuma8(b) => b.into_raw(),
        DynamicImage::ImageLumaA8(b) => b.into_raw(),
        DynamicImage::ImageRgb8(b) => b.into_raw(),
        DynamicImage::ImageRgba8(b) => b.into_raw(),
        other => other.as_bytes().to_vec(),
    }
}

#[cfg(target_endian = "big")]
fn le_bytes(image: DynamicImage) -> Vec<u8> {
    match image {
        DynamicImage::ImageLuma16(b) => b.iter().flat_map(|s| s.to_le_bytes()).collect(),
        DynamicImage::ImageLumaA16(b) => b.iter().flat_map(|s| s.to_le_bytes()).collect(),
        DynamicImage::ImageRgb16(b) => b.iter().flat_map(|s| s.to_le_bytes()).collect(),
        DynamicImage::ImageRgba16(b) => b.iter().flat_map(|s| s.to_le_bytes()).collect(),
        DynamicImage::ImageRgb32F(b) => b.iter().flat_map(|s| s.to_le_bytes()).collect(),
        DynamicImage::ImageRgba32F(b) => b.iter().flat_map(|s| s.to_le_bytes()).collect(),
        other => other.as_bytes().to_vec(),
    }
}

/// Converts to another pixel format, scaling samples between depths.
pub fn convert(image: DynamicImage, to: PixelFormat) -> Result<DynamicImage, ServiceError> {
    if format_of_color(image.color()) == to {
        return Ok(image);
    }
    Ok(match to {
        PixelFormat::GRAY8 => DynamicImage::ImageLuma8(image.to_luma8()),
        PixelFormat::GRAYA8 => DynamicImage::ImageLumaA8(image.to_luma_alpha8()),
        PixelFormat::GRAY16 => DynamicImage::ImageLuma16(image.to_luma16()),
        PixelFormat::GRAYA16 => DynamicImage::ImageLumaA16(image.to_luma_alpha16()),
        PixelFormat::RGB8 => DynamicImage::ImageRgb8(image.to_rgb8()),
        PixelFormat::RGBA8 => DynamicImage::ImageRgba8(image.to_rgba8()),
        PixelFormat::RGB16 => DynamicImage::ImageRgb16(image.to_rgb16()),
        PixelFormat::RGBA16 => DynamicImage::ImageRgba16(image.to_rgba16()),
        PixelFormat::RGB32F => DynamicImage::ImageRgb32F(image.to_rgb32f()),
        PixelFormat::RGBA32F => DynamicImage::ImageRgba32F(image.to_rgba32f()),
        other => {
            return Err(ServiceError::unsupported(
                format!("pixel format {}", other.0),
                format!("pixel format {} is not known to this server", other.0),
            ))
        }
    })
}

/// The contract's name of a format, for messages.
pub fn name(format: PixelFormat) -> String {
    format
        .name()
        .map_or_else(|| format!("pixel format {}", format.0), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_header_with_a_small_buffer_is_an_invalid_image_not_an_overflow() {
        for format in [PixelFormat::GRAY8, PixelFormat::RGB16, PixelFormat::RGBA32F] {
            let raw = RawImage {
                width: i32::MAX,
                height: i32::MAX,
                pixel_format: format,
                pixels: Bytes::from_static(&[0; 16]),
            };
            match check_raw(&raw) {
                Err(ServiceError::InvalidImage(m)) => assert!(m.contains("16 were sent"), "{m}"),
                other => panic!("{other:?}"),
            }
        }
    }
}
