//! Baseline JPEG encoding of 8-bit gray and RGB images, as libjpeg does it by default
//! (Pillow, OpenCV): JFIF, the standard (Annex K) quantisation tables scaled by quality the
//! IJG way, 4:2:0 chroma averaged over 2x2 pixels, the standard Huffman tables.
//!
//! Written for speed: colour conversion and chroma averaging in one pass over the pixels,
//! libjpeg's float AAN DCT on whole 8-wide rows that the compiler vectorises (built for AVX2
//! when the CPU has it), and Huffman coding that walks only the nonzero coefficients.

use super::jpeg_scaled::ZIGZAG;

/// Annex K.1 quantisation tables, natural order.
const LUMA_QUANT: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMA_QUANT: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// A Huffman table as DHT holds it: code counts per length 1..16, then the symbols.
type HuffmanSpec = ([u8; 16], &'static [u8]);

/// Annex K.3 Huffman tables.
const DC_LUMA: HuffmanSpec = (
    [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
    &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
);
const DC_CHROMA: HuffmanSpec = (
    [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
    &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
);
const AC_LUMA: HuffmanSpec = (
    [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
    &[
        0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61,
        0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52,
        0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25,
        0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45,
        0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64,
        0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83,
        0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
        0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6,
        0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3,
        0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8,
        0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
    ],
);
const AC_CHROMA: HuffmanSpec = (
    [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
    &[
        0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61,
        0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33,
        0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18,
        0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44,
        0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63,
        0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
        0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
        0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4,
        0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca,
        0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
        0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
    ],
);

/// Encodes `pixels` (`width x height`, gray or packed RGB, 8 bits) at `quality` (1..=100).
/// Both sides must be 1..=65535.
pub fn encode(pixels: &[u8], width: usize, height: usize, rgb: bool, quality: u8) -> Vec<u8> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { encode_avx2(pixels, width, height, rgb, quality) };
    }
    Encoder::new(width, height, rgb, quality).run(pixels)
}

/// The same encoder compiled for AVX2: the DCT's 8-wide rows become single vector
/// instructions.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn encode_avx2(
    pixels: &[u8],
    width: usize,
    height: usize,
    rgb: bool,
    quality: u8,
) -> Vec<u8> {
    Encoder::new(width, height, rgb, quality).run(pixels)
}

/// IJG's quality scaling of a base table, limited to baseline's 8 bits.
fn scaled(base: &[u16; 64], quality: u8) -> [u16; 64] {
    let quality = u32::from(quality.clamp(1, 100));
    let scale = if quality < 50 {
        5000 / quality
    } else {
        200 - 2 * quality
    };
    base.map(|q| ((u32::from(q) * scale + 50) / 100).clamp(1, 255) as u16)
}

/// A Huffman table for coding: (code, length) per symbol.
struct Codes([(u16, u8); 256]);

impl Codes {
    fn new(table: &HuffmanSpec) -> Codes {
        let mut codes = [(0u16, 0u8); 256];
        let (counts, symbols) = table;
        let mut code = 0u16;
        let mut k = 0;
        for (i, &count) in counts.iter().enumerate() {
            for _ in 0..count {
                codes[usize::from(symbols[k])] = (code, i as u8 + 1);
                code += 1;
                k += 1;
            }
            code <<= 1;
        }
        Codes(codes)
    }
}

/// Entropy-coded bytes, 0xFF stuffed with 0x00.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    count: u32,
}

impl BitWriter {
    /// Appends the low `len` bits of `bits` (`len` at most 32).
    #[inline(always)]
    fn put(&mut self, bits: u32, len: u32) {
        self.acc = (self.acc << len) | u64::from(bits);
        self.count += len;
        if self.count >= 32 {
            let word = (self.acc >> (self.count - 32)) as u32;
            self.count -= 32;
            let inverted = !word;
            if inverted.wrapping_sub(0x0101_0101) & word & 0x8080_8080 == 0 {
                // No 0xFF byte (the usual case).
                self.out.extend_from_slice(&word.to_be_bytes());
            } else {
                for byte in word.to_be_bytes() {
                    self.out.push(byte);
                    if byte == 0xFF {
                        self.out.push(0);
                    }
                }
            }
        }
    }

    /// Pads the last byte with ones.
    fn finish(&mut self) {
        let pad = (8 - self.count % 8) % 8;
        self.put((1 << pad) - 1, pad);
        while self.count >= 8 {
            let byte = (self.acc >> (self.count - 8)) as u8;
            self.count -= 8;
            self.out.push(byte);
            if byte == 0xFF {
                self.out.push(0);
            }
        }
    }
}

struct Encoder {
    width: usize,
    height: usize,
    rgb: bool,
    quant: [[u16; 64]; 2],
    /// Per table, indexed by `horizontal * 8 + vertical` frequency (`fdct`'s transposed
    /// output): 1 / (quantiser x the AAN DCT's scale), as libjpeg's float DCT divides.
    reciprocal: [[f32; 64]; 2],
    dc: [Codes; 2],
    ac: [Codes; 2],
}

impl Encoder {
    fn new(width: usize, height: usize, rgb: bool, quality: u8) -> Encoder {
        let quant = [scaled(&LUMA_QUANT, quality), scaled(&CHROMA_QUANT, quality)];
        // The AAN DCT leaves frequency u scaled by AAN_SCALE[u] and the whole by 8.
        const AAN_SCALE: [f64; 8] = [
            1.0,
            1.387_039_845,
            1.306_562_965,
            1.175_875_602,
            1.0,
            0.785_694_958,
            0.541_196_100,
            0.275_899_379,
        ];
        let reciprocal = quant.map(|table| {
            std::array::from_fn(|i| {
                let (horizontal, vertical) = (i / 8, i % 8);
                let q = f64::from(table[vertical * 8 + horizontal]);
                (1.0 / (q * AAN_SCALE[vertical] * AAN_SCALE[horizontal] * 8.0)) as f32
            })
        });
        Encoder {
            width,
            height,
            rgb,
            quant,
            reciprocal,
            dc: [Codes::new(&DC_LUMA), Codes::new(&DC_CHROMA)],
            ac: [Codes::new(&AC_LUMA), Codes::new(&AC_CHROMA)],
        }
    }

    #[inline(always)]
    fn run(&self, pixels: &[u8]) -> Vec<u8> {
        let mut out = BitWriter {
            out: Vec::with_capacity(self.width * self.height / 4 + 1024),
            acc: 0,
            count: 0,
        };
        self.headers(&mut out.out);
        if self.rgb {
            self.scan_420(pixels, &mut out);
        } else {
            self.scan_gray(pixels, &mut out);
        }
        out.finish();
        out.out.extend_from_slice(&[0xFF, 0xD9]);
        out.out
    }

    fn headers(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0xFF, 0xD8]);
        // JFIF 1.1, no density.
        out.extend_from_slice(&[
            0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
        ]);
        let tables = if self.rgb { 2 } else { 1 };
        let length = 2 + 65 * tables;
        out.extend_from_slice(&[0xFF, 0xDB, (length >> 8) as u8, length as u8]);
        for (id, table) in self.quant.iter().take(tables).enumerate() {
            out.push(id as u8);
            out.extend(ZIGZAG.iter().map(|&z| table[usize::from(z)] as u8));
        }
        let components: &[(u8, u8, u8)] = if self.rgb {
            &[(1, 0x22, 0), (2, 0x11, 1), (3, 0x11, 1)]
        } else {
            &[(1, 0x11, 0)]
        };
        let length = 8 + 3 * components.len();
        out.extend_from_slice(&[0xFF, 0xC0, (length >> 8) as u8, length as u8, 8]);
        out.extend_from_slice(&(self.height as u16).to_be_bytes());
        out.extend_from_slice(&(self.width as u16).to_be_bytes());
        out.push(components.len() as u8);
        for &(id, sampling, table) in components {
            out.extend_from_slice(&[id, sampling, table]);
        }
        let huffman: &[(u8, &HuffmanSpec)] = if self.rgb {
            &[
                (0x00, &DC_LUMA),
                (0x10, &AC_LUMA),
                (0x01, &DC_CHROMA),
                (0x11, &AC_CHROMA),
            ]
        } else {
            &[(0x00, &DC_LUMA), (0x10, &AC_LUMA)]
        };
        for &(class, (counts, symbols)) in huffman {
            let length = 2 + 1 + 16 + symbols.len();
            out.extend_from_slice(&[0xFF, 0xC4, (length >> 8) as u8, length as u8, class]);
            out.extend_from_slice(counts);
            out.extend_from_slice(symbols);
        }
        let length = 6 + 2 * components.len();
        out.extend_from_slice(&[0xFF, 0xDA, (length >> 8) as u8, length as u8]);
        out.push(components.len() as u8);
        for &(id, _, table) in components {
            out.extend_from_slice(&[id, table << 4 | table]);
        }
        out.extend_from_slice(&[0, 63, 0]);
    }

    // Inlined (like `run` and `block`) so that `encode_avx2` compiles it for AVX2.
    #[inline(always)]
    fn scan_gray(&self, pixels: &[u8], out: &mut BitWriter) {
        let (w, h) = (self.width, self.height);
        let mut prediction = 0;
        let mut block = [[0f32; 8]; 8];
        for by in (0..h).step_by(8) {
            for bx in (0..w).step_by(8) {
                // Edge blocks repeat the last row and column.
                for (y, row) in block.iter_mut().enumerate() {
                    let line = &pixels[(by + y).min(h - 1) * w..][..w];
                    for (x, v) in row.iter_mut().enumerate() {
                        *v = f32::from(line[(bx + x).min(w - 1)]) - 128.0;
                    }
                }
                self.block(&block, 0, &mut prediction, out);
            }
        }
    }

    #[inline(always)]
    fn scan_420(&self, pixels: &[u8], out: &mut BitWriter) {
        let (w, h) = (self.width, self.height);
        let mut predictions = [0i32; 3];
        // One MCU row at a time: 16 rows of Y and 8 of Cb and Cr, padded to whole MCUs by
        // repeating the last row and column.
        let mcus = w.div_ceil(16);
        let padded = mcus * 16;
        let mut luma = vec![0f32; 16 * padded];
        let mut cb = vec![0f32; 8 * padded / 2];
        let mut cr = vec![0f32; 8 * padded / 2];
        for my in 0..h.div_ceil(16) {
            for y in 0..16 {
                let line = &pixels[(my * 16 + y).min(h - 1) * w * 3..][..w * 3];
                let row = &mut luma[y * padded..(y + 1) * padded];
                for (l, p) in row.iter_mut().zip(line.chunks_exact(3)) {
                    *l =
                        0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
                            - 128.0;
                }
                let last = row[w - 1];
                row[w..].fill(last);
            }
            for y in 0..8 {
                let rows = [
                    (my * 16 + 2 * y).min(h - 1),
                    (my * 16 + 2 * y + 1).min(h - 1),
                ];
                let (a, b) = (
                    &pixels[rows[0] * w * 3..][..w * 3],
                    &pixels[rows[1] * w * 3..][..w * 3],
                );
                let cb_row = &mut cb[y * padded / 2..(y + 1) * padded / 2];
                let cr_row = &mut cr[y * padded / 2..(y + 1) * padded / 2];
                // The 2x2 average of R, G and B (chroma is linear in them): whole pairs of
                // columns first, then the odd last column and the padding.
                let pairs = w / 2;
                let chroma = |r: u32, g: u32, b: u32| {
                    let (r, g, b) = (r as f32 * 0.25, g as f32 * 0.25, b as f32 * 0.25);
                    (
                        -0.168_736 * r - 0.331_264 * g + 0.5 * b,
                        0.5 * r - 0.418_688 * g - 0.081_312 * b,
                    )
                };
                for (((pa, pb), cbv), crv) in a
                    .chunks_exact(6)
                    .zip(b.chunks_exact(6))
                    .zip(cb_row.iter_mut())
                    .zip(cr_row.iter_mut())
                {
                    let sum = |c: usize| {
                        u32::from(pa[c])
                            + u32::from(pa[c + 3])
                            + u32::from(pb[c])
                            + u32::from(pb[c + 3])
                    };
                    (*cbv, *crv) = chroma(sum(0), sum(1), sum(2));
                }
                for x in pairs..padded / 2 {
                    let (x0, x1) = ((2 * x).min(w - 1) * 3, (2 * x + 1).min(w - 1) * 3);
                    let sum = |c: usize| {
                        u32::from(a[x0 + c])
                            + u32::from(a[x1 + c])
                            + u32::from(b[x0 + c])
                            + u32::from(b[x1 + c])
                    };
                    (cb_row[x], cr_row[x]) = chroma(sum(0), sum(1), sum(2));
                }
            }
            for mx in 0..mcus {
                for (dy, dx) in [(0, 0), (0, 8), (8, 0), (8, 8)] {
                    let block = gather(&luma, padded, mx * 16 + dx, dy);
                    self.block(&block, 0, &mut predictions[0], out);
                }
                let block = gather(&cb, padded / 2, mx * 8, 0);
                self.block(&block, 1, &mut predictions[1], out);
                let block = gather(&cr, padded / 2, mx * 8, 0);
                self.block(&block, 1, &mut predictions[2], out);
            }
        }
    }

    /// DCT, quantisation and Huffman coding of one level-shifted block.
    #[inline(always)]
    fn block(
        &self,
        block: &[[f32; 8]; 8],
        table: usize,
        prediction: &mut i32,
        out: &mut BitWriter,
    ) {
        // Vertically (8 columns at once), transpose, again: frequencies transposed.
        let mut rows = *block;
        fdct_pass(&mut rows);
        let mut transposed: [[f32; 8]; 8] =
            std::array::from_fn(|i| std::array::from_fn(|j| rows[j][i]));
        fdct_pass(&mut transposed);
        let reciprocal = &self.reciprocal[table];
        let mut coefficients = [0i32; 64];
        for (i, (c, r)) in coefficients.iter_mut().zip(reciprocal).enumerate() {
            // Baseline codes at most 10 bits of AC magnitude (11 of DC).
            *c = ((transposed[i / 8][i % 8] * r).round_ties_even() as i32).clamp(-1023, 1023);
        }
        let mut zigzag = [0i32; 64];
        let mut nonzero = 0u64;
        for (k, (z, &natural)) in zigzag.iter_mut().zip(&ZIGZAG).enumerate() {
            // `coefficients` is transposed: natural row r, column c is at c * 8 + r.
            let natural = usize::from(natural);
            *z = coefficients[natural % 8 * 8 + natural / 8];
            nonzero |= u64::from(*z != 0) << k;
        }
        let (dc, ac) = (&self.dc[table].0, &self.ac[table].0);
        let diff = zigzag[0] - *prediction;
        *prediction = zigzag[0];
        let size = magnitude_bits(diff);
        let (code, len) = dc[size as usize];
        out.put(
            u32::from(code) << size | value_bits(diff, size),
            u32::from(len) + size,
        );
        let mut nonzero = nonzero & !1;
        let mut last = 0;
        while nonzero != 0 {
            let k = nonzero.trailing_zeros() as usize;
            nonzero &= nonzero - 1;
            let mut run = k - last - 1;
            while run >= 16 {
                let (code, len) = ac[0xF0];
                out.put(u32::from(code), u32::from(len));
                run -= 16;
            }
            let v = zigzag[k];
            let size = magnitude_bits(v);
            let (code, len) = ac[run << 4 | size as usize];
            out.put(
                u32::from(code) << size | value_bits(v, size),
                u32::from(len) + size,
            );
            last = k;
        }
        if last != 63 {
            let (code, len) = ac[0x00];
            out.put(u32::from(code), u32::from(len));
        }
    }
}

/// One pass of the AAN forward DCT (libjpeg's `jfdctflt.c`) down the rows of `d`, for all 8
/// columns at once (the compiler makes each line one vector operation). Output row u is
/// frequency u, scaled as `Encoder::reciprocal` undoes.
#[inline(always)]
// One column index across eight rows reads as the 1-D transform it is.
#[allow(clippy::needless_range_loop)]
fn fdct_pass(d: &mut [[f32; 8]; 8]) {
    for j in 0..8 {
        let tmp0 = d[0][j] + d[7][j];
        let tmp7 = d[0][j] - d[7][j];
        let tmp1 = d[1][j] + d[6][j];
        let tmp6 = d[1][j] - d[6][j];
        let tmp2 = d[2][j] + d[5][j];
        let tmp5 = d[2][j] - d[5][j];
        let tmp3 = d[3][j] + d[4][j];
        let tmp4 = d[3][j] - d[4][j];
        // Even part.
        let tmp10 = tmp0 + tmp3;
        let tmp13 = tmp0 - tmp3;
        let tmp11 = tmp1 + tmp2;
        let tmp12 = tmp1 - tmp2;
        d[0][j] = tmp10 + tmp11;
        d[4][j] = tmp10 - tmp11;
        let z1 = (tmp12 + tmp13) * 0.707_106_77;
        d[2][j] = tmp13 + z1;
        d[6][j] = tmp13 - z1;
        // Odd part.
        let tmp10 = tmp4 + tmp5;
        let tmp11 = tmp5 + tmp6;
        let tmp12 = tmp6 + tmp7;
        let z5 = (tmp10 - tmp12) * 0.382_683_43;
        let z2 = 0.541_196_1 * tmp10 + z5;
        let z4 = 1.306_563 * tmp12 + z5;
        let z3 = tmp11 * 0.707_106_77;
        let z11 = tmp7 + z3;
        let z13 = tmp7 - z3;
        d[5][j] = z13 + z2;
        d[3][j] = z13 - z2;
        d[1][j] = z11 + z4;
        d[7][j] = z11 - z4;
    }
}

/// An 8x8 block of `plane` (rows of `stride`) at column `x`, row `y`.
#[inline(always)]
fn gather(plane: &[f32], stride: usize, x: usize, y: usize) -> [[f32; 8]; 8] {
    let mut block = [[0f32; 8]; 8];
    for (r, row) in block.iter_mut().enumerate() {
        row.copy_from_slice(&plane[(y + r) * stride + x..][..8]);
    }
    block
}

/// The bits JPEG uses for `v`: 0 for 0, else the length of |v| in binary.
#[inline(always)]
fn magnitude_bits(v: i32) -> u32 {
    32 - v.unsigned_abs().leading_zeros()
}

/// The `size` low bits JPEG writes for `v`: v itself when positive, v - 1 when negative.
#[inline(always)]
fn value_bits(v: i32, size: u32) -> u32 {
    let v = if v < 0 { v - 1 } else { v };
    (v as u32) & ((1u32 << size) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean absolute difference after a round trip through the `image` crate's decoder.
    fn round_trip(pixels: &[u8], w: usize, h: usize, rgb: bool, quality: u8) -> f64 {
        let data = encode(pixels, w, h, rgb, quality);
        let decoded = image::load_from_memory(&data).unwrap();
        assert_eq!(
            (decoded.width() as usize, decoded.height() as usize),
            (w, h)
        );
        let back = if rgb {
            decoded.to_rgb8().into_raw()
        } else {
            decoded.to_luma8().into_raw()
        };
        let total: u64 = pixels
            .iter()
            .zip(&back)
            .map(|(&a, &b)| u64::from(a.abs_diff(b)))
            .sum();
        total as f64 / pixels.len() as f64
    }

    #[test]
    fn odd_sizes_round_trip_in_colour_and_gray() {
        for (w, h) in [(1, 1), (7, 3), (17, 33), (101, 45)] {
            // Smooth ramps: sharp colour edges would measure 4:2:0 chroma, not the encoder.
            let rgb: Vec<u8> = (0..w * h * 3)
                .map(|i| ((i / 3 % w) * 150 / w + (i / 3 / w) * 60 / h + i % 3 * 20) as u8)
                .collect();
            let e = round_trip(&rgb, w, h, true, 90);
            assert!(e < 2.0, "{w}x{h} colour {e}");
            let gray: Vec<u8> = (0..w * h)
                .map(|i| ((i % w) * 7 + (i / w) * 2) as u8)
                .collect();
            assert!(round_trip(&gray, w, h, false, 90) < 3.0, "{w}x{h} gray");
        }
    }

    #[test]
    fn every_quality_decodes_and_higher_is_closer() {
        let (w, h) = (64, 48);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| ((i * 37) % 251) as u8).collect();
        let errors: Vec<f64> = [1, 10, 50, 85, 100]
            .iter()
            .map(|&q| round_trip(&rgb, w, h, true, q))
            .collect();
        assert!(errors.windows(2).all(|e| e[1] <= e[0]), "{errors:?}");
    }
}
