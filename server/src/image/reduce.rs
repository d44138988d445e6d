//! Shrinking by whole factors with a box filter: the first step of a large downscale, as
//! Pillow's `reducing_gap` does it.
//!
//! A Lanczos shrink by 10x weighs 60 source rows per output row; reducing by 3x3 boxes first
//! leaves it 20, on a ninth of the pixels. Pillow documents that with the factor kept to at
//! most a third of the ratio (a gap of 3) the result is indistinguishable from resampling the
//! full image; `tests/image` holds the service's resize to Pillow's and OpenCV's.

/// The box factor for shrinking `from` to `to` samples with the given gap: the whole part of
/// `from / to / gap`, at least 1 and at most 16 (16 x 16 x 255 still fits the 16-bit column
/// sums, and past that the resampler's share of the work is small anyway).
pub fn factor(from: u32, to: u32, gap: f64) -> u32 {
    if to == 0 {
        return 1;
    }
    ((f64::from(from) / f64::from(to) / gap) as u32).clamp(1, 16)
}

/// `src` (`w x h`, `channels` interleaved 8-bit samples per pixel) reduced by `kx x ky`
/// boxes: each output sample is the rounded mean of its box, and the boxes of the last
/// column and row, when the size is not a multiple, average only the pixels they have.
/// Returns the pixels and the output size.
pub fn box_reduce(
    src: &[u8],
    w: usize,
    h: usize,
    channels: usize,
    kx: usize,
    ky: usize,
) -> (Vec<u8>, usize, usize) {
    assert!((1..=16).contains(&kx) && (1..=16).contains(&ky));
    assert!((1..=4).contains(&channels));
    assert_eq!(src.len(), w * h * channels);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { box_reduce_avx2(src, w, h, channels, kx, ky) };
    }
    box_reduce_body(src, w, h, channels, kx, ky)
}

/// The same compiled for AVX2: the sums below are plain loops the compiler vectorises.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn box_reduce_avx2(
    src: &[u8],
    w: usize,
    h: usize,
    channels: usize,
    kx: usize,
    ky: usize,
) -> (Vec<u8>, usize, usize) {
    box_reduce_body(src, w, h, channels, kx, ky)
}

#[inline(always)]
fn box_reduce_body(
    src: &[u8],
    w: usize,
    h: usize,
    channels: usize,
    kx: usize,
    ky: usize,
) -> (Vec<u8>, usize, usize) {
    let (ow, oh) = (w.div_ceil(kx), h.div_ceil(ky));
    let mut out = Vec::with_capacity(ow * oh * channels);
    let row_len = w * channels;
    // Column sums over a box's rows, then box sums: `boxes[i]` is the sum of `sums[i]`,
    // `sums[i + channels]`, ... over `kx` pixels, so a box's total for channel c sits at
    // its first sample's index. Both are whole-row loops of adds, which vectorise; at most
    // 16 x 16 x 255 per sum, so 16 bits hold them.
    let stride = kx * channels;
    let mut sums = vec![0u16; row_len + stride];
    let mut boxes = vec![0u16; row_len];
    for oy in 0..oh {
        let rows = oy * ky..((oy + 1) * ky).min(h);
        let box_h = rows.len();
        sums[..row_len].fill(0);
        for y in rows {
            for (s, &v) in sums.iter_mut().zip(&src[y * row_len..(y + 1) * row_len]) {
                *s += u16::from(v);
            }
        }
        // Past the row's end the sums are zero, so a partial last box adds only what it has.
        boxes.copy_from_slice(&sums[..row_len]);
        for j in 1..kx {
            let shifted = &sums[j * channels..j * channels + row_len];
            for (b, &s) in boxes.iter_mut().zip(shifted) {
                *b += s;
            }
        }
        let full = Mean::new(kx * box_h);
        let whole = w / kx;
        for ox in 0..whole {
            let at = ox * stride;
            out.extend(boxes[at..at + channels].iter().map(|&t| full.of(t)));
        }
        if whole < ow {
            let mean = Mean::new((w - whole * kx) * box_h);
            let at = whole * stride;
            out.extend(boxes[at..at + channels].iter().map(|&t| mean.of(t)));
        }
    }
    (out, ow, oh)
}

/// Division by a box's pixel count as a multiply and shift, rounded half up.
#[derive(Clone, Copy)]
struct Mean {
    multiplier: u64,
    count: u64,
}

impl Mean {
    const SHIFT: u32 = 32;

    /// floor((2 total + count) / (2 count)) as a multiply by the rounded-up reciprocal of
    /// 2 count: exact, since the numerator stays below 2^17 and a quotient's fraction is a
    /// multiple of 1 / (2 count), far wider than the reciprocal's error.
    fn new(count: usize) -> Mean {
        let divisor = 2 * count as u64;
        Mean {
            multiplier: (1u64 << Self::SHIFT).div_ceil(divisor),
            count: count as u64,
        }
    }

    #[inline(always)]
    fn of(self, total: u16) -> u8 {
        let twice = 2 * u64::from(total) + self.count;
        ((twice * self.multiplier) >> Self::SHIFT) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_follow_the_gap() {
        assert_eq!(factor(4000, 400, 3.0), 3);
        assert_eq!(factor(4000, 1400, 3.0), 1);
        assert_eq!(factor(100_000, 10, 3.0), 16);
        assert_eq!(factor(10, 0, 3.0), 1);
    }

    #[test]
    fn means_are_exactly_rounded() {
        for count in 1..=256usize {
            let mean = Mean::new(count);
            for total in 0..=(255 * count as u16) {
                let want = ((f64::from(total) / count as f64) + 0.5).floor() as u8;
                assert_eq!(mean.of(total), want, "{total} / {count}");
            }
        }
    }

    #[test]
    fn boxes_average_what_they_cover_including_partial_edges() {
        let (w, h, channels) = (7usize, 5usize, 3usize);
        let src: Vec<u8> = (0..w * h * channels)
            .map(|i| (i * 37 % 256) as u8)
            .collect();
        for (kx, ky) in [(1, 1), (2, 2), (3, 2), (3, 3), (7, 5), (16, 16)] {
            let (out, ow, oh) = box_reduce(&src, w, h, channels, kx, ky);
            assert_eq!((ow, oh), (w.div_ceil(kx), h.div_ceil(ky)));
            for oy in 0..oh {
                for ox in 0..ow {
                    for c in 0..channels {
                        let (mut total, mut n) = (0u32, 0u32);
                        for y in oy * ky..((oy + 1) * ky).min(h) {
                            for x in ox * kx..((ox + 1) * kx).min(w) {
                                total += u32::from(src[(y * w + x) * channels + c]);
                                n += 1;
                            }
                        }
                        let want = ((f64::from(total) / f64::from(n)) + 0.5).floor() as u8;
                        assert_eq!(out[(oy * ow + ox) * channels + c], want, "{kx}x{ky}");
                    }
                }
            }
        }
    }
}
