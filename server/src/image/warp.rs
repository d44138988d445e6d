//! Affine warps of 8-bit images (rotation by any angle), nearest or bilinear.
//!
//! Every output pixel's pre-image is `(a x + b y + c, d x + e y + f)`. Along a row that is a
//! linear function of `x`, so it is stepped in 32.32 fixed point: one add per coordinate per
//! pixel, and no drift worth a 1/1000 of a pixel even across 65535 columns. Each row splits
//! into at most five runs, found with integer arithmetic before any pixel is touched:
//! background, edge, interior, edge, background. The interior run (all four bilinear
//! neighbours inside the source) has no bounds tests and an AVX2 version; edge pixels blend
//! the neighbours that exist with the background, so rotated edges are smooth rather than cut.
//!
//! Bilinear weights are 6-bit (1/64 pixel, twice OpenCV's `INTER_BITS`) and the blend is exact
//! integer arithmetic, so the AVX2 and portable paths give identical bytes.

/// The inverse map: output `(x, y)` samples source `(a x + b y + c, d x + e y + f)`.
#[derive(Clone, Copy, Debug)]
pub struct Affine {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub d: f64,
    pub e: f64,
    pub f: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    Nearest,
    Bilinear,
}

/// An 8-bit interleaved image: `channels` (1..=4) samples per pixel, rows `width * channels`
/// apart.
#[derive(Clone, Copy)]
pub struct Source<'a> {
    pub pixels: &'a [u8],
    pub width: usize,
    pub height: usize,
    pub channels: usize,
}

const ONE: i64 = 1 << 32;
/// Fraction bits of a bilinear weight.
const WEIGHT_BITS: u32 = 6;
const WEIGHT_ONE: u32 = 1 << WEIGHT_BITS;

/// Warps `src` into a `width x height` image with the same channels; pixels whose pre-image
/// misses the source are `fill` (its first `channels` bytes).
pub fn warp(
    src: Source<'_>,
    map: &Affine,
    sampling: Sampling,
    fill: [u8; 4],
    width: usize,
    height: usize,
) -> Vec<u8> {
    let ch = src.channels;
    assert!((1..=4).contains(&ch), "1 to 4 channels");
    assert_eq!(src.pixels.len(), src.width * src.height * ch);
    let mut out = vec![0u8; width * height * ch];
    if width == 0 {
        return out;
    }
    let coefficients = [map.a, map.b, map.c, map.d, map.e, map.f];
    if !coefficients.iter().all(|v| v.is_finite()) {
        // No pixel has a defined pre-image.
        for px in out.chunks_exact_mut(ch) {
            px.copy_from_slice(&fill[..ch]);
        }
        return out;
    }
    let avx2 = avx2_available();
    for (y, row) in out.chunks_exact_mut(width * ch).enumerate() {
        let y = y as f64;
        let mut line = Line {
            x0: fixed(map.b * y + map.c),
            y0: fixed(map.e * y + map.f),
            dx: fixed(map.a),
            dy: fixed(map.d),
        };
        match sampling {
            Sampling::Nearest => {
                // Round to the nearest pixel centre: floor(s + 1/2).
                line.x0 += ONE / 2;
                line.y0 += ONE / 2;
                nearest_row(src, &line, &fill, row);
            }
            Sampling::Bilinear => {
                // Round the position to the nearest 1/64, so weights are unbiased.
                let half_step = 1 << (31 - WEIGHT_BITS);
                line.x0 += half_step;
                line.y0 += half_step;
                bilinear_row(src, &line, &fill, row, avx2);
            }
        }
    }
    out
}

fn fixed(v: f64) -> i64 {
    // Clamped far outside any image (2^30 pixels) yet with room for the rounding offsets
    // added to it, so rows whose pre-image is absurdly far away are plain background.
    const LIMIT: f64 = (1u64 << 62) as f64;
    (v * ONE as f64).round().clamp(-LIMIT, LIMIT) as i64
}

fn avx2_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// One output row's pre-image: source `(x0 + x dx, y0 + x dy)`, 32.32 fixed point.
struct Line {
    x0: i64,
    y0: i64,
    dx: i64,
    dy: i64,
}

impl Line {
    #[inline(always)]
    fn at(&self, x: usize) -> (i64, i64) {
        let x = x as i64;
        (
            self.x0.wrapping_add(x.wrapping_mul(self.dx)),
            self.y0.wrapping_add(x.wrapping_mul(self.dy)),
        )
    }

    /// The columns `x` in `0..n` where both coordinates lie in `[lo, hi)` (pixel units, so
    /// `lo = 0, hi = w - 1` means "column and column + 1 are inside").
    fn columns(&self, n: usize, (xlo, xhi): (i64, i64), (ylo, yhi): (i64, i64)) -> (usize, usize) {
        let (a, b) = run(self.x0, self.dx, xlo * ONE, xhi * ONE, n);
        let (c, d) = run(self.y0, self.dy, ylo * ONE, yhi * ONE, n);
        let (lo, hi) = (a.max(c), b.min(d));
        if lo < hi {
            (lo, hi)
        } else {
            (0, 0)
        }
    }
}

/// The `x` in `0..n` with `lo <= base + x step < hi`: an interval, since the function is
/// linear. Exact: i128 keeps the products and quotients from overflowing.
fn run(base: i64, step: i64, lo: i64, hi: i64, n: usize) -> (usize, usize) {
    let (base, step, lo, hi, n) = (
        i128::from(base),
        i128::from(step),
        i128::from(lo),
        i128::from(hi),
        n as i128,
    );
    let (first, end) = if step == 0 {
        if lo <= base && base < hi {
            (0, n)
        } else {
            (0, 0)
        }
    } else if step > 0 {
        // x step >= lo - base  and  x step < hi - base.
        (ceil_div(lo - base, step), ceil_div(hi - base, step))
    } else {
        // Dividing by a negative step flips both inequalities.
        (
            floor_div(hi - base, step) + 1,
            floor_div(lo - base, step) + 1,
        )
    };
    let clamp = |v: i128| v.clamp(0, n) as usize;
    let (first, end) = (clamp(first), clamp(end));
    if first < end {
        (first, end)
    } else {
        (0, 0)
    }
}

fn floor_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if (a % b != 0) && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

fn ceil_div(a: i128, b: i128) -> i128 {
    -floor_div(-a, b)
}

fn nearest_row(src: Source<'_>, line: &Line, fill: &[u8; 4], row: &mut [u8]) {
    let ch = src.channels;
    let width = row.len() / ch;
    let (w, h) = (src.width as i64, src.height as i64);
    let (lo, hi) = line.columns(width, (0, w), (0, h));
    let stride = src.width * ch;
    for (x, px) in row.chunks_exact_mut(ch).enumerate() {
        if x >= lo && x < hi {
            let (sx, sy) = line.at(x);
            let i = (sy >> 32) as usize * stride + (sx >> 32) as usize * ch;
            px.copy_from_slice(&src.pixels[i..i + ch]);
        } else {
            px.copy_from_slice(&fill[..ch]);
        }
    }
}

fn bilinear_row(src: Source<'_>, line: &Line, fill: &[u8; 4], row: &mut [u8], avx2: bool) {
    let ch = src.channels;
    let width = row.len() / ch;
    let (w, h) = (src.width as i64, src.height as i64);
    // Some neighbour may be inside: -1 <= s < size. All four inside: 0 <= s < size - 1.
    let (touch_lo, touch_hi) = line.columns(width, (-1, w), (-1, h));
    let (inner_lo, inner_hi) = if w >= 2 && h >= 2 {
        line.columns(width, (0, w - 1), (0, h - 1))
    } else {
        (0, 0)
    };
    let (inner_lo, inner_hi) = if inner_lo < inner_hi {
        (inner_lo, inner_hi)
    } else {
        (touch_hi, touch_hi)
    };
    for px in row[..touch_lo * ch].chunks_exact_mut(ch) {
        px.copy_from_slice(&fill[..ch]);
    }
    for x in (touch_lo..inner_lo).chain(inner_hi..touch_hi) {
        edge_pixel(src, line, x, fill, &mut row[x * ch..(x + 1) * ch]);
    }
    let interior = &mut row[inner_lo * ch..inner_hi * ch];
    match ch {
        1 => interior_run::<1>(src, line, inner_lo, interior),
        2 => interior_run::<2>(src, line, inner_lo, interior),
        3 => interior_any::<3>(src, line, inner_lo, interior, avx2),
        _ => interior_any::<4>(src, line, inner_lo, interior, avx2),
    }
    for px in row[touch_hi * ch..].chunks_exact_mut(ch) {
        px.copy_from_slice(&fill[..ch]);
    }
}

/// Splits a fixed-point coordinate into its pixel and its 6-bit weight.
#[inline(always)]
fn split(s: i64) -> (i64, u32) {
    (
        s >> 32,
        ((s >> (32 - WEIGHT_BITS)) as u32) & (WEIGHT_ONE - 1),
    )
}

/// The exact blend every path computes: weights out of 64 each way, rounded once.
#[inline(always)]
fn blend(p00: u32, p01: u32, p10: u32, p11: u32, fx: u32, fy: u32) -> u8 {
    let top = p00 * (WEIGHT_ONE - fx) + p01 * fx;
    let bottom = p10 * (WEIGHT_ONE - fx) + p11 * fx;
    ((top * (WEIGHT_ONE - fy) + bottom * fy + (1 << (2 * WEIGHT_BITS - 1))) >> (2 * WEIGHT_BITS))
        as u8
}

/// A pixel near the source's border: neighbours outside it are the background.
fn edge_pixel(src: Source<'_>, line: &Line, x: usize, fill: &[u8; 4], px: &mut [u8]) {
    let ch = src.channels;
    let (sx, sy) = line.at(x);
    let ((ix, fx), (iy, fy)) = (split(sx), split(sy));
    let sample = |cx: i64, cy: i64, c: usize| -> u32 {
        if cx >= 0 && cy >= 0 && (cx as usize) < src.width && (cy as usize) < src.height {
            u32::from(src.pixels[(cy as usize * src.width + cx as usize) * ch + c])
        } else {
            u32::from(fill[c])
        }
    };
    for (c, out) in px.iter_mut().enumerate() {
        *out = blend(
            sample(ix, iy, c),
            sample(ix + 1, iy, c),
            sample(ix, iy + 1, c),
            sample(ix + 1, iy + 1, c),
            fx,
            fy,
        );
    }
}

/// Interior pixels, from column `first` on: all four neighbours are inside the source.
#[inline(always)]
fn interior_run<const C: usize>(src: Source<'_>, line: &Line, first: usize, out: &mut [u8]) {
    let stride = src.width * C;
    for (k, px) in out.chunks_exact_mut(C).enumerate() {
        let (sx, sy) = line.at(first + k);
        let ((ix, fx), (iy, fy)) = (split(sx), split(sy));
        let i = iy as usize * stride + ix as usize * C;
        let top = &src.pixels[i..i + 2 * C];
        let bottom = &src.pixels[i + stride..i + stride + 2 * C];
        for c in 0..C {
            px[c] = blend(
                u32::from(top[c]),
                u32::from(top[C + c]),
                u32::from(bottom[c]),
                u32::from(bottom[C + c]),
                fx,
                fy,
            );
        }
    }
}

fn interior_any<const C: usize>(
    src: Source<'_>,
    line: &Line,
    first: usize,
    out: &mut [u8],
    avx2: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` is true only when the CPU supports AVX2 (`avx2_available`).
        let done = unsafe { avx2::interior::<C>(src, line, first, out) };
        interior_run::<C>(src, line, first + done, &mut out[done * C..]);
        return;
    }
    let _ = avx2;
    interior_run::<C>(src, line, first, out);
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{split, Line, Source, WEIGHT_BITS, WEIGHT_ONE};
    use std::arch::x86_64::*;

    /// Interior pixels of 3 or 4 channels, 8 at a time; returns how many it did (a multiple
    /// of 8; the caller finishes the rest). Coordinates step in vectors; each neighbour is
    /// one gathered 4-byte word per pixel, so the blend works on whole pixels: `maddubs`
    /// applies the horizontal weights to (left, right) byte pairs, `madd` the vertical ones
    /// to (top, bottom) pairs, both exactly as `super::blend` does.
    #[target_feature(enable = "avx2")]
    pub unsafe fn interior<const C: usize>(
        src: Source<'_>,
        line: &Line,
        first: usize,
        out: &mut [u8],
    ) -> usize {
        let count = out.len() / C;
        let blocks = count / 8;
        let stride = src.width * C;
        // Gathers take i32 offsets. The words reach 3 bytes past a pixel's start.
        if blocks == 0 || src.pixels.len() > i32::MAX as usize - 4 {
            return 0;
        }
        // The loads below are unchecked, so check here what makes them safe: both source
        // coordinates are monotonic along the row, so if the first and last pixels have all
        // four neighbours inside the source, every pixel between does.
        let inside = |k: usize| {
            let (sx, sy) = line.at(first + k);
            let ((ix, _), (iy, _)) = (split(sx), split(sy));
            ix >= 0 && iy >= 0 && ix + 1 < src.width as i64 && iy + 1 < src.height as i64
        };
        if !inside(0) || !inside(count - 1) {
            return 0;
        }
        // With 3 channels the word at a pixel takes one byte of the next; the right-hand
        // neighbour's word is loaded one byte early (and shifted), so that no load passes
        // the end of the source, even at its last pixel.
        let right = if C == 3 { 2 } else { 4 };
        let base = src.pixels.as_ptr().cast::<i32>();
        let (dx, dy) = (line.dx, line.dy);
        let steps_lo = _mm256_setr_epi64x(0, dx, 2 * dx, 3 * dx);
        let steps_hi = _mm256_setr_epi64x(4 * dx, 5 * dx, 6 * dx, 7 * dx);
        let ysteps_lo = _mm256_setr_epi64x(0, dy, 2 * dy, 3 * dy);
        let ysteps_hi = _mm256_setr_epi64x(4 * dy, 5 * dy, 6 * dy, 7 * dy);
        let frac_mask = _mm256_set1_epi32(WEIGHT_ONE as i32 - 1);
        let one = _mm256_set1_epi32(WEIGHT_ONE as i32);
        let stride_v = _mm256_set1_epi32(stride as i32);
        let (d01, d10, d11) = (
            _mm256_set1_epi32(right as i32),
            _mm256_set1_epi32(stride as i32),
            _mm256_set1_epi32((stride + right) as i32),
        );
        // Per 128-bit lane, unpacklo holds pixels 0,1 (4,5) and unpackhi 2,3 (6,7):
        // replicate each pixel's weight pair over its four channels to match.
        let lo_pairs = _mm256_setr_epi8(
            0, 1, 0, 1, 0, 1, 0, 1, 4, 5, 4, 5, 4, 5, 4, 5, 0, 1, 0, 1, 0, 1, 0, 1, 4, 5, 4, 5, 4,
            5, 4, 5,
        );
        let hi_pairs = _mm256_setr_epi8(
            8, 9, 8, 9, 8, 9, 8, 9, 12, 13, 12, 13, 12, 13, 12, 13, 8, 9, 8, 9, 8, 9, 8, 9, 12, 13,
            12, 13, 12, 13, 12, 13,
        );
        for block in 0..blocks {
            let (sx, sy) = line.at(first + block * 8);
            // Pixel and weight together: (s >> 26) is pixel * 64 + weight, which fits an i32.
            let xs = fixed_to_i32(
                _mm256_add_epi64(_mm256_set1_epi64x(sx), steps_lo),
                _mm256_add_epi64(_mm256_set1_epi64x(sx), steps_hi),
            );
            let ys = fixed_to_i32(
                _mm256_add_epi64(_mm256_set1_epi64x(sy), ysteps_lo),
                _mm256_add_epi64(_mm256_set1_epi64x(sy), ysteps_hi),
            );
            let (ix, fx) = (
                _mm256_srli_epi32::<{ WEIGHT_BITS as i32 }>(xs),
                _mm256_and_si256(xs, frac_mask),
            );
            let (iy, fy) = (
                _mm256_srli_epi32::<{ WEIGHT_BITS as i32 }>(ys),
                _mm256_and_si256(ys, frac_mask),
            );
            let column = if C == 4 {
                _mm256_slli_epi32::<2>(ix)
            } else {
                _mm256_add_epi32(ix, _mm256_slli_epi32::<1>(ix))
            };
            let offsets = _mm256_add_epi32(_mm256_mullo_epi32(iy, stride_v), column);
            // SAFETY: every pixel of the block is interior (checked above for the row), so
            // each word lies inside `src.pixels`; the offsets fit i32 (checked above).
            let p00 = _mm256_i32gather_epi32::<1>(base, offsets);
            let mut p01 = _mm256_i32gather_epi32::<1>(base, _mm256_add_epi32(offsets, d01));
            let p10 = _mm256_i32gather_epi32::<1>(base, _mm256_add_epi32(offsets, d10));
            let mut p11 = _mm256_i32gather_epi32::<1>(base, _mm256_add_epi32(offsets, d11));
            if C == 3 {
                p01 = _mm256_srli_epi32::<8>(p01);
                p11 = _mm256_srli_epi32::<8>(p11);
            }
            // (left, right) byte weights and (top, bottom) 16-bit weights per pixel.
            let wx = _mm256_or_si256(_mm256_sub_epi32(one, fx), _mm256_slli_epi32::<8>(fx));
            let wy = _mm256_or_si256(_mm256_sub_epi32(one, fy), _mm256_slli_epi32::<16>(fy));
            let wx_lo = _mm256_shuffle_epi8(wx, lo_pairs);
            let wx_hi = _mm256_shuffle_epi8(wx, hi_pairs);
            // Horizontal: 16-bit (left * (64 - fx) + right * fx) per channel.
            let top_lo = _mm256_maddubs_epi16(_mm256_unpacklo_epi8(p00, p01), wx_lo);
            let top_hi = _mm256_maddubs_epi16(_mm256_unpackhi_epi8(p00, p01), wx_hi);
            let bot_lo = _mm256_maddubs_epi16(_mm256_unpacklo_epi8(p10, p11), wx_lo);
            let bot_hi = _mm256_maddubs_epi16(_mm256_unpackhi_epi8(p10, p11), wx_hi);
            // Pixels (0|4), (1|5) and (2|6), (3|7) as 32-bit channels.
            let (q0, q1) = vertical(top_lo, bot_lo, wy, 0);
            let (q2, q3) = vertical(top_hi, bot_hi, wy, 2);
            // Pack back to bytes: lane 0 gives pixels 0..3, lane 1 pixels 4..7, in order.
            let bytes =
                _mm256_packus_epi16(_mm256_packus_epi32(q0, q1), _mm256_packus_epi32(q2, q3));
            let dst = &mut out[block * 8 * C..(block + 1) * 8 * C];
            if C == 4 {
                _mm256_storeu_si256(dst.as_mut_ptr().cast(), bytes);
            } else {
                // Drop every fourth byte: 12 bytes per lane, then the lanes side by side.
                let packed = _mm256_shuffle_epi8(
                    bytes,
                    _mm256_setr_epi8(
                        0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1, 0, 1, 2, 4, 5, 6,
                        8, 9, 10, 12, 13, 14, -1, -1, -1, -1,
                    ),
                );
                let packed =
                    _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7));
                let mut rgb = [0u8; 32];
                _mm256_storeu_si256(rgb.as_mut_ptr().cast(), packed);
                dst.copy_from_slice(&rgb[..24]);
            }
        }
        blocks * 8
    }

    /// `(s >> (32 - WEIGHT_BITS))` of eight 32.32 values (two vectors of four), as i32s.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn fixed_to_i32(lo: __m256i, hi: __m256i) -> __m256i {
        const SHIFT: i32 = 32 - WEIGHT_BITS as i32;
        let evens = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
        let lo = _mm256_permutevar8x32_epi32(_mm256_srli_epi64::<SHIFT>(lo), evens);
        let hi = _mm256_permutevar8x32_epi32(_mm256_srli_epi64::<SHIFT>(hi), evens);
        _mm256_blend_epi32::<0b1111_0000>(lo, hi)
    }

    /// The vertical blend of pixels `a` and `a + 1` (and `a + 4`, `a + 5` in the upper lane)
    /// from horizontally blended rows: `top` holds their channels as 16-bit values, pixel `a`
    /// first. Returns each pixel's channels as rounded 32-bit values.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn vertical(top: __m256i, bottom: __m256i, wy: __m256i, a: i32) -> (__m256i, __m256i) {
        let b = a + 1;
        let wa = _mm256_permutevar8x32_epi32(
            wy,
            _mm256_setr_epi32(a, a, a, a, a + 4, a + 4, a + 4, a + 4),
        );
        let wb = _mm256_permutevar8x32_epi32(
            wy,
            _mm256_setr_epi32(b, b, b, b, b + 4, b + 4, b + 4, b + 4),
        );
        let round = _mm256_set1_epi32(1 << (2 * WEIGHT_BITS - 1));
        let first = _mm256_madd_epi16(_mm256_unpacklo_epi16(top, bottom), wa);
        let second = _mm256_madd_epi16(_mm256_unpackhi_epi16(top, bottom), wb);
        (
            _mm256_srli_epi32::<{ 2 * WEIGHT_BITS as i32 }>(_mm256_add_epi32(first, round)),
            _mm256_srli_epi32::<{ 2 * WEIGHT_BITS as i32 }>(_mm256_add_epi32(second, round)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rotation(degrees: f64, w: usize, h: usize) -> Affine {
        let (s, c) = degrees.to_radians().sin_cos();
        let (cx, cy) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
        // source = R(-theta) (out - centre) + centre
        Affine {
            a: c,
            b: s,
            c: cx - c * cx - s * cy,
            d: -s,
            e: c,
            f: cy + s * cx - c * cy,
        }
    }

    fn picture(w: usize, h: usize, ch: usize) -> Vec<u8> {
        (0..w * h * ch)
            .map(|i| ((i * 7919 + i / 13 * 31) % 251) as u8)
            .collect()
    }

    /// The per-pixel formula with bounds tests everywhere: what every path must equal.
    fn reference(src: Source<'_>, map: &Affine, fill: [u8; 4], w: usize, h: usize) -> Vec<u8> {
        let ch = src.channels;
        let mut out = vec![0; w * h * ch];
        for y in 0..h {
            let half = 1 << (31 - WEIGHT_BITS);
            let line = Line {
                x0: fixed(map.b * y as f64 + map.c) + half,
                y0: fixed(map.e * y as f64 + map.f) + half,
                dx: fixed(map.a),
                dy: fixed(map.d),
            };
            for x in 0..w {
                let px = &mut out[(y * w + x) * ch..(y * w + x + 1) * ch];
                edge_pixel(src, &line, x, &fill, px);
            }
        }
        out
    }

    #[test]
    fn every_path_equals_the_bounds_checked_formula() {
        for ch in 1..=4 {
            for (w, h) in [(1, 1), (2, 2), (7, 5), (37, 23), (64, 33)] {
                let pixels = picture(w, h, ch);
                let src = Source {
                    pixels: &pixels,
                    width: w,
                    height: h,
                    channels: ch,
                };
                for degrees in [0.0, 3.0, 17.0, 45.0, 90.5, 179.0, 200.0, -30.0, 359.9] {
                    let map = rotation(degrees, w, h);
                    let fill = [9, 200, 77, 5];
                    let (ow, oh) = (w + 3, h + 1);
                    let want = reference(src, &map, fill, ow, oh);
                    assert_eq!(
                        warp(src, &map, Sampling::Bilinear, fill, ow, oh),
                        want,
                        "{ch} channels, {w}x{h}, {degrees} degrees"
                    );
                }
            }
        }
    }

    #[test]
    fn the_avx2_and_portable_interiors_agree() {
        if !avx2_available() {
            return;
        }
        for ch in [3, 4] {
            let (w, h) = (300, 200);
            let pixels = picture(w, h, ch);
            let src = Source {
                pixels: &pixels,
                width: w,
                height: h,
                channels: ch,
            };
            let map = rotation(17.0, w, h);
            let mut with = vec![0; w * h * ch];
            let mut without = with.clone();
            for y in 0..h {
                let fill = [1, 2, 3, 4];
                let mut row_map = map;
                row_map.c += map.b * y as f64;
                row_map.f += map.e * y as f64;
                let line = Line {
                    x0: fixed(row_map.c) + (1 << 25),
                    y0: fixed(row_map.f) + (1 << 25),
                    dx: fixed(map.a),
                    dy: fixed(map.d),
                };
                bilinear_row(
                    src,
                    &line,
                    &fill,
                    &mut with[y * w * ch..(y + 1) * w * ch],
                    true,
                );
                bilinear_row(
                    src,
                    &line,
                    &fill,
                    &mut without[y * w * ch..(y + 1) * w * ch],
                    false,
                );
            }
            assert_eq!(with, without, "{ch} channels");
        }
    }

    #[test]
    fn an_identity_map_copies_the_image_and_a_shift_moves_it() {
        let (w, h) = (40, 30);
        for ch in 1..=4 {
            let pixels = picture(w, h, ch);
            let src = Source {
                pixels: &pixels,
                width: w,
                height: h,
                channels: ch,
            };
            let identity = Affine {
                a: 1.0,
                b: 0.0,
                c: 0.0,
                d: 0.0,
                e: 1.0,
                f: 0.0,
            };
            for sampling in [Sampling::Nearest, Sampling::Bilinear] {
                assert_eq!(warp(src, &identity, sampling, [0; 4], w, h), pixels);
            }
            // Out (x, y) = source (x + 2, y - 1): column w - 2.. and row 0 are background.
            let shift = Affine {
                c: 2.0,
                f: -1.0,
                ..identity
            };
            let out = warp(src, &shift, Sampling::Bilinear, [7; 4], w, h);
            for y in 0..h {
                for x in 0..w {
                    let got = &out[(y * w + x) * ch..(y * w + x + 1) * ch];
                    if y == 0 || x + 2 >= w {
                        assert!(got.iter().all(|&v| v == 7), "({x}, {y}) is background");
                    } else {
                        let i = ((y - 1) * w + x + 2) * ch;
                        assert_eq!(got, &pixels[i..i + ch], "({x}, {y})");
                    }
                }
            }
        }
    }

    #[test]
    fn runs_are_exact_at_their_ends() {
        // base + x step in [lo, hi) for step of either sign, checked against brute force.
        for (base, step, lo, hi) in [
            (5, 3, 10, 20),
            (-7, -2, -20, -9),
            (0, 0, 0, 1),
            (4, -1, 0, 4),
        ] {
            let (first, end) = run(base, step, lo, hi, 30);
            let want: Vec<usize> = (0..30)
                .filter(|&x| (lo..hi).contains(&(base + x as i64 * step)))
                .collect();
            let got: Vec<usize> = (first..end).collect();
            assert_eq!(got, want, "{base} + x {step} in [{lo}, {hi})");
        }
    }

    #[test]
    fn non_finite_and_absurdly_far_maps_give_background() {
        let pixels = picture(8, 8, 3);
        let src = Source {
            pixels: &pixels,
            width: 8,
            height: 8,
            channels: 3,
        };
        let map = Affine {
            a: f64::NAN,
            b: 0.0,
            c: f64::INFINITY,
            d: 0.0,
            e: 1.0,
            f: 0.0,
        };
        for sampling in [Sampling::Nearest, Sampling::Bilinear] {
            let out = warp(src, &map, sampling, [1, 2, 3, 0], 8, 8);
            assert!(out.chunks_exact(3).all(|p| p == [1, 2, 3]));
        }
        for (a, c) in [(1.0, 1e300), (1.0, -1e300), (1e300, 0.0), (-1e300, 4.0)] {
            let map = Affine {
                a,
                b: 0.0,
                c,
                d: 0.0,
                e: 1.0,
                f: 0.0,
            };
            for sampling in [Sampling::Nearest, Sampling::Bilinear] {
                let out = warp(src, &map, sampling, [1, 2, 3, 0], 8, 8);
                // Only a pre-image column 0 with a = huge can land inside; all others miss.
                let inside = out.chunks_exact(3).filter(|p| *p != [1, 2, 3]).count();
                assert!(inside <= 8, "{a} {c} {sampling:?}: {inside} pixels inside");
            }
        }
    }
}
