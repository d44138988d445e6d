//! The full-size inverse DCT of a JPEG block to 8-bit samples, exactly as libjpeg's default
//! "islow" integer transform (`jidctint.c`) computes it, which is what Pillow and OpenCV
//! decode with (through libjpeg-turbo, whose SIMD versions match its C): the same
//! constants, the same order of operations and the same rounding, so the same samples.
//!
//! Two 1-D passes, down the columns and then across the rows, each on eight lanes at once:
//! with AVX2 a block's rows stay in eight registers throughout, transposed between the
//! passes and back at the end. A block with only its DC term (most chroma blocks, and flat
//! areas) is one value and skips the transform.
//!
//! The arithmetic is 32-bit and wraps, in both versions alike: a valid stream never comes
//! near the limits, and a corrupt one gets the same (meaningless) samples either way rather
//! than a panic.

/// `jidctint.c`'s fixed-point scale and the extra precision its first pass keeps.
const CONST_BITS: u32 = 13;
const PASS1_BITS: u32 = 2;

/// `jidctint.c`'s constants: `FIX(x)` is x scaled by 2^13, rounded.
const FIX_0_298631336: i32 = 2446;
const FIX_0_390180644: i32 = 3196;
const FIX_0_541196100: i32 = 4433;
const FIX_0_765366865: i32 = 6270;
const FIX_0_899976223: i32 = 7373;
const FIX_1_175875602: i32 = 9633;
const FIX_1_501321110: i32 = 12299;
const FIX_1_847759065: i32 = 15137;
const FIX_1_961570560: i32 = 16069;
const FIX_2_053119869: i32 = 16819;
const FIX_2_562915447: i32 = 20995;
const FIX_3_072711026: i32 = 25172;

/// A quantisation table (natural order), for dequantising as coefficients are decoded.
pub(super) struct Table([i32; 64]);

impl Table {
    pub(super) fn new(quant: &[i32; 64]) -> Table {
        Table(*quant)
    }

    /// Places a coefficient (natural position `z`, quantised `value`), dequantised, into
    /// `block` (all zeros to begin with, natural order).
    #[inline(always)]
    pub(super) fn put(&self, block: &mut [i32; 64], z: u8, value: i32) {
        let z = usize::from(z & 63);
        block[z] = value.wrapping_mul(self.0[z]);
    }
}

/// The sample of a `block` that holds only its DC term, which is left all zeros again:
/// both of `jidctint.c`'s passes reduce to a rounded division by 8 then.
#[inline(always)]
pub(super) fn take_flat(block: &mut [i32; 64]) -> u8 {
    let dc = std::mem::take(&mut block[0]);
    sample(dc.wrapping_add(4) >> 3)
}

/// Writes a block of one `sample` to the 8 rows of `stride` in `out`.
#[inline(always)]
pub(super) fn fill(sample: u8, out: &mut [u8], stride: usize) {
    for row in out.chunks_mut(stride).take(8) {
        row[..8].fill(sample);
    }
}

/// Writes the samples of the dequantised `block` (see `Table::put`) to the 8 rows of
/// `stride` in `out`, and leaves `block` all zeros again.
#[inline(always)]
pub(super) fn idct(block: &mut [i32; 64], out: &mut [u8], stride: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        unsafe { avx2::idct(block, out, stride) };
        return;
    }
    idct_portable(block, out, stride);
}

/// `idct` without SIMD intrinsics (the compiler vectorises the lanes where it can).
#[inline(always)]
fn idct_portable(block: &mut [i32; 64], out: &mut [u8], stride: usize) {
    let mut rows: [[i32; 8]; 8] = std::array::from_fn(|r| block[r * 8..][..8].try_into().unwrap());
    block.fill(0);
    pass(&mut rows, CONST_BITS - PASS1_BITS);
    let mut rows = transpose(&rows);
    pass(&mut rows, CONST_BITS + PASS1_BITS + 3);
    let rows = transpose(&rows);
    for (row, samples) in out.chunks_mut(stride).zip(rows) {
        for (o, s) in row[..8].iter_mut().zip(samples) {
            *o = sample(s);
        }
    }
}

/// A transformed value as a sample: level-shifted back and clamped.
#[inline(always)]
fn sample(value: i32) -> u8 {
    value.wrapping_add(128).clamp(0, 255) as u8
}

#[inline(always)]
fn transpose(rows: &[[i32; 8]; 8]) -> [[i32; 8]; 8] {
    std::array::from_fn(|i| std::array::from_fn(|j| rows[j][i]))
}

/// One of `jidctint.c`'s 1-D passes on eight lanes: `d[k]` holds frequency k of each lane,
/// and on return its sample k, divided by 2^`descale` with rounding.
#[inline(always)]
fn pass(d: &mut [[i32; 8]; 8], descale: u32) {
    let input = *d;
    for lane in 0..8 {
        let x: [i32; 8] = std::array::from_fn(|k| input[k][lane]);
        let y = pass_1d(x, descale);
        for (row, s) in d.iter_mut().zip(y) {
            row[lane] = s;
        }
    }
}

/// `jidctint.c`'s 1-D transform of one column or row, in its order of operations (which
/// the vector version keeps).
#[inline(always)]
fn pass_1d(d: [i32; 8], descale: u32) -> [i32; 8] {
    let (add, sub) = (i32::wrapping_add, i32::wrapping_sub);
    let mul = i32::wrapping_mul;
    // Even part.
    let z1 = mul(add(d[2], d[6]), FIX_0_541196100);
    let tmp2 = add(z1, mul(d[6], -FIX_1_847759065));
    let tmp3 = add(z1, mul(d[2], FIX_0_765366865));
    let tmp0 = add(d[0], d[4]) << CONST_BITS;
    let tmp1 = sub(d[0], d[4]) << CONST_BITS;
    let (tmp10, tmp13) = (add(tmp0, tmp3), sub(tmp0, tmp3));
    let (tmp11, tmp12) = (add(tmp1, tmp2), sub(tmp1, tmp2));
    // Odd part.
    let (t0, t1, t2, t3) = (d[7], d[5], d[3], d[1]);
    let z1 = add(t0, t3);
    let z2 = add(t1, t2);
    let z3 = add(t0, t2);
    let z4 = add(t1, t3);
    let z5 = mul(add(z3, z4), FIX_1_175875602);
    let t0 = mul(t0, FIX_0_298631336);
    let t1 = mul(t1, FIX_2_053119869);
    let t2 = mul(t2, FIX_3_072711026);
    let t3 = mul(t3, FIX_1_501321110);
    let z1 = mul(z1, -FIX_0_899976223);
    let z2 = mul(z2, -FIX_2_562915447);
    let z3 = add(mul(z3, -FIX_1_961570560), z5);
    let z4 = add(mul(z4, -FIX_0_390180644), z5);
    let t0 = add(t0, add(z1, z3));
    let t1 = add(t1, add(z2, z4));
    let t2 = add(t2, add(z2, z3));
    let t3 = add(t3, add(z1, z4));
    let round = |x: i32| add(x, 1 << (descale - 1)) >> descale;
    [
        round(add(tmp10, t3)),
        round(add(tmp11, t2)),
        round(add(tmp12, t1)),
        round(add(tmp13, t0)),
        round(sub(tmp13, t0)),
        round(sub(tmp12, t1)),
        round(sub(tmp11, t2)),
        round(sub(tmp10, t3)),
    ]
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::super::jpeg_encode::transpose8x8;
    use super::*;
    use std::arch::x86_64::*;

    /// `super::idct_portable` with one vector per row: the same operations in the same
    /// order, so the same samples.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) unsafe fn idct(block: &mut [i32; 64], out: &mut [u8], stride: usize) {
        let mut rows: [__m256i; 8] =
            std::array::from_fn(|r| _mm256_loadu_si256(block[r * 8..].as_ptr().cast()));
        for r in 0..8 {
            _mm256_storeu_si256(block[r * 8..].as_mut_ptr().cast(), _mm256_setzero_si256());
        }
        pass::<{ (CONST_BITS - PASS1_BITS) as i32 }>(&mut rows);
        let mut rows = transpose(rows);
        pass::<{ (CONST_BITS + PASS1_BITS + 3) as i32 }>(&mut rows);
        let rows = transpose(rows);
        let shift = _mm256_set1_epi32(128);
        let shifted = rows.map(|r| _mm256_add_epi32(r, shift));
        for half in 0..2 {
            // Two rows of four per 16-bit pack (within 128-bit lanes), then to bytes with
            // unsigned saturation: the clamp to 0..=255 (the signed pack to 16 bits
            // first keeps out-of-range values on their side of it).
            let [a, b, c, d] = [0, 1, 2, 3].map(|i| shifted[4 * half + i]);
            let bytes = _mm256_packus_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
            // Each 128-bit lane now holds quarters of rows a, b, c, d in that order: lane 0
            // the first halves, lane 1 the second. Gather each row's two halves.
            let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
            let rows = _mm256_permutevar8x32_epi32(bytes, order);
            let mut row_bytes = [0u64; 4];
            _mm256_storeu_si256(row_bytes.as_mut_ptr().cast(), rows);
            for (r, bytes) in row_bytes.iter().enumerate() {
                out[(4 * half + r) * stride..][..8].copy_from_slice(&bytes.to_le_bytes());
            }
        }
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn transpose(rows: [__m256i; 8]) -> [__m256i; 8] {
        transpose8x8(rows.map(|r| _mm256_castsi256_ps(r))).map(|r| _mm256_castps_si256(r))
    }

    /// `super::pass_1d` on eight lanes at once, one vector per row.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn pass<const DESCALE: i32>(d: &mut [__m256i; 8]) {
        let (add, sub) = (|a, b| _mm256_add_epi32(a, b), |a, b| _mm256_sub_epi32(a, b));
        let mul = |a, c: i32| _mm256_mullo_epi32(a, _mm256_set1_epi32(c));
        let z1 = mul(add(d[2], d[6]), FIX_0_541196100);
        let tmp2 = add(z1, mul(d[6], -FIX_1_847759065));
        let tmp3 = add(z1, mul(d[2], FIX_0_765366865));
        let tmp0 = _mm256_slli_epi32::<{ CONST_BITS as i32 }>(add(d[0], d[4]));
        let tmp1 = _mm256_slli_epi32::<{ CONST_BITS as i32 }>(sub(d[0], d[4]));
        let (tmp10, tmp13) = (add(tmp0, tmp3), sub(tmp0, tmp3));
        let (tmp11, tmp12) = (add(tmp1, tmp2), sub(tmp1, tmp2));
        let (t0, t1, t2, t3) = (d[7], d[5], d[3], d[1]);
        let z1 = add(t0, t3);
        let z2 = add(t1, t2);
        let z3 = add(t0, t2);
        let z4 = add(t1, t3);
        let z5 = mul(add(z3, z4), FIX_1_175875602);
        let t0 = mul(t0, FIX_0_298631336);
        let t1 = mul(t1, FIX_2_053119869);
        let t2 = mul(t2, FIX_3_072711026);
        let t3 = mul(t3, FIX_1_501321110);
        let z1 = mul(z1, -FIX_0_899976223);
        let z2 = mul(z2, -FIX_2_562915447);
        let z3 = add(mul(z3, -FIX_1_961570560), z5);
        let z4 = add(mul(z4, -FIX_0_390180644), z5);
        let t0 = add(t0, add(z1, z3));
        let t1 = add(t1, add(z2, z4));
        let t2 = add(t2, add(z2, z3));
        let t3 = add(t3, add(z1, z4));
        let half = _mm256_set1_epi32(1 << (DESCALE - 1));
        let round = |x| _mm256_srai_epi32::<DESCALE>(add(x, half));
        *d = [
            round(add(tmp10, t3)),
            round(add(tmp11, t2)),
            round(add(tmp12, t1)),
            round(add(tmp13, t0)),
            round(sub(tmp13, t0)),
            round(sub(tmp12, t1)),
            round(sub(tmp11, t2)),
            round(sub(tmp10, t3)),
        ];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block of `count` pseudo-random coefficients of up to `range` (dequantised).
    fn block(state: &mut u64, count: usize, range: i32) -> [i32; 64] {
        let mut block = [0i32; 64];
        for _ in 0..count {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            let z = (*state % 64) as usize;
            block[z] = (*state >> 32) as i32 % range;
        }
        block
    }

    #[test]
    fn a_flat_block_is_its_dc_term_over_eight() {
        let table = Table::new(&[2; 64]);
        for dc in [-600, -513, -77, -4, 0, 3, 4, 5, 100, 511, 600] {
            let mut flat = [0i32; 64];
            table.put(&mut flat, 0, dc);
            let mut full = flat;
            let expected = take_flat(&mut flat);
            assert!(flat.iter().all(|&v| v == 0));
            let mut out = [0u8; 64];
            idct(&mut full, &mut out, 8);
            assert!(
                out.iter().all(|&s| s == expected),
                "dc {dc}: {out:?} vs {expected}"
            );
            assert!(full.iter().all(|&v| v == 0));
        }
    }

    #[test]
    fn the_transform_inverts_the_dct() {
        // A block of samples, its exact forward DCT (JPEG's normalisation), rounded to
        // integers: the inverse gives the samples back within the rounding.
        let samples: [f64; 64] =
            std::array::from_fn(|i| ((i % 8) * 23 + (i / 8) * 11 + (i * i) % 37) as f64);
        let c = |k: usize| {
            if k == 0 {
                std::f64::consts::FRAC_1_SQRT_2
            } else {
                1.0
            }
        };
        let mut block = [0i32; 64];
        for (z, coefficient) in block.iter_mut().enumerate() {
            let (v, u) = (z / 8, z % 8);
            let mut sum = 0.0;
            for (i, s) in samples.iter().enumerate() {
                let (y, x) = ((i / 8) as f64, (i % 8) as f64);
                sum += (s - 128.0)
                    * ((2.0 * x + 1.0) * u as f64 * std::f64::consts::PI / 16.0).cos()
                    * ((2.0 * y + 1.0) * v as f64 * std::f64::consts::PI / 16.0).cos();
            }
            *coefficient = (c(u) * c(v) / 4.0 * sum).round() as i32;
        }
        let mut out = [0u8; 64];
        idct(&mut block, &mut out, 8);
        for (o, s) in out.iter().zip(samples) {
            assert!((f64::from(*o) - s).abs() <= 1.0, "{out:?}");
        }
    }

    #[test]
    fn simd_and_portable_transforms_agree() {
        let mut state = 0x243F_6A88_85A3_08D3u64;
        // Sparse and dense blocks at photo-like and extreme (clamped) levels, and
        // corrupt-stream magnitudes where the arithmetic wraps.
        for (count, range) in [(3, 60), (12, 200), (64, 1000), (64, 30000), (20, i32::MAX)] {
            for _ in 0..200 {
                let original = block(&mut state, count, range);
                let (mut a, mut b) = (original, original);
                let (mut out_a, mut out_b) = ([0u8; 80], [0u8; 80]);
                idct(&mut a, &mut out_a, 10);
                idct_portable(&mut b, &mut out_b, 10);
                assert_eq!(out_a, out_b, "{original:?}");
                assert_eq!(a, [0; 64]);
                assert_eq!(b, [0; 64]);
            }
        }
    }
}
