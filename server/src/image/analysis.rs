//! Measurements of an image: histograms, statistics, connected components, features.

use bytes::Bytes;
use image::{DynamicImage, GrayImage, Luma};
use imageproc::region_labelling::{connected_components, Connectivity as Conn};

use crate::error::ServiceError;
use crate::idl::image::{
    ChannelHistogram, ChannelStats, Connectivity, FeatureOptions, Features, Histogram, HogOptions,
    ImageStats, Keypoint, LabelImage, Point, Rect, Region, SegmentOptions, Segmentation, Threshold,
};
use crate::image::ops;
use crate::image::samples::{sample_max, Sample};

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
        Connectivity::FOUR => Conn::Four,
        Connectivity::EIGHT => Conn::Eight,
        other => {
            return Err(ServiceError::invalid_argument(
                "options.connectivity",
                format!("must be FOUR or EIGHT, not {}", other.0),
            ))
        }
    };
    let min_area = options.min_area.unwrap_or(1).max(1);
    let binary = ops::threshold_gray(&image.to_luma8(), &threshold);
    let labels = connected_components(&binary, connectivity, Luma([0u8]));
    let (w, h) = labels.dimensions();

    // One pass of accumulators per raw label: area, bbox and coordinate sums.
    let count = labels.as_raw().iter().copied().max().unwrap_or(0) as usize;
    let mut acc = vec![(0i64, u32::MAX, u32::MAX, 0u32, 0u32, 0f64, 0f64); count + 1];
    for (x, y, px) in labels.enumerate_pixels() {
        let l = px.0[0] as usize;
        if l == 0 {
            continue;
        }
        let a = &mut acc[l];
        a.0 += 1;
        a.1 = a.1.min(x);
        a.2 = a.2.min(y);
        a.3 = a.3.max(x);
        a.4 = a.4.max(y);
        a.5 += f64::from(x);
        a.6 += f64::from(y);
    }
    // Regions under min_area are dropped; the rest are renumbered 1, 2, ... in label order.
    let mut renumber = vec![0u32; count + 1];
    let mut regions = Vec::new();
    for (l, a) in acc.iter().enumerate().skip(1) {
        if a.0 < min_area {
            continue;
        }
        let label = regions.len() as u32 + 1;
        renumber[l] = label;
        regions.push(Region {
            label: label as i32,
            area: a.0,
            bbox: Rect {
                x: a.1 as i32,
                y: a.2 as i32,
                width: (a.3 - a.1 + 1) as i32,
                height: (a.4 - a.2 + 1) as i32,
            },
            centroid: Point {
                x: a.5 / a.0 as f64,
                y: a.6 / a.0 as f64,
            },
        });
    }
    let labels = options.label_image.unwrap_or(false).then(|| {
        let mut bytes = Vec::with_capacity(labels.as_raw().len() * 4);
        for &l in labels.as_raw() {
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

/// FAST corners and a HOG descriptor, as asked.
pub fn features(image: &DynamicImage, options: &FeatureOptions) -> Result<Features, ServiceError> {
    let gray = image.to_luma8();
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
            let mut found = imageproc::corners::corners_fast9(&gray, threshold as u8);
            found.sort_by(|a, b| {
                b.score
                    .total_cmp(&a.score)
                    .then((a.y, a.x).cmp(&(b.y, b.x)))
            });
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
        Some(h) => Some(hog(&gray, h)?),
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
