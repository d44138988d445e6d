//! Baseline JPEG encoding of 8-bit gray and RGB images, as libjpeg does it by default
//! (Pillow, OpenCV): JFIF, the standard (Annex K) quantisation tables scaled by quality the
//! IJG way, 4:2:0 chroma averaged over 2x2 pixels, the standard Huffman tables.
//!
//! Written for speed, one MCU row at a time: Y by `gray`'s kernel, chroma from 2x2 sums
//! (AVX2 shuffles and multiply-adds), libjpeg's float AAN DCT on whole 8-wide rows (with
//! AVX2, a block's rows stay in eight registers from load through DCT, transpose and
//! quantisation, three blocks advancing step by step together; without, the compiler
//! vectorises the same arithmetic), a whole MCU transformed before it is coded,
//! quantisation that yields the zigzag-order mask of nonzero coefficients without
//! reordering them, and a Huffman writer that stores whole words without data-dependent
//! branches.

use super::gray;
use super::jpeg_decode::ZIGZAG;

/// The AVX2 8x8 transpose of eight `__m256` rows, which the inverse DCT shares.
#[cfg(target_arch = "x86_64")]
pub(super) use avx2::transpose as transpose8x8;

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
    if std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("bmi2")
        && std::arch::is_x86_feature_detected!("lzcnt")
    {
        // SAFETY: the CPU has AVX2, BMI2 and LZCNT, checked just above.
        return unsafe { encode_avx2(pixels, width, height, rgb, quality) };
    }
    Encoder::new(width, height, rgb, quality, false).run(pixels)
}

/// The same encoder compiled for AVX2: the DCT's 8-wide rows become single vector
/// instructions; LZCNT and BMI2's flag-free shifts shorten the Huffman coder's chains.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi2,lzcnt")]
unsafe fn encode_avx2(
    pixels: &[u8],
    width: usize,
    height: usize,
    rgb: bool,
    quality: u8,
) -> Vec<u8> {
    Encoder::new(width, height, rgb, quality, true).run(pixels)
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

/// A Huffman table for coding, per symbol: its code shifted left by the number of value
/// bits that follow it (the symbol's low four bits, for DC and AC symbols alike), and the
/// length of code and value bits together. The coder then ORs in the value bits and writes,
/// without shifting or adding per coefficient.
struct Codes([(u32, u32); 256]);

impl Codes {
    fn new(table: &HuffmanSpec) -> Codes {
        let mut codes = [(0u32, 0u32); 256];
        let (counts, symbols) = table;
        let mut code = 0u32;
        let mut k = 0;
        for (i, &count) in counts.iter().enumerate() {
            for _ in 0..count {
                let symbol = symbols[k];
                let size = u32::from(symbol & 0x0F);
                codes[usize::from(symbol)] = (code << size, i as u32 + 1 + size);
                code += 1;
                k += 1;
            }
            code <<= 1;
        }
        Codes(codes)
    }
}

/// Entropy-coded bytes, 0xFF stuffed with 0x00.
///
/// Written without a data-dependent branch: every `put` stores the accumulator's whole
/// pending bytes as one 8-byte word and advances by as many bytes as are complete, so `out`
/// always has 8 bytes of slack past `len`. The 0xFF bytes (about one in sixty) are stuffed
/// in one pass at the end, which costs less than looking for them at every `put`.
struct BitWriter {
    out: Vec<u8>,
    /// Where the entropy-coded bytes start in `out` (after the headers).
    start: usize,
    state: Bits,
}

/// The writer's position and pending bits: copied into locals for each block, so that they
/// live in registers while the block is coded.
#[derive(Clone, Copy)]
struct Bits {
    /// Bytes of `out` written; the rest is slack.
    len: usize,
    /// Pending bits in the low `count` bits (the bits above them are stale).
    acc: u64,
    count: u32,
}

impl BitWriter {
    /// The most one block can write: 64 codes of at most 27 bits.
    const BLOCK_BYTES: usize = 64 * 27 / 8 + 8;

    fn new(header: Vec<u8>, capacity: usize) -> BitWriter {
        let len = header.len();
        let mut out = header;
        out.resize(len + capacity.max(Self::BLOCK_BYTES), 0);
        BitWriter {
            out,
            start: len,
            state: Bits {
                len,
                acc: 0,
                count: 0,
            },
        }
    }

    /// Makes room for one more block; called before each.
    #[inline(always)]
    fn reserve_block(&mut self) {
        if self.out.len() - self.state.len < Self::BLOCK_BYTES {
            self.out.resize(self.out.len() * 2, 0);
        }
    }

    /// Pads the last byte with ones and returns the bytes, stuffed.
    fn finish(mut self) -> Vec<u8> {
        let pad = (8 - self.state.count % 8) % 8;
        self.reserve_block();
        // SAFETY: `reserve_block` left room for a whole block.
        unsafe { self.state.put(&mut self.out, (1 << pad) - 1, pad) };
        self.out.truncate(self.state.len);
        stuff(&mut self.out, self.start);
        self.out
    }
}

/// Inserts a 0x00 after every 0xFF of `bytes[from..]`, in place: the bytes move back once,
/// from the end, in runs between 0xFF bytes.
fn stuff(bytes: &mut Vec<u8>, from: usize) {
    let count = memchr::memchr_iter(0xFF, &bytes[from..]).count();
    let mut end = bytes.len();
    bytes.resize(end + count, 0);
    let mut to = bytes.len();
    while let Some(ff) = memchr::memrchr(0xFF, &bytes[from..end]) {
        let ff = from + ff;
        let run = end - ff - 1;
        bytes.copy_within(ff + 1..end, to - run);
        to -= run;
        bytes[to - 2..to].copy_from_slice(&[0xFF, 0]);
        to -= 2;
        end = ff;
    }
}

impl Bits {
    /// Appends the low `len` bits of `bits` (`len` at most 32, with at most 7 bits pending)
    /// to `out`, unstuffed.
    ///
    /// # Safety
    ///
    /// `out` has at least 8 bytes past `self.len`. (`BitWriter::reserve_block` makes room
    /// for a whole block's puts; a checked store here cost 8% of the encoder's time.)
    #[inline(always)]
    unsafe fn put(&mut self, out: &mut [u8], bits: u32, len: u32) {
        self.acc = (self.acc << len) | u64::from(bits);
        self.count += len;
        // The pending bits, first bit at the top; count is 1..=39 here unless len was 0
        // (then the word is stale, and no byte of it is taken).
        let word = self.acc.wrapping_shl(64 - self.count);
        let whole = self.count / 8;
        debug_assert!(self.len + 8 <= out.len());
        // SAFETY: the 8 bytes are within `out`, as the caller guarantees.
        unsafe {
            let at = out.as_mut_ptr().add(self.len).cast::<[u8; 8]>();
            at.write_unaligned(word.to_be_bytes());
        }
        self.len += whole as usize;
        self.count -= whole * 8;
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
    /// Quantise with AVX2 intrinsics (set only when the CPU has AVX2).
    avx2: bool,
}

impl Encoder {
    fn new(width: usize, height: usize, rgb: bool, quality: u8, avx2: bool) -> Encoder {
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
            avx2,
        }
    }

    #[inline(always)]
    fn run(&self, pixels: &[u8]) -> Vec<u8> {
        let mut header = Vec::with_capacity(1024);
        self.headers(&mut header);
        let mut out = BitWriter::new(header, self.width * self.height / 4 + 1024);
        if self.rgb {
            self.scan_420(pixels, &mut out);
        } else {
            self.scan_gray(pixels, &mut out);
        }
        let mut bytes = out.finish();
        bytes.extend_from_slice(&[0xFF, 0xD9]);
        bytes
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
        // One row of blocks at a time, padded to whole blocks by repeating the last row and
        // column.
        let padded = w.div_ceil(8) * 8;
        let mut strip = vec![0u8; 8 * padded];
        for by in (0..h).step_by(8) {
            for (y, row) in strip.chunks_exact_mut(padded).enumerate() {
                row[..w].copy_from_slice(&pixels[(by + y).min(h - 1) * w..][..w]);
                let last = row[w - 1];
                row[w..].fill(last);
            }
            // Three blocks transformed, then coded (see `scan_420`); past the row's end the
            // last block stands in, transformed but not coded.
            for group in (0..padded).step_by(24) {
                let xs = [0, 8, 16].map(|dx| (group + dx).min(padded - 8));
                let blocks = self.forward_gray(&strip, padded, xs);
                let count = (padded - group).min(24) / 8;
                for &coefficients in &blocks[..count] {
                    self.block(coefficients, 0, &mut prediction, out);
                }
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
        let mut luma = Vec::with_capacity(16 * padded);
        let mut cb = vec![0f32; 8 * padded / 2];
        let mut cr = vec![0f32; 8 * padded / 2];
        for my in 0..h.div_ceil(16) {
            luma.clear();
            for y in 0..16 {
                // Y rounded to 8 bits, as libjpeg's colour conversion makes it.
                let line = &pixels[(my * 16 + y).min(h - 1) * w * 3..][..w * 3];
                gray::map8(line, 3, &mut luma);
                let last = luma[luma.len() - 1];
                luma.resize(luma.len() + padded - w, last);
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
                #[cfg(target_arch = "x86_64")]
                if self.avx2 {
                    // SAFETY: `avx2` is set only when the CPU has AVX2.
                    unsafe { avx2::chroma_row(a, b, cb_row, cr_row) };
                } else {
                    chroma_row(a, b, cb_row, cr_row, 0);
                }
                #[cfg(not(target_arch = "x86_64"))]
                chroma_row(a, b, cb_row, cr_row, 0);
            }
            for mx in 0..mcus {
                // All six blocks are transformed before any is coded: the transforms then
                // overlap in the CPU, rather than each waiting out the mispredicted branch
                // that ends the previous block's coding.
                let blocks = self.forward_mcu(&luma, &cb, &cr, padded, mx);
                for (i, &coefficients) in blocks.iter().enumerate() {
                    let (table, component) = if i < 4 { (0, 0) } else { (1, i - 3) };
                    self.block(coefficients, table, &mut predictions[component], out);
                }
            }
        }
    }

    /// DCT and quantisation of the level-shifted 8x8 blocks of 8-bit `plane` (rows of
    /// `stride`) at columns `xs`.
    #[inline(always)]
    fn forward_gray(&self, plane: &[u8], stride: usize, xs: [usize; 3]) -> [Quantised; 3] {
        let reciprocal = &self.reciprocal[0];
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the CPU has AVX2.
            return unsafe {
                avx2::forward3(
                    xs.map(|x| avx2::load_u8(plane, stride, x)),
                    [avx2::U8_SHIFT; 3],
                    [reciprocal; 3],
                )
            };
        }
        xs.map(|x| forward(samples(plane, stride, x), reciprocal))
    }

    /// DCT and quantisation of MCU `mx`'s six blocks: four of the 16 rows of `luma` (8 bits,
    /// rows of `stride`), then one each of `cb` and `cr` (rows of `stride / 2`).
    #[inline(always)]
    fn forward_mcu(
        &self,
        luma: &[u8],
        cb: &[f32],
        cr: &[f32],
        stride: usize,
        mx: usize,
    ) -> [Quantised; 6] {
        let (top, bottom) = luma.split_at(8 * stride);
        let (x, cx) = (mx * 16, mx * 8);
        let [luma_table, chroma_table] = &self.reciprocal;
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            use avx2::{forward3, load_f32, load_u8, U8_SHIFT};
            // SAFETY: `avx2` is set only when the CPU has AVX2.
            let ([a, b, c], [d, e, f]) = unsafe {
                (
                    forward3(
                        [
                            load_u8(top, stride, x),
                            load_u8(top, stride, x + 8),
                            load_u8(bottom, stride, x),
                        ],
                        [U8_SHIFT; 3],
                        [luma_table; 3],
                    ),
                    forward3(
                        [
                            load_u8(bottom, stride, x + 8),
                            load_f32(cb, stride / 2, cx),
                            load_f32(cr, stride / 2, cx),
                        ],
                        [U8_SHIFT, 0.0, 0.0],
                        [luma_table, chroma_table, chroma_table],
                    ),
                )
            };
            return [a, b, c, d, e, f];
        }
        [
            forward(samples(top, stride, x), luma_table),
            forward(samples(top, stride, x + 8), luma_table),
            forward(samples(bottom, stride, x), luma_table),
            forward(samples(bottom, stride, x + 8), luma_table),
            forward(gather(cb, stride / 2, cx, 0), chroma_table),
            forward(gather(cr, stride / 2, cx, 0), chroma_table),
        ]
    }

    /// Huffman coding of one block's quantised `coefficients` (DCT-transposed order) with
    /// the mask of its nonzero ones in zigzag order.
    #[inline(always)]
    fn block(
        &self,
        (coefficients, nonzero): Quantised,
        table: usize,
        prediction: &mut i32,
        out: &mut BitWriter,
    ) {
        out.reserve_block();
        let (dc, ac) = (&self.dc[table].0, &self.ac[table].0);
        let mut bits = out.state;
        let buffer = &mut out.out[..];
        let diff = i32::from(coefficients[0]) - *prediction;
        *prediction = i32::from(coefficients[0]);
        let size = magnitude_bits(diff);
        let (code, len) = dc[size as usize];
        // SAFETY (each `put` of the block): `reserve_block` above made room for a block's
        // codes, at most 64 of at most 27 bits, and the last one's 8-byte store.
        unsafe { bits.put(buffer, code | value_bits(diff, size), len) };
        let mut nonzero = nonzero & !1;
        let mut last = 0;
        while nonzero != 0 {
            let k = nonzero.trailing_zeros() as usize;
            nonzero &= nonzero - 1;
            let mut run = k - last - 1;
            while run >= 16 {
                let (code, len) = ac[0xF0];
                // SAFETY: as above.
                unsafe { bits.put(buffer, code, len) };
                run -= 16;
            }
            let v = i32::from(coefficients[usize::from(ZIGZAG_TRANSPOSED[k])]);
            let size = magnitude_bits(v);
            let (code, len) = ac[run << 4 | size as usize];
            // SAFETY: as above.
            unsafe { bits.put(buffer, code | value_bits(v, size), len) };
            last = k;
        }
        if last != 63 {
            let (code, len) = ac[0x00];
            // SAFETY: as above.
            unsafe { bits.put(buffer, code, len) };
        }
        out.state = bits;
    }
}

/// A block's quantised coefficients in the DCT's transposed order, and the mask of the
/// nonzero ones in zigzag order (see `quantise`).
type Quantised = ([i16; 64], u64);

/// The forward DCT of a level-shifted block (down the columns, transposed, down again:
/// frequencies come out transposed), quantised.
#[inline(always)]
fn forward(mut rows: [[f32; 8]; 8], reciprocal: &[f32; 64]) -> Quantised {
    fdct_pass(&mut rows);
    let mut transposed = transpose(&rows);
    fdct_pass(&mut transposed);
    quantise(&transposed, reciprocal)
}

/// For zigzag position k, the index of its coefficient in the DCT's transposed output
/// (natural row r, column c sits at c * 8 + r).
const ZIGZAG_TRANSPOSED: [u8; 64] = {
    let mut table = [0u8; 64];
    let mut k = 0;
    while k < 64 {
        let natural = ZIGZAG[k];
        table[k] = natural % 8 * 8 + natural / 8;
        k += 1;
    }
    table
};

/// Quantised coefficients in the DCT's transposed order (baseline codes at most 10 bits of AC
/// magnitude and 11 of DC, so they are held to +-1023), and the mask of the nonzero ones in
/// zigzag order: bit k for zigzag position k.
#[inline(always)]
fn quantise(transposed: &[[f32; 8]; 8], reciprocal: &[f32; 64]) -> ([i16; 64], u64) {
    let mut coefficients = [0i16; 64];
    for (i, (c, r)) in coefficients.iter_mut().zip(reciprocal).enumerate() {
        *c = ((transposed[i / 8][i % 8] * r).round_ties_even() as i32).clamp(-1023, 1023) as i16;
    }
    let mut nonzero = 0u64;
    for (k, &i) in ZIGZAG_TRANSPOSED.iter().enumerate() {
        nonzero |= u64::from(coefficients[usize::from(i)] != 0) << k;
    }
    (coefficients, nonzero)
}

#[inline(always)]
fn transpose(rows: &[[f32; 8]; 8]) -> [[f32; 8]; 8] {
    std::array::from_fn(|i| std::array::from_fn(|j| rows[j][i]))
}

/// Cb and Cr weights for R, G and B, scaled by 2^15 and rounded so that each triple sums to
/// zero (gray stays exactly neutral).
const CB_WEIGHTS: [i32; 3] = [-5529, -10855, 16384];
const CR_WEIGHTS: [i32; 3] = [16384, -13720, -2664];
/// From weighted sums of four pixels to the chroma of their average.
const CHROMA_SCALE: f32 = 1.0 / (4.0 * 32768.0);

/// The (level-shifted) Cb and Cr of the average of a 2x2 square, from its R, G and B sums:
/// chroma is linear in R, G and B, so averaging first is exact.
#[inline(always)]
fn chroma(sums: [i32; 3]) -> (f32, f32) {
    let dot = |w: [i32; 3]| (w[0] * sums[0] + w[1] * sums[1] + w[2] * sums[2]) as f32;
    (
        dot(CB_WEIGHTS) * CHROMA_SCALE,
        dot(CR_WEIGHTS) * CHROMA_SCALE,
    )
}

/// Cb and Cr of each 2x2 square of the RGB rows `a` and `b`, from column pair `from` on. Rows
/// narrower than `cb` repeat their last column.
#[inline(always)]
fn chroma_row(a: &[u8], b: &[u8], cb: &mut [f32], cr: &mut [f32], from: usize) {
    let w = a.len() / 3;
    // Blocks of 16 squares: sums gathered into planes first, so the arithmetic vectorises.
    const BLOCK: usize = 16;
    let whole = from + (w / 2).saturating_sub(from) / BLOCK * BLOCK;
    for (((pa, pb), cbs), crs) in a[from * 6..whole * 6]
        .chunks_exact(BLOCK * 6)
        .zip(b[from * 6..].chunks_exact(BLOCK * 6))
        .zip(cb[from..].chunks_exact_mut(BLOCK))
        .zip(cr[from..].chunks_exact_mut(BLOCK))
    {
        let mut sums = [[0i32; 3]; BLOCK];
        for (sum, (sa, sb)) in sums
            .iter_mut()
            .zip(pa.chunks_exact(6).zip(pb.chunks_exact(6)))
        {
            *sum = std::array::from_fn(|c| {
                i32::from(sa[c]) + i32::from(sa[c + 3]) + i32::from(sb[c]) + i32::from(sb[c + 3])
            });
        }
        for ((sum, cbv), crv) in sums.iter().zip(cbs).zip(crs) {
            (*cbv, *crv) = chroma(*sum);
        }
    }
    for x in whole..cb.len() {
        let (x0, x1) = ((2 * x).min(w - 1) * 3, (2 * x + 1).min(w - 1) * 3);
        let sums = std::array::from_fn(|c| {
            i32::from(a[x0 + c])
                + i32::from(a[x1 + c])
                + i32::from(b[x0 + c])
                + i32::from(b[x1 + c])
        });
        (cb[x], cr[x]) = chroma(sums);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Quantised, CB_WEIGHTS, CHROMA_SCALE, CR_WEIGHTS, ZIGZAG_TRANSPOSED};
    use std::arch::x86_64::*;

    /// `super::chroma_row` eight squares at a time: `pshufb` puts each pixel pair's R, G and
    /// B side by side, `pmaddubsw` adds the pairs, the two rows are added, and `pmaddwd` with
    /// `hadd` applies the weights; the same integer arithmetic, so the same floats.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) unsafe fn chroma_row(a: &[u8], b: &[u8], cb: &mut [f32], cr: &mut [f32]) {
        let len = a.len().min(b.len());
        // A step reads 16 bytes at offsets 0, 12, 24 and 36 of its 48: 4 bytes past them.
        let steps = if len >= 52 { (len - 4) / 48 } else { 0 }.min(cb.len() / 8);
        let pairs = _mm256_setr_epi8(
            0, 3, 1, 4, 2, 5, -1, -1, 6, 9, 7, 10, 8, 11, -1, -1, //
            0, 3, 1, 4, 2, 5, -1, -1, 6, 9, 7, 10, 8, 11, -1, -1,
        );
        let ones = _mm256_set1_epi8(1);
        // (R, G, B, 0) weights in each 64-bit quarter, matching the sums' layout.
        let weights = |w: [i32; 3]| {
            let quarter = w.iter().enumerate().fold(0i64, |acc, (i, &v)| {
                acc | i64::from(v as i16 as u16) << (16 * i)
            });
            _mm256_set1_epi64x(quarter)
        };
        let (w_cb, w_cr) = (weights(CB_WEIGHTS), weights(CR_WEIGHTS));
        let scale = _mm256_set1_ps(CHROMA_SCALE);
        // hadd leaves squares 0, 1, 4, 5 | 2, 3, 6, 7.
        let order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
        // The 2x2 sums (R, G, B, 0) of four squares from byte `at`: two in each lane.
        let sums = |at: usize| -> __m256i {
            let row = |r: &[u8]| {
                let p = r[at..at + 28].as_ptr();
                let v = _mm256_loadu2_m128i(p.add(12).cast(), p.cast());
                _mm256_maddubs_epi16(_mm256_shuffle_epi8(v, pairs), ones)
            };
            _mm256_add_epi16(row(a), row(b))
        };
        for step in 0..steps {
            let (s0, s1) = (sums(48 * step), sums(48 * step + 24));
            for (w, out) in [(w_cb, &mut *cb), (w_cr, &mut *cr)] {
                let dots = _mm256_hadd_epi32(_mm256_madd_epi16(s0, w), _mm256_madd_epi16(s1, w));
                let dots = _mm256_permutevar8x32_epi32(dots, order);
                let values = _mm256_mul_ps(_mm256_cvtepi32_ps(dots), scale);
                _mm256_storeu_ps(out[8 * step..8 * step + 8].as_mut_ptr(), values);
            }
        }
        super::chroma_row(a, b, cb, cr, 8 * steps);
    }

    /// `super::quantise` with vectors: eight products and roundings per instruction, the
    /// saturating packs to 16 bits, and the nonzero mask from four compares.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) unsafe fn quantise(transposed: &[__m256; 8], reciprocal: &[f32; 64]) -> Quantised {
        let mut coefficients = [0i16; 64];
        let (lo, hi) = (_mm256_set1_epi16(-1023), _mm256_set1_epi16(1023));
        for pair in 0..4 {
            let product = |row: usize| {
                let t = transposed[row];
                let r = _mm256_loadu_ps(reciprocal[row * 8..].as_ptr());
                // Rounds to nearest, ties to even: the default MXCSR mode.
                _mm256_cvtps_epi32(_mm256_mul_ps(t, r))
            };
            let packed = _mm256_packs_epi32(product(2 * pair), product(2 * pair + 1));
            // packs interleaves the 128-bit lanes: put the two rows back in order.
            let packed = _mm256_permute4x64_epi64::<0b11_01_10_00>(packed);
            let clamped = _mm256_min_epi16(_mm256_max_epi16(packed, lo), hi);
            _mm256_storeu_si256(coefficients[16 * pair..].as_mut_ptr().cast(), clamped);
        }
        // One byte per coefficient, 0xFF where it is zero, still in transposed order.
        let zero = _mm256_setzero_si256();
        let flags = |k: usize| {
            let a = _mm256_loadu_si256(coefficients[k..].as_ptr().cast());
            let b = _mm256_loadu_si256(coefficients[k + 16..].as_ptr().cast());
            let bytes =
                _mm256_packs_epi16(_mm256_cmpeq_epi16(a, zero), _mm256_cmpeq_epi16(b, zero));
            _mm256_permute4x64_epi64::<0b11_01_10_00>(bytes)
        };
        let (low, high) = (flags(0), flags(32));
        // Into zigzag order: each 16-byte quarter of the input, in both lanes, is shuffled
        // to the output positions it feeds (the others are zeroed) and the results ORed.
        let quarters = [
            _mm256_permute2x128_si256::<0x00>(low, low),
            _mm256_permute2x128_si256::<0x11>(low, low),
            _mm256_permute2x128_si256::<0x00>(high, high),
            _mm256_permute2x128_si256::<0x11>(high, high),
        ];
        let mut mask = 0u64;
        for (half, controls) in ZIGZAG_SHUFFLES.iter().enumerate() {
            let mut out = zero;
            for (&input, control) in quarters.iter().zip(controls) {
                let control = _mm256_loadu_si256(control.as_ptr().cast());
                out = _mm256_or_si256(out, _mm256_shuffle_epi8(input, control));
            }
            mask |= u64::from(_mm256_movemask_epi8(out) as u32) << (32 * half);
        }
        (coefficients, !mask)
    }

    /// `super::forward` on three blocks held in registers: the same operations in the same
    /// order for each block, so the same coefficients, with no block stored between the
    /// steps. Each step runs on all three blocks before the next step: one block's step is a
    /// chain of dependent instructions, and three independent chains side by side keep the
    /// CPU's vector units busy where one alone would wait (10% faster than a block at a
    /// time; six at once spill registers and lose it again).
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) unsafe fn forward3(
        mut blocks: [[__m256; 8]; 3],
        shifts: [f32; 3],
        reciprocals: [&[f32; 64]; 3],
    ) -> [Quantised; 3] {
        for rows in &mut blocks {
            fdct_pass(rows);
        }
        for rows in &mut blocks {
            *rows = transpose(*rows);
        }
        for (rows, shift) in blocks.iter_mut().zip(shifts) {
            fdct_pass(rows);
            let dc = _mm256_setr_ps(shift, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
            rows[0] = _mm256_sub_ps(rows[0], dc);
        }
        std::array::from_fn(|i| quantise(&blocks[i], reciprocals[i]))
    }

    /// The rows of the 8x8 block of 8-bit `plane` (rows of `stride`) at `x`, not level
    /// shifted: `forward3` takes the shift from the DC coefficient alone (`U8_SHIFT`).
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) unsafe fn load_u8(plane: &[u8], stride: usize, x: usize) -> [__m256; 8] {
        std::array::from_fn(|r| {
            let row: &[u8; 8] = plane[r * stride + x..][..8].try_into().unwrap();
            let bytes = _mm_loadl_epi64(row.as_ptr().cast());
            _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes))
        })
    }

    /// What the level shift of 128 takes from the DCT's (unnormalised) DC coefficient: 128 for
    /// each of the 64 samples. Every other coefficient is a difference of samples, where the
    /// shift cancels; all the sums before the first multiplication are of integers well
    /// below 2^24, so exact, and the coefficients are the same floats as with the shift.
    pub(super) const U8_SHIFT: f32 = 128.0 * 64.0;

    /// The rows of the 8x8 block of `plane` (rows of `stride`) at column `x`.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) unsafe fn load_f32(plane: &[f32], stride: usize, x: usize) -> [__m256; 8] {
        std::array::from_fn(|r| _mm256_loadu_ps(plane[r * stride + x..][..8].as_ptr()))
    }

    /// `super::fdct_pass` with one vector per row.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn fdct_pass(d: &mut [__m256; 8]) {
        let (add, sub) = (|a, b| _mm256_add_ps(a, b), |a, b| _mm256_sub_ps(a, b));
        let mul = |a, c: f32| _mm256_mul_ps(a, _mm256_set1_ps(c));
        let tmp0 = add(d[0], d[7]);
        let tmp7 = sub(d[0], d[7]);
        let tmp1 = add(d[1], d[6]);
        let tmp6 = sub(d[1], d[6]);
        let tmp2 = add(d[2], d[5]);
        let tmp5 = sub(d[2], d[5]);
        let tmp3 = add(d[3], d[4]);
        let tmp4 = sub(d[3], d[4]);
        // Even part.
        let tmp10 = add(tmp0, tmp3);
        let tmp13 = sub(tmp0, tmp3);
        let tmp11 = add(tmp1, tmp2);
        let tmp12 = sub(tmp1, tmp2);
        d[0] = add(tmp10, tmp11);
        d[4] = sub(tmp10, tmp11);
        let z1 = mul(add(tmp12, tmp13), 0.707_106_77);
        d[2] = add(tmp13, z1);
        d[6] = sub(tmp13, z1);
        // Odd part.
        let tmp10 = add(tmp4, tmp5);
        let tmp11 = add(tmp5, tmp6);
        let tmp12 = add(tmp6, tmp7);
        let z5 = mul(sub(tmp10, tmp12), 0.382_683_43);
        let z2 = add(mul(tmp10, 0.541_196_1), z5);
        let z4 = add(mul(tmp12, 1.306_563), z5);
        let z3 = mul(tmp11, 0.707_106_77);
        let z11 = add(tmp7, z3);
        let z13 = sub(tmp7, z3);
        d[5] = add(z13, z2);
        d[3] = sub(z13, z2);
        d[1] = add(z11, z4);
        d[7] = sub(z11, z4);
    }

    /// An 8x8 transpose in 24 shuffles: pairs of rows interleaved, then pairs of pairs, then
    /// the 128-bit halves exchanged.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(in crate::image) unsafe fn transpose(r: [__m256; 8]) -> [__m256; 8] {
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        [
            _mm256_permute2f128_ps::<0x20>(u0, u4),
            _mm256_permute2f128_ps::<0x20>(u1, u5),
            _mm256_permute2f128_ps::<0x20>(u2, u6),
            _mm256_permute2f128_ps::<0x20>(u3, u7),
            _mm256_permute2f128_ps::<0x31>(u0, u4),
            _mm256_permute2f128_ps::<0x31>(u1, u5),
            _mm256_permute2f128_ps::<0x31>(u2, u6),
            _mm256_permute2f128_ps::<0x31>(u3, u7),
        ]
    }

    /// `pshufb` controls: for output half h (zigzag positions 32h..32h + 32) and input
    /// quarter q (transposed indices 16q..16q + 16), the byte to take, or 0x80 (zero) where
    /// that position's coefficient is in another quarter.
    const ZIGZAG_SHUFFLES: [[[u8; 32]; 4]; 2] = {
        let mut table = [[[0x80u8; 32]; 4]; 2];
        let mut k = 0;
        while k < 64 {
            let source = ZIGZAG_TRANSPOSED[k] as usize;
            table[k / 32][source / 16][k % 32] = (source % 16) as u8;
            k += 1;
        }
        table
    };
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

/// The level-shifted 8x8 block of 8-bit `plane` (rows of `stride`) at column `x`.
#[inline(always)]
fn samples(plane: &[u8], stride: usize, x: usize) -> [[f32; 8]; 8] {
    let mut block = [[0f32; 8]; 8];
    for (r, row) in block.iter_mut().enumerate() {
        for (v, &p) in row.iter_mut().zip(&plane[r * stride + x..][..8]) {
            *v = f32::from(p) - 128.0;
        }
    }
    block
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
    // Without a branch: a coefficient's sign is as unpredictable as a coin.
    let sign = v >> 31;
    (v.wrapping_add(sign) as u32) & ((1u32 << size) - 1)
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

    /// A plain bit-by-bit writer with stuffing, to hold `Bits::put` to.
    fn reference(codes: &[(u32, u32)]) -> Vec<u8> {
        let mut bits: Vec<bool> = codes
            .iter()
            .flat_map(|&(v, n)| (0..n).rev().map(move |i| v >> i & 1 == 1))
            .collect();
        while !bits.len().is_multiple_of(8) {
            bits.push(true);
        }
        let mut out = Vec::new();
        for byte in bits.chunks(8) {
            let b = byte.iter().fold(0u8, |acc, &bit| acc << 1 | u8::from(bit));
            out.push(b);
            if b == 0xFF {
                out.push(0);
            }
        }
        out
    }

    /// The AVX2 encoder writes the same bytes as the portable one (when the CPU has AVX2): on
    /// a photo, noise (every coefficient nonzero at quality 100), sparse dots (zero runs of
    /// 16 and more, which need ZRL codes) and a flat image (no AC codes at all), in colour
    /// and gray, at several qualities and sizes.
    #[test]
    fn avx2_and_portable_encoders_write_the_same_bytes() {
        let photo =
            image::load_from_memory(include_bytes!("../../../tests/image/data/astronaut.jpg"))
                .unwrap()
                .to_rgb8();
        let (pw, ph) = (photo.width() as usize, photo.height() as usize);
        let mut seed = 0x1234_5678_u32;
        let mut noise = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (seed >> 24) as u8
                })
                .collect()
        };
        let (w, h) = (61, 37);
        let dots: Vec<u8> = (0..w * h * 3)
            .map(|i| if (i / 3) % 29 == 0 { 255 } else { 0 })
            .collect();
        let images: Vec<(&str, Vec<u8>, usize, usize)> = vec![
            ("photo", photo.into_raw(), pw, ph),
            ("noise", noise(w * h * 3), w, h),
            ("dots", dots, w, h),
            ("flat", vec![77; w * h * 3], w, h),
        ];
        #[cfg(target_arch = "x86_64")]
        let avx2 = std::arch::is_x86_feature_detected!("avx2");
        #[cfg(not(target_arch = "x86_64"))]
        let avx2 = false;
        for (name, pixels, w, h) in &images {
            let gray: Vec<u8> = pixels.iter().step_by(3).copied().collect();
            for quality in [10, 50, 85, 100] {
                for (rgb, pixels) in [(true, pixels), (false, &gray)] {
                    let want = Encoder::new(*w, *h, rgb, quality, false).run(pixels);
                    let got = Encoder::new(*w, *h, rgb, quality, avx2).run(pixels);
                    assert!(got == want, "{name}, quality {quality}, rgb {rgb}");
                }
            }
        }
    }

    #[test]
    fn the_bit_writer_stuffs_every_ff_byte() {
        // A cheap deterministic generator; runs of ones make 0xFF bytes at every alignment.
        // The bytes before the entropy-coded ones (here a marker) are not stuffed.
        let mut seed = 0x2545_f491_u32;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for round in 0..200 {
            let codes: Vec<(u32, u32)> = (0..300)
                .map(|_| {
                    let n = next() % 28;
                    let v = if round % 2 == 0 { u32::MAX } else { next() };
                    (v & ((1u64 << n) - 1) as u32, n)
                })
                .collect();
            let mut writer = BitWriter::new(vec![0xFF, 0xD8], 16);
            for chunk in codes.chunks(64) {
                writer.reserve_block();
                for &(v, n) in chunk {
                    // SAFETY: room for 64 codes of at most 27 bits was just reserved.
                    unsafe { writer.state.put(&mut writer.out, v, n) };
                }
            }
            let mut want = vec![0xFF, 0xD8];
            want.extend(reference(&codes));
            assert_eq!(writer.finish(), want, "round {round}");
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_and_portable_chroma_agree() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        for w in [1usize, 2, 15, 16, 17, 18, 33, 100, 255] {
            let a: Vec<u8> = (0..w * 3).map(|i| (i * 89 % 256) as u8).collect();
            let b: Vec<u8> = (0..w * 3).map(|i| ((i * 53 % 256) ^ 0xA5) as u8).collect();
            let out = w.div_ceil(16) * 8;
            let (mut cb, mut cr) = (vec![0f32; out], vec![0f32; out]);
            let (mut cb_fast, mut cr_fast) = (vec![1f32; out], vec![1f32; out]);
            chroma_row(&a, &b, &mut cb, &mut cr, 0);
            // SAFETY: the CPU has AVX2, checked above.
            unsafe { avx2::chroma_row(&a, &b, &mut cb_fast, &mut cr_fast) };
            assert_eq!((cb_fast, cr_fast), (cb.clone(), cr.clone()), "width {w}");
            // And the arithmetic is the colour transform: a gray square has no chroma.
            let gray = vec![77u8; w * 3];
            chroma_row(&gray, &gray, &mut cb, &mut cr, 0);
            assert!(cb.iter().chain(&cr).all(|&v| v == 0.0), "width {w}");
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_and_portable_transposes_agree() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let block: [[f32; 8]; 8] =
            std::array::from_fn(|i| std::array::from_fn(|j| (i * 8 + j) as f32));
        // SAFETY: the CPU has AVX2, checked above.
        let fast =
            unsafe { registers(avx2::transpose(avx2::load_f32(block.as_flattened(), 8, 0))) };
        assert_eq!(fast, transpose(&block));
    }

    /// The rows held in `rows`, as arrays.
    #[cfg(target_arch = "x86_64")]
    fn registers(rows: [std::arch::x86_64::__m256; 8]) -> [[f32; 8]; 8] {
        // SAFETY: __m256 is eight f32s.
        rows.map(|row| unsafe { std::mem::transmute::<_, [f32; 8]>(row) })
    }

    /// Level shift, DCT and quantisation give the same coefficients with AVX2 as without, on
    /// photo-like blocks (smooth, with an edge) and on noise, for both tables.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_and_portable_blocks_agree() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let mut seed = 0x9e37_79b9_u32;
        let stride = 24;
        for round in 0..500 {
            let plane: Vec<u8> = (0..8 * stride)
                .map(|i| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    let (x, y) = (i % stride, i / stride);
                    match round % 3 {
                        0 => (seed >> 24) as u8,
                        1 => (x * 9 + y * 5 + (seed >> 30) as usize) as u8,
                        _ => {
                            if x + round % 8 > 11 {
                                200
                            } else {
                                30
                            }
                        }
                    }
                })
                .collect();
            let floats: Vec<f32> = plane.iter().map(|&p| f32::from(p) - 128.0).collect();
            let encoder = Encoder::new(16, 16, true, 85, true);
            // Three blocks at once, as the encoder transforms them, with both tables.
            let (xs, tables) = ([0, 5, 16], [0, 1, 0]);
            let reciprocals = tables.map(|table| &encoder.reciprocal[table]);
            // SAFETY: the CPU has AVX2, checked above.
            let (from_u8, from_f32) = unsafe {
                (
                    avx2::forward3(
                        xs.map(|x| avx2::load_u8(&plane, stride, x)),
                        [avx2::U8_SHIFT; 3],
                        reciprocals,
                    ),
                    avx2::forward3(
                        xs.map(|x| avx2::load_f32(&floats, stride, x)),
                        [0.0; 3],
                        reciprocals,
                    ),
                )
            };
            for i in 0..3 {
                let want = forward(samples(&plane, stride, xs[i]), reciprocals[i]);
                assert_eq!(from_u8[i], want, "round {round}, block {i}");
                assert_eq!(from_f32[i], want, "round {round}, block {i}");
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_and_portable_quantisation_agree() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let mut seed = 0x1234_5678_u32;
        for round in 0..2000 {
            // Sparse blocks (most coefficients zero, as in photos) and dense ones.
            let block: [[f32; 8]; 8] = std::array::from_fn(|_| {
                std::array::from_fn(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    let v = (seed >> 8) as f32 / (1 << 24) as f32 * 4000.0 - 2000.0;
                    if round % 3 == 0 || seed.is_multiple_of(5) {
                        v
                    } else {
                        v * 0.001
                    }
                })
            });
            for table in 0..2 {
                let encoder = Encoder::new(16, 16, true, 85, true);
                let reciprocal = &encoder.reciprocal[table];
                // SAFETY: the CPU has AVX2, checked above.
                let fast = unsafe {
                    avx2::quantise(&avx2::load_f32(block.as_flattened(), 8, 0), reciprocal)
                };
                assert_eq!(fast, quantise(&block, reciprocal), "round {round}");
            }
        }
    }
}
