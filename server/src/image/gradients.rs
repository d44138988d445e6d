//! Sobel gradients on 8-bit gray, written for speed: separable 3x3 passes over whole rows
//! in integer arithmetic that the compiler vectorises. The magnitude uses OpenCV's default
//! border (reflect-101), so it agrees with `cv2.Sobel` + `cv2.magnitude` +
//! `convertScaleAbs`; Canny shares the row pass with replicated borders, as OpenCV's Canny.

use image::GrayImage;

/// How a kernel reads past the image's edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Border {
    /// The pixel mirrored about the edge pixel (`gfedcb|abcdefgh|gfedcba`), folding as often
    /// as a wide kernel needs: OpenCV's default.
    Reflect101,
    /// The edge pixel repeated (`aaaaaa|abcdefgh|hhhhhhh`).
    Replicate,
}

impl Border {
    /// The index in `0..n` that index `i` (possibly outside) reads.
    pub fn index(self, mut i: isize, n: usize) -> usize {
        if n == 1 {
            return 0;
        }
        let n = n as isize;
        match self {
            Border::Replicate => i.clamp(0, n - 1) as usize,
            Border::Reflect101 => loop {
                if i < 0 {
                    i = -i;
                } else if i >= n {
                    i = 2 * n - 2 - i;
                } else {
                    return i as usize;
                }
            },
        }
    }
}

/// The vertical half of the 3x3 Sobel operator, row by row: for each row `y`, `each_row(y,
/// smooth, diff)` gets `smooth = top + 2 mid + bottom` and `diff = bottom - top` for every
/// column, with one border column on each side (index `x + 1` is column `x`). The horizontal
/// half is then `gx = smooth[x + 2] - smooth[x]` and `gy = diff[x] + 2 diff[x + 1] + diff[x + 2]`.
pub fn sobel_rows(
    gray: &GrayImage,
    border: Border,
    mut each_row: impl FnMut(usize, &[i16], &[i16]),
) {
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    let src = gray.as_raw();
    let mut smooth = vec![0i16; w + 2];
    let mut diff = vec![0i16; w + 2];
    let (left, right) = (border.index(-1, w) + 1, border.index(w as isize, w) + 1);
    for y in 0..h {
        let row = |r: usize| &src[r * w..(r + 1) * w];
        let (top, mid, bot) = (
            row(border.index(y as isize - 1, h)),
            row(y),
            row(border.index(y as isize + 1, h)),
        );
        for (((s, d), (&t, &m)), &b) in smooth[1..=w]
            .iter_mut()
            .zip(&mut diff[1..=w])
            .zip(top.iter().zip(mid))
            .zip(bot)
        {
            let (t, m, b) = (i16::from(t), i16::from(m), i16::from(b));
            *s = t + 2 * m + b;
            *d = b - t;
        }
        smooth[0] = smooth[left];
        diff[0] = diff[left];
        smooth[w + 1] = smooth[right];
        diff[w + 1] = diff[right];
        each_row(y, &smooth, &diff);
    }
}

/// `sqrt(gx² + gy²)` of the 3x3 Sobel operator at every pixel, rounded and saturated at 255.
pub fn sobel_magnitude(gray: &GrayImage) -> GrayImage {
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    let mut out = vec![0u8; w * h];
    #[cfg(target_arch = "x86_64")]
    let avx2 = std::arch::is_x86_feature_detected!("avx2");
    sobel_rows(gray, Border::Reflect101, |y, smooth, diff| {
        let row = &mut out[y * w..(y + 1) * w];
        let mut done = 0;
        #[cfg(target_arch = "x86_64")]
        if avx2 {
            // SAFETY: the CPU supports AVX2, checked above.
            done = unsafe { magnitude_avx2(smooth, diff, row) };
        }
        for (x, o) in row.iter_mut().enumerate().skip(done) {
            let gx = i32::from(smooth[x + 2]) - i32::from(smooth[x]);
            let gy = i32::from(diff[x]) + 2 * i32::from(diff[x + 1]) + i32::from(diff[x + 2]);
            let magnitude = ((gx * gx + gy * gy) as f32).sqrt();
            *o = (magnitude + 0.5).min(255.0) as u8;
        }
    });
    GrayImage::from_raw(w as u32, h as u32, out)
        .unwrap_or_else(|| GrayImage::new(w as u32, h as u32))
}

/// The magnitudes of one row, 16 at a time, exactly as the scalar loop computes them:
/// `pmaddwd` of interleaved (gx, gy) gives gx² + gy² in one step, and the f32 square root
/// and rounding are the same IEEE operations. Returns how many leading pixels it did.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn magnitude_avx2(smooth: &[i16], diff: &[i16], out: &mut [u8]) -> usize {
    use std::arch::x86_64::*;
    let w = out.len();
    if smooth.len() < w + 2 || diff.len() < w + 2 {
        return 0;
    }
    let blocks = w / 16 * 16;
    let half = _mm256_set1_ps(0.5);
    for x in (0..blocks).step_by(16) {
        // SAFETY (loads and store): x + 16 <= w, and the rows hold w + 2 values.
        let at = |row: &[i16], i: usize| _mm256_loadu_si256(row.as_ptr().add(i).cast());
        let gx = _mm256_sub_epi16(at(smooth, x + 2), at(smooth, x));
        let gy = _mm256_add_epi16(
            _mm256_add_epi16(at(diff, x), at(diff, x + 2)),
            _mm256_slli_epi16::<1>(at(diff, x + 1)),
        );
        let round = |pairs: __m256i| {
            let squares = _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, pairs));
            _mm256_cvttps_epi32(_mm256_add_ps(_mm256_sqrt_ps(squares), half))
        };
        // Per 128-bit lane: unpacklo holds pixels 0..3 (8..11), unpackhi 4..7 (12..15), so
        // packing them back gives pixel order again.
        let lo = round(_mm256_unpacklo_epi16(gx, gy));
        let hi = round(_mm256_unpackhi_epi16(gx, gy));
        let words = _mm256_packs_epi32(lo, hi);
        let bytes = _mm256_permute4x64_epi64::<0b1000>(_mm256_packus_epi16(words, words));
        _mm_storeu_si128(
            out.as_mut_ptr().add(x).cast(),
            _mm256_castsi256_si128(bytes),
        );
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    /// The textbook definition, pixel by pixel with reflect-101 borders.
    fn reference(gray: &GrayImage) -> GrayImage {
        let (w, h) = gray.dimensions();
        let at = |x: i64, y: i64| {
            let x = Border::Reflect101.index(x as isize, w as usize) as u32;
            let y = Border::Reflect101.index(y as isize, h as usize) as u32;
            f64::from(gray.get_pixel(x, y).0[0])
        };
        GrayImage::from_fn(w, h, |x, y| {
            let (x, y) = (i64::from(x), i64::from(y));
            let gx = at(x + 1, y - 1) + 2.0 * at(x + 1, y) + at(x + 1, y + 1)
                - at(x - 1, y - 1)
                - 2.0 * at(x - 1, y)
                - at(x - 1, y + 1);
            let gy = at(x - 1, y + 1) + 2.0 * at(x, y + 1) + at(x + 1, y + 1)
                - at(x - 1, y - 1)
                - 2.0 * at(x, y - 1)
                - at(x + 1, y - 1);
            Luma([((gx * gx + gy * gy).sqrt() + 0.5).min(255.0) as u8])
        })
    }

    #[test]
    fn matches_the_definition_on_every_size_including_one_pixel() {
        for (w, h) in [(1, 1), (1, 4), (5, 1), (2, 2), (17, 9)] {
            let gray = GrayImage::from_fn(w, h, |x, y| Luma([((x * 73 + y * 151) % 256) as u8]));
            assert_eq!(sobel_magnitude(&gray), reference(&gray), "{w}x{h}");
        }
        // Several vector blocks and a tail, with edges strong enough to saturate at 255.
        let stripes = GrayImage::from_fn(83, 6, |x, y| {
            Luma([if (x / 10 + y / 4) % 2 == 0 { 0 } else { 255 }])
        });
        assert_eq!(sobel_magnitude(&stripes), reference(&stripes), "stripes");
        assert!(sobel_magnitude(&stripes).as_raw().contains(&255));
    }
}
