//! Shrinking by whole factors with a box filter: the first step of a large downscale, as
//! Pillow's `reducing_gap` does it.
//!
//! A Lanczos shrink by 10x weighs 60 source rows per output row; reducing by 3x3 boxes first
//! leaves it 20, on a ninth of the pixels. Pillow documents that with the factor kept to at
//! most a third of the ratio (a gap of 3) the result is indistinguishable from resampling the
//! full image; `tests/image` holds the service's resize to Pillow's and OpenCV's.
//!
//! Per output row: the column sums of its `ky` source rows (a streaming pass, bound by
//! memory: the 12 MP shrink reads 36 MB), then for each box the sums of its `kx` columns,
//! gathered into vector lanes by shuffles (`pshufb`, or `vpermt2w` with AVX-512) and divided
//! by the box's pixel count with a multiply-high. No intermediate row of box sums is made.

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
    let picker = Picker::available()
        .pop()
        .expect("the portable picker is always there");
    box_reduce_with(picker, src, w, h, channels, kx, ky)
}

fn box_reduce_with(
    picker: Picker,
    src: &[u8],
    w: usize,
    h: usize,
    channels: usize,
    kx: usize,
    ky: usize,
) -> (Vec<u8>, usize, usize) {
    assert!(Picker::available().contains(&picker));
    match picker {
        Picker::Portable => box_reduce_body(src, w, h, channels, kx, ky, Picker::Portable),
        // SAFETY: the CPU has the picker's features (asserted above).
        #[cfg(target_arch = "x86_64")]
        Picker::Avx2 => unsafe { box_reduce_avx2(src, w, h, channels, kx, ky) },
        #[cfg(target_arch = "x86_64")]
        Picker::Avx512 => unsafe { box_reduce_avx512(src, w, h, channels, kx, ky) },
    }
}

/// How a row's box totals and means are made: vector code where the CPU has it (the column
/// sums are plain loops that the compiler vectorises for the wrapper's target features).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Picker {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Picker {
    /// The pickers this CPU can run, fastest last.
    fn available() -> Vec<Picker> {
        #[allow(unused_mut)]
        let mut pickers = vec![Picker::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                pickers.push(Picker::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512bw") {
                pickers.push(Picker::Avx512);
            }
        }
        pickers
    }
}

/// The same compiled for AVX2, with `avx2::box_means`.
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
    box_reduce_body(src, w, h, channels, kx, ky, Picker::Avx2)
}

/// The same compiled for AVX-512, with `avx512::box_means`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn box_reduce_avx512(
    src: &[u8],
    w: usize,
    h: usize,
    channels: usize,
    kx: usize,
    ky: usize,
) -> (Vec<u8>, usize, usize) {
    box_reduce_body(src, w, h, channels, kx, ky, Picker::Avx512)
}

#[inline(always)]
fn box_reduce_body(
    src: &[u8],
    w: usize,
    h: usize,
    channels: usize,
    kx: usize,
    ky: usize,
    picker: Picker,
) -> (Vec<u8>, usize, usize) {
    let (ow, oh) = (w.div_ceil(kx), h.div_ceil(ky));
    let mut out = Vec::with_capacity(ow * oh * channels);
    let row_len = w * channels;
    let row = |y: usize| &src[y * row_len..(y + 1) * row_len];
    // Column sums over a box's rows (a whole-row loop of adds, which vectorises), then per
    // box the sum of its `kx` pixels' column sums and the mean. At most 16 x 16 x 255 per
    // total, so 16 bits hold them. Past the row's end `sums` stays zero, so a partial last
    // box adds only what it has.
    let mut sums = vec![0u16; row_len + kx * channels];
    let whole = w / kx;
    let window = Window { channels, kx };
    for oy in 0..oh {
        let rows = oy * ky..((oy + 1) * ky).min(h);
        let box_h = rows.len();
        column_sums(rows.map(row), &mut sums[..row_len]);
        let full = Mean::new(kx * box_h);
        let done = match picker {
            Picker::Portable => 0,
            // SAFETY: `box_reduce_avx2` and `box_reduce_avx512` choose these pickers only on
            // CPUs with their features.
            #[cfg(target_arch = "x86_64")]
            Picker::Avx2 => unsafe { avx2::box_means(&sums, window, full, whole, &mut out) },
            #[cfg(target_arch = "x86_64")]
            Picker::Avx512 => unsafe { avx512::box_means(&sums, window, full, whole, &mut out) },
        };
        for ox in done..whole {
            window.push_means(&sums, ox, full, &mut out);
        }
        if whole < ow {
            let mean = Mean::new((w - whole * kx) * box_h);
            window.push_means(&sums, whole, mean, &mut out);
        }
    }
    (out, ow, oh)
}

/// The layout of one row of column sums: `channels` interleaved per pixel, `kx` pixels per
/// box.
#[derive(Clone, Copy)]
struct Window {
    channels: usize,
    kx: usize,
}

impl Window {
    /// Where the sum of channel `c` of pixel `j` of box `o` sits.
    #[inline(always)]
    fn at(self, o: usize, j: usize, c: usize) -> usize {
        (o * self.kx + j) * self.channels + c
    }

    /// Where the sum that lands in vector lane `lane` for pixel `j` of its box sits, in a
    /// step's window (the boxes of a step fill lanes in order, `channels` each).
    #[inline(always)]
    fn lane_source(self, lane: usize, j: usize) -> usize {
        self.at(lane / self.channels, j, lane % self.channels)
    }

    /// Appends the means of box `o`'s channels.
    #[inline(always)]
    fn push_means(self, sums: &[u16], o: usize, mean: Mean, out: &mut Vec<u8>) {
        for c in 0..self.channels {
            let total = (0..self.kx).map(|j| sums[self.at(o, j, c)]).sum();
            out.push(mean.of(total));
        }
    }

    /// Boxes per vector step when a step's sums must fit `lanes` outputs and a window of
    /// `span` consecutive sums (0: not even one box fits).
    fn step(self, lanes: usize, span: usize) -> usize {
        (lanes / self.channels).min(span / (self.kx * self.channels))
    }
}

/// `sums` = the sum of `rows`, two rows per pass so that `sums` is written once per pair.
#[inline(always)]
fn column_sums<'a>(mut rows: impl Iterator<Item = &'a [u8]>, sums: &mut [u16]) {
    let first = rows.next().expect("a box has at least one row");
    match rows.next() {
        Some(second) => {
            for ((s, &a), &b) in sums.iter_mut().zip(first).zip(second) {
                *s = u16::from(a) + u16::from(b);
            }
        }
        None => {
            for (s, &a) in sums.iter_mut().zip(first) {
                *s = u16::from(a);
            }
        }
    }
    while let Some(a) = rows.next() {
        match rows.next() {
            Some(b) => {
                for ((s, &a), &b) in sums.iter_mut().zip(a).zip(b) {
                    *s += u16::from(a) + u16::from(b);
                }
            }
            None => {
                for (s, &a) in sums.iter_mut().zip(a) {
                    *s += u16::from(a);
                }
            }
        }
    }
}

/// Division of a box's total by its pixel count, rounded half up: floor((t + floor(n / 2))
/// / n), which equals round-half-up of t / n for every n. The division is libdivide's
/// multiply-high form for 16-bit dividends (a 17-bit magic split as 2^16 + `magic`), so the
/// AVX2 code does it with `pmulhuw`, shifts and adds; `means_are_exactly_rounded` checks
/// every total of every count.
#[derive(Clone, Copy)]
struct Mean {
    half: u16,
    magic: u16,
    /// ceil(log2 n) - 1.
    shift: u32,
    /// n = 1: the total is the mean (the formula needs n >= 2).
    identity: bool,
}

impl Mean {
    /// Counts up to 256 (16 x 16 boxes): totals up to 255 n plus n / 2 stay below 2^16.
    fn new(count: usize) -> Mean {
        assert!((1..=256).contains(&count));
        let n = count as u32;
        if n == 1 {
            return Mean {
                half: 0,
                magic: 0,
                shift: 0,
                identity: true,
            };
        }
        let log = 32 - (n - 1).leading_zeros();
        let magic = ((1u64 << 16) * ((1u64 << log) - u64::from(n))) / u64::from(n) + 1;
        Mean {
            half: (n / 2) as u16,
            magic: magic as u16,
            shift: log - 1,
            identity: false,
        }
    }

    #[inline(always)]
    fn of(self, total: u16) -> u8 {
        let x = total + self.half;
        if self.identity {
            return x as u8;
        }
        let q = ((u32::from(x) * u32::from(self.magic)) >> 16) as u16;
        ((((x - q) >> 1) + q) >> self.shift) as u8
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{Mean, Window};

    /// Appends the means of boxes `0..boxes` of a row of column sums, a few boxes per step:
    /// three 8-sum loads cover a window of 24 sums, and for each of a box's `kx` pixels three
    /// `pshufb`s move that pixel's sums into the lanes of its box and channel, where they
    /// add up to the box totals; `Mean`'s division then runs on all lanes. Returns how many
    /// boxes it wrote; the caller does the rest (steps that would read past `sums`, boxes
    /// too wide for a step, counts of one).
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn box_means(
        sums: &[u16],
        window: Window,
        mean: Mean,
        boxes: usize,
        out: &mut Vec<u8>,
    ) -> usize {
        let Window { channels, kx } = window;
        let step = window.step(8, 24);
        if step == 0 || mean.identity {
            return 0;
        }
        // masks[j][i] moves pixel j's sums among sums 8i..8i+8 of the window to their lanes.
        let mut masks = [[[0x80u8; 16]; 3]; 16];
        for (j, pixel) in masks.iter_mut().enumerate().take(kx) {
            for lane in 0..step * channels {
                let at = window.lane_source(lane, j);
                let mask = &mut pixel[at / 8];
                mask[2 * lane] = (2 * (at % 8)) as u8;
                mask[2 * lane + 1] = (2 * (at % 8) + 1) as u8;
            }
        }
        // SAFETY (loads): every mask is 16 bytes.
        let masks = masks.map(|m| m.map(|m| unsafe { _mm_loadu_si128(m.as_ptr().cast()) }));
        let half = _mm_set1_epi16(mean.half as i16);
        let magic = _mm_set1_epi16(mean.magic as i16);
        let shift = _mm_cvtsi32_si128(mean.shift as i32);
        // Each step stores 8 bytes, of which `step * channels` count.
        out.reserve(boxes * channels + 8);
        let dst = out.as_mut_ptr().add(out.len());
        let mut o = 0;
        while o + step <= boxes && window.at(o, 0, 0) + 24 <= sums.len() {
            // SAFETY: the window's 24 sums lie inside `sums` (checked above).
            let src = sums.as_ptr().add(window.at(o, 0, 0));
            let a = _mm_loadu_si128(src.cast());
            let b = _mm_loadu_si128(src.add(8).cast());
            let c = _mm_loadu_si128(src.add(16).cast());
            let mut totals = half;
            for [ma, mb, mc] in &masks[..kx] {
                let pixel = _mm_or_si128(
                    _mm_or_si128(_mm_shuffle_epi8(a, *ma), _mm_shuffle_epi8(b, *mb)),
                    _mm_shuffle_epi8(c, *mc),
                );
                totals = _mm_add_epi16(totals, pixel);
            }
            let q = _mm_mulhi_epu16(totals, magic);
            let t = _mm_add_epi16(_mm_srli_epi16(_mm_sub_epi16(totals, q), 1), q);
            let means = _mm_srl_epi16(t, shift);
            // SAFETY: o * channels + 8 <= boxes * channels + 8, inside the reserve.
            _mm_storel_epi64(dst.add(o * channels).cast(), _mm_packus_epi16(means, means));
            o += step;
        }
        // SAFETY: the first o * channels bytes past the old length were written above.
        out.set_len(out.len() + o * channels);
        o
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::{Mean, Window};

    /// `avx2::box_means` with two 32-sum loads and one `vpermt2w` per pixel of a box: a step
    /// covers a window of 64 sums (7 RGB boxes of 3 pixels instead of 2).
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn box_means(
        sums: &[u16],
        window: Window,
        mean: Mean,
        boxes: usize,
        out: &mut Vec<u8>,
    ) -> usize {
        let Window { channels, kx } = window;
        let step = window.step(32, 64);
        if step == 0 || mean.identity {
            return 0;
        }
        // indices[j] picks pixel j's sums from the 64-sum window into their lanes.
        let mut indices = [[0u16; 32]; 16];
        for (j, pixel) in indices.iter_mut().enumerate().take(kx) {
            for (lane, at) in pixel.iter_mut().enumerate().take(step * channels) {
                *at = window.lane_source(lane, j) as u16;
            }
        }
        // SAFETY (loads): every index vector is 64 bytes.
        let indices = indices.map(|i| unsafe { _mm512_loadu_si512(i.as_ptr().cast()) });
        let half = _mm512_set1_epi16(mean.half as i16);
        let magic = _mm512_set1_epi16(mean.magic as i16);
        let shift = _mm_cvtsi32_si128(mean.shift as i32);
        // Each step stores 32 bytes, of which `step * channels` count.
        out.reserve(boxes * channels + 32);
        let dst = out.as_mut_ptr().add(out.len());
        let mut o = 0;
        while o + step <= boxes && window.at(o, 0, 0) + 64 <= sums.len() {
            // SAFETY: the window's 64 sums lie inside `sums` (checked above).
            let src = sums.as_ptr().add(window.at(o, 0, 0));
            let a = _mm512_loadu_si512(src.cast());
            let b = _mm512_loadu_si512(src.add(32).cast());
            let mut totals = half;
            for index in &indices[..kx] {
                totals = _mm512_add_epi16(totals, _mm512_permutex2var_epi16(a, *index, b));
            }
            let q = _mm512_mulhi_epu16(totals, magic);
            let t = _mm512_add_epi16(_mm512_srli_epi16::<1>(_mm512_sub_epi16(totals, q)), q);
            let means = _mm512_srl_epi16(t, shift);
            // SAFETY: o * channels + 32 <= boxes * channels + 32, inside the reserve.
            _mm256_storeu_si256(dst.add(o * channels).cast(), _mm512_cvtepi16_epi8(means));
            o += step;
        }
        // SAFETY: the first o * channels bytes past the old length were written above.
        out.set_len(out.len() + o * channels);
        o
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
        // Small images take the scalar path only; wide ones the AVX2 steps (where the CPU
        // has it) and the scalar tail; 255s reach the largest totals.
        for (w, h) in [(7usize, 5usize), (203, 37)] {
            for channels in [1usize, 3] {
                let src: Vec<u8> = (0..w * h * channels)
                    .map(|i| {
                        if i % 11 == 0 {
                            255
                        } else {
                            (i * 37 % 256) as u8
                        }
                    })
                    .collect();
                for (kx, ky) in [(1, 1), (1, 3), (2, 2), (3, 2), (3, 3), (5, 4), (7, 5)]
                    .into_iter()
                    .chain([(8, 8), (9, 2), (16, 16)])
                {
                    for picker in Picker::available() {
                        let (out, ow, oh) = box_reduce_with(picker, &src, w, h, channels, kx, ky);
                        assert_eq!((ow, oh), (w.div_ceil(kx), h.div_ceil(ky)));
                        assert_eq!(out.len(), ow * oh * channels);
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
                                    let want =
                                        ((f64::from(total) / f64::from(n)) + 0.5).floor() as u8;
                                    assert_eq!(
                                    out[(oy * ow + ox) * channels + c],
                                    want,
                                    "{picker:?}: {w}x{h}x{channels} by {kx}x{ky} at ({ox}, {oy}, {c})"
                                );
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
