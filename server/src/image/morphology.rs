//! Grayscale morphology with a square structuring element, as OpenCV's `erode`/`dilate` with a
//! (2r+1)x(2r+1) kernel: the minimum (or maximum) over each pixel's window, pixels beyond the
//! border ignored. Separable (rows, then columns) with the van Herk/Gil-Werman algorithm, so
//! the cost per pixel does not grow with the radius.

use image::GrayImage;

/// `out[i]` = the min (or max) of `line[i - r ..= i + r]`, out-of-range samples ignored.
fn line_filter(line: &[u8], r: usize, take_min: bool, out: &mut [u8]) {
    let n = line.len();
    let k = 2 * r + 1;
    let identity = if take_min { u8::MAX } else { u8::MIN };
    let pick = |a: u8, b: u8| if take_min { a.min(b) } else { a.max(b) };
    // The line padded with the identity, to a whole number of k-blocks.
    let len = (n + 2 * r).div_ceil(k) * k;
    let mut padded = vec![identity; len];
    padded[r..r + n].copy_from_slice(line);
    // Running min/max from each block's start (forward) and from its end (backward).
    let mut forward = padded.clone();
    let mut backward = padded.clone();
    for block in (0..len).step_by(k) {
        for j in block + 1..block + k {
            forward[j] = pick(forward[j - 1], padded[j]);
        }
        for j in (block..block + k - 1).rev() {
            backward[j] = pick(backward[j + 1], padded[j]);
        }
    }
    // The window starting at i spans the end of i's block and the start of the next.
    for (i, o) in out.iter_mut().enumerate().take(n) {
        *o = pick(backward[i], forward[i + k - 1]);
    }
}

fn filter(gray: &GrayImage, r: usize, take_min: bool) -> GrayImage {
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    let src = gray.as_raw();
    let mut rows = vec![0u8; w * h];
    for (line, out) in src.chunks_exact(w).zip(rows.chunks_exact_mut(w)) {
        line_filter(line, r, take_min, out);
    }
    let mut out = vec![0u8; w * h];
    let mut column = vec![0u8; h];
    let mut filtered = vec![0u8; h];
    for x in 0..w {
        for (y, c) in column.iter_mut().enumerate() {
            *c = rows[y * w + x];
        }
        line_filter(&column, r, take_min, &mut filtered);
        for (y, &v) in filtered.iter().enumerate() {
            out[y * w + x] = v;
        }
    }
    GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| gray.clone())
}

pub fn erode(gray: &GrayImage, r: usize) -> GrayImage {
    filter(gray, r, true)
}

pub fn dilate(gray: &GrayImage, r: usize) -> GrayImage {
    filter(gray, r, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn naive(gray: &GrayImage, r: i64, take_min: bool) -> GrayImage {
        let (w, h) = gray.dimensions();
        GrayImage::from_fn(w, h, |x, y| {
            let mut best = if take_min { 255u8 } else { 0 };
            for dy in -r..=r {
                for dx in -r..=r {
                    let (sx, sy) = (i64::from(x) + dx, i64::from(y) + dy);
                    if sx >= 0 && sy >= 0 && sx < i64::from(w) && sy < i64::from(h) {
                        let v = gray.get_pixel(sx as u32, sy as u32).0[0];
                        best = if take_min { best.min(v) } else { best.max(v) };
                    }
                }
            }
            Luma([best])
        })
    }

    #[test]
    fn equals_the_definition_for_every_radius_and_size() {
        for (w, h) in [(1, 1), (1, 7), (9, 1), (13, 11)] {
            let gray = GrayImage::from_fn(w, h, |x, y| Luma([((x * 97 + y * 61) % 256) as u8]));
            for r in [1, 2, 3, 20] {
                assert_eq!(
                    erode(&gray, r),
                    naive(&gray, r as i64, true),
                    "erode {w}x{h} r {r}"
                );
                assert_eq!(
                    dilate(&gray, r),
                    naive(&gray, r as i64, false),
                    "dilate {w}x{h} r {r}"
                );
            }
        }
    }
}
