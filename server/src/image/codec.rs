//! Images in and out: decoding encoded and raw images under a pixel budget, reading headers
//! for `info`, and encoding results.

use std::io::Cursor;

use bytes::Bytes;
use image::{DynamicImage, ImageDecoder, ImageReader};

use crate::error::ServiceError;
use crate::idl::image::{EncodedImage, Image, ImageFormat, ImageInfo, PixelFormat};
use crate::image::{jpeg_decode, jpeg_encode, pixels, png_fast};

/// Per-request limits that protect the server from decompression bombs and huge payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// The most pixels one image may have, decoded or produced by an operation.
    pub max_pixels: u64,
    /// The most images one batch may hold.
    pub max_batch: usize,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            // 64 MP: a large camera or scanner image; as RGBA f32, 1 GiB.
            max_pixels: 64 * 1024 * 1024,
            max_batch: 1024,
        }
    }
}

impl ImageLimits {
    /// Fails with `TooLarge` when `width x height` is over budget.
    pub fn check(&self, width: u32, height: u32) -> Result<(), ServiceError> {
        let pixels = u64::from(width) * u64::from(height);
        if pixels > self.max_pixels {
            return Err(ServiceError::TooLarge {
                what: "pixels".into(),
                limit: self.max_pixels as i64,
                requested: pixels as i64,
            });
        }
        Ok(())
    }
}

/// A decoded image and what its encoding said about it.
pub struct Decoded {
    pub image: DynamicImage,
    /// The container format, for encoded input.
    pub format: Option<ImageFormat>,
    /// The EXIF orientation tag, when the image carries one.
    pub orientation: Option<image::metadata::Orientation>,
    /// The image's size as encoded: larger than `image` when the decoder reduced it for a
    /// shrinking pipeline (see `decode_for`).
    pub full_size: (u32, u32),
}

/// Decodes `image` under `limits`, in full.
pub fn decode(image: &Image, limits: &ImageLimits) -> Result<Decoded, ServiceError> {
    decode_for(image, limits, |_, _| None)
}

/// Decodes `image` under `limits` for a pipeline whose first step makes a `width x height`
/// image `shrink(width, height)` in size (`None`: it does not shrink). A baseline JPEG is
/// then decoded at the smallest DCT scale (1/2, 1/4 or 1/8) that keeps it at least 1.5x
/// that size (see `jpeg_denominator`), in a fraction of the time a full decode takes;
/// `full_size` tells the pipeline (`ops::run_decoded`).
pub fn decode_for(
    image: &Image,
    limits: &ImageLimits,
    shrink: impl FnOnce(u32, u32) -> Option<(u32, u32)>,
) -> Result<Decoded, ServiceError> {
    match image {
        Image::Encoded(encoded) => decode_encoded(encoded, limits, shrink),
        Image::Raw(raw) => {
            let image = pixels::from_raw(raw, limits)?;
            Ok(Decoded {
                full_size: (image.width(), image.height()),
                image,
                format: None,
                orientation: None,
            })
        }
        Image::Unknown(id) => Err(unknown_image(*id)),
    }
}

/// An image kind from a newer contract than this server's (see `Image::Unknown`).
fn unknown_image(id: i16) -> ServiceError {
    ServiceError::unsupported(
        format!("image {id}"),
        format!(
            "image kind with field id {id} of union Image is not known to this server (a \
             client with a newer contract sent it); send encoded or raw"
        ),
    )
}

/// The largest JPEG scale denominator that keeps `width x height` at least 1.5 times
/// `target`. The DCT's block average is a box filter: with the resize after it shrinking
/// by 1.5x or more, the result stays close to what the resize's own filter makes of the
/// full image (at a ratio near 1 it would barely filter, and the box would show), while a
/// 12 MP photo still makes a 256-pixel thumbnail from its 1/8 scale.
fn jpeg_denominator(width: u32, height: u32, target: (u32, u32)) -> Option<u32> {
    let at_least = |side: u32, target: u32| u64::from(side) * 2 >= u64::from(target) * 3;
    [8, 4, 2]
        .into_iter()
        .find(|&d| at_least(width.div_ceil(d), target.0) && at_least(height.div_ceil(d), target.1))
}

/// The request's image, or the error for a missing one.
pub fn require(image: Option<&Image>) -> Result<&Image, ServiceError> {
    image.ok_or_else(|| ServiceError::invalid_argument("image", "no image was sent"))
}

type Reader<'a> = ImageReader<Cursor<&'a [u8]>>;

/// A reader for `encoded`, with its format given or detected from the bytes.
fn reader(encoded: &EncodedImage) -> Result<(Reader<'_>, ImageFormat), ServiceError> {
    if encoded.data.is_empty() {
        return Err(ServiceError::InvalidImage(
            "the encoded image is empty (0 bytes)".into(),
        ));
    }
    let mut reader = ImageReader::new(Cursor::new(&encoded.data[..]));
    let format = match encoded.format {
        Some(format) => {
            reader.set_format(to_codec_format(format)?);
            format
        }
        None => {
            reader = reader
                .with_guessed_format()
                .map_err(|e| ServiceError::Internal(format!("reading the image: {e}")))?;
            match reader.format() {
                Some(f) => from_codec_format(f).ok_or_else(|| {
                    ServiceError::unsupported(
                        format!("format {f:?}"),
                        format!("{f:?} images are not supported; send JPEG, PNG, WebP, GIF, BMP or TIFF"),
                    )
                })?,
                None => {
                    return Err(ServiceError::InvalidImage(format!(
                        "the {} bytes sent are not an image in a known format (they start with {})",
                        encoded.data.len(),
                        hex_prefix(&encoded.data)
                    )))
                }
            }
        }
    };
    Ok((reader, format))
}

/// What a decoder may allocate: the pixel budget at the widest pixel (RGBA f32), plus room
/// for the codec's own buffers.
const DECODER_MEMORY: u64 = 64 * 1024 * 1024 * 16 + 64 * 1024 * 1024;

fn decode_encoded(
    encoded: &EncodedImage,
    limits: &ImageLimits,
    shrink: impl FnOnce(u32, u32) -> Option<(u32, u32)>,
) -> Result<Decoded, ServiceError> {
    let (mut decoding, format) = reader(encoded)?;
    if format == ImageFormat::JPEG && !jpeg_is_complete(&encoded.data) {
        return Err(ServiceError::InvalidImage(format!(
            "the JPEG image is truncated: its {} bytes end before the end-of-image marker",
            encoded.data.len()
        )));
    }
    // The pixel budget first, from the header alone: a decompression bomb is refused as
    // TooLarge with what it asked for, before the decoder plans any allocation. The header
    // is read again below with the memory limit, because PNG's decoder takes its limits
    // only when it is made (`ImageDecoder::set_limits` afterwards would not reach it).
    let (mut head, _) = header(encoded)?;
    let (width, height) = head.dimensions();
    limits.check(width, height)?;
    // A JPEG goes to Mosaic's own decoder: at a reduced DCT scale when the pipeline
    // shrinks it enough, else in full.
    let denominator = match (format, shrink(width, height)) {
        (ImageFormat::JPEG, Some(target)) => jpeg_denominator(width, height, target).or(Some(1)),
        (ImageFormat::JPEG, None) => Some(1),
        _ => None,
    };
    if let Some(d) = denominator {
        // Only a frame of the size read (and budgeted) above is decoded.
        let decoded = jpeg_decode::decode(&encoded.data, d, (width, height));
        if let Some(image) = decoded {
            return Ok(Decoded {
                image,
                format: Some(format),
                orientation: exif_orientation(&mut head),
                full_size: (width, height),
            });
        }
        // Anything Mosaic's decoder does not take (arithmetic coding, CMYK, 12-bit ...) or
        // finds malformed goes to the `image` crate's decoder below, which also reports
        // errors as usual.
    }
    drop(head);
    if format == ImageFormat::PNG {
        // The common PNGs in one pass; the rest (and anything malformed) below.
        if let Some(image) = png_fast::decode(&encoded.data) {
            return Ok(Decoded {
                image,
                format: Some(format),
                orientation: None,
                full_size: (width, height),
            });
        }
    }
    let mut codec_limits = image::Limits::default();
    codec_limits.max_alloc = Some(limits.max_pixels.saturating_mul(16).min(DECODER_MEMORY));
    decoding.limits(codec_limits);
    let mut decoder = decoding.into_decoder().map_err(|e| invalid(format, e))?;
    let orientation = exif_orientation(&mut decoder);
    let image = DynamicImage::from_decoder(decoder).map_err(|e| invalid(format, e))?;
    Ok(Decoded {
        image,
        format: Some(format),
        orientation,
        full_size: (width, height),
    })
}

/// Whether a JPEG stream ends its last scan with an end-of-image marker. JPEG decoders
/// fill a truncated scan with grey rather than fail, so truncation is caught here: inside
/// entropy-coded data 0xFF is always stuffed, so the last EOI (FF D9) follows the last
/// start-of-scan (FF DA) exactly when the final scan is complete.
fn jpeg_is_complete(data: &[u8]) -> bool {
    // memrchr steps over the entropy-coded bytes with vector compares: a byte-by-byte
    // search back to the scan header cost 3% of a 12 MP thumbnail.
    let last =
        |marker: u8| memchr::memrchr_iter(0xFF, data).find(|&i| data.get(i + 1) == Some(&marker));
    match (last(0xDA), last(0xD9)) {
        (Some(sos), Some(eoi)) => eoi > sos,
        // No scan at all: let the decoder report what is wrong.
        (None, _) => true,
        (Some(_), None) => false,
    }
}

/// A decoder that has read only the header of `encoded`. No pixel buffer is planned, so no
/// memory limit applies and any claimed size is reported as it is (the decoders' own header
/// buffers are small and bounded).
fn header(encoded: &EncodedImage) -> Result<(impl ImageDecoder + '_, ImageFormat), ServiceError> {
    let (mut reader, format) = reader(encoded)?;
    reader.no_limits();
    let decoder = reader.into_decoder().map_err(|e| invalid(format, e))?;
    Ok((decoder, format))
}

/// What `info` reports: from the header alone for encoded images.
pub fn info(image: &Image) -> Result<ImageInfo, ServiceError> {
    match image {
        Image::Encoded(encoded) => {
            let (mut decoder, format) = header(encoded)?;
            let (width, height) = decoder.dimensions();
            let orientation = exif_orientation(&mut decoder);
            Ok(ImageInfo {
                width: width as i32,
                height: height as i32,
                format: Some(format),
                pixel_format: pixels::format_of_color(decoder.color_type()),
                orientation: orientation.map(|o| i32::from(o.to_exif())),
                size_bytes: encoded.data.len() as i64,
            })
        }
        Image::Raw(raw) => {
            pixels::check_raw(raw)?;
            Ok(ImageInfo {
                width: raw.width,
                height: raw.height,
                format: None,
                pixel_format: raw.pixel_format,
                orientation: None,
                size_bytes: raw.pixels.len() as i64,
            })
        }
        Image::Unknown(id) => Err(unknown_image(*id)),
    }
}

fn exif_orientation(decoder: &mut impl ImageDecoder) -> Option<image::metadata::Orientation> {
    // A broken EXIF block is not worth failing the image for: it is treated as absent.
    let exif = decoder.exif_metadata().ok()??;
    image::metadata::Orientation::from_exif_chunk(&exif)
}

fn invalid(format: ImageFormat, e: image::ImageError) -> ServiceError {
    match e {
        image::ImageError::Limits(_) => ServiceError::TooLarge {
            what: "bytes of decoder memory".into(),
            limit: DECODER_MEMORY as i64,
            requested: 0,
        },
        image::ImageError::Unsupported(u) => ServiceError::unsupported(
            format!("{} feature", format_name(format)),
            format!(
                "this {} image uses a feature the server does not support: {u}",
                format_name(format)
            ),
        ),
        other => ServiceError::InvalidImage(format!(
            "the {} image could not be decoded: {other}",
            format_name(format)
        )),
    }
}

fn hex_prefix(data: &[u8]) -> String {
    data.iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn format_name(format: ImageFormat) -> String {
    format
        .name()
        .map_or_else(|| format!("format {}", format.0), str::to_string)
}

fn to_codec_format(format: ImageFormat) -> Result<image::ImageFormat, ServiceError> {
    Ok(match format {
        ImageFormat::JPEG => image::ImageFormat::Jpeg,
        ImageFormat::PNG => image::ImageFormat::Png,
        ImageFormat::WEBP => image::ImageFormat::WebP,
        ImageFormat::GIF => image::ImageFormat::Gif,
        ImageFormat::BMP => image::ImageFormat::Bmp,
        ImageFormat::TIFF => image::ImageFormat::Tiff,
        other => {
            return Err(ServiceError::unsupported(
                format!("format {}", other.0),
                format!("image format {} is not known to this server", other.0),
            ))
        }
    })
}

fn from_codec_format(format: image::ImageFormat) -> Option<ImageFormat> {
    Some(match format {
        image::ImageFormat::Jpeg => ImageFormat::JPEG,
        image::ImageFormat::Png => ImageFormat::PNG,
        image::ImageFormat::WebP => ImageFormat::WEBP,
        image::ImageFormat::Gif => ImageFormat::GIF,
        image::ImageFormat::Bmp => ImageFormat::BMP,
        image::ImageFormat::Tiff => ImageFormat::TIFF,
        _ => return None,
    })
}

/// Encodes `image` as `format`, converting its pixels to what the format can hold
/// (no alpha in JPEG, 8 bits in JPEG/WebP/GIF/BMP; PNG and TIFF keep 16 bits).
pub fn encode(
    image: DynamicImage,
    format: ImageFormat,
    quality: u8,
) -> Result<Image, ServiceError> {
    let mut out = Vec::with_capacity(image.as_bytes().len() / 4 + 1024);
    let result = match format {
        ImageFormat::JPEG => {
            let image = match image {
                DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) => image,
                DynamicImage::ImageLuma16(_)
                | DynamicImage::ImageLumaA8(_)
                | DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLuma8(image.to_luma8()),
                other => DynamicImage::ImageRgb8(other.to_rgb8()),
            };
            encode_jpeg(&image, quality, &mut out)?;
            Ok(())
        }
        ImageFormat::PNG => {
            let image = match image {
                DynamicImage::ImageRgb32F(_) => DynamicImage::ImageRgb16(image.to_rgb16()),
                DynamicImage::ImageRgba32F(_) => DynamicImage::ImageRgba16(image.to_rgba16()),
                other => other,
            };
            image.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        }
        ImageFormat::TIFF => image.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Tiff),
        ImageFormat::WEBP => {
            encode_webp(image, quality, &mut out)?;
            Ok(())
        }
        ImageFormat::GIF | ImageFormat::BMP => {
            let target = to_codec_format(format)?;
            let image = if image.color().has_alpha() {
                DynamicImage::ImageRgba8(image.to_rgba8())
            } else if format == ImageFormat::BMP && image.color().channel_count() == 1 {
                DynamicImage::ImageLuma8(image.to_luma8())
            } else if format == ImageFormat::GIF {
                DynamicImage::ImageRgba8(image.to_rgba8())
            } else {
                DynamicImage::ImageRgb8(image.to_rgb8())
            };
            image.write_to(&mut Cursor::new(&mut out), target)
        }
        other => {
            return Err(ServiceError::unsupported(
                format!("format {}", other.0),
                format!("cannot encode image format {}", other.0),
            ))
        }
    };
    result.map_err(|e| {
        ServiceError::Internal(format!("encoding {} failed: {e}", format_name(format)))
    })?;
    Ok(Image::Encoded(EncodedImage {
        data: Bytes::from(out),
        format: Some(format),
    }))
}

/// Baseline JPEG of an 8-bit gray or RGB image (see `jpeg_encode`: libjpeg's defaults,
/// 4:2:0 chroma, several times faster than the `image` crate's encoder).
fn encode_jpeg(image: &DynamicImage, quality: u8, out: &mut Vec<u8>) -> Result<(), ServiceError> {
    let (width, height) = (image.width(), image.height());
    if width > 65535 || height > 65535 {
        return Err(ServiceError::unsupported(
            "JPEG size",
            format!("a JPEG image is at most 65535 pixels a side, not {width}x{height}"),
        ));
    }
    let rgb = !matches!(image, DynamicImage::ImageLuma8(_));
    *out = jpeg_encode::encode(
        image.as_bytes(),
        width as usize,
        height as usize,
        rgb,
        quality,
    );
    Ok(())
}

/// Lossy WebP at `quality` (libwebp's 0..100 scale, as Pillow passes it), with alpha when
/// the image has it.
fn encode_webp(image: DynamicImage, quality: u8, out: &mut Vec<u8>) -> Result<(), ServiceError> {
    const MAX_SIDE: u32 = 16383;
    let (width, height) = (image.width(), image.height());
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(ServiceError::unsupported(
            "WebP size",
            format!("a WebP image is at most {MAX_SIDE} pixels a side, not {width}x{height}"),
        ));
    }
    let pixels = match image {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => image,
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.to_rgba8()),
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    };
    let encoder = if pixels.color().has_alpha() {
        webp::Encoder::from_rgba(pixels.as_bytes(), width, height)
    } else {
        webp::Encoder::from_rgb(pixels.as_bytes(), width, height)
    };
    let encoded = encoder
        .encode_simple(false, f32::from(quality))
        .map_err(|e| ServiceError::Internal(format!("encoding WebP failed: {e:?}")))?;
    out.clear();
    out.extend_from_slice(&encoded);
    Ok(())
}

/// Formats the server can encode; input in any other format comes back as PNG by default.
pub fn can_encode(format: ImageFormat) -> bool {
    matches!(
        format,
        ImageFormat::JPEG
            | ImageFormat::PNG
            | ImageFormat::WEBP
            | ImageFormat::GIF
            | ImageFormat::BMP
            | ImageFormat::TIFF
    )
}

/// The result as raw pixels, converted to `pixel_format` when given.
pub fn to_raw(
    image: DynamicImage,
    pixel_format: Option<PixelFormat>,
) -> Result<Image, ServiceError> {
    let image = match pixel_format {
        Some(format) => pixels::convert(image, format)?,
        None => image,
    };
    Ok(Image::Raw(pixels::to_raw(image)?))
}
