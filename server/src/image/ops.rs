//! The transform pipeline: each `Op` checked against the contract's ranges before any work
//! starts (so a bad pipeline fails the whole call, and a batch, at once), then run in order
//! on one decoded image.

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, Luma};
use imageproc::contrast::ThresholdType;
use imageproc::geometric_transformations::{Interpolation, Projection};

use crate::error::ServiceError;
use crate::idl::image::{
    Adjust, Crop, EdgeMethod, Edges, Filter, FlipAxis, MorphologyOp, Op, PixelFormat, Resize,
    ResizeMode, Rotate, Sharpen, Threshold, ThresholdMethod, WindowLevel,
};
use crate::image::codec::{Decoded, ImageLimits};
use crate::image::samples::{map_colour, map_image, pixel_of, with_samples_mut, Sample};
use crate::image::{blur, canny, gradients, gray, morphology, pixels, reduce, warp};

/// Largest blur sigma accepted: far beyond any useful blur, small enough to bound the kernel.
const MAX_SIGMA: f64 = 250.0;

/// Checks every op's parameters; errors name the field as `ops[i].<op>.<field>`.
pub fn validate(ops: &[Op]) -> Result<(), ServiceError> {
    for (i, op) in ops.iter().enumerate() {
        validate_op(op).map_err(|e| e.within(&format!("ops[{i}].{}", op_name(op))))?;
    }
    Ok(())
}

/// The contract's name of an op (its union field).
pub fn op_name(op: &Op) -> &'static str {
    match op {
        Op::Resize(_) => "resize",
        Op::Thumbnail(_) => "thumbnail",
        Op::Crop(_) => "crop",
        Op::Rotate(_) => "rotate",
        Op::Flip(_) => "flip",
        Op::AutoOrient(_) => "auto_orient",
        Op::Blur(_) => "blur",
        Op::Sharpen(_) => "sharpen",
        Op::Adjust(_) => "adjust",
        Op::Grayscale(_) => "grayscale",
        Op::Invert(_) => "invert",
        Op::Threshold(_) => "threshold",
        Op::Edges(_) => "edges",
        Op::Morphology(_) => "morphology",
        Op::Equalize(_) => "equalize",
        Op::WindowLevel(_) => "window_level",
        Op::Convert(_) => "convert",
        Op::Unknown(_) => "unknown",
    }
}

/// An op from a newer contract than this server's (see `Op::Unknown`).
fn unknown_op(id: i16) -> ServiceError {
    ServiceError::unsupported(
        format!("op {id}"),
        format!(
            "operation with field id {id} of union Op is not known to this server (a client \
             with a newer contract sent it)"
        ),
    )
}

fn arg(field: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::invalid_argument(field, message)
}

fn finite(field: &str, v: f64) -> Result<f64, ServiceError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(arg(field, format!("must be a finite number, not {v}")))
    }
}

fn validate_op(op: &Op) -> Result<(), ServiceError> {
    match op {
        Op::Resize(r) => {
            if r.width < 0 || r.height < 0 {
                let field = if r.width < 0 { "width" } else { "height" };
                return Err(arg(field, "must not be negative"));
            }
            let mode = r.mode.unwrap_or(ResizeMode::FIT);
            match mode {
                ResizeMode::FIT if r.width == 0 && r.height == 0 => {
                    return Err(arg("width", "width and height cannot both be 0"))
                }
                ResizeMode::FILL | ResizeMode::EXACT if r.width == 0 || r.height == 0 => {
                    let field = if r.width == 0 { "width" } else { "height" };
                    return Err(arg(field, "must be at least 1 for FILL and EXACT"));
                }
                ResizeMode::FIT | ResizeMode::FILL | ResizeMode::EXACT => {}
                other => return Err(arg("mode", format!("unknown resize mode {}", other.0))),
            }
            resize_alg(r.filter.unwrap_or(Filter::LANCZOS3)).map(|_| ())
        }
        Op::Thumbnail(t) => {
            if t.max_width < 1 || t.max_height < 1 {
                let field = if t.max_width < 1 {
                    "max_width"
                } else {
                    "max_height"
                };
                return Err(arg(field, "must be at least 1"));
            }
            Ok(())
        }
        Op::Crop(c) => {
            if c.x < 0 || c.y < 0 {
                return Err(arg(if c.x < 0 { "x" } else { "y" }, "must not be negative"));
            }
            if c.width < 1 || c.height < 1 {
                return Err(arg(
                    if c.width < 1 { "width" } else { "height" },
                    "must be at least 1",
                ));
            }
            Ok(())
        }
        Op::Rotate(r) => {
            finite("degrees", r.degrees)?;
            if let Some(bg) = &r.background {
                for (name, v) in [
                    ("r", bg.r),
                    ("g", bg.g),
                    ("b", bg.b),
                    ("a", bg.a.unwrap_or(1.0)),
                ] {
                    if !(0.0..=1.0).contains(&v) {
                        return Err(arg(
                            &format!("background.{name}"),
                            format!("must be in 0..1, not {v}"),
                        ));
                    }
                }
            }
            interpolation(r.filter.unwrap_or(Filter::BILINEAR)).map(|_| ())
        }
        Op::Flip(f) => match f.axis {
            FlipAxis::HORIZONTAL | FlipAxis::VERTICAL => Ok(()),
            other => Err(arg("axis", format!("unknown flip axis {}", other.0))),
        },
        Op::Blur(b) => sigma("sigma", b.sigma),
        Op::Sharpen(s) => {
            sigma("sigma", s.sigma.unwrap_or(1.0))?;
            let amount = finite("amount", s.amount.unwrap_or(1.0))?;
            if !(0.0..=20.0).contains(&amount) {
                return Err(arg("amount", format!("must be in 0..20, not {amount}")));
            }
            let threshold = finite("threshold", s.threshold.unwrap_or(0.0))?;
            if !(0.0..=1.0).contains(&threshold) {
                return Err(arg(
                    "threshold",
                    format!("must be in 0..1, not {threshold}"),
                ));
            }
            Ok(())
        }
        Op::Adjust(a) => {
            let brightness = finite("brightness", a.brightness.unwrap_or(0.0))?;
            if !(-1.0..=1.0).contains(&brightness) {
                return Err(arg(
                    "brightness",
                    format!("must be in -1..1, not {brightness}"),
                ));
            }
            let contrast = finite("contrast", a.contrast.unwrap_or(1.0))?;
            if !(0.0..=100.0).contains(&contrast) {
                return Err(arg(
                    "contrast",
                    format!("must be in 0..100, not {contrast}"),
                ));
            }
            let gamma = finite("gamma", a.gamma.unwrap_or(1.0))?;
            if !(gamma > 0.0 && gamma <= 100.0) {
                return Err(arg("gamma", format!("must be in (0, 100], not {gamma}")));
            }
            Ok(())
        }
        Op::Threshold(t) => validate_threshold(t),
        Op::Edges(e) => {
            match e.method.unwrap_or(EdgeMethod::CANNY) {
                EdgeMethod::CANNY | EdgeMethod::SOBEL => {}
                other => return Err(arg("method", format!("unknown edge method {}", other.0))),
            }
            let low = finite("low", e.low.unwrap_or(50.0))?;
            let high = finite("high", e.high.unwrap_or(100.0))?;
            if low < 0.0 {
                return Err(arg("low", format!("must not be negative, not {low}")));
            }
            if high < low {
                return Err(arg(
                    "high",
                    format!("must be at least low ({low}), not {high}"),
                ));
            }
            Ok(())
        }
        Op::Morphology(m) => {
            match m.op {
                MorphologyOp::ERODE
                | MorphologyOp::DILATE
                | MorphologyOp::OPEN
                | MorphologyOp::CLOSE => {}
                other => return Err(arg("op", format!("unknown morphology op {}", other.0))),
            }
            let radius = m.radius.unwrap_or(1);
            if !(1..=255).contains(&radius) {
                return Err(arg("radius", format!("must be in 1..255, not {radius}")));
            }
            Ok(())
        }
        Op::WindowLevel(w) => {
            finite("center", w.center)?;
            let width = finite("width", w.width)?;
            if width <= 0.0 {
                return Err(arg("width", format!("must be greater than 0, not {width}")));
            }
            match w.output.unwrap_or(PixelFormat::GRAY8) {
                PixelFormat::GRAY8 | PixelFormat::GRAY16 => Ok(()),
                other => Err(arg(
                    "output",
                    format!("must be GRAY8 or GRAY16, not {}", pixels::name(other)),
                )),
            }
        }
        Op::Convert(c) => match pixels::bytes_per_pixel(c.to) {
            Some(_) => Ok(()),
            None => Err(arg("to", format!("unknown pixel format {}", c.to.0))),
        },
        Op::AutoOrient(_) | Op::Grayscale(_) | Op::Invert(_) | Op::Equalize(_) => Ok(()),
        Op::Unknown(id) => Err(unknown_op(*id)),
    }
}

fn sigma(field: &str, v: f64) -> Result<(), ServiceError> {
    let v = finite(field, v)?;
    if !(v > 0.0 && v <= MAX_SIGMA) {
        return Err(arg(field, format!("must be in (0, {MAX_SIGMA}], not {v}")));
    }
    Ok(())
}

pub fn validate_threshold(t: &Threshold) -> Result<(), ServiceError> {
    match t.method.unwrap_or(ThresholdMethod::OTSU) {
        ThresholdMethod::FIXED => {
            let v = t.value.unwrap_or(128);
            if !(0..=255).contains(&v) {
                return Err(arg("value", format!("must be in 0..255, not {v}")));
            }
        }
        ThresholdMethod::OTSU => {}
        ThresholdMethod::ADAPTIVE => {
            let r = t.block_radius.unwrap_or(7);
            if !(1..=1000).contains(&r) {
                return Err(arg("block_radius", format!("must be in 1..1000, not {r}")));
            }
            let o = t.offset.unwrap_or(0);
            if !(-255..=255).contains(&o) {
                return Err(arg("offset", format!("must be in -255..255, not {o}")));
            }
        }
        other => {
            return Err(arg(
                "method",
                format!("unknown threshold method {}", other.0),
            ))
        }
    }
    Ok(())
}

fn resize_alg(filter: Filter) -> Result<ResizeAlg, ServiceError> {
    Ok(match filter {
        Filter::NEAREST => ResizeAlg::Nearest,
        Filter::BILINEAR => ResizeAlg::Convolution(FilterType::Bilinear),
        Filter::BICUBIC => ResizeAlg::Convolution(FilterType::CatmullRom),
        Filter::LANCZOS3 => ResizeAlg::Convolution(FilterType::Lanczos3),
        other => return Err(arg("filter", format!("unknown filter {}", other.0))),
    })
}

fn interpolation(filter: Filter) -> Result<Interpolation, ServiceError> {
    Ok(match filter {
        Filter::NEAREST => Interpolation::Nearest,
        Filter::BILINEAR => Interpolation::Bilinear,
        // Rotation has no Lanczos kernel; bicubic is the sharpest it offers.
        Filter::BICUBIC | Filter::LANCZOS3 => Interpolation::Bicubic,
        other => return Err(arg("filter", format!("unknown filter {}", other.0))),
    })
}

/// Runs validated `ops` in order. `orientation` is the source's EXIF orientation, applied by
/// `auto_orient`.
pub fn run(
    image: DynamicImage,
    orientation: Option<Orientation>,
    ops: &[Op],
    limits: &ImageLimits,
) -> Result<DynamicImage, ServiceError> {
    run_from(image, orientation, ops, 0, limits)
}

/// Runs validated `ops` on what `codec::decode_for` made of the input with
/// `leading_shrink`'s size: when the decoder already reduced the image, the first op is
/// finished as the resize to the size it gives the full image, so the result has exactly
/// the size of the full-decode path.
pub fn run_decoded(
    decoded: Decoded,
    ops: &[Op],
    limits: &ImageLimits,
) -> Result<DynamicImage, ServiceError> {
    let (width, height) = decoded.full_size;
    let image = decoded.image;
    if (image.width(), image.height()) != (width, height) {
        if let Some(exact) = leading_shrink(ops, width, height) {
            let image = resize(&image, &exact, limits)
                .map_err(|e| e.within(&format!("ops[0].{}", op_name(&ops[0]))))?;
            return run_from(image, decoded.orientation, ops, 1, limits);
        }
    }
    run_from(image, decoded.orientation, ops, 0, limits)
}

/// When the pipeline starts by shrinking a `width x height` image (a thumbnail, or a FIT or
/// EXACT resize that makes it smaller and does not sample the nearest pixel), that step as an
/// EXACT resize. The decoder may then hand over a reduced image (an average of the source
/// pixels, which nearest-pixel sampling would not be) for this resize to finish.
pub fn leading_shrink(ops: &[Op], width: u32, height: u32) -> Option<Resize> {
    let (target, filter) = match ops.first()? {
        Op::Thumbnail(t) => {
            let fit = Resize {
                width: t.max_width,
                height: t.max_height,
                mode: Some(ResizeMode::FIT),
                filter: Some(Filter::BILINEAR),
            };
            (resize_target(width, height, &fit), Filter::BILINEAR)
        }
        Op::Resize(r) => {
            let filter = r.filter.unwrap_or(Filter::LANCZOS3);
            if filter == Filter::NEAREST {
                return None;
            }
            (resize_target(width, height, r), filter)
        }
        _ => return None,
    };
    let (nw, nh, fill) = target;
    if fill || nw > width || nh > height || (nw, nh) == (width, height) {
        return None;
    }
    Some(Resize {
        width: nw as i32,
        height: nh as i32,
        mode: Some(ResizeMode::EXACT),
        filter: Some(filter),
    })
}

fn run_from(
    mut image: DynamicImage,
    mut orientation: Option<Orientation>,
    ops: &[Op],
    first: usize,
    limits: &ImageLimits,
) -> Result<DynamicImage, ServiceError> {
    for (i, op) in ops.iter().enumerate().skip(first) {
        image = apply(image, &mut orientation, op, limits)
            .map_err(|e| e.within(&format!("ops[{i}].{}", op_name(op))))?;
    }
    Ok(image)
}

fn apply(
    image: DynamicImage,
    orientation: &mut Option<Orientation>,
    op: &Op,
    limits: &ImageLimits,
) -> Result<DynamicImage, ServiceError> {
    Ok(match op {
        Op::Resize(r) => resize(&image, r, limits)?,
        Op::Thumbnail(t) => {
            let (w, h) = (image.width(), image.height());
            if w <= t.max_width as u32 && h <= t.max_height as u32 {
                image
            } else {
                let fit = Resize {
                    width: t.max_width,
                    height: t.max_height,
                    mode: Some(ResizeMode::FIT),
                    filter: Some(Filter::BILINEAR),
                };
                resize(&image, &fit, limits)?
            }
        }
        Op::Crop(c) => crop(image, c)?,
        Op::Rotate(r) => rotate(image, r, limits)?,
        Op::Flip(f) => {
            if f.axis == FlipAxis::HORIZONTAL {
                image.fliph()
            } else {
                image.flipv()
            }
        }
        Op::AutoOrient(_) => {
            let mut image = image;
            if let Some(o) = orientation.take() {
                image.apply_orientation(o);
            }
            image
        }
        Op::Blur(b) => blur::gaussian_blur(image, b.sigma as f32),
        Op::Sharpen(s) => sharpen(image, s),
        Op::Adjust(a) => adjust(image, a),
        Op::Grayscale(_) => gray::grayscale(image),
        Op::Invert(_) => {
            let mut image = image;
            image.invert();
            image
        }
        Op::Threshold(t) => DynamicImage::ImageLuma8(threshold_gray(&gray::luma8(&image), t)),
        Op::Edges(e) => DynamicImage::ImageLuma8(edges(&gray::luma8(&image), e)),
        Op::Morphology(m) => {
            let luma = gray::luma8(&image);
            let r = m.radius.unwrap_or(1) as usize;
            DynamicImage::ImageLuma8(match m.op {
                MorphologyOp::ERODE => morphology::erode(&luma, r),
                MorphologyOp::DILATE => morphology::dilate(&luma, r),
                MorphologyOp::OPEN => morphology::dilate(&morphology::erode(&luma, r), r),
                _ => morphology::erode(&morphology::dilate(&luma, r), r),
            })
        }
        Op::Equalize(_) => DynamicImage::ImageLuma8(equalize(&gray::luma8(&image))),
        Op::WindowLevel(w) => window_level(&image, w),
        Op::Convert(c) => pixels::convert(image, c.to)?,
        Op::Unknown(id) => return Err(unknown_op(*id)),
    })
}

/// The output size of a resize, and whether the source is cropped to its aspect (FILL).
fn resize_target(w: u32, h: u32, r: &Resize) -> (u32, u32, bool) {
    let (tw, th) = (r.width as u32, r.height as u32);
    match r.mode.unwrap_or(ResizeMode::FIT) {
        ResizeMode::EXACT => (tw, th, false),
        ResizeMode::FILL => (tw, th, true),
        _ => {
            let sx = if tw == 0 {
                f64::INFINITY
            } else {
                f64::from(tw) / f64::from(w)
            };
            let sy = if th == 0 {
                f64::INFINITY
            } else {
                f64::from(th) / f64::from(h)
            };
            let s = sx.min(sy);
            let nw = ((f64::from(w) * s).round() as u32).max(1);
            let nh = ((f64::from(h) * s).round() as u32).max(1);
            (nw, nh, false)
        }
    }
}

fn resize(
    image: &DynamicImage,
    r: &Resize,
    limits: &ImageLimits,
) -> Result<DynamicImage, ServiceError> {
    let (nw, nh, fill) = resize_target(image.width(), image.height(), r);
    limits.check(nw, nh)?;
    if (nw, nh) == (image.width(), image.height()) && !fill {
        return Ok(image.clone());
    }
    let filter = r.filter.unwrap_or(Filter::LANCZOS3);
    let mut options = ResizeOptions::new().resize_alg(resize_alg(filter)?);
    if fill {
        options = options.fit_into_destination(Some((0.5, 0.5)));
    }
    let mut out = DynamicImage::new(nw, nh, image.color());
    let resized = match reduced_first(image, nw, nh, filter, fill) {
        Some((reduced, crop)) => {
            // The reduced image's last box may be partial: the crop keeps the geometry exact.
            let options = options.crop(0.0, 0.0, crop.0, crop.1);
            Resizer::new().resize(&reduced, &mut out, &options)
        }
        None => Resizer::new().resize(image, &mut out, &options),
    };
    resized.map_err(|e| ServiceError::Internal(format!("resizing failed: {e}")))?;
    Ok(out)
}

/// Pillow's `reducing_gap` of 3: a large shrink of an 8-bit gray or RGB image starts with a
/// box reduction by whole factors (see `reduce.rs`). Returns the reduced image and the
/// extent of the original in its pixels, or `None` where the shrink is too small, the
/// filter is nearest, FILL crops the source, or the layout has alpha (whose colour a plain
/// box average would bleed).
fn reduced_first(
    image: &DynamicImage,
    nw: u32,
    nh: u32,
    filter: Filter,
    fill: bool,
) -> Option<(DynamicImage, (f64, f64))> {
    const GAP: f64 = 3.0;
    if fill || filter == Filter::NEAREST {
        return None;
    }
    let (w, h) = (image.width(), image.height());
    let (kx, ky) = (
        reduce::factor(w, nw, GAP) as usize,
        reduce::factor(h, nh, GAP) as usize,
    );
    if kx == 1 && ky == 1 {
        return None;
    }
    let (pixels, channels) = match image {
        DynamicImage::ImageRgb8(b) => (b.as_raw(), 3),
        DynamicImage::ImageLuma8(b) => (b.as_raw(), 1),
        _ => return None,
    };
    let (out, ow, oh) = reduce::box_reduce(pixels, w as usize, h as usize, channels, kx, ky);
    let reduced = if channels == 3 {
        DynamicImage::ImageRgb8(image::RgbImage::from_raw(ow as u32, oh as u32, out)?)
    } else {
        DynamicImage::ImageLuma8(image::GrayImage::from_raw(ow as u32, oh as u32, out)?)
    };
    let crop = (f64::from(w) / kx as f64, f64::from(h) / ky as f64);
    Some((reduced, crop))
}

fn crop(image: DynamicImage, c: &Crop) -> Result<DynamicImage, ServiceError> {
    let (w, h) = (image.width() as i64, image.height() as i64);
    let (x, y, cw, ch) = (c.x as i64, c.y as i64, c.width as i64, c.height as i64);
    if x + cw > w || y + ch > h {
        return Err(arg(
            "",
            format!(
                "the rectangle at ({x}, {y}) of {cw}x{ch} does not fit inside the {w}x{h} image"
            ),
        ));
    }
    Ok(image.crop_imm(x as u32, y as u32, cw as u32, ch as u32))
}

fn rotate(
    image: DynamicImage,
    r: &Rotate,
    limits: &ImageLimits,
) -> Result<DynamicImage, ServiceError> {
    let degrees = r.degrees.rem_euclid(360.0);
    // Multiples of 90 are exact pixel moves.
    if degrees == 0.0 {
        return Ok(image);
    }
    if degrees == 90.0 {
        return Ok(image.rotate90());
    }
    if degrees == 180.0 {
        return Ok(image.rotate180());
    }
    if degrees == 270.0 {
        return Ok(image.rotate270());
    }
    let theta = degrees.to_radians();
    let (w, h) = (f64::from(image.width()), f64::from(image.height()));
    let (nw, nh) = if r.expand.unwrap_or(true) {
        let (c, s) = (theta.cos().abs(), theta.sin().abs());
        ((w * c + h * s).ceil() as u32, (w * s + h * c).ceil() as u32)
    } else {
        (image.width(), image.height())
    };
    limits.check(nw, nh)?;
    let filter = r.filter.unwrap_or(Filter::BILINEAR);
    let background = r.background.clone().unwrap_or(crate::idl::image::Color {
        r: 0.0,
        g: 0.0,
        b: 0.0,
        a: Some(0.0),
    });
    // About the image's centre: pixel centres sit at integer coordinates, so the centre of a
    // w-pixel row is (w - 1) / 2 (rotating about w / 2 would shift the result half a pixel).
    let (cx, cy) = ((w - 1.0) / 2.0, (h - 1.0) / 2.0);
    let (ncx, ncy) = ((f64::from(nw) - 1.0) / 2.0, (f64::from(nh) - 1.0) / 2.0);
    if let Some(sampling) = match filter {
        Filter::NEAREST => Some(warp::Sampling::Nearest),
        Filter::BILINEAR => Some(warp::Sampling::Bilinear),
        _ => None,
    } {
        // 8-bit layouts take Mosaic's own warp. Output (x, y) samples the source at
        // R(-theta) (x - nc) + c: the inverse of turning clockwise (y points down) about the
        // centre.
        let (s, c) = theta.sin_cos();
        let map = warp::Affine {
            a: c,
            b: s,
            c: cx - c * ncx - s * ncy,
            d: -s,
            e: c,
            f: cy + s * ncx - c * ncy,
        };
        let turn = Turn {
            map,
            sampling,
            background: &background,
            size: (nw, nh),
        };
        match &image {
            DynamicImage::ImageLuma8(b) => {
                return Ok(DynamicImage::ImageLuma8(warp8(b, &turn)?));
            }
            DynamicImage::ImageLumaA8(b) => {
                return Ok(DynamicImage::ImageLumaA8(warp8(b, &turn)?));
            }
            DynamicImage::ImageRgb8(b) => {
                return Ok(DynamicImage::ImageRgb8(warp8(b, &turn)?));
            }
            DynamicImage::ImageRgba8(b) => {
                return Ok(DynamicImage::ImageRgba8(warp8(b, &turn)?));
            }
            _ => {}
        }
    }
    // 16-bit, float and bicubic: imageproc's warp.
    let projection = Projection::translate(ncx as f32, ncy as f32)
        * Projection::rotate(theta as f32)
        * Projection::translate(-cx as f32, -cy as f32);
    let interpolation = interpolation(filter)?;
    Ok(map_image!(image, buf => {
        let mut out = image::ImageBuffer::new(nw, nh);
        let fill = pixel_of(&background);
        imageproc::geometric_transformations::warp_into(&buf, &projection, interpolation, fill, &mut out);
        out
    }))
}

/// A rotation for `warp8`: the inverse map, the sampling, the background and the canvas.
struct Turn<'a> {
    map: warp::Affine,
    sampling: warp::Sampling,
    background: &'a crate::idl::image::Color,
    size: (u32, u32),
}

/// An 8-bit image turned by Mosaic's own warp (`warp.rs`).
fn warp8<P>(
    buf: &image::ImageBuffer<P, Vec<u8>>,
    turn: &Turn<'_>,
) -> Result<image::ImageBuffer<P, Vec<u8>>, ServiceError>
where
    P: image::Pixel<Subpixel = u8>,
{
    let (nw, nh) = turn.size;
    let fill: P = pixel_of(turn.background);
    let channels = usize::from(P::CHANNEL_COUNT);
    let mut fill4 = [0u8; 4];
    fill4[..channels].copy_from_slice(fill.channels());
    let src = warp::Source {
        pixels: buf.as_raw(),
        width: buf.width() as usize,
        height: buf.height() as usize,
        channels,
    };
    let out = warp::warp(
        src,
        &turn.map,
        turn.sampling,
        fill4,
        nw as usize,
        nh as usize,
    );
    image::ImageBuffer::from_raw(nw, nh, out)
        .ok_or_else(|| ServiceError::Internal("rotation produced a short buffer".into()))
}

fn sharpen(image: DynamicImage, s: &Sharpen) -> DynamicImage {
    let sigma = s.sigma.unwrap_or(1.0) as f32;
    let amount = s.amount.unwrap_or(1.0) as f32;
    let threshold = s.threshold.unwrap_or(0.0) as f32;
    let blurred = blur::gaussian_blur(image.clone(), sigma);
    let mut out = image;
    let mut blurred = blurred;
    with_samples_mut!(&mut out, original, channels, alpha => {
        with_samples_mut!(&mut blurred, soft, _c, _a => {
            unsharp(original, soft, channels, alpha, amount, threshold)
        })
    });
    out
}

/// `original += amount * (original - blurred)` where the difference exceeds `threshold`.
/// Both slices have the same layout (the macro binds them per layout; mismatches are skipped).
fn unsharp<S: Sample, T: Sample>(
    original: &mut [S],
    blurred: &mut [T],
    channels: usize,
    alpha: bool,
    amount: f32,
    threshold: f32,
) {
    if original.len() != blurred.len() {
        return;
    }
    let colour = if alpha { channels - 1 } else { channels };
    for (px, soft) in original
        .chunks_exact_mut(channels)
        .zip(blurred.chunks_exact(channels))
    {
        for (s, b) in px[..colour].iter_mut().zip(&soft[..colour]) {
            let v = s.to_unit();
            let diff = v - b.to_unit();
            if diff.abs() > threshold {
                *s = S::from_unit(v + amount * diff);
            }
        }
    }
}

fn adjust(mut image: DynamicImage, a: &Adjust) -> DynamicImage {
    let brightness = a.brightness.unwrap_or(0.0) as f32;
    let contrast = a.contrast.unwrap_or(1.0) as f32;
    let inv_gamma = 1.0 / a.gamma.unwrap_or(1.0) as f32;
    with_samples_mut!(&mut image, s, channels, alpha => {
        map_colour(s, channels, alpha, |v| {
            let v = ((v + brightness - 0.5) * contrast + 0.5).clamp(0.0, 1.0);
            v.powf(inv_gamma)
        })
    });
    image
}

/// Binarises a grayscale image as `t` says (255 foreground, 0 background).
pub fn threshold_gray(gray: &GrayImage, t: &Threshold) -> GrayImage {
    let invert = t.invert.unwrap_or(false);
    let kind = if invert {
        ThresholdType::BinaryInverted
    } else {
        ThresholdType::Binary
    };
    match t.method.unwrap_or(ThresholdMethod::OTSU) {
        ThresholdMethod::FIXED => {
            imageproc::contrast::threshold(gray, t.value.unwrap_or(128) as u8, kind)
        }
        ThresholdMethod::ADAPTIVE => adaptive_threshold(
            gray,
            t.block_radius.unwrap_or(7) as u32,
            t.offset.unwrap_or(0),
            invert,
        ),
        _ => imageproc::contrast::threshold(gray, imageproc::contrast::otsu_level(gray), kind),
    }
}

/// Each pixel against the mean of its clamped (2r+1)^2 window minus `offset`, using an
/// integral image (constant time per pixel, whatever the radius).
fn adaptive_threshold(gray: &GrayImage, radius: u32, offset: i32, invert: bool) -> GrayImage {
    let (w, h) = gray.dimensions();
    let stride = w as usize + 1;
    let mut integral = vec![0u64; stride * (h as usize + 1)];
    for y in 0..h as usize {
        let mut row = 0u64;
        for x in 0..w as usize {
            row += u64::from(gray.as_raw()[y * w as usize + x]);
            integral[(y + 1) * stride + x + 1] = integral[y * stride + x + 1] + row;
        }
    }
    GrayImage::from_fn(w, h, |x, y| {
        let (x0, y0) = (
            x.saturating_sub(radius) as usize,
            y.saturating_sub(radius) as usize,
        );
        let (x1, y1) = (
            (x + radius + 1).min(w) as usize,
            (y + radius + 1).min(h) as usize,
        );
        let sum = integral[y1 * stride + x1] + integral[y0 * stride + x0]
            - integral[y0 * stride + x1]
            - integral[y1 * stride + x0];
        let count = ((x1 - x0) * (y1 - y0)) as i64;
        let mean = sum as i64 / count;
        let v = i64::from(gray.get_pixel(x, y).0[0]);
        let foreground = v > mean - i64::from(offset);
        Luma([if foreground != invert { 255 } else { 0 }])
    })
}

fn edges(gray: &GrayImage, e: &Edges) -> GrayImage {
    match e.method.unwrap_or(EdgeMethod::CANNY) {
        EdgeMethod::SOBEL => gradients::sobel_magnitude(gray),
        _ => canny::canny(
            gray,
            e.low.unwrap_or(50.0) as f32,
            e.high.unwrap_or(100.0) as f32,
        ),
    }
}

/// Histogram equalisation as OpenCV's `equalizeHist`: the darkest level present maps to 0
/// and the rest follow the cumulative histogram of the other pixels, rounded.
fn equalize(gray: &GrayImage) -> GrayImage {
    let mut hist = [0u64; 256];
    for &v in gray.as_raw() {
        hist[usize::from(v)] += 1;
    }
    let total = gray.as_raw().len() as u64;
    let Some(first) = hist.iter().position(|&c| c > 0) else {
        return gray.clone();
    };
    let mut lut = [first as u8; 256];
    if hist[first] < total {
        let scale = 255.0 / (total - hist[first]) as f64;
        let mut sum = 0u64;
        lut[first] = 0;
        for level in first + 1..256 {
            sum += hist[level];
            lut[level] = (sum as f64 * scale).round().min(255.0) as u8;
        }
    }
    GrayImage::from_fn(gray.width(), gray.height(), |x, y| {
        Luma([lut[usize::from(gray.get_pixel(x, y).0[0])]])
    })
}

fn window_level(image: &DynamicImage, w: &WindowLevel) -> DynamicImage {
    // Gray values in the input's own units, so center/width mean what a viewer means.
    let sample_bytes = image.color().bytes_per_pixel() / image.color().channel_count();
    // In f64: f32 leaves 16-bit outputs a level off for some windows.
    let values: Vec<f64> = match sample_bytes {
        1 => gray::luma8(image)
            .into_raw()
            .into_iter()
            .map(f64::from)
            .collect(),
        2 => gray::luma16(image)
            .into_raw()
            .into_iter()
            .map(f64::from)
            .collect(),
        // Float gray has equal channels, so to_luma32f's weights do not matter.
        _ => gray::grayscale(image.clone())
            .to_luma32f()
            .into_raw()
            .into_iter()
            .map(f64::from)
            .collect(),
    };
    let low = w.center - w.width / 2.0;
    let unit = |v: f64| ((v - low) / w.width).clamp(0.0, 1.0);
    let (iw, ih) = (image.width(), image.height());
    if w.output.unwrap_or(PixelFormat::GRAY8) == PixelFormat::GRAY16 {
        DynamicImage::ImageLuma16(image::ImageBuffer::from_fn(iw, ih, |x, y| {
            Luma([(unit(values[(y * iw + x) as usize]) * 65535.0).round() as u16])
        }))
    } else {
        DynamicImage::ImageLuma8(image::ImageBuffer::from_fn(iw, ih, |x, y| {
            Luma([(unit(values[(y * iw + x) as usize]) * 255.0).round() as u8])
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idl::image::*;
    use crate::image::samples::test_pixels;

    /// Every op with its defaults or typical values, and some at the edges of their ranges.
    fn every_op() -> Vec<Op> {
        let mut ops = vec![
            Op::Resize(Resize {
                width: 3,
                height: 0,
                mode: None,
                filter: None,
            }),
            Op::Resize(Resize {
                width: 1,
                height: 1,
                mode: Some(ResizeMode::FILL),
                filter: Some(Filter::NEAREST),
            }),
            Op::Resize(Resize {
                width: 7,
                height: 2,
                mode: Some(ResizeMode::EXACT),
                filter: Some(Filter::BICUBIC),
            }),
            Op::Thumbnail(Thumbnail {
                max_width: 1,
                max_height: 1,
            }),
            Op::Crop(Crop {
                x: 0,
                y: 0,
                width: 1,
                height: 1,
            }),
            Op::Rotate(Rotate {
                degrees: 17.0,
                ..Default::default()
            }),
            Op::Rotate(Rotate {
                degrees: -90.0,
                ..Default::default()
            }),
            Op::Rotate(Rotate {
                degrees: 1e9,
                expand: Some(false),
                ..Default::default()
            }),
            Op::Flip(Flip {
                axis: FlipAxis::VERTICAL,
            }),
            Op::AutoOrient(AutoOrient {}),
            Op::Blur(Blur { sigma: 250.0 }),
            Op::Sharpen(Sharpen::default()),
            Op::Adjust(Adjust {
                brightness: Some(1.0),
                contrast: Some(0.0),
                gamma: Some(0.01),
            }),
            Op::Grayscale(Grayscale {}),
            Op::Invert(Invert {}),
            Op::Equalize(Equalize {}),
            Op::WindowLevel(WindowLevel {
                center: 0.0,
                width: 1e-9,
                output: Some(PixelFormat::GRAY16),
            }),
        ];
        for method in [
            ThresholdMethod::FIXED,
            ThresholdMethod::OTSU,
            ThresholdMethod::ADAPTIVE,
        ] {
            ops.push(Op::Threshold(Threshold {
                method: Some(method),
                block_radius: Some(1000),
                ..Default::default()
            }));
        }
        for method in [EdgeMethod::CANNY, EdgeMethod::SOBEL] {
            ops.push(Op::Edges(Edges {
                method: Some(method),
                ..Default::default()
            }));
        }
        for op in [
            MorphologyOp::ERODE,
            MorphologyOp::DILATE,
            MorphologyOp::OPEN,
            MorphologyOp::CLOSE,
        ] {
            ops.push(Op::Morphology(Morphology {
                op,
                radius: Some(255),
            }));
        }
        for to in 1..=10 {
            ops.push(Op::Convert(Convert {
                to: PixelFormat(to),
            }));
        }
        ops
    }

    #[test]
    fn every_op_on_tiny_images_of_every_layout_answers_without_panicking() {
        let limits = ImageLimits::default();
        for format in 1..=10 {
            for (w, h) in [(1, 1), (1, 5), (3, 2), (9, 9)] {
                let bpp = pixels::bytes_per_pixel(PixelFormat(format)).unwrap();
                let raw = RawImage {
                    width: w,
                    height: h,
                    pixel_format: PixelFormat(format),
                    pixels: bytes::Bytes::from(test_pixels((w * h) as usize, bpp, format >= 9, 37)),
                };
                let image = pixels::from_raw(&raw, &limits).unwrap();
                for op in every_op() {
                    validate(std::slice::from_ref(&op)).unwrap();
                    // Errors are fine (a crop may not fit); panics are not.
                    let _ = run(image.clone(), Some(Orientation::Rotate90), &[op], &limits);
                }
            }
        }
    }

    #[test]
    fn out_of_range_parameters_are_named() {
        let cases = [
            (Op::Blur(Blur { sigma: 0.0 }), "ops[0].blur.sigma"),
            (Op::Blur(Blur { sigma: f64::NAN }), "ops[0].blur.sigma"),
            (
                Op::Rotate(Rotate {
                    degrees: f64::INFINITY,
                    ..Default::default()
                }),
                "ops[0].rotate.degrees",
            ),
            (
                Op::Morphology(Morphology {
                    op: MorphologyOp::ERODE,
                    radius: Some(0),
                }),
                "ops[0].morphology.radius",
            ),
            (
                Op::Threshold(Threshold {
                    method: Some(ThresholdMethod::FIXED),
                    value: Some(300),
                    ..Default::default()
                }),
                "ops[0].threshold.value",
            ),
            (
                Op::Edges(Edges {
                    low: Some(10.0),
                    high: Some(5.0),
                    ..Default::default()
                }),
                "ops[0].edges.high",
            ),
            (
                Op::Convert(Convert {
                    to: PixelFormat(99),
                }),
                "ops[0].convert.to",
            ),
            (
                Op::Resize(Resize {
                    width: 1,
                    height: 1,
                    mode: Some(ResizeMode(9)),
                    filter: None,
                }),
                "ops[0].resize.mode",
            ),
        ];
        for (op, field) in cases {
            match validate(&[op]) {
                Err(ServiceError::InvalidArgument { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
