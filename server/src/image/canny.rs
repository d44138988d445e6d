//! Canny edge detection as OpenCV does it (`cv2.Canny(gray, low, high)` with its defaults):
//! 3x3 Sobel gradients with replicated borders, the L1 magnitude |gx| + |gy|, non-maximum
//! suppression along the gradient's direction quantised to 0, 45, 90 and 135 degrees, then
//! hysteresis: pixels above `high` are edges, and pixels above `low` joined to an edge
//! through 8-connected neighbours are edges too. No blur first, as in OpenCV.

use image::GrayImage;

use crate::image::gradients::{sobel_rows, Border};

/// Sobel gradients with replicated borders, as two i16 planes.
fn gradients(gray: &GrayImage) -> (Vec<i16>, Vec<i16>) {
    let w = gray.width() as usize;
    let mut gx = vec![0i16; gray.as_raw().len()];
    let mut gy = vec![0i16; gray.as_raw().len()];
    sobel_rows(gray, Border::Replicate, |y, smooth, diff| {
        for x in 0..w {
            gx[y * w + x] = smooth[x + 2] - smooth[x];
            gy[y * w + x] = diff[x] + 2 * diff[x + 1] + diff[x + 2];
        }
    });
    (gx, gy)
}

/// The edges of `gray` with hysteresis thresholds `low` <= `high` on the L1 magnitude.
pub fn canny(gray: &GrayImage, low: f32, high: f32) -> GrayImage {
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    let (gx, gy) = gradients(gray);
    let magnitude: Vec<i32> = gx
        .iter()
        .zip(&gy)
        .map(|(&x, &y)| i32::from(x).abs() + i32::from(y).abs())
        .collect();
    // OpenCV compares integer magnitudes against the thresholds' floors.
    let (low, high) = (low.floor() as i32, high.floor() as i32);
    let at = |x: isize, y: isize| -> i32 {
        if x < 0 || y < 0 || x >= w as isize || y >= h as isize {
            0
        } else {
            magnitude[y as usize * w + x as usize]
        }
    };
    // 0: not an edge; 1: above `low` and a local maximum; 2: an edge.
    let mut state = vec![0u8; w * h];
    let mut stack = Vec::new();
    // tan(22.5°) in Q15, as OpenCV.
    const TAN22: i64 = 13573;
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let m = magnitude[i];
            if m <= low {
                continue;
            }
            let (dx, dy) = (i64::from(gx[i]), i64::from(gy[i]));
            let (ax, ay) = (dx.abs(), dy.abs() << 15);
            let tg22 = ax * TAN22;
            let (xi, yi) = (x as isize, y as isize);
            let maximum = if ay < tg22 {
                m > at(xi - 1, yi) && m >= at(xi + 1, yi)
            } else if ay > tg22 + (ax << 16) {
                m > at(xi, yi - 1) && m >= at(xi, yi + 1)
            } else {
                let s: isize = if (dx ^ dy) < 0 { -1 } else { 1 };
                m > at(xi - s, yi - 1) && m > at(xi + s, yi + 1)
            };
            if maximum {
                if m > high {
                    state[i] = 2;
                    stack.push(i);
                } else {
                    state[i] = 1;
                }
            }
        }
    }
    // Hysteresis: grow edges into connected candidates.
    while let Some(i) = stack.pop() {
        let (x, y) = ((i % w) as isize, (i / w) as isize);
        for (ox, oy) in [
            (-1, -1),
            (0, -1),
            (1, -1),
            (-1, 0),
            (1, 0),
            (-1, 1),
            (0, 1),
            (1, 1),
        ] {
            let (nx, ny) = (x + ox, y + oy);
            if nx < 0 || ny < 0 || nx >= w as isize || ny >= h as isize {
                continue;
            }
            let j = ny as usize * w + nx as usize;
            if state[j] == 1 {
                state[j] = 2;
                stack.push(j);
            }
        }
    }
    let out = state
        .iter()
        .map(|&s| if s == 2 { 255 } else { 0 })
        .collect();
    GrayImage::from_raw(w as u32, h as u32, out)
        .unwrap_or_else(|| GrayImage::new(w as u32, h as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn a_step_gives_one_thin_line_and_flat_gives_none() {
        let step = GrayImage::from_fn(20, 10, |x, _| Luma([if x < 10 { 20 } else { 220 }]));
        let edges = canny(&step, 50.0, 100.0);
        for y in 0..10 {
            let row: Vec<u32> = (0..20)
                .filter(|&x| edges.get_pixel(x, y).0[0] == 255)
                .collect();
            assert_eq!(row.len(), 1, "row {y}: {row:?}");
            assert!((9..=10).contains(&row[0]), "row {y}: {row:?}");
        }
        let flat = GrayImage::from_pixel(8, 8, Luma([90]));
        assert!(canny(&flat, 1.0, 2.0).as_raw().iter().all(|&v| v == 0));
    }

    #[test]
    fn weak_edges_survive_only_when_joined_to_strong_ones() {
        // A vertical step whose contrast fades slowly from strong (top rows, L1 magnitude
        // over 700) to weak (bottom rows, 624..700), and an isolated weak step (magnitude 120)
        // on its right. The fade's vertical gradient (32) stays under `low`.
        let img = GrayImage::from_fn(30, 12, |x, y| {
            let contrast = 200 - 4 * y;
            let left = if x < 8 { 0 } else { contrast };
            let weak = if x >= 20 { 30 } else { 0 };
            Luma([(left + weak).min(255) as u8])
        });
        let edges = canny(&img, 60.0, 700.0);
        let edge_in = |y: u32, xs: std::ops::Range<u32>| {
            xs.into_iter().any(|x| edges.get_pixel(x, y).0[0] == 255)
        };
        for y in 0..12 {
            assert!(
                edge_in(y, 6..10),
                "row {y}: the faded step is joined to its strong part"
            );
            assert!(
                !edge_in(y, 18..22),
                "row {y}: the isolated weak step is not an edge"
            );
        }
        assert_eq!(canny(&GrayImage::new(1, 1), 0.0, 0.0).as_raw(), &[0]);
    }
}
