//! Canny edge detection as OpenCV does it (`cv2.Canny(gray, low, high)` with its defaults):
//! 3x3 Sobel gradients with replicated borders, the L1 magnitude |gx| + |gy|, non-maximum
//! suppression along the gradient's direction quantised to 0, 45, 90 and 135 degrees, then
//! hysteresis: pixels above `high` are edges, and pixels above `low` joined to an edge
//! through 8-connected neighbours are edges too. No blur first, as in OpenCV.

use image::GrayImage;

use crate::image::gradients::{sobel_rows, Border};

/// The direction OpenCV quantises a gradient to, as the neighbours suppression compares.
const ALONG_X: u8 = 0;
const ALONG_Y: u8 = 1;
/// Diagonals: up-right/down-left (`dx` and `dy` of opposite signs) and up-left/down-right.
const RISING: u8 = 2;
const FALLING: u8 = 3;

/// OpenCV's quantisation: tan(22.5°) in Q15, compared in integers (no angle is computed).
/// Branch-free so the row loop vectorises; every product fits in i32 (|d| <= 1020).
fn sector(dx: i32, dy: i32) -> u8 {
    const TAN22: i32 = 13573;
    let (ax, ay) = (dx.abs(), dy.abs() << 15);
    let tg22 = ax * TAN22;
    let diagonal = if (dx ^ dy) < 0 { RISING } else { FALLING };
    let steep = if ay > tg22 + (ax << 16) {
        ALONG_Y
    } else {
        diagonal
    };
    if ay < tg22 {
        ALONG_X
    } else {
        steep
    }
}

/// One row's L1 magnitudes and sectors from the Sobel row pass (see `sobel_rows`).
#[inline(always)]
fn gradient_row(smooth: &[i16], diff: &[i16], m_row: &mut [i16], s_row: &mut [u8]) {
    let w = m_row.len();
    let (left, mid, right) = (&smooth[..w], &diff[1..=w], &smooth[2..w + 2]);
    let (up, down) = (&diff[..w], &diff[2..w + 2]);
    for x in 0..w {
        let dx = right[x] - left[x];
        let dy = up[x] + 2 * mid[x] + down[x];
        m_row[x] = dx.abs() + dy.abs();
        s_row[x] = sector(i32::from(dx), i32::from(dy));
    }
}

/// The same compiled for AVX2, whose 32-bit multiplies let the sector test vectorise.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gradient_row_avx2(smooth: &[i16], diff: &[i16], m_row: &mut [i16], s_row: &mut [u8]) {
    gradient_row(smooth, diff, m_row, s_row);
}

/// What non-maximum suppression compares with: integer thresholds and the row pitch of the
/// bordered magnitude plane.
struct Thresholds {
    low: i32,
    high: i32,
    pw: usize,
}

/// Non-maximum suppression of one row from column `from` on: `state` becomes 1 for pixels
/// above `low` that are a maximum along their gradient, 2 (and pushed on `stack`) for those
/// also above `high`. `row` is the plane index of the row's first pixel.
#[inline(always)]
fn suppress_row(
    magnitude: &[i16],
    sectors: &[u8],
    row: usize,
    from: usize,
    t: &Thresholds,
    state: &mut [u8],
    stack: &mut Vec<usize>,
) {
    let pw = t.pw;
    // Per sector: the step to the two neighbours compared along the gradient, and whether
    // the second may equal the pixel (OpenCV's `>` then `>=` along the axes, `>` both ways
    // on the diagonals), indexed by ALONG_X, ALONG_Y, RISING and FALLING. A table instead of
    // a match: no branch per candidate on its sector.
    let steps = [(1, 1i16), (pw, 1), (pw - 1, 0), (pw + 1, 0)];
    for (x, &sector) in sectors.iter().enumerate().skip(from) {
        let p = row + x;
        let m = magnitude[p];
        if i32::from(m) <= t.low {
            continue;
        }
        let (step, equal) = steps[usize::from(sector & 3)];
        if m > magnitude[p - step] && m + equal > magnitude[p + step] {
            if i32::from(m) > t.high {
                state[p] = 2;
                stack.push(p);
            } else {
                state[p] = 1;
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::Thresholds;
    use std::arch::x86_64::*;

    /// `super::suppress_row` on the row's whole blocks of 16 pixels, returning the first
    /// column left for it: all four sectors' comparisons are made and the pixel's own
    /// selected, so no branch depends on the image; strong pixels are found from a byte mask.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn suppress_blocks(
        magnitude: &[i16],
        sectors: &[u8],
        row: usize,
        t: &Thresholds,
        state: &mut [u8],
        stack: &mut Vec<usize>,
    ) -> usize {
        let w = sectors.len();
        let pw = t.pw;
        // Magnitudes are at most 2040, so thresholds beyond i16 act as these.
        let low = _mm256_set1_epi16(t.low.clamp(-1, i32::from(i16::MAX)) as i16);
        let high = _mm256_set1_epi16(t.high.clamp(-1, i32::from(i16::MAX)) as i16);
        let sector_ids: [__m256i; 4] = std::array::from_fn(|i| _mm256_set1_epi16(i as i16));
        let load = |p: usize| _mm256_loadu_si256(magnitude[p..p + 16].as_ptr().cast());
        let blocks = w / 16;
        for block in 0..blocks {
            let x = block * 16;
            let p = row + x;
            let m = load(p);
            // Strictly greater than the first neighbour; the second must be greater too on
            // the diagonals, and may be equal along the axes (not greater than m).
            let along_x = _mm256_andnot_si256(
                _mm256_cmpgt_epi16(load(p + 1), m),
                _mm256_cmpgt_epi16(m, load(p - 1)),
            );
            let along_y = _mm256_andnot_si256(
                _mm256_cmpgt_epi16(load(p + pw), m),
                _mm256_cmpgt_epi16(m, load(p - pw)),
            );
            let rising = _mm256_and_si256(
                _mm256_cmpgt_epi16(m, load(p - (pw - 1))),
                _mm256_cmpgt_epi16(m, load(p + (pw - 1))),
            );
            let falling = _mm256_and_si256(
                _mm256_cmpgt_epi16(m, load(p - (pw + 1))),
                _mm256_cmpgt_epi16(m, load(p + (pw + 1))),
            );
            let own = _mm256_cvtepu8_epi16(_mm_loadu_si128(sectors[x..x + 16].as_ptr().cast()));
            let mut maximum = _mm256_setzero_si256();
            for (id, test) in sector_ids.iter().zip([along_x, along_y, rising, falling]) {
                let selected = _mm256_and_si256(_mm256_cmpeq_epi16(own, *id), test);
                maximum = _mm256_or_si256(maximum, selected);
            }
            let candidate = _mm256_and_si256(maximum, _mm256_cmpgt_epi16(m, low));
            let strong = _mm256_and_si256(candidate, _mm256_cmpgt_epi16(m, high));
            // 1 for a candidate, 2 for a strong one: minus the two all-ones masks.
            let value =
                _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_add_epi16(candidate, strong));
            let bytes = _mm256_packus_epi16(value, value);
            let bytes = _mm256_permute4x64_epi64::<0b00_00_10_00>(bytes);
            _mm_storeu_si128(
                state[p..p + 16].as_mut_ptr().cast(),
                _mm256_castsi256_si128(bytes),
            );
            let strong_bytes = _mm256_packs_epi16(strong, strong);
            let strong_bytes = _mm256_permute4x64_epi64::<0b00_00_10_00>(strong_bytes);
            let mut mask = _mm256_movemask_epi8(strong_bytes) as u32 & 0xFFFF;
            while mask != 0 {
                stack.push(p + mask.trailing_zeros() as usize);
                mask &= mask - 1;
            }
        }
        blocks * 16
    }
}

/// The edges of `gray` with hysteresis thresholds `low` <= `high` on the L1 magnitude.
///
/// One pass of the Sobel rows leaves two planes: the L1 magnitude (i16: at most 2040) with a
/// one-pixel border of zeros, and each pixel's quantised direction. With the border, neither
/// the suppression's neighbour reads nor the hysteresis's flood fill test bounds per pixel
/// (a border pixel is never a candidate), and the edge states become the output in place.
/// Planes are as small as they can be: at 1080p this is most of the work's memory traffic.
pub fn canny(gray: &GrayImage, low: f32, high: f32) -> GrayImage {
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    let pw = w + 2;
    let mut magnitude = vec![0i16; pw * (h + 2)];
    let mut sectors = vec![0u8; w * h];
    #[cfg(target_arch = "x86_64")]
    let avx2 = std::arch::is_x86_feature_detected!("avx2");
    sobel_rows(gray, Border::Replicate, |y, smooth, diff| {
        let m_row = &mut magnitude[(y + 1) * pw + 1..(y + 1) * pw + 1 + w];
        let s_row = &mut sectors[y * w..(y + 1) * w];
        #[cfg(target_arch = "x86_64")]
        if avx2 {
            // SAFETY: the CPU supports AVX2, checked above.
            return unsafe { gradient_row_avx2(smooth, diff, m_row, s_row) };
        }
        gradient_row(smooth, diff, m_row, s_row);
    });
    // OpenCV compares integer magnitudes against the thresholds' floors.
    let (low, high) = (low.floor() as i32, high.floor() as i32);
    // 0: not an edge; 1: above `low` and a local maximum; 2: an edge.
    let mut state = vec![0u8; pw * (h + 2)];
    let mut stack = Vec::new();
    let thresholds = Thresholds { low, high, pw };
    for y in 0..h {
        let row = (y + 1) * pw + 1;
        let sectors = &sectors[y * w..(y + 1) * w];
        // Whole blocks of 16 with AVX2, then the rest (or all) one pixel at a time.
        #[cfg(target_arch = "x86_64")]
        let from = if avx2 {
            // SAFETY: the CPU supports AVX2, checked above.
            unsafe {
                avx2::suppress_blocks(
                    &magnitude,
                    sectors,
                    row,
                    &thresholds,
                    &mut state,
                    &mut stack,
                )
            }
        } else {
            0
        };
        #[cfg(not(target_arch = "x86_64"))]
        let from = 0;
        suppress_row(
            &magnitude,
            sectors,
            row,
            from,
            &thresholds,
            &mut state,
            &mut stack,
        );
    }
    drop(magnitude);
    drop(sectors);
    // Hysteresis: grow edges into connected candidates.
    let pw_i = pw as isize;
    let neighbours = [-pw_i - 1, -pw_i, -pw_i + 1, -1, 1, pw_i - 1, pw_i, pw_i + 1];
    while let Some(p) = stack.pop() {
        for offset in neighbours {
            let q = p.wrapping_add_signed(offset);
            if state[q] == 1 {
                state[q] = 2;
                stack.push(q);
            }
        }
    }
    // The interior rows moved to the front (row y lands before where it was read) and
    // mapped to 0/255: the output without another allocation.
    for y in 0..h {
        let from = (y + 1) * pw + 1;
        state.copy_within(from..from + w, y * w);
    }
    state.truncate(w * h);
    for v in &mut state {
        *v = if *v == 2 { 255 } else { 0 };
    }
    GrayImage::from_raw(w as u32, h as u32, state)
        .unwrap_or_else(|| GrayImage::new(w as u32, h as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_suppression_equals_the_scalar_one() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let (w, h) = (53usize, 9usize);
        let pw = w + 2;
        let mut seed = 0x9e37_79b9_u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            seed >> 8
        };
        for round in 0..50 {
            // Few distinct values, so ties (the axes' `>=`) are common.
            let levels = if round % 2 == 0 { 6 } else { 2041 };
            let mut magnitude = vec![0i16; pw * (h + 2)];
            for y in 0..h {
                for x in 0..w {
                    magnitude[(y + 1) * pw + x + 1] =
                        (next() % levels * (2040 / (levels - 1))) as i16;
                }
            }
            let sectors: Vec<u8> = (0..w * h).map(|_| (next() % 4) as u8).collect();
            for (low, high) in [(100, 800), (-5, 0), (0, 40_000), (1000, 1000)] {
                let t = Thresholds { low, high, pw };
                let (mut want, mut got) = (vec![0u8; magnitude.len()], vec![0u8; magnitude.len()]);
                let (mut want_stack, mut got_stack) = (Vec::new(), Vec::new());
                for y in 0..h {
                    let row = (y + 1) * pw + 1;
                    let s = &sectors[y * w..(y + 1) * w];
                    suppress_row(&magnitude, s, row, 0, &t, &mut want, &mut want_stack);
                    // SAFETY: the CPU supports AVX2, checked above.
                    let from = unsafe {
                        avx2::suppress_blocks(&magnitude, s, row, &t, &mut got, &mut got_stack)
                    };
                    suppress_row(&magnitude, s, row, from, &t, &mut got, &mut got_stack);
                }
                assert_eq!(got, want, "round {round}, thresholds {low} {high}");
                want_stack.sort_unstable();
                got_stack.sort_unstable();
                assert_eq!(
                    got_stack, want_stack,
                    "round {round}, thresholds {low} {high}"
                );
            }
        }
    }

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
