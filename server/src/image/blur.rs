//! Gaussian blur, written for speed: two separable passes, each a sum of whole shifted rows
//! times one weight (long contiguous loops the compiler vectorises), with OpenCV's
//! reflect-101 border and kernel sizes (3 sigma each side for 8-bit samples, 4 sigma for
//! 16-bit and float), so results agree with `cv2.GaussianBlur`. 8-bit samples use
//! fixed-point integers in 16-bit lanes (AVX2 when the CPU has it), with horizontal rows made
//! into a ring of the 2r + 1 rows the vertical pass reads, so that the intermediate image
//! never leaves the cache; 16-bit and float samples use f32.

use image::{DynamicImage, ImageBuffer, Pixel};

use crate::image::gradients::Border;
use crate::image::samples::map_image;

/// Weights are scaled to 2^16; the horizontal pass keeps 8 bits of fraction (u16), the
/// vertical pass drops them.
const ONE: u32 = 1 << 16;

/// Reflect-101 of index `i` into `0..n`, OpenCV's default border.
fn reflect(i: isize, n: usize) -> usize {
    Border::Reflect101.index(i, n)
}

/// OpenCV's kernel radius for `sigma`: `ksize = round(sigma * (8-bit ? 3 : 4) * 2 + 1) | 1`.
fn radius(sigma: f32, eight_bit: bool) -> isize {
    let spread = if eight_bit { 3.0 } else { 4.0 };
    let ksize = (f64::from(sigma) * spread * 2.0 + 1.0).round() as isize | 1;
    (ksize / 2).max(1)
}

/// The normalised Gaussian weights of `sigma` over `-radius..=radius`.
fn weights(sigma: f32, radius: isize) -> Vec<f64> {
    let w: Vec<f64> = (-radius..=radius)
        .map(|i| (-((i * i) as f64) / (2.0 * f64::from(sigma) * f64::from(sigma))).exp())
        .collect();
    let total: f64 = w.iter().sum();
    w.into_iter().map(|v| v / total).collect()
}

/// The Gaussian kernel of `sigma` for 8-bit samples in fixed point, summing to exactly [`ONE`].
fn kernel(sigma: f32) -> Vec<u32> {
    let radius = radius(sigma, true);
    let weights = weights(sigma, radius);
    let mut fixed: Vec<u32> = weights
        .iter()
        .map(|w| (w * f64::from(ONE)).round() as u32)
        .collect();
    // Rounding leaves the sum a few units off; the centre absorbs it so flat areas stay flat.
    let sum: u32 = fixed.iter().sum();
    let centre = radius as usize;
    fixed[centre] = (fixed[centre] + ONE).saturating_sub(sum);
    fixed
}

/// Blurs `src` (`w` x `h` pixels of `ch` interleaved 8-bit samples), with the widest vector
/// instructions this CPU has: the passes are 32-bit multiply-adds, which baseline x86-64
/// (SSE2) cannot vectorise but AVX2 does eight at a time.
fn blur_u8(src: &[u8], w: usize, h: usize, ch: usize, sigma: f32) -> Vec<u8> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { blur_u8_avx2(src, w, h, ch, sigma) };
    }
    blur_u8_portable(src, w, h, ch, sigma)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn blur_u8_avx2(src: &[u8], w: usize, h: usize, ch: usize, sigma: f32) -> Vec<u8> {
    blur_u8_body(src, w, h, ch, sigma)
}

fn blur_u8_portable(src: &[u8], w: usize, h: usize, ch: usize, sigma: f32) -> Vec<u8> {
    blur_u8_body(src, w, h, ch, sigma)
}

/// The two passes; inlined into each instruction-set variant above.
#[inline(always)]
fn blur_u8_body(src: &[u8], w: usize, h: usize, ch: usize, sigma: f32) -> Vec<u8> {
    let k = kernel(sigma);
    // Up to radius 200 (sigma 66) the intermediate rows plus their bias stay below 32768.
    if k.len() <= 401 && k.iter().all(|&weight| weight < ONE) {
        let k16: Vec<u16> = k.iter().map(|&weight| weight as u16).collect();
        return blur_u8_16(src, w, h, ch, &k16);
    }
    blur_u8_32(src, w, h, ch, &k)
}

/// Both passes in 16-bit lanes (twice as many per vector instruction as 32-bit ones):
/// each pair of taps is summed, scaled to at most 65280 and multiplied by its 16-bit weight
/// keeping the high half (`pmulhuw`). Intermediate rows keep 7 bits of fraction (at most
/// 255 * 128, so that a pair of them still fits 16 bits). Each high half drops less than
/// one unit of 1/128; half a unit per term is added back, so the result is unbiased.
#[inline(always)]
fn blur_u8_16(src: &[u8], w: usize, h: usize, ch: usize, k: &[u16]) -> Vec<u8> {
    let r = k.len() / 2;
    // Half a unit for each of the r + 1 terms.
    let bias = (r as u16).div_ceil(2);
    let row_len = w * ch;
    // Horizontal rows are made as the vertical pass first needs them, into a ring of the
    // 2r + 1 rows it reads at once: the ring stays in cache, where a whole intermediate
    // image (two bytes a sample) would go out to memory and back.
    let slots = 2 * r + 1;
    let mut ring = vec![0u16; row_len * slots];
    let mut padded = vec![0u8; (w + 2 * r) * ch];
    let mut made = 0;
    let mut out = vec![0u8; row_len * h];
    let mut acc = vec![0u16; row_len];
    for y in 0..h {
        // Every row this output reads lies in [y - r, y + r] (reflection stays inside).
        while made < h.min(y + r + 1) {
            let row = &src[made * row_len..(made + 1) * row_len];
            pad_row(&mut padded, row, w, ch, r);
            let slot = made % slots;
            let line = &mut ring[slot * row_len..(slot + 1) * row_len];
            paired_taps16::<u8>(line, k, bias, |tap| &padded[tap * ch..tap * ch + row_len]);
            made += 1;
        }
        paired_taps16::<u16>(&mut acc, k, bias, |tap| {
            let slot = reflect(y as isize + tap as isize - r as isize, h) % slots;
            &ring[slot * row_len..(slot + 1) * row_len]
        });
        for (o, &a) in out[y * row_len..(y + 1) * row_len].iter_mut().zip(&acc) {
            *o = ((a + 64) >> 7).min(255) as u8;
        }
    }
    out
}

/// `row` with `r` reflected pixels each side in `padded`: the middle in one copy, then only
/// the 2r border pixels one by one.
fn pad_row(padded: &mut [u8], row: &[u8], w: usize, ch: usize, r: usize) {
    padded[r * ch..r * ch + row.len()].copy_from_slice(row);
    for px in (0..r).chain(r + w..w + 2 * r) {
        let sx = reflect(px as isize - r as isize, w);
        padded.copy_within(r * ch + sx * ch..r * ch + (sx + 1) * ch, px * ch);
    }
}

/// A sample type of the 16-bit passes: 8-bit pixels (horizontal) or intermediate rows
/// (vertical).
trait Tap16: Copy + Into<u16> {
    /// Scales a pair's sum to at most 65280.
    const SHIFT: u32;

    /// The AVX2 blocks of `paired_taps16`: how many leading outputs it did (0 without AVX2).
    fn simd(acc: &mut [u16], k: &[u16], bias: u16, rows: &[&[Self]]) -> usize;
}

impl Tap16 for u8 {
    const SHIFT: u32 = 7;

    fn simd(acc: &mut [u16], k: &[u16], bias: u16, rows: &[&[u8]]) -> usize {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { avx2::taps(acc, k, bias, rows) };
        }
        let _ = (acc, k, bias, rows);
        0
    }
}

impl Tap16 for u16 {
    const SHIFT: u32 = 0;

    fn simd(acc: &mut [u16], k: &[u16], bias: u16, rows: &[&[u16]]) -> usize {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { avx2::taps(acc, k, bias, rows) };
        }
        let _ = (acc, k, bias, rows);
        0
    }
}

/// `hi16(x * weight)`, what `pmulhuw` computes.
#[inline(always)]
fn hi(x: u16, weight: u16) -> u16 {
    ((u32::from(x) * u32::from(weight)) >> 16) as u16
}

/// `acc[x] = bias + Σ hi16(((row(r - i)[x] + row(r + i)[x]) << SHIFT) * k[r + i])` over the
/// taps of the symmetric kernel `k`, the centre tap alone.
#[inline(always)]
fn paired_taps16<'a, T: Tap16 + 'a>(
    acc: &mut [u16],
    k: &[u16],
    bias: u16,
    row: impl Fn(usize) -> &'a [T],
) {
    let r = k.len() / 2;
    let rows: Vec<&[T]> = (0..k.len()).map(row).collect();
    let done = T::simd(acc, k, bias, &rows);
    for x in done..acc.len() {
        let mut s = bias + hi(rows[r][x].into() << T::SHIFT, k[r]);
        for i in 1..=r {
            s += hi(
                (rows[r - i][x].into() + rows[r + i][x].into()) << T::SHIFT,
                k[r + i],
            );
        }
        acc[x] = s;
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// 16 samples of a row as 16-bit lanes.
    pub trait Load: Copy {
        /// # Safety
        /// `row[at..at + 16]` must exist, and the CPU must have AVX2.
        unsafe fn load(row: &[Self], at: usize) -> __m256i;
    }

    impl Load for u8 {
        #[inline(always)]
        unsafe fn load(row: &[u8], at: usize) -> __m256i {
            _mm256_cvtepu8_epi16(_mm_loadu_si128(row.as_ptr().add(at).cast()))
        }
    }

    impl Load for u16 {
        #[inline(always)]
        unsafe fn load(row: &[u16], at: usize) -> __m256i {
            _mm256_loadu_si256(row.as_ptr().add(at).cast())
        }
    }

    /// `paired_taps16` for the leading multiple of 32 outputs, two vectors of 16 at a time
    /// whose sums stay in registers across all taps; returns how many it did.
    #[target_feature(enable = "avx2")]
    pub unsafe fn taps<T: Load + super::Tap16>(
        acc: &mut [u16],
        k: &[u16],
        bias: u16,
        rows: &[&[T]],
    ) -> usize {
        let n = acc.len();
        // The loads below read rows[t][..n]; make sure every row is that long.
        if rows.iter().any(|row| row.len() < n) {
            return 0;
        }
        let r = k.len() / 2;
        let shift = _mm_cvtsi32_si128(T::SHIFT as i32);
        // Scales a pair's sum (the vertical pass needs no shift: the constant folds away).
        let scale = |v: __m256i| {
            if T::SHIFT == 0 {
                v
            } else {
                _mm256_sll_epi16(v, shift)
            }
        };
        let blocks = n / 32 * 32;
        for start in (0..blocks).step_by(32) {
            let (mut s0, mut s1) = (
                _mm256_set1_epi16(bias as i16),
                _mm256_set1_epi16(bias as i16),
            );
            let weight = _mm256_set1_epi16(k[r] as i16);
            // SAFETY (all loads): start + 32 <= n <= every row's length.
            let centre = rows[r];
            s0 = _mm256_add_epi16(
                s0,
                _mm256_mulhi_epu16(scale(T::load(centre, start)), weight),
            );
            s1 = _mm256_add_epi16(
                s1,
                _mm256_mulhi_epu16(scale(T::load(centre, start + 16)), weight),
            );
            for i in 1..=r {
                let (a, b) = (rows[r - i], rows[r + i]);
                let weight = _mm256_set1_epi16(k[r + i] as i16);
                let p0 = _mm256_add_epi16(T::load(a, start), T::load(b, start));
                let p1 = _mm256_add_epi16(T::load(a, start + 16), T::load(b, start + 16));
                s0 = _mm256_add_epi16(s0, _mm256_mulhi_epu16(scale(p0), weight));
                s1 = _mm256_add_epi16(s1, _mm256_mulhi_epu16(scale(p1), weight));
            }
            _mm256_storeu_si256(acc.as_mut_ptr().add(start).cast(), s0);
            _mm256_storeu_si256(acc.as_mut_ptr().add(start + 16).cast(), s1);
        }
        blocks
    }
}

/// The same passes in 32-bit lanes, for kernels with a weight of one (sigma so small that
/// the blur is the identity) or very wide ones.
#[inline(always)]
fn blur_u8_32(src: &[u8], w: usize, h: usize, ch: usize, k: &[u32]) -> Vec<u8> {
    let r = k.len() / 2;
    let row_len = w * ch;
    // Horizontal pass into u16 rows (8 bits of fraction kept).
    let mut tmp = vec![0u16; row_len * h];
    let mut padded = vec![0u8; (w + 2 * r) * ch];
    let mut acc = vec![0u32; row_len];
    for y in 0..h {
        let row = &src[y * row_len..(y + 1) * row_len];
        pad_row(&mut padded, row, w, ch, r);
        // The kernel is symmetric: each pair of taps at distance i from the centre shares a
        // weight, so the samples are added first and multiplied once (half the multiplies).
        paired_taps(&mut acc, k, |tap| &padded[tap * ch..tap * ch + row_len]);
        for (t, &a) in tmp[y * row_len..(y + 1) * row_len].iter_mut().zip(&acc) {
            *t = ((a + 128) >> 8) as u16;
        }
    }
    // Vertical pass: each output row is a weighted sum of whole intermediate rows.
    let mut out = vec![0u8; row_len * h];
    for y in 0..h {
        // At most 2 x 65280 x weight per pair, and all the weights sum to 2^16: no overflow.
        paired_taps(&mut acc, k, |tap| {
            let sy = reflect(y as isize + tap as isize - r as isize, h);
            &tmp[sy * row_len..(sy + 1) * row_len]
        });
        for (o, &a) in out[y * row_len..(y + 1) * row_len].iter_mut().zip(&acc) {
            *o = ((a + (1 << 23)) >> 24) as u8;
        }
    }
    out
}

/// `acc[x] = Σ k[t] * row(t)[x]` over the taps of the symmetric kernel `k`, pairing the taps
/// that share a weight. Outputs go in blocks of `LANES` whose sums stay in registers across
/// all taps, so each block is stored once rather than once per tap.
#[inline(always)]
fn paired_taps<'a, T: Copy + Into<u32> + 'a>(
    acc: &mut [u32],
    k: &[u32],
    row: impl Fn(usize) -> &'a [T],
) {
    const LANES: usize = 16;
    let r = k.len() / 2;
    let rows: Vec<&[T]> = (0..k.len()).map(row).collect();
    let n = acc.len();
    let blocks = n / LANES * LANES;
    for start in (0..blocks).step_by(LANES) {
        let mut sum = [0u32; LANES];
        let centre = &rows[r][start..start + LANES];
        for (s, &v) in sum.iter_mut().zip(centre) {
            *s = k[r] * v.into();
        }
        for i in 1..=r {
            let (a, b) = (
                &rows[r - i][start..start + LANES],
                &rows[r + i][start..start + LANES],
            );
            let weight = k[r + i];
            for l in 0..LANES {
                sum[l] += weight * (a[l].into() + b[l].into());
            }
        }
        acc[start..start + LANES].copy_from_slice(&sum);
    }
    for x in blocks..n {
        let mut s = k[r] * rows[r][x].into();
        for i in 1..=r {
            s += k[r + i] * (rows[r - i][x].into() + rows[r + i][x].into());
        }
        acc[x] = s;
    }
}

fn blur_buffer<P: Pixel<Subpixel = u8>>(
    buf: ImageBuffer<P, Vec<u8>>,
    sigma: f32,
) -> ImageBuffer<P, Vec<u8>> {
    let (w, h) = buf.dimensions();
    let out = blur_u8(
        buf.as_raw(),
        w as usize,
        h as usize,
        usize::from(P::CHANNEL_COUNT),
        sigma,
    );
    ImageBuffer::from_raw(w, h, out).unwrap_or(buf)
}

/// A sample blurred in f32 and stored back.
trait FloatSample: Copy {
    fn get(self) -> f32;
    fn put(v: f32) -> Self;
}

impl FloatSample for u16 {
    fn get(self) -> f32 {
        f32::from(self)
    }
    fn put(v: f32) -> Self {
        v.round().clamp(0.0, 65535.0) as u16
    }
}

impl FloatSample for f32 {
    fn get(self) -> f32 {
        self
    }
    fn put(v: f32) -> Self {
        v
    }
}

/// The same two passes as the 8-bit path, in f32 (which vectorises on any x86-64).
fn blur_float<S: FloatSample>(src: &[S], w: usize, h: usize, ch: usize, sigma: f32) -> Vec<S> {
    let r = radius(sigma, false);
    let k: Vec<f32> = weights(sigma, r).into_iter().map(|v| v as f32).collect();
    let r = r as usize;
    let row_len = w * ch;
    let mut tmp = vec![0f32; row_len * h];
    let mut padded = vec![0f32; (w + 2 * r) * ch];
    let mut acc = vec![0f32; row_len];
    for y in 0..h {
        let row = &src[y * row_len..(y + 1) * row_len];
        for (px, out) in padded.chunks_exact_mut(ch).enumerate() {
            let sx = reflect(px as isize - r as isize, w);
            for (o, s) in out.iter_mut().zip(&row[sx * ch..(sx + 1) * ch]) {
                *o = s.get();
            }
        }
        acc.fill(0.0);
        for (tap, &weight) in k.iter().enumerate() {
            for (a, &v) in acc.iter_mut().zip(&padded[tap * ch..tap * ch + row_len]) {
                *a += weight * v;
            }
        }
        tmp[y * row_len..(y + 1) * row_len].copy_from_slice(&acc);
    }
    let mut out = Vec::with_capacity(row_len * h);
    for y in 0..h {
        acc.fill(0.0);
        for (tap, &weight) in k.iter().enumerate() {
            let sy = reflect(y as isize + tap as isize - r as isize, h);
            for (a, &v) in acc.iter_mut().zip(&tmp[sy * row_len..(sy + 1) * row_len]) {
                *a += weight * v;
            }
        }
        out.extend(acc.iter().map(|&a| S::put(a)));
    }
    out
}

fn blur_float_buffer<P>(
    buf: ImageBuffer<P, Vec<P::Subpixel>>,
    sigma: f32,
) -> ImageBuffer<P, Vec<P::Subpixel>>
where
    P: Pixel,
    P::Subpixel: FloatSample,
{
    let (w, h) = buf.dimensions();
    let out = blur_float(
        buf.as_raw(),
        w as usize,
        h as usize,
        usize::from(P::CHANNEL_COUNT),
        sigma,
    );
    ImageBuffer::from_raw(w, h, out).unwrap_or(buf)
}

/// Gaussian blur with standard deviation `sigma` (> 0), every channel alike.
pub fn gaussian_blur(image: DynamicImage, sigma: f32) -> DynamicImage {
    match image {
        DynamicImage::ImageLuma8(b) => DynamicImage::ImageLuma8(blur_buffer(b, sigma)),
        DynamicImage::ImageLumaA8(b) => DynamicImage::ImageLumaA8(blur_buffer(b, sigma)),
        DynamicImage::ImageRgb8(b) => DynamicImage::ImageRgb8(blur_buffer(b, sigma)),
        DynamicImage::ImageRgba8(b) => DynamicImage::ImageRgba8(blur_buffer(b, sigma)),
        DynamicImage::ImageLuma16(b) => DynamicImage::ImageLuma16(blur_float_buffer(b, sigma)),
        DynamicImage::ImageLumaA16(b) => DynamicImage::ImageLumaA16(blur_float_buffer(b, sigma)),
        DynamicImage::ImageRgb16(b) => DynamicImage::ImageRgb16(blur_float_buffer(b, sigma)),
        DynamicImage::ImageRgba16(b) => DynamicImage::ImageRgba16(blur_float_buffer(b, sigma)),
        DynamicImage::ImageRgb32F(b) => DynamicImage::ImageRgb32F(blur_float_buffer(b, sigma)),
        DynamicImage::ImageRgba32F(b) => DynamicImage::ImageRgba32F(blur_float_buffer(b, sigma)),
        other => map_image!(other, buf => imageproc::filter::gaussian_blur_f32(&buf, sigma)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma, Rgb, RgbImage};

    /// The definition in floating point, with reflect-101 borders.
    fn reference(gray: &GrayImage, sigma: f32) -> Vec<f64> {
        let (w, h) = (gray.width() as usize, gray.height() as usize);
        let r = radius(sigma, true);
        let g: Vec<f64> = (-r..=r)
            .map(|i| (-((i * i) as f64) / (2.0 * f64::from(sigma).powi(2))).exp())
            .collect();
        let total: f64 = g.iter().sum();
        let mut out = vec![0.0; w * h];
        for y in 0..h {
            for x in 0..w {
                let mut s = 0.0;
                for (j, gy) in g.iter().enumerate() {
                    for (i, gx) in g.iter().enumerate() {
                        let sx = reflect(x as isize + i as isize - r, w);
                        let sy = reflect(y as isize + j as isize - r, h);
                        s += gx * gy * f64::from(gray.get_pixel(sx as u32, sy as u32).0[0]);
                    }
                }
                out[y * w + x] = s / (total * total);
            }
        }
        out
    }

    /// The fixed-point passes tap by tap, without pairing taps: what the paired passes must
    /// equal exactly.
    fn unpaired(src: &[u8], w: usize, h: usize, sigma: f32) -> Vec<u8> {
        let k = kernel(sigma);
        let r = (k.len() / 2) as isize;
        let mut tmp = vec![0u16; w * h];
        for y in 0..h {
            for x in 0..w {
                let a: u32 = (0..k.len())
                    .map(|t| k[t] * u32::from(src[y * w + reflect(x as isize + t as isize - r, w)]))
                    .sum();
                tmp[y * w + x] = ((a + 128) >> 8) as u16;
            }
        }
        let mut out = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let a: u32 = (0..k.len())
                    .map(|t| k[t] * u32::from(tmp[reflect(y as isize + t as isize - r, h) * w + x]))
                    .sum();
                out[y * w + x] = ((a + (1 << 23)) >> 24) as u8;
            }
        }
        out
    }

    /// The 16-bit passes pixel by pixel with explicit reflection: what the blocked passes
    /// must equal exactly.
    fn per_pixel16(src: &[u8], w: usize, h: usize, sigma: f32) -> Vec<u8> {
        let k: Vec<u32> = kernel(sigma);
        let r = k.len() / 2;
        let bias = (r as u32).div_ceil(2);
        let hi = |x: u32, weight: u32| (x * weight) >> 16;
        let at = |i: isize, n: usize| reflect(i, n);
        let mut tmp = vec![0u32; w * h];
        for y in 0..h {
            for x in 0..w {
                let px = |d: isize| u32::from(src[y * w + at(x as isize + d, w)]);
                let mut s = bias + hi(px(0) << 7, k[r]);
                for i in 1..=r as isize {
                    s += hi((px(-i) + px(i)) << 7, k[r + i as usize]);
                }
                tmp[y * w + x] = s;
            }
        }
        let mut out = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let px = |d: isize| tmp[at(y as isize + d, h) * w + x];
                let mut s = bias + hi(px(0), k[r]);
                for i in 1..=r as isize {
                    s += hi(px(-i) + px(i), k[r + i as usize]);
                }
                out[y * w + x] = ((s + 64) >> 7).min(255) as u8;
            }
        }
        out
    }

    #[test]
    fn blocked_passes_equal_the_per_pixel_arithmetic() {
        for sigma in [0.5, 1.0, 3.0, 7.5] {
            let k = kernel(sigma);
            let r = k.len() / 2;
            assert!(
                (1..=r).all(|i| k[r - i] == k[r + i]),
                "sigma {sigma}: asymmetric"
            );
            // Wider than one block of 32 lanes and not a multiple of it.
            let (w, h) = (77, 29);
            let src: Vec<u8> = (0..w * h)
                .map(|i| ((i * 7919 + i / 3 * 31) % 256) as u8)
                .collect();
            assert_eq!(
                blur_u8(&src, w, h, 1, sigma),
                per_pixel16(&src, w, h, sigma),
                "sigma {sigma}, 16-bit passes"
            );
            assert_eq!(
                blur_u8_32(&src, w, h, 1, &k),
                unpaired(&src, w, h, sigma),
                "sigma {sigma}, 32-bit passes"
            );
        }
        for ch in [1, 3, 4] {
            let white = vec![255u8; 64 * 8 * ch];
            assert_eq!(
                blur_u8(&white, 64, 8, ch, 3.0),
                white,
                "no overflow at full scale"
            );
        }
    }

    #[test]
    fn within_one_level_of_the_exact_blur_on_any_size() {
        for (w, h, sigma) in [(1, 1, 1.0), (3, 2, 2.0), (17, 9, 0.7), (31, 23, 3.0)] {
            let gray = GrayImage::from_fn(w, h, |x, y| Luma([((x * 73 + y * 151) % 256) as u8]));
            let DynamicImage::ImageLuma8(ours) =
                gaussian_blur(DynamicImage::ImageLuma8(gray.clone()), sigma)
            else {
                panic!("8-bit gray stays 8-bit gray");
            };
            for (got, want) in ours.as_raw().iter().zip(reference(&gray, sigma)) {
                assert!(
                    (f64::from(*got) - want).abs() <= 1.0,
                    "{w}x{h} sigma {sigma}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn flat_colour_stays_flat() {
        let flat = RgbImage::from_pixel(40, 30, Rgb([200, 17, 255]));
        let DynamicImage::ImageRgb8(out) =
            gaussian_blur(DynamicImage::ImageRgb8(flat.clone()), 3.0)
        else {
            panic!("RGB8 stays RGB8");
        };
        assert_eq!(out, flat);
    }
}
