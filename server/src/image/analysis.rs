//! Measurements of an image: histograms, statistics, connected components, features.

use bytes::Bytes;
use image::{DynamicImage, GrayImage};

use crate::error::ServiceError;
use crate::idl::image::{
    ChannelHistogram, ChannelStats, Connectivity, FeatureOptions, Features, Histogram, HogOptions,
    ImageStats, Keypoint, LabelImage, Point, Rect, Region, SegmentOptions, Segmentation, Threshold,
};
use crate::image::samples::{sample_max, Sample};
use crate::image::{fast, gray, ops};

/// The channel names of a layout, in sample order.
fn channel_names(image: &DynamicImage) -> &'static [&'static str] {
    match image.color().channel_count() {
        1 => &["gray"],
        2 => &["gray", "a"],
        3 => &["r", "g", "b"],
        _ => &["r", "g", "b", "a"],
    }
}

/// Every sample of channel `c`, as an f32 in the layout's own units (0..255, 0..65535, 0..1).
fn channel_values(image: &DynamicImage) -> Vec<Vec<f32>> {
    fn split<S: Sample + Into<f64>>(samples: &[S], channels: usize) -> Vec<Vec<f32>> {
        let mut out = vec![Vec::with_capacity(samples.len() / channels); channels];
        for px in samples.chunks_exact(channels) {
            for (c, s) in px.iter().enumerate() {
                out[c].push((*s).into() as f32);
            }
        }
        out
    }
    let channels = usize::from(image.color().channel_count());
    match image {
        DynamicImage::ImageLuma8(b) => split(b.as_raw(), channels),
        DynamicImage::ImageLumaA8(b) => split(b.as_raw(), channels),
        DynamicImage::ImageRgb8(b) => split(b.as_raw(), channels),
        DynamicImage::ImageRgba8(b) => split(b.as_raw(), channels),
        DynamicImage::ImageLuma16(b) => split(b.as_raw(), channels),
        DynamicImage::ImageLumaA16(b) => split(b.as_raw(), channels),
        DynamicImage::ImageRgb16(b) => split(b.as_raw(), channels),
        DynamicImage::ImageRgba16(b) => split(b.as_raw(), channels),
        DynamicImage::ImageRgb32F(b) => split(b.as_raw(), channels),
        other => split(other.to_rgba32f().as_raw(), 4),
    }
}

/// Per-channel histograms with `bins` equal-width bins over the layout's range.
pub fn histogram(image: &DynamicImage, bins: i32) -> Result<Histogram, ServiceError> {
    let bins = if bins == 0 { 256 } else { bins };
    if !(1..=65536).contains(&bins) {
        return Err(ServiceError::invalid_argument(
            "bins",
            format!("must be in 1..65536, not {bins}"),
        ));
    }
    let max = sample_max(image);
    let bins = bins as usize;
    let names = channel_names(image);
    let channels = channel_values(image)
        .into_iter()
        .zip(names)
        .map(|(values, name)| {
            let mut counts = vec![0i64; bins];
            for v in values {
                // Integer layouts: the bin of value v is floor(v * bins / (max + 1)), so 256
                // bins over u8 give one bin per value, exactly like numpy's bincount.
                let bin = if max > 1.0 {
                    (f64::from(v) * bins as f64 / (f64::from(max) + 1.0)) as usize
                } else {
                    (f64::from(v.clamp(0.0, 1.0)) * bins as f64) as usize
                };
                counts[bin.min(bins - 1)] += 1;
            }
            ChannelHistogram {
                channel: (*name).to_string(),
                counts,
            }
        })
        .collect();
    Ok(Histogram { channels })
}

/// Per-channel mean, population standard deviation, minimum and maximum.
pub fn stats(image: &DynamicImage) -> ImageStats {
    let names = channel_names(image);
    let channels = channel_values(image)
        .into_iter()
        .zip(names)
        .map(|(values, name)| {
            let n = values.len().max(1) as f64;
            let (mut sum, mut min, mut max) = (0.0f64, f64::INFINITY, f64::NEG_INFINITY);
            for &v in &values {
                let v = f64::from(v);
                sum += v;
                min = min.min(v);
                max = max.max(v);
            }
            let mean = sum / n;
            let var = values
                .iter()
                .map(|&v| (f64::from(v) - mean).powi(2))
                .sum::<f64>()
                / n;
            ChannelStats {
                channel: (*name).to_string(),
                mean,
                std: var.sqrt(),
                min,
                max,
            }
        })
        .collect();
    ImageStats {
        width: image.width() as i32,
        height: image.height() as i32,
        channels,
    }
}

/// Threshold, then label connected components of the foreground.
pub fn segment(
    image: &DynamicImage,
    options: &SegmentOptions,
) -> Result<Segmentation, ServiceError> {
    let threshold = options.threshold.clone().unwrap_or(Threshold {
        method: None,
        value: None,
        block_radius: None,
        offset: None,
        invert: None,
    });
    ops::validate_threshold(&threshold).map_err(|e| e.within("options.threshold"))?;
    let connectivity = match options.connectivity.unwrap_or(Connectivity::EIGHT) {
        Connectivity::FOUR => false,
        Connectivity::EIGHT => true,
        other => {
            return Err(ServiceError::invalid_argument(
                "options.connectivity",
                format!("must be FOUR or EIGHT, not {}", other.0),
            ))
        }
    };
    let min_area = options.min_area.unwrap_or(1).max(1);
    let binary = ops::threshold_gray(&gray::luma8(image), &threshold);
    let (w, h) = binary.dimensions();
    let (labels, acc) = label_components(&binary, connectivity);
    // Regions under min_area are dropped; the rest are renumbered 1, 2, ... in label order.
    let mut renumber = vec![0u32; acc.len()];
    let mut regions = Vec::new();
    for (l, a) in acc.iter().enumerate().skip(1) {
        if a.area < min_area {
            continue;
        }
        let label = regions.len() as u32 + 1;
        renumber[l] = label;
        regions.push(Region {
            label: label as i32,
            area: a.area,
            bbox: Rect {
                x: a.min.0 as i32,
                y: a.min.1 as i32,
                width: (a.max.0 - a.min.0 + 1) as i32,
                height: (a.max.1 - a.min.1 + 1) as i32,
            },
            centroid: Point {
                x: a.sum.0 / a.area as f64,
                y: a.sum.1 / a.area as f64,
            },
        });
    }
    let labels = options.label_image.unwrap_or(false).then(|| {
        let mut bytes = Vec::with_capacity(labels.len() * 4);
        for &l in &labels {
            bytes.extend_from_slice(&renumber[l as usize].to_le_bytes());
        }
        LabelImage {
            width: w as i32,
            height: h as i32,
            labels: Bytes::from(bytes),
        }
    });
    Ok(Segmentation { regions, labels })
}

/// Area, bounding box (min x, min y, max x, max y) and coordinate sums of one component.
#[derive(Clone, Copy)]
struct Component {
    area: i64,
    min: (u32, u32),
    max: (u32, u32),
    sum: (f64, f64),
}

/// Labels the foreground (non-zero) pixels' connected components 1, 2, ... in raster order of
/// their first pixel, by flood fill with an explicit stack (no recursion, linear time).
/// Returns the label of every pixel (0 for background) and each label's measurements
/// (index 0 unused).
fn label_components(binary: &GrayImage, eight: bool) -> (Vec<u32>, Vec<Component>) {
    let (w, h) = binary.dimensions();
    let pixels = binary.as_raw();
    let mut labels = vec![0u32; pixels.len()];
    let empty = Component {
        area: 0,
        min: (u32::MAX, u32::MAX),
        max: (0, 0),
        sum: (0.0, 0.0),
    };
    let mut components = vec![empty];
    let mut stack = Vec::new();
    for start in 0..pixels.len() {
        if pixels[start] == 0 || labels[start] != 0 {
            continue;
        }
        let label = components.len() as u32;
        let mut c = empty;
        labels[start] = label;
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (x, y) = ((i % w as usize) as u32, (i / w as usize) as u32);
            c.area += 1;
            c.min = (c.min.0.min(x), c.min.1.min(y));
            c.max = (c.max.0.max(x), c.max.1.max(y));
            c.sum = (c.sum.0 + f64::from(x), c.sum.1 + f64::from(y));
            for (dx, dy) in [
                (-1i64, 0i64),
                (1, 0),
                (0, -1),
                (0, 1),
                (-1, -1),
                (1, -1),
                (-1, 1),
                (1, 1),
            ]
            .into_iter()
            .take(if eight { 8 } else { 4 })
            {
                let (nx, ny) = (i64::from(x) + dx, i64::from(y) + dy);
                if nx < 0 || ny < 0 || nx >= i64::from(w) || ny >= i64::from(h) {
                    continue;
                }
                let j = ny as usize * w as usize + nx as usize;
                if pixels[j] != 0 && labels[j] == 0 {
                    labels[j] = label;
                    stack.push(j);
                }
            }
        }
        components.push(c);
    }
    (labels, components)
}

/// FAST corners and a HOG descriptor, as asked.
pub fn features(image: &DynamicImage, options: &FeatureOptions) -> Result<Features, ServiceError> {
    let luma = gray::luma8(image);
    let corners = match &options.fast {
        None => None,
        Some(fast) => {
            let threshold = fast.threshold.unwrap_or(20);
            if !(1..=255).contains(&threshold) {
                return Err(ServiceError::invalid_argument(
                    "options.fast.threshold",
                    format!("must be in 1..255, not {threshold}"),
                ));
            }
            let max = fast.max_corners.unwrap_or(500);
            if max < 0 {
                return Err(ServiceError::invalid_argument(
                    "options.fast.max_corners",
                    format!("must not be negative, not {max}"),
                ));
            }
            let mut found = fast::corners(&luma, threshold as u8);
            found.sort_by(|a, b| b.score.cmp(&a.score).then((a.y, a.x).cmp(&(b.y, b.x))));
            found.truncate(max as usize);
            Some(
                found
                    .into_iter()
                    .map(|c| Keypoint {
                        x: c.x as i32,
                        y: c.y as i32,
                        score: f64::from(c.score),
                    })
                    .collect(),
            )
        }
    };
    let hog = match &options.hog {
        None => None,
        Some(h) => Some(hog(&luma, h)?),
    };
    Ok(Features { corners, hog })
}

fn hog(gray: &GrayImage, h: &HogOptions) -> Result<Vec<f64>, ServiceError> {
    let field = |name: &str| format!("options.hog.{name}");
    let get = |v: Option<i32>, default: i32, name: &str, max: i32| -> Result<u32, ServiceError> {
        let v = v.unwrap_or(default);
        if !(1..=max).contains(&v) {
            return Err(ServiceError::invalid_argument(
                field(name),
                format!("must be in 1..{max}, not {v}"),
            ));
        }
        Ok(v as u32)
    };
    let width = get(h.width, 64, "width", 4096)?;
    let height = get(h.height, 128, "height", 4096)?;
    let cell = get(h.cell_size, 8, "cell_size", 256)?;
    let block = get(h.block_size, 2, "block_size", 16)?;
    let orientations = get(h.orientations, 9, "orientations", 180)?;
    if width % cell != 0 || height % cell != 0 {
        return Err(ServiceError::invalid_argument(
            field("cell_size"),
            format!("must divide the window ({width}x{height}), not {cell}"),
        ));
    }
    if width / cell < block || height / cell < block {
        return Err(ServiceError::invalid_argument(
            field("block_size"),
            format!(
                "a block of {block} cells does not fit the {}x{} cells of the window",
                width / cell,
                height / cell
            ),
        ));
    }
    let window =
        image::imageops::resize(gray, width, height, image::imageops::FilterType::Triangle);
    let options = imageproc::hog::HogOptions::new(
        orientations as usize,
        false,
        cell as usize,
        block as usize,
        1,
    );
    imageproc::hog::hog(&window, options)
        .map(|v| v.into_iter().map(f64::from).collect())
        .map_err(|e| ServiceError::invalid_argument(field("cell_size"), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idl::image::{FastOptions, PixelFormat, RawImage};
    use crate::image::samples::test_pixels;
    use crate::image::{pixels, ImageLimits};

    #[test]
    fn analysis_of_tiny_images_of_every_layout_answers_without_panicking() {
        for format in 1..=10 {
            for (w, h) in [(1, 1), (2, 7), (8, 8)] {
                let bpp = pixels::bytes_per_pixel(PixelFormat(format)).unwrap();
                let raw = RawImage {
                    width: w,
                    height: h,
                    pixel_format: PixelFormat(format),
                    pixels: Bytes::from(test_pixels((w * h) as usize, bpp, format >= 9, 53)),
                };
                let image = pixels::from_raw(&raw, &ImageLimits::default()).unwrap();
                for bins in [0, 1, 3, 65536] {
                    let hist = histogram(&image, bins).unwrap();
                    let total: i64 = hist.channels[0].counts.iter().sum();
                    assert_eq!(total, i64::from(w * h));
                }
                let stats = stats(&image);
                assert!(stats
                    .channels
                    .iter()
                    .all(|c| c.min <= c.mean && c.mean <= c.max));
                let seg = segment(
                    &image,
                    &SegmentOptions {
                        label_image: Some(true),
                        ..Default::default()
                    },
                )
                .unwrap();
                assert_eq!(seg.labels.unwrap().labels.len(), (w * h * 4) as usize);
                let options = FeatureOptions {
                    fast: Some(FastOptions::default()),
                    hog: Some(HogOptions::default()),
                };
                let features = features(&image, &options).unwrap();
                assert_eq!(features.hog.map(|h| h.is_empty()), Some(false));
            }
        }
    }
}
