//! FAST-9 corners, as OpenCV's `FastFeatureDetector` (type 9_16, no non-maximum
//! suppression) finds them: a pixel is a corner when 9 contiguous pixels of the 16 on the
//! radius-3 circle around it are all brighter than it by more than the threshold, or all
//! darker by more. Pixels closer than 3 to the border are not tested.
//!
//! A corner's score is the largest threshold at which it is still a corner, so stronger
//! corners sort first.

use image::GrayImage;

/// The 16 circle offsets (x, y), clockwise from the top.
const CIRCLE: [(i32, i32); 16] = [
    (0, -3),
    (1, -3),
    (2, -2),
    (3, -1),
    (3, 0),
    (3, 1),
    (2, 2),
    (1, 3),
    (0, 3),
    (-1, 3),
    (-2, 2),
    (-3, 1),
    (-3, 0),
    (-3, -1),
    (-2, -2),
    (-1, -3),
];

/// Whether 9 contiguous circle pixels (wrapping around) are all brighter than `centre + t` or
/// all darker than `centre - t`.
fn is_corner(circle: &[i16; 16], centre: i16, t: i16) -> bool {
    let (mut bright_run, mut dark_run) = (0, 0);
    // Twice round the circle, so a run may wrap past the start.
    for i in 0..32 {
        let v = circle[i % 16];
        bright_run = if v > centre + t { bright_run + 1 } else { 0 };
        dark_run = if v < centre - t { dark_run + 1 } else { 0 };
        if bright_run >= 9 || dark_run >= 9 {
            return true;
        }
    }
    false
}

/// A corner at (x, y) with its score.
pub struct Corner {
    pub x: u32,
    pub y: u32,
    pub score: u8,
}

/// Every FAST-9 corner of `gray` at `threshold`, in raster order.
pub fn corners(gray: &GrayImage, threshold: u8) -> Vec<Corner> {
    let (w, h) = gray.dimensions();
    let mut found = Vec::new();
    if w < 7 || h < 7 {
        return found;
    }
    let raw = gray.as_raw();
    let stride = w as i64;
    let offsets = CIRCLE.map(|(dx, dy)| i64::from(dy) * stride + i64::from(dx));
    let t = i16::from(threshold);
    let mut circle = [0i16; 16];
    for y in 3..h - 3 {
        for x in 3..w - 3 {
            let at = i64::from(y) * stride + i64::from(x);
            let centre = i16::from(raw[at as usize]);
            for (c, &o) in circle.iter_mut().zip(&offsets) {
                *c = i16::from(raw[(at + o) as usize]);
            }
            if !is_corner(&circle, centre, t) {
                continue;
            }
            // The largest threshold that still makes it a corner (binary search: being a
            // corner only gets harder as the threshold rises).
            let (mut lo, mut hi) = (t, 255i16);
            while lo < hi {
                let mid = (lo + hi + 1) / 2;
                if is_corner(&circle, centre, mid) {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            found.push(Corner {
                x,
                y,
                score: lo as u8,
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn all_four_corners_of_a_square_and_nothing_on_flat_ground() {
        let mut img = GrayImage::from_pixel(40, 40, Luma([30]));
        for y in 10..30 {
            for x in 10..30 {
                img.put_pixel(x, y, Luma([220]));
            }
        }
        let found = corners(&img, 20);
        for (cx, cy) in [(10, 10), (29, 10), (10, 29), (29, 29)] {
            assert!(
                found
                    .iter()
                    .any(|c| (c.x as i32 - cx).abs() <= 1 && (c.y as i32 - cy).abs() <= 1),
                "corner near ({cx}, {cy})"
            );
        }
        // Straight edges are not corners.
        assert!(!found
            .iter()
            .any(|c| (15..25).contains(&c.x) && (15..25).contains(&c.y)));
        assert!(corners(&GrayImage::from_pixel(20, 20, Luma([90])), 1).is_empty());
        assert!(corners(&GrayImage::new(5, 5), 1).is_empty());
    }
}
