//! Colour to gray with Rec. 601 luma (Y = 0.299 R + 0.587 G + 0.114 B), the weights Pillow and
//! OpenCV use, in fixed point. The `image` crate's own conversion uses Rec. 709 weights and
//! floats per pixel; this is both what the contract promises and several times faster.

use image::{DynamicImage, GrayAlphaImage, GrayImage, ImageBuffer, Luma, LumaA};

/// Rec. 601 weights scaled to 2^16 (they sum to 65536, so white stays white).
const R16: u32 = 19595;
const G16: u32 = 38470;
const B16: u32 = 7471;
/// The same scaled to 2^15, so that 16-bit samples fit in u32 arithmetic.
const R15: u32 = 9798;
const G15: u32 = 19235;
const B15: u32 = 3735;

#[inline(always)]
fn y8(r: u8, g: u8, b: u8) -> u8 {
    ((R16 * u32::from(r) + G16 * u32::from(g) + B16 * u32::from(b) + (1 << 15)) >> 16) as u8
}

fn y16(r: u16, g: u16, b: u16) -> u16 {
    ((R15 * u32::from(r) + G15 * u32::from(g) + B15 * u32::from(b) + (1 << 14)) >> 15) as u16
}

fn y32f(r: f32, g: f32, b: f32) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b
}

/// `src` (`channels` interleaved samples per pixel, colour first) to one gray sample per
/// pixel, with AVX2 when the CPU has it (chosen at run time).
pub(super) fn map8(src: &[u8], channels: usize, dst: &mut Vec<u8>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { map8_avx2(src, channels, dst) };
    }
    map8_body(src, channels, dst);
}

/// 16 pixels per step: `pshufb` spreads each pixel into the 16-bit pairs (R, G) and (B, G),
/// and two `pmaddwd`s give the exact weighted sum. G's weight does not fit a signed 16-bit
/// lane, so it is split over both pairs: 38470 = 22086 + 16384.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn map8_avx2(src: &[u8], channels: usize, dst: &mut Vec<u8>) {
    use std::arch::x86_64::*;
    let pixels = src.len() / channels;
    // Each step loads 16 bytes at 4 pixels' offsets; with 3 channels the last load reaches 4
    // bytes past its pixels, so the loop stops while whole loads fit.
    let steps = if pixels * channels >= 16 * channels + 4 {
        (pixels * channels - 4) / (16 * channels)
    } else {
        0
    };
    let c = channels as i8;
    let (rg, bg) = (
        _mm256_setr_epi8(
            0,
            -1,
            1,
            -1,
            c,
            -1,
            c + 1,
            -1,
            2 * c,
            -1,
            2 * c + 1,
            -1,
            3 * c,
            -1,
            3 * c + 1,
            -1,
            0,
            -1,
            1,
            -1,
            c,
            -1,
            c + 1,
            -1,
            2 * c,
            -1,
            2 * c + 1,
            -1,
            3 * c,
            -1,
            3 * c + 1,
            -1,
        ),
        _mm256_setr_epi8(
            2,
            -1,
            1,
            -1,
            c + 2,
            -1,
            c + 1,
            -1,
            2 * c + 2,
            -1,
            2 * c + 1,
            -1,
            3 * c + 2,
            -1,
            3 * c + 1,
            -1,
            2,
            -1,
            1,
            -1,
            c + 2,
            -1,
            c + 1,
            -1,
            2 * c + 2,
            -1,
            2 * c + 1,
            -1,
            3 * c + 2,
            -1,
            3 * c + 1,
            -1,
        ),
    );
    let w_rg = _mm256_set1_epi32((22086 << 16) | R16 as i32);
    let w_bg = _mm256_set1_epi32((16384 << 16) | B16 as i32);
    let half = _mm256_set1_epi32(1 << 15);
    let order = _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0);
    dst.reserve(pixels);
    let base = src.as_ptr();
    // Eight pixels from byte `at`: pixels 0..3 in the low lane, 4..7 in the high one.
    let eight = |at: usize| -> __m256i {
        // SAFETY: `at + 4 * channels + 16 <= src.len()` for every step (see `steps`).
        let v = _mm256_loadu2_m128i(base.add(at + 4 * channels).cast(), base.add(at).cast());
        let sum = _mm256_add_epi32(
            _mm256_madd_epi16(_mm256_shuffle_epi8(v, rg), w_rg),
            _mm256_madd_epi16(_mm256_shuffle_epi8(v, bg), w_bg),
        );
        _mm256_srli_epi32::<16>(_mm256_add_epi32(sum, half))
    };
    for step in 0..steps {
        let at = step * 16 * channels;
        let (a, b) = (eight(at), eight(at + 8 * channels));
        // packs interleaves the lanes (0-3, 8-11 | 4-7, 12-15); the permute restores order.
        let words = _mm256_packs_epi32(a, b);
        let bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(words, words), order);
        let mut out = [0u8; 16];
        _mm_storeu_si128(out.as_mut_ptr().cast(), _mm256_castsi256_si128(bytes));
        dst.extend_from_slice(&out);
    }
    dst.extend(
        src[steps * 16 * channels..pixels * channels]
            .chunks_exact(channels)
            .map(|p| y8(p[0], p[1], p[2])),
    );
}

/// Pixels go in blocks of `BLOCK`, split into three planes first: a loop over planes is one
/// the compiler vectorises, where a loop over interleaved pixels is not.
#[inline(always)]
fn map8_body(src: &[u8], channels: usize, dst: &mut Vec<u8>) {
    const BLOCK: usize = 32;
    let pixels = src.len() / channels;
    let whole = pixels / BLOCK * BLOCK;
    dst.reserve(pixels);
    let (mut r, mut g, mut b) = ([0u8; BLOCK], [0u8; BLOCK], [0u8; BLOCK]);
    for block in src[..whole * channels].chunks_exact(BLOCK * channels) {
        for (i, p) in block.chunks_exact(channels).enumerate() {
            r[i] = p[0];
            g[i] = p[1];
            b[i] = p[2];
        }
        let mut out = [0u8; BLOCK];
        for i in 0..BLOCK {
            out[i] = y8(r[i], g[i], b[i]);
        }
        dst.extend_from_slice(&out);
    }
    dst.extend(
        src[whole * channels..]
            .chunks_exact(channels)
            .map(|p| y8(p[0], p[1], p[2])),
    );
}

/// 8-bit gray of any image (what thresholds, edges and morphology work on).
pub fn luma8(image: &DynamicImage) -> GrayImage {
    let (w, h) = (image.width(), image.height());
    let mut out = Vec::with_capacity(w as usize * h as usize);
    match image {
        DynamicImage::ImageLuma8(b) => return b.clone(),
        DynamicImage::ImageRgb8(b) => map8(b.as_raw(), 3, &mut out),
        DynamicImage::ImageRgba8(b) => map8(b.as_raw(), 4, &mut out),
        DynamicImage::ImageLuma16(b) => out.extend(b.as_raw().iter().map(|&v| (v >> 8) as u8)),
        DynamicImage::ImageLumaA8(b) => out.extend(b.as_raw().chunks_exact(2).map(|p| p[0])),
        // 16-bit and float colour: through the 16-bit gray, then the top byte.
        other => out.extend(luma16(other).as_raw().iter().map(|&v| (v >> 8) as u8)),
    }
    GrayImage::from_raw(w, h, out).unwrap_or_else(|| GrayImage::new(w, h))
}

/// 16-bit gray of any image (window/level works on it).
pub fn luma16(image: &DynamicImage) -> ImageBuffer<Luma<u16>, Vec<u16>> {
    let (w, h) = (image.width(), image.height());
    match grayscale(image.clone()) {
        DynamicImage::ImageLuma16(g) => g,
        DynamicImage::ImageLumaA16(g) => {
            ImageBuffer::from_fn(w, h, |x, y| Luma([g.get_pixel(x, y).0[0]]))
        }
        // 8-bit gray scales up exactly; float gray has equal channels, so any weights agree.
        converted => converted.to_luma16(),
    }
}

/// The `grayscale` op: gray at the same sample depth, keeping alpha. Float images (which have
/// no gray layout) stay RGB(A) with equal channels.
pub fn grayscale(image: DynamicImage) -> DynamicImage {
    let (w, h) = (image.width(), image.height());
    match image {
        DynamicImage::ImageRgb8(_) => DynamicImage::ImageLuma8(luma8(&image)),
        DynamicImage::ImageRgba8(b) => {
            DynamicImage::ImageLumaA8(GrayAlphaImage::from_fn(w, h, |x, y| {
                let p = b.get_pixel(x, y).0;
                LumaA([y8(p[0], p[1], p[2]), p[3]])
            }))
        }
        DynamicImage::ImageRgb16(b) => {
            DynamicImage::ImageLuma16(ImageBuffer::from_fn(w, h, |x, y| {
                let p = b.get_pixel(x, y).0;
                Luma([y16(p[0], p[1], p[2])])
            }))
        }
        DynamicImage::ImageRgba16(b) => {
            DynamicImage::ImageLumaA16(ImageBuffer::from_fn(w, h, |x, y| {
                let p = b.get_pixel(x, y).0;
                LumaA([y16(p[0], p[1], p[2]), p[3]])
            }))
        }
        DynamicImage::ImageRgb32F(mut b) => {
            for p in b.pixels_mut() {
                let y = y32f(p.0[0], p.0[1], p.0[2]);
                p.0 = [y, y, y];
            }
            DynamicImage::ImageRgb32F(b)
        }
        DynamicImage::ImageRgba32F(mut b) => {
            for p in b.pixels_mut() {
                let y = y32f(p.0[0], p.0[1], p.0[2]);
                p.0 = [y, y, y, p.0[3]];
            }
            DynamicImage::ImageRgba32F(b)
        }
        // Gray already, or a layout newer than this code.
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_conversion_equals_the_formula_for_every_length() {
        for channels in [3, 4] {
            for pixels in (0..200).chain([1000, 1001]) {
                let src: Vec<u8> = (0..pixels * channels)
                    .map(|i| ((i * 7919 + i / 5) % 256) as u8)
                    .collect();
                let want: Vec<u8> = src
                    .chunks_exact(channels)
                    .map(|p| y8(p[0], p[1], p[2]))
                    .collect();
                let (mut fast, mut portable) = (Vec::new(), Vec::new());
                map8(&src, channels, &mut fast);
                map8_body(&src, channels, &mut portable);
                assert_eq!(fast, want, "{pixels} pixels of {channels} channels");
                assert_eq!(
                    portable, want,
                    "{pixels} pixels of {channels} channels, portable"
                );
            }
        }
    }

    #[test]
    fn every_colour_converts_exactly() {
        for channels in [3, 4] {
            let src: Vec<u8> = (0..1u32 << 24)
                .flat_map(|rgb| {
                    let [_, r, g, b] = rgb.to_be_bytes();
                    [r, g, b, 7].into_iter().take(channels)
                })
                .collect();
            let mut got = Vec::new();
            map8(&src, channels, &mut got);
            for (i, (p, &y)) in src.chunks_exact(channels).zip(&got).enumerate() {
                assert_eq!(y, y8(p[0], p[1], p[2]), "colour {i:06x}");
            }
        }
    }

    #[test]
    fn rec601_weights_keep_black_and_white_and_match_pillow() {
        assert_eq!(y8(0, 0, 0), 0);
        assert_eq!(y8(255, 255, 255), 255);
        assert_eq!(y16(65535, 65535, 65535), 65535);
        // Pillow's convert("L"): (r*19595 + g*38470 + b*7471 + 0x8000) >> 16.
        assert_eq!(y8(255, 0, 0), 76);
        assert_eq!(y8(0, 255, 0), 150);
        assert_eq!(y8(0, 0, 255), 29);
        assert_eq!(
            y8(12, 200, 77),
            ((12 * 19595 + 200 * 38470 + 77 * 7471 + 0x8000) >> 16) as u8
        );
    }
}
