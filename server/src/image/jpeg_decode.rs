//! Mosaic's JPEG decoder, at full size or at 1/2, 1/4 or 1/8 of it.
//!
//! At full size it computes what libjpeg computes by default (Pillow, OpenCV): the "islow"
//! integer inverse DCT (`jpeg_idct`), "fancy" triangle upsampling of subsampled chroma with
//! libjpeg-turbo's rounding and edges, and its fixed-point colour conversion, so a baseline
//! or progressive JPEG decodes to the very pixels those libraries give (the image tests
//! hold it to Pillow's, sample for sample). A baseline scan's colour is converted one MCU
//! row behind its Huffman decoding, while the planes' rows are still in cache.
//!
//! The reduced scales are libjpeg's `scale_denom` (Pillow's `draft`, OpenCV's
//! `IMREAD_REDUCED_*`): each 8x8 block goes through an inverse DCT of only its
//! low-frequency N x N corner, which yields the block's N x N average directly. Huffman
//! decoding still reads every coefficient, but the full-size image is never built,
//! transformed or colour-converted. At 1/8, where a block is only its mean (its DC term),
//! `jpeg_dc` walks the scan instead, skipping the AC terms unread.
//!
//! A progressive JPEG has every scan decoded (`jdphuff.c`'s four kinds: DC first and
//! refining, AC band first and refining, with end-of-band runs), its DC terms into one
//! small array and its AC terms into the whole image's coefficients, and is transformed at
//! the end, in full or reduced. At 1/8 it needs only its DC scans, which hold every
//! block's DC term (in one scan, or in one and then bit by bit in refinement scans): the
//! AC scans, most of the file, are skipped to their end marker unread.
//!
//! Handled: 8-bit baseline, extended and progressive Huffman, gray or YCbCr, chroma at
//! full or half resolution, restart intervals. Anything else (arithmetic coding, CMYK,
//! Adobe RGB, other sampling) and any malformed stream returns `None`: the caller then
//! uses the `image` crate's decoder, which also reports what is wrong in the usual way.

use image::{DynamicImage, GrayImage, RgbImage};

use super::{jpeg_dc, jpeg_idct};

/// Natural (row-major) index of the k-th coefficient in zigzag order.
pub(super) const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Codes up to this long are decoded with one table look-up.
const LOOKUP_BITS: u32 = 10;

/// Decodes the JPEG in `data` at 1/`denom` of its size (`denom` 1, 2, 4 or 8): an image of
/// ceil(width / denom) x ceil(height / denom), or `None` when the stream is not one this
/// decoder handles. `size` is the frame's size as the caller read (and budgeted) it from the
/// header; a frame of any other size is declined before anything is allocated.
pub fn decode(data: &[u8], denom: u32, size: (u32, u32)) -> Option<DynamicImage> {
    let n = match denom {
        1 => 8,
        2 => 4,
        4 => 2,
        8 => 1,
        _ => return None,
    };
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("bmi2") {
        // SAFETY: the CPU has AVX2 and BMI2, checked just above.
        return unsafe { decode_avx2(data, n, size) };
    }
    Decoder::new(data, n, size).run()
}

/// The same decoder compiled with AVX2 (for the loops over samples) and BMI2 (whose
/// flag-free variable shifts, `shlx` and `shrx`, shorten the Huffman loop's chain from one
/// code to the next).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi2")]
unsafe fn decode_avx2(data: &[u8], n: usize, size: (u32, u32)) -> Option<DynamicImage> {
    Decoder::new(data, n, size).run()
}

pub(super) struct Huffman {
    /// `length << 8 | symbol` for every code of at most `LOOKUP_BITS` bits, indexed by the
    /// next `LOOKUP_BITS` bits of the stream; 0 for longer codes.
    lookup: Box<[u16; 1 << LOOKUP_BITS]>,
    /// Per length: the largest code of that length (-1 for none), and the offset that maps
    /// a code of that length to its index in `symbols`.
    max_code: [i32; 17],
    offset: [i32; 17],
    /// The table as its DHT segment defines it: codes per length, and the symbols.
    pub(super) counts: [u8; 16],
    pub(super) symbols: Vec<u8>,
    /// A code and its value bits together in at most `LOOKUP_BITS`, as
    /// `value << 16 | advance << 5 | bits`, indexed like `lookup`; 0 for longer ones. The
    /// advance is how far the coefficient index moves: 1 + the run of zeros, 16 for a run of
    /// sixteen zeros, 64 for end-of-block. Most symbols of a photo decode with one look-up.
    fast: Box<[i32; 1 << LOOKUP_BITS]>,
}

/// `Huffman::fast`'s advance for end-of-block.
const END_OF_BLOCK: i32 = 64;

impl Huffman {
    /// Builds the decoder of a DHT table (Annex C), or `None` for counts no prefix code has.
    pub(super) fn new(counts: &[u8; 16], symbols: Vec<u8>, ac: bool) -> Option<Huffman> {
        let mut lookup = Box::new([0u16; 1 << LOOKUP_BITS]);
        let mut max_code = [-1i32; 17];
        let mut offset = [0i32; 17];
        let mut code = 0u32;
        let mut index = 0usize;
        for (i, &count) in counts.iter().enumerate() {
            let len = i as u32 + 1;
            offset[len as usize] = index as i32 - code as i32;
            for _ in 0..count {
                if code >= 1 << len {
                    return None;
                }
                if len <= LOOKUP_BITS {
                    let shift = LOOKUP_BITS - len;
                    let first = (code << shift) as usize;
                    let entry = (len as u16) << 8 | u16::from(*symbols.get(index)?);
                    lookup[first..first + (1 << shift)].fill(entry);
                }
                code += 1;
                index += 1;
            }
            if count > 0 {
                max_code[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        let mut fast = Box::new([0i32; 1 << LOOKUP_BITS]);
        for (index, entry) in fast.iter_mut().enumerate() {
            let code = lookup[index];
            let (len, symbol) = (u32::from(code >> 8), code as u8);
            // A DC symbol is the size of its value; an AC one is run << 4 | size.
            let (run, size) = if ac {
                (i32::from(symbol >> 4), u32::from(symbol & 15))
            } else {
                (0, u32::from(symbol))
            };
            if code == 0 || len + size > LOOKUP_BITS {
                continue;
            }
            let advance = match (ac, symbol) {
                (true, 0x00) => END_OF_BLOCK,
                (true, 0xF0) => 16,
                // Other AC symbols of size 0 are invalid: left to the slow path to reject.
                (true, _) if size == 0 => continue,
                _ => run + 1,
            };
            let value = if size == 0 {
                0
            } else {
                let raw = ((index >> (LOOKUP_BITS - len - size)) & ((1 << size) - 1)) as i32;
                if raw < 1 << (size - 1) {
                    raw - (1 << size) + 1
                } else {
                    raw
                }
            };
            *entry = value << 16 | advance << 5 | (len + size) as i32;
        }
        Some(Huffman {
            lookup,
            max_code,
            offset,
            counts: *counts,
            symbols,
            fast,
        })
    }

    /// The first code of the `width`-bit `window` (most significant bit first, `width`
    /// 16 at most) as (length, symbol), or `None` when no code of at most `width` bits
    /// starts it. Inlined: a refining AC scan looks up every symbol here, and the call
    /// cost about 6% of a progressive decode.
    #[inline(always)]
    pub(super) fn peek(&self, window: u32, width: u32) -> Option<(u32, u8)> {
        let mut shortest = 1;
        if width >= LOOKUP_BITS {
            let entry = self.lookup[(window >> (width - LOOKUP_BITS)) as usize];
            if entry != 0 {
                return Some((u32::from(entry >> 8), entry as u8));
            }
            shortest = LOOKUP_BITS + 1;
        }
        for len in shortest..=width {
            let code = (window >> (width - len)) as i32;
            if code <= self.max_code[len as usize] {
                let index = self.offset[len as usize] + code;
                return Some((len, *self.symbols.get(usize::try_from(index).ok()?)?));
            }
        }
        None
    }
}

/// The entropy-coded bits of a scan, most significant first, with stuffed zero bytes removed.
/// At a marker (or the end of the data) it feeds zeros and counts them, so a scan that reads
/// past its data is caught afterwards instead of checked per bit.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u64,
    count: u32,
    /// Zero bytes fed after a marker or the end of the data.
    padding: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        Bits {
            data,
            pos,
            acc: 0,
            count: 0,
            padding: 0,
        }
    }

    /// Tops the buffer up to more than 56 bits: enough for one symbol and its value.
    #[inline(always)]
    fn fill(&mut self) {
        if self.count > 32 {
            return;
        }
        // Four bytes at once when none of them is 0xFF (the usual case).
        if let Some(word) = self.data.get(self.pos..self.pos + 4) {
            let word = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
            let inverted = !word;
            if inverted.wrapping_sub(0x0101_0101) & !inverted & 0x8080_8080 == 0 {
                self.acc |= u64::from(word) << (32 - self.count);
                self.count += 32;
                self.pos += 4;
            }
        }
        while self.count <= 56 {
            let byte = match self.data.get(self.pos) {
                Some(&0xFF) if self.data.get(self.pos + 1) == Some(&0) => {
                    self.pos += 2;
                    0xFF
                }
                Some(&0xFF) | None => {
                    self.padding += 1;
                    0
                }
                Some(&b) => {
                    self.pos += 1;
                    b
                }
            };
            self.acc |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    #[inline(always)]
    fn consume(&mut self, bits: u32) {
        self.acc <<= bits;
        self.count -= bits;
    }

    /// The next Huffman symbol; the buffer must hold at least 16 bits.
    #[inline(always)]
    fn symbol(&mut self, table: &Huffman) -> Option<u8> {
        let (len, symbol) = table.peek((self.acc >> 48) as u32, 16)?;
        self.consume(len);
        Some(symbol)
    }

    /// The signed value of the next `size` bits (JPEG's EXTEND), `size` at most 16.
    #[inline(always)]
    fn value(&mut self, size: u32) -> i32 {
        if size == 0 {
            return 0;
        }
        let v = (self.acc >> (64 - size)) as i32;
        self.consume(size);
        if v < 1 << (size - 1) {
            v - (1 << size) + 1
        } else {
            v
        }
    }

    /// Whether the scan so far read only real data (not the zeros fed past its end).
    fn in_bounds(&self) -> bool {
        self.padding * 8 <= self.count
    }
}

#[derive(Clone)]
struct Component {
    id: u8,
    h: usize,
    v: usize,
    quant: usize,
    dc: usize,
    ac: usize,
    /// Blocks across and down, whole MCUs of the interleaved layout.
    blocks_w: usize,
    blocks_h: usize,
    /// Output samples per block across and down: the image's scale times the component's
    /// subsampling, so that (as in libjpeg) a subsampled component comes out at the
    /// output's resolution without upsampling, each sample the average of what it covers.
    /// At 1/8 and full scale a subsampled component is the exception: one sample per block
    /// at 1/8 (its DC term, so its AC terms are skipped rather than decoded), 8x8 at full
    /// size, upsampled by `up` when converted.
    nx: usize,
    ny: usize,
    /// The factors (1 or 2) by which `convert` upsamples `plane` across and down.
    up: (usize, usize),
    /// `basis[z * nx * ny + o]`: what a coefficient of 1 at natural position z adds to
    /// output sample o (see `box_idct`).
    basis: Vec<f32>,
    /// The decoded samples: `nx` x `ny` per block.
    plane: Vec<u8>,
    scanned: bool,
    /// A progressive frame's DC terms, per block (`blocks_w` a row), as its DC scans
    /// leave them; with the DC quantiser in effect at the first of them.
    dc_terms: Vec<i32>,
    dc_quant: i32,
    /// A progressive frame not at 1/8: every block's 64 coefficients (zigzag order, so
    /// that a scan's band is a run of them; quantised), as the AC scans so far leave them;
    /// the DC terms are in `dc_terms`, and coefficient 0 stays zero.
    coefficients: Vec<i16>,
}

struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
    /// Output samples per block side: 1, 2 or 4 (reduced), or 8 (full size).
    n: usize,
    /// The frame size the caller expects (see `decode`).
    expected: (usize, usize),
    width: usize,
    height: usize,
    components: Vec<Component>,
    quant: [Option<[i32; 64]>; 4],
    dc: [Option<Huffman>; 4],
    ac: [Option<Huffman>; 4],
    restart: usize,
    adobe_rgb: bool,
    progressive: bool,
    /// The RGB output, and how many of its rows are converted: at full size a scan of all
    /// three components converts each MCU row's pixels as soon as they are decoded, while
    /// its planes' rows are still in cache.
    rgb: Vec<u8>,
    converted: usize,
}

impl<'a> Decoder<'a> {
    fn new(data: &'a [u8], n: usize, size: (u32, u32)) -> Self {
        Decoder {
            data,
            pos: 0,
            n,
            expected: (size.0 as usize, size.1 as usize),
            width: 0,
            height: 0,
            components: Vec::new(),
            quant: [None; 4],
            dc: [None, None, None, None],
            ac: [None, None, None, None],
            restart: 0,
            adobe_rgb: false,
            progressive: false,
            rgb: Vec::new(),
            converted: 0,
        }
    }

    fn u8(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from(self.u8()?) << 8 | u16::from(self.u8()?))
    }

    /// The body of the marker segment at `pos` (after its length field).
    fn segment(&mut self) -> Option<&'a [u8]> {
        let len = usize::from(self.u16()?).checked_sub(2)?;
        let body = self.data.get(self.pos..self.pos + len)?;
        self.pos += len;
        Some(body)
    }

    // Inlined so that `decode_bmi2` compiles all of it with BMI2.
    #[inline(always)]
    fn run(mut self) -> Option<DynamicImage> {
        if self.data.get(..2)? != [0xFF, 0xD8] {
            return None;
        }
        self.pos = 2;
        loop {
            if self.u8()? != 0xFF {
                return None;
            }
            let mut marker = self.u8()?;
            while marker == 0xFF {
                marker = self.u8()?;
            }
            match marker {
                0xC0 | 0xC1 => self.frame()?,
                // Progressive: at 1/8 its DC scans are all a block's mean needs; at other
                // scales every scan is decoded (see `scan`).
                0xC2 => {
                    self.progressive = true;
                    self.frame()?;
                }
                0xC4 => self.huffman_tables()?,
                0xDB => self.quant_tables()?,
                0xDD => {
                    let body = self.segment()?;
                    self.restart = usize::from(u16::from_be_bytes(body.get(..2)?.try_into().ok()?));
                }
                0xDA => self.scan()?,
                0xD9 => break,
                0xEE => {
                    let body = self.segment()?;
                    // An Adobe segment with transform 0 marks RGB (not YCbCr) samples.
                    if body.starts_with(b"Adobe") && body.get(11) == Some(&0) {
                        self.adobe_rgb = true;
                    }
                }
                // Other frame types (progressive, lossless, arithmetic), DNL, and stray
                // markers: not for this decoder.
                0xC2..=0xCF | 0xD0..=0xD8 | 0xDC | 0x01 => return None,
                _ => {
                    self.segment()?;
                }
            }
        }
        self.output()
    }

    fn frame(&mut self) -> Option<()> {
        let body = self.segment()?;
        if !self.components.is_empty() || body.len() < 6 || body[0] != 8 {
            return None;
        }
        self.height = usize::from(u16::from_be_bytes([body[1], body[2]]));
        self.width = usize::from(u16::from_be_bytes([body[3], body[4]]));
        let count = usize::from(body[5]);
        if self.width == 0
            || (self.width, self.height) != self.expected
            || !(count == 1 || count == 3)
        {
            return None;
        }
        let specs = body.get(6..6 + 3 * count)?;
        for spec in specs.chunks_exact(3) {
            let (h, v, quant) = (
                usize::from(spec[1] >> 4),
                usize::from(spec[1] & 15),
                usize::from(spec[2]),
            );
            if !(1..=2).contains(&h) || !(1..=2).contains(&v) || quant > 3 {
                return None;
            }
            self.components.push(Component {
                id: spec[0],
                h,
                v,
                quant,
                dc: 0,
                ac: 0,
                blocks_w: 0,
                blocks_h: 0,
                nx: 0,
                ny: 0,
                up: (1, 1),
                basis: Vec::new(),
                plane: Vec::new(),
                scanned: false,
                dc_terms: Vec::new(),
                dc_quant: 0,
                coefficients: Vec::new(),
            });
        }
        // Components named R, G and B hold RGB, not YCbCr (libjpeg's reading, without a
        // JFIF or Adobe marker to say otherwise): not for this decoder.
        if self.components.iter().map(|c| c.id).eq(*b"RGB") {
            return None;
        }
        if count == 1 {
            // A gray image's sampling factors mean nothing: its scan is one block per MCU.
            self.components[0].h = 1;
            self.components[0].v = 1;
        }
        let h_max = self.components.iter().map(|c| c.h).max()?;
        let v_max = self.components.iter().map(|c| c.v).max()?;
        let mcus_w = self.width.div_ceil(8 * h_max);
        let mcus_h = self.height.div_ceil(8 * v_max);
        let n = self.n;
        for c in &mut self.components {
            c.blocks_w = mcus_w * c.h;
            c.blocks_h = mcus_h * c.v;
            c.nx = n * h_max / c.h;
            c.ny = n * v_max / c.v;
            if n == 1 || n == 8 {
                // Subsampled chroma at its own resolution, upsampled at the end: at 1/8 from
                // its blocks' means, so the AC terms of a third of the blocks need not be
                // decoded, only skipped (what libjpeg does at 1/8); at full size from its
                // blocks' full inverse DCT, upsampled with libjpeg's triangle filter.
                c.up = (h_max / c.h, v_max / c.v);
                (c.nx, c.ny) = (n, n);
            }
            // The reduced inverse DCT's basis (the full-size one, `jpeg_idct`, needs none).
            if n < 8 {
                let (idct_x, idct_y) = (box_idct(c.nx), box_idct(c.ny));
                let (nx, ny) = (c.nx, c.ny);
                c.basis = Vec::with_capacity(64 * nx * ny);
                for z in 0..64 {
                    let (v, u) = (z / 8, z % 8);
                    for y in 0..ny {
                        for x in 0..nx {
                            c.basis.push(idct_y[y * 8 + v] * idct_x[x * 8 + u]);
                        }
                    }
                }
            }
            c.plane = vec![0; c.blocks_w * c.nx * c.blocks_h * c.ny];
            if self.progressive {
                c.dc_terms = vec![0; c.blocks_w * c.blocks_h];
                if n > 1 {
                    c.coefficients = vec![0; c.blocks_w * c.blocks_h * 64];
                }
            }
        }
        Some(())
    }

    fn huffman_tables(&mut self) -> Option<()> {
        let mut body = self.segment()?;
        while !body.is_empty() {
            let (class, id) = (body[0] >> 4, usize::from(body[0] & 15));
            let counts: [u8; 16] = body.get(1..17)?.try_into().ok()?;
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            let symbols = body.get(17..17 + total)?.to_vec();
            body = &body[17 + total..];
            if id > 3 {
                return None;
            }
            let table = Some(Huffman::new(&counts, symbols, class == 1)?);
            match class {
                0 => self.dc[id] = table,
                1 => self.ac[id] = table,
                _ => return None,
            }
        }
        Some(())
    }

    fn quant_tables(&mut self) -> Option<()> {
        let mut body = self.segment()?;
        while !body.is_empty() {
            let (precision, id) = (body[0] >> 4, usize::from(body[0] & 15));
            if id > 3 || precision > 1 {
                return None;
            }
            let mut table = [0i32; 64];
            let size = if precision == 0 { 64 } else { 128 };
            let values = body.get(1..1 + size)?;
            for (k, &natural) in ZIGZAG.iter().enumerate() {
                table[usize::from(natural)] = if precision == 0 {
                    i32::from(values[k])
                } else {
                    i32::from(u16::from_be_bytes([values[2 * k], values[2 * k + 1]]))
                };
            }
            self.quant[id] = Some(table);
            body = &body[1 + size..];
        }
        Some(())
    }

    /// Decodes one scan into the components' planes and leaves `pos` at the next marker.
    #[inline(always)]
    fn scan(&mut self) -> Option<()> {
        let body = self.segment()?;
        let count = usize::from(*body.first()?);
        let specs = body.get(1..1 + 2 * count)?;
        let &[start, end, approximation] = body.get(1 + 2 * count..4 + 2 * count)? else {
            return None;
        };
        let refinement = match (self.progressive, start, end) {
            // Baseline: the whole spectrum at full precision (Ah = Al = 0).
            (false, 0, 63) if approximation == 0 => None,
            // Progressive at full size, 1/2 or 1/4: any scan (below: DC scans into
            // `dc_terms`, AC scans into the coefficients).
            (true, _, _) if self.n > 1 => None,
            // Progressive DC: every block's DC term, or one more bit of it (Ah > 0), shifted
            // left by Al.
            (true, 0, 0) if approximation & 15 <= 13 => {
                Some((approximation >> 4 != 0, u32::from(approximation & 15)))
            }
            // Progressive AC: nothing a block's mean needs.
            (true, 1..=63, _) if end >= start && end <= 63 && count == 1 => {
                return self.skip_to_marker(self.pos);
            }
            _ => return None,
        };
        if count == 0 {
            return None;
        }
        let mut members = Vec::with_capacity(count);
        for spec in specs.chunks_exact(2) {
            let index = self.components.iter().position(|c| c.id == spec[0])?;
            let c = &mut self.components[index];
            c.dc = usize::from(spec[1] >> 4);
            c.ac = usize::from(spec[1] & 15);
            if c.dc > 3 || c.ac > 3 || members.contains(&index) {
                return None;
            }
            c.scanned = true;
            members.push(index);
        }
        // One component alone is scanned block by block over its own extent; several are
        // interleaved, each contributing h x v blocks to an MCU.
        let h_max = self.components.iter().map(|c| c.h).max()?;
        let v_max = self.components.iter().map(|c| c.v).max()?;
        let (mcus_w, mcus_h) = if count == 1 {
            let c = &self.components[members[0]];
            (
                (self.width * c.h).div_ceil(h_max).div_ceil(8),
                (self.height * c.v).div_ceil(v_max).div_ceil(8),
            )
        } else {
            (
                self.width.div_ceil(8 * h_max),
                self.height.div_ceil(8 * v_max),
            )
        };

        // Per member: component, blocks per MCU across and down, tables.
        let layout: Vec<(usize, usize, usize)> = members
            .iter()
            .map(|&index| {
                let c = &self.components[index];
                if count == 1 {
                    (index, 1, 1)
                } else {
                    (index, c.h, c.v)
                }
            })
            .collect();
        if self.progressive && self.n > 1 {
            // DC scans into `dc_terms`, as at 1/8: a small array the DC refinement scan
            // revisits in cache, where a whole image's blocks of coefficients are far
            // larger than the cache.
            return match Band::new(start, end, approximation, count)? {
                Band::DcFirst(shift) => self.scan_dc(&layout, mcus_w, mcus_h, false, shift),
                Band::DcRefine(shift) => self.scan_dc(&layout, mcus_w, mcus_h, true, shift),
                band => self.scan_progressive(&layout, mcus_w, mcus_h, band),
            };
        }
        if let Some((refine, shift)) = refinement {
            return self.scan_dc(&layout, mcus_w, mcus_h, refine, shift);
        }
        if self.n == 1 {
            return self.scan_means(&layout, mcus_w, mcus_h);
        }
        if self.n == 8 {
            return self.scan_full(&layout, mcus_w, mcus_h);
        }
        let mut bits = Bits::new(self.data, self.pos);
        let mut predictions = vec![0i32; count];
        let mut coefficients = [(0u8, 0i32); 64];
        let mut block = [0u8; 64];
        for mcu in 0..mcus_w * mcus_h {
            self.restart_at(mcu, &mut bits, &mut predictions)?;
            let (mx, my) = (mcu % mcus_w, mcu / mcus_w);
            for (&(index, bw, bh), prediction) in layout.iter().zip(&mut predictions) {
                let c = &mut self.components[index];
                let quant = self.quant[c.quant].as_ref()?;
                let dc = self.dc[c.dc].as_ref()?;
                let ac = self.ac[c.ac].as_ref()?;
                let (nx, ny) = (c.nx, c.ny);
                let stride = c.blocks_w * nx;
                for by in 0..bh {
                    for bx in 0..bw {
                        let (x, y) = (mx * bw + bx, my * bh + by);
                        let count = decode_block(&mut bits, dc, ac, prediction, &mut coefficients)?;
                        reduced_idct(&coefficients[..count], quant, c, &mut block);
                        for row in 0..ny {
                            let start = (y * ny + row) * stride + x * nx;
                            // Byte by byte: a few bytes each, where a memcpy call would
                            // cost more than the copy.
                            for (o, &b) in c.plane[start..start + nx]
                                .iter_mut()
                                .zip(&block[row * nx..row * nx + nx])
                            {
                                *o = b;
                            }
                        }
                    }
                }
            }
        }
        if !bits.in_bounds() {
            return None;
        }
        self.skip_to_marker(bits.pos)
    }

    /// At full size: the scan's blocks (`layout` as in `scan`) through the full inverse DCT
    /// into the planes. Each block's transform waits until the next block is decoded: its
    /// coefficients were just stored one by one, and the transform's vector loads would
    /// otherwise stall until those stores complete.
    #[inline(always)]
    fn scan_full(
        &mut self,
        layout: &[(usize, usize, usize)],
        mcus_w: usize,
        mcus_h: usize,
    ) -> Option<()> {
        let tables = layout
            .iter()
            .map(|&(index, _, _)| {
                Some(jpeg_idct::Table::new(
                    self.quant[self.components[index].quant].as_ref()?,
                ))
            })
            .collect::<Option<Vec<_>>>()?;
        let mut bits = Bits::new(self.data, self.pos);
        let mut predictions = vec![0i32; layout.len()];
        let mut blocks = [[0i32; 64]; 2];
        // The block waiting for its transform: component, where it goes in the plane, and
        // which of `blocks` holds it.
        let mut pending: Option<(usize, usize, usize)> = None;
        // Colour converted as the scan goes (see `rgb`), one row behind: the upsampling of
        // an MCU row's last row needs the next MCU row's chroma.
        let stream = layout.len() == 3 && self.components.len() == 3 && !self.adobe_rgb;
        let mcu_rows = 8 * self.components.iter().map(|c| c.v).max()?;
        for mcu in 0..mcus_w * mcus_h {
            self.restart_at(mcu, &mut bits, &mut predictions)?;
            let (mx, my) = (mcu % mcus_w, mcu / mcus_w);
            if stream && mx == 0 && my > 0 {
                if let Some((index, start, held)) = pending.take() {
                    transform(&mut self.components[index], start, &mut blocks[held]);
                }
                self.convert(my * mcu_rows - 1);
            }
            for ((&(index, bw, bh), prediction), table) in
                layout.iter().zip(&mut predictions).zip(&tables)
            {
                let c = &self.components[index];
                let (dc, ac) = (self.dc[c.dc].as_ref()?, self.ac[c.ac].as_ref()?);
                let stride = c.blocks_w * 8;
                for by in 0..bh {
                    for bx in 0..bw {
                        let free = pending.map_or(0, |(_, _, held)| 1 - held);
                        let block = &mut blocks[free];
                        let put = |_, z, value| table.put(block, z, value);
                        let count = decode_block_into(&mut bits, dc, ac, prediction, put)?;
                        let (x, y) = (mx * bw + bx, my * bh + by);
                        let start = y * 8 * stride + x * 8;
                        let plane = &mut self.components[index].plane;
                        let out = plane.get_mut(start..start + 7 * stride + 8)?;
                        if count == 1 {
                            // Only the DC term: one sample, no transform.
                            jpeg_idct::fill(jpeg_idct::take_flat(block), out, stride);
                            continue;
                        }
                        if let Some((index, start, held)) = pending.replace((index, start, free)) {
                            transform(&mut self.components[index], start, &mut blocks[held]);
                        }
                    }
                }
            }
        }
        if let Some((index, start, held)) = pending {
            transform(&mut self.components[index], start, &mut blocks[held]);
        }
        if !bits.in_bounds() {
            return None;
        }
        self.skip_to_marker(bits.pos)
    }

    /// A progressive AC scan not at 1/8 (`layout` as in `scan`): its spectral band of every
    /// block, or one more bit of it, into the components' coefficients, as `jdphuff.c`
    /// decodes it (ITU T.81 G.1.2).
    #[inline(always)]
    fn scan_progressive(
        &mut self,
        layout: &[(usize, usize, usize)],
        mcus_w: usize,
        mcus_h: usize,
        band: Band,
    ) -> Option<()> {
        let mut bits = Bits::new(self.data, self.pos);
        // Blocks left in the current run of end-of-bands.
        let mut end_run = 0u32;
        for mcu in 0..mcus_w * mcus_h {
            // No DC predictions to reset in an AC scan.
            if self.restart_at(mcu, &mut bits, &mut [])? {
                end_run = 0;
            }
            let (mx, my) = (mcu % mcus_w, mcu / mcus_w);
            for &(index, bw, bh) in layout {
                let c = &self.components[index];
                let ac = self.ac[c.ac].as_ref();
                let blocks_w = c.blocks_w;
                for by in 0..bh {
                    for bx in 0..bw {
                        let (x, y) = (mx * bw + bx, my * bh + by);
                        let at = (y * blocks_w + x) * 64;
                        let coefficients = &mut self.components[index].coefficients;
                        let block: &mut [i16; 64] =
                            coefficients.get_mut(at..at + 64)?.try_into().ok()?;
                        match band {
                            // Decoded by `scan_dc`.
                            Band::DcFirst(_) | Band::DcRefine(_) => return None,
                            Band::AcFirst(from, to, shift) => {
                                ac_first(&mut bits, ac?, block, (from, to), shift, &mut end_run)?
                            }
                            Band::AcRefine(from, to, shift) => {
                                ac_refine(&mut bits, ac?, block, (from, to), shift, &mut end_run)?
                            }
                        }
                    }
                }
            }
        }
        if !bits.in_bounds() {
            return None;
        }
        self.skip_to_marker(bits.pos)
    }

    /// After a progressive frame's scans: every block's coefficients through the inverse
    /// DCT (full or reduced, as for a baseline scan) into its component's plane.
    #[inline(always)]
    fn transform_coefficients(&mut self) -> Option<()> {
        if self.n < 8 {
            return self.transform_coefficients_reduced();
        }
        let mut block = [0i32; 64];
        for c in &mut self.components {
            let table = jpeg_idct::Table::new(self.quant[c.quant].as_ref()?);
            let stride = c.blocks_w * 8;
            let coefficients = std::mem::take(&mut c.coefficients);
            let blocks = coefficients.chunks_exact(64).zip(&c.dc_terms);
            for (i, (coded, &dc)) in blocks.enumerate() {
                let (x, y) = (i % c.blocks_w, i / c.blocks_w);
                let start = y * 8 * stride + x * 8;
                let out = c.plane.get_mut(start..start + 7 * stride + 8)?;
                // The DC term as the coefficients' 16 bits hold it (`scan_dc` keeps 32).
                table.put(&mut block, 0, i32::from(dc as i16));
                let coded: &[i16; 64] = coded.try_into().ok()?;
                // Coefficient 0 is zero here (the DC term is in `dc_terms`).
                let mut mask = nonzero_mask(coded);
                if mask == 0 {
                    jpeg_idct::fill(jpeg_idct::take_flat(&mut block), out, stride);
                } else {
                    while mask != 0 {
                        let k = mask.trailing_zeros() as usize;
                        table.put(&mut block, ZIGZAG[k], i32::from(coded[k]));
                        mask &= mask - 1;
                    }
                    jpeg_idct::idct(&mut block, out, stride);
                }
            }
        }
        Some(())
    }

    /// `transform_coefficients` at 1/2 or 1/4: each block's nonzero coefficients through
    /// `reduced_idct`, into `nx` x `ny` samples of its component's plane.
    #[inline(always)]
    fn transform_coefficients_reduced(&mut self) -> Option<()> {
        let mut nonzero = [(0u8, 0i32); 64];
        let mut block = [0u8; 64];
        for c in &mut self.components {
            let quant = self.quant[c.quant].as_ref()?;
            let (nx, ny) = (c.nx, c.ny);
            let stride = c.blocks_w * nx;
            let coefficients = std::mem::take(&mut c.coefficients);
            let blocks = coefficients.chunks_exact(64).zip(&c.dc_terms);
            for (i, (coded, &dc)) in blocks.enumerate() {
                let (x, y) = (i % c.blocks_w, i / c.blocks_w);
                let coded: &[i16; 64] = coded.try_into().ok()?;
                nonzero[0] = (0, i32::from(dc as i16));
                let mut count = 1;
                // Coefficient 0 stays zero: the DC term is in `dc_terms`.
                let mut mask = nonzero_mask(coded);
                while mask != 0 {
                    let k = mask.trailing_zeros() as usize;
                    nonzero[count] = (ZIGZAG[k], i32::from(coded[k]));
                    count += 1;
                    mask &= mask - 1;
                }
                reduced_idct(&nonzero[..count], quant, c, &mut block);
                for row in 0..ny {
                    let start = (y * ny + row) * stride + x * nx;
                    c.plane
                        .get_mut(start..start + nx)?
                        .copy_from_slice(&block[row * nx..row * nx + nx]);
                }
            }
        }
        Some(())
    }

    /// Before MCU `mcu`: if a restart interval ends there, checks that the data does too
    /// (what is left of the byte is padding), steps over its RSTn marker and resets the
    /// predictions. Returns whether it restarted.
    fn restart_at(&self, mcu: usize, bits: &mut Bits<'a>, predictions: &mut [i32]) -> Option<bool> {
        if self.restart == 0 || mcu == 0 || !mcu.is_multiple_of(self.restart) {
            return Some(false);
        }
        if !bits.in_bounds() {
            return None;
        }
        let at = bits.pos;
        if self.data.get(at) != Some(&0xFF) || !(0xD0..=0xD7).contains(self.data.get(at + 1)?) {
            return None;
        }
        *bits = Bits::new(self.data, at + 2);
        predictions.fill(0);
        Some(true)
    }

    /// A progressive DC scan (for `layout` as in `scan`) into the components' `dc_terms`:
    /// each block's term shifted left by `shift`, or if `refine`, one more bit of each
    /// block's term, at `shift`.
    fn scan_dc(
        &mut self,
        layout: &[(usize, usize, usize)],
        mcus_w: usize,
        mcus_h: usize,
        refine: bool,
        shift: u32,
    ) -> Option<()> {
        if refine {
            return self.refine_dc(layout, mcus_w, mcus_h, shift);
        }
        // Coded as a baseline scan's DC terms are, each block ending after its own.
        let (terms, end) = self.walk_dc(layout, mcus_w * mcus_h, false)?;
        let mut largest = 0;
        for (index, means) in self.members_means(layout, &terms, mcus_w)? {
            let c = &mut self.components[index];
            c.dc_quant = self.quant[c.quant].as_ref()?[0];
            largest |= means.fill(&mut c.dc_terms, |term| term << shift)?;
        }
        // Larger terms than 8-bit samples make (which the shift must not overflow).
        if largest > 2047 || largest << shift > 2047 {
            return None;
        }
        self.skip_to_marker(end)
    }

    /// A progressive DC refinement scan: the next bit down (at `shift`) of every block's
    /// term, one bit per block.
    fn refine_dc(
        &mut self,
        layout: &[(usize, usize, usize)],
        mcus_w: usize,
        mcus_h: usize,
        shift: u32,
    ) -> Option<()> {
        let mut bits = Bits::new(self.data, self.pos);
        let mut predictions = vec![0i32; layout.len()];
        for mcu in 0..mcus_w * mcus_h {
            self.restart_at(mcu, &mut bits, &mut predictions)?;
            let (mx, my) = (mcu % mcus_w, mcu / mcus_w);
            for &(index, bw, bh) in layout {
                let c = &mut self.components[index];
                for by in 0..bh {
                    bits.fill();
                    let row = (my * bh + by) * c.blocks_w + mx * bw;
                    for term in c.dc_terms.get_mut(row..row + bw)? {
                        *term |= ((bits.acc >> 63) as i32) << shift;
                        bits.consume(1);
                    }
                }
            }
        }
        if !bits.in_bounds() {
            return None;
        }
        self.skip_to_marker(bits.pos)
    }

    /// At 1/8 scale: the scan's blocks as their means, one sample each (the DC term over 8
    /// is the block's mean, libjpeg's 1x1 inverse DCT), for `layout` as in `scan`.
    fn scan_means(
        &mut self,
        layout: &[(usize, usize, usize)],
        mcus_w: usize,
        mcus_h: usize,
    ) -> Option<()> {
        let (terms, end) = self.walk_dc(layout, mcus_w * mcus_h, true)?;
        let mut largest = 0;
        for (index, means) in self.members_means(layout, &terms, mcus_w)? {
            let c = &mut self.components[index];
            let quant = self.quant[c.quant].as_ref()?[0];
            // The sample of each DC term an 8-bit image can have (-2048 to 2047).
            let samples: Vec<u8> = (-2048..2048)
                .map(|dc: i32| (((dc * quant + 4) >> 3) + 128).clamp(0, 255) as u8)
                .collect();
            let samples: &[u8; 4096] = samples.as_slice().try_into().ok()?;
            let sample = |dc: i32| samples[(dc + 2048) as usize & 4095];
            largest |= means.fill(&mut c.plane, sample)?;
        }
        if largest > 2047 {
            return None;
        }
        self.skip_to_marker(end)
    }

    /// The DC terms of a scan's `mcus` MCUs of `layout` (see `jpeg_dc::walk`), whose blocks
    /// have AC terms too if `ac`; and where the scan's data ends.
    fn walk_dc(
        &self,
        layout: &[(usize, usize, usize)],
        mcus: usize,
        ac: bool,
    ) -> Option<(jpeg_dc::DcTerms, usize)> {
        let mut members = Vec::new();
        for &(index, bw, bh) in layout {
            let c = &self.components[index];
            let ac = if ac {
                Some(self.ac[c.ac].as_ref()?)
            } else {
                None
            };
            members.extend(std::iter::repeat_n((self.dc[c.dc].as_ref()?, ac), bw * bh));
        }
        let mut terms = jpeg_dc::DcTerms::default();
        let end = jpeg_dc::walk(
            self.data,
            self.pos,
            &members,
            mcus,
            self.restart,
            &mut terms,
        )?;
        Some((terms, end))
    }

    /// Per member of `layout`: its component and how to read its blocks' DC terms from
    /// `terms`. Member by member, each with its prediction in a register: the members'
    /// blocks are interleaved in the scan, but each one's predictions chain only its own.
    fn members_means<'t>(
        &self,
        layout: &[(usize, usize, usize)],
        terms: &'t jpeg_dc::DcTerms,
        mcus_w: usize,
    ) -> Option<Vec<(usize, Means<'t>)>> {
        let per_mcu = layout.iter().map(|&(_, bw, bh)| bw * bh).sum();
        let mut first = 0;
        let mut members = Vec::with_capacity(layout.len());
        for &(index, bw, bh) in layout {
            let c = &self.components[index];
            members.push((
                index,
                Means {
                    terms,
                    values: jpeg_dc::DcValues::new(self.dc[c.dc].as_ref()?)?,
                    layout: (bw, bh),
                    first,
                    per_mcu,
                    mcus_w,
                    restart: self.restart,
                    stride: c.blocks_w,
                },
            ));
            first += bw * bh;
        }
        Some(members)
    }

    /// Moves `pos` to the marker after a scan's entropy-coded data, from `at` within it
    /// (past stuffed bytes and restart markers).
    fn skip_to_marker(&mut self, mut at: usize) -> Option<()> {
        loop {
            at += memchr::memchr(0xFF, self.data.get(at..)?)?;
            let next = *self.data.get(at + 1)?;
            if next != 0 && !(0xD0..=0xD7).contains(&next) && next != 0xFF {
                break;
            }
            at += 1;
        }
        self.pos = at;
        Some(())
    }

    /// Converts output rows `converted..until` (at most the image's) to RGB in `rgb`.
    ///
    /// Row by row: a subsampled plane's row is upsampled into a buffer just before it is
    /// converted (an upsampled plane in full would be written and read back through memory).
    #[inline(always)]
    fn convert(&mut self, until: usize) {
        let out_w = (self.width * self.n).div_ceil(8);
        let out_h = (self.height * self.n).div_ceil(8);
        let until = until.min(out_h);
        if self.rgb.is_empty() {
            self.rgb = vec![0u8; out_w * out_h * 3];
        }
        let planes = &self.components[..3];
        let mut rows = [vec![0u8; 0], vec![0u8; 0], vec![0u8; 0]];
        let mut sums = Vec::new();
        let pixels = self.rgb.chunks_exact_mut(out_w * 3).enumerate();
        for (y, out) in pixels.take(until).skip(self.converted) {
            for (c, buffer) in planes.iter().zip(&mut rows) {
                let (fx, fy) = c.up;
                if (fx, fy) != (1, 1) {
                    // The plane's own samples (at this scale), without the blocks' padding.
                    let real = (out_w.div_ceil(fx), out_h.div_ceil(fy));
                    let stride = c.blocks_w * c.nx;
                    buffer.resize(stride * fx, 0);
                    upsample_row(&c.plane, stride, real, (fx, fy), y, &mut sums, buffer);
                }
            }
            let line = |i: usize| {
                let c = &planes[i];
                let stride = c.blocks_w * c.nx;
                match c.up {
                    (1, 1) => &c.plane[y * stride..y * stride + out_w],
                    _ => &rows[i][..out_w],
                }
            };
            ycbcr_to_rgb(line(0), line(1), line(2), out);
        }
        self.converted = self.converted.max(until);
    }

    #[inline(always)]
    fn output(mut self) -> Option<DynamicImage> {
        if self.components.is_empty() || self.components.iter().any(|c| !c.scanned) {
            return None;
        }
        if self.progressive && self.n > 1 {
            self.transform_coefficients()?;
        } else if self.progressive {
            // Each block's mean, as `Means::fill` makes it of a baseline scan's.
            for c in &mut self.components {
                for (sample, &term) in c.plane.iter_mut().zip(&c.dc_terms) {
                    *sample = (((term * c.dc_quant + 4) >> 3) + 128).clamp(0, 255) as u8;
                }
            }
        }
        let n = self.n;
        let out_w = (self.width * n).div_ceil(8);
        let out_h = (self.height * n).div_ceil(8);
        if self.components.len() == 1 {
            let c = &self.components[0];
            let stride = c.blocks_w * c.nx;
            let mut pixels = Vec::with_capacity(out_w * out_h);
            for y in 0..out_h {
                pixels.extend_from_slice(&c.plane[y * stride..y * stride + out_w]);
            }
            return GrayImage::from_raw(out_w as u32, out_h as u32, pixels)
                .map(DynamicImage::ImageLuma8);
        }
        if self.adobe_rgb {
            return None;
        }
        self.convert(out_h);
        let pixels = std::mem::take(&mut self.rgb);
        RgbImage::from_raw(out_w as u32, out_h as u32, pixels).map(DynamicImage::ImageRgb8)
    }
}

/// What a progressive scan holds (T.81 G.1.1): the first bits of the DC terms, one more bit
/// of them, the first bits of a band of AC terms (zigzag `from..=to`), or one more bit of
/// those; each at bit `shift` (the scan's Al).
#[derive(Clone, Copy)]
enum Band {
    DcFirst(u32),
    DcRefine(u32),
    AcFirst(usize, usize, u32),
    AcRefine(usize, usize, u32),
}

impl Band {
    /// The band of a scan header's spectral selection and successive approximation, for a
    /// scan of `count` components; `None` for a combination T.81 does not allow.
    fn new(start: u8, end: u8, approximation: u8, count: usize) -> Option<Band> {
        let (high, shift) = (approximation >> 4, u32::from(approximation & 15));
        if shift > 13 || high > 13 || (high != 0 && u32::from(high) != shift + 1) {
            return None;
        }
        let (from, to) = (usize::from(start), usize::from(end));
        match (from, to) {
            (0, 0) if high == 0 => Some(Band::DcFirst(shift)),
            (0, 0) => Some(Band::DcRefine(shift)),
            // AC bands are of one component each.
            (1..=63, _) if to >= from && to <= 63 && count == 1 => Some(if high == 0 {
                Band::AcFirst(from, to, shift)
            } else {
                Band::AcRefine(from, to, shift)
            }),
            _ => None,
        }
    }
}

/// The next `n` bits (at most 16) of `bits` as an unsigned number.
#[inline(always)]
fn raw_bits(bits: &mut Bits, n: u32) -> u32 {
    if n == 0 {
        return 0;
    }
    bits.fill();
    let v = (bits.acc >> (64 - n)) as u32;
    bits.consume(n);
    v
}

/// Bit i set where coefficient i of `block` is nonzero.
#[inline(always)]
fn nonzero_mask(block: &[i16; 64]) -> u64 {
    block
        .iter()
        .enumerate()
        .fold(0, |mask, (i, &v)| mask | u64::from(v != 0) << i)
}

/// A first AC scan's band of one block (`jdphuff.c`'s `decode_mcu_AC_first`).
#[inline(always)]
fn ac_first(
    bits: &mut Bits,
    ac: &Huffman,
    block: &mut [i16; 64],
    (from, to): (usize, usize),
    shift: u32,
    end_run: &mut u32,
) -> Option<()> {
    if *end_run > 0 {
        *end_run -= 1;
        return Some(());
    }
    let mut k = from;
    while k <= to {
        bits.fill();
        // Most symbols with their value bits in one look-up, as in `decode_block_into`.
        let fast = ac.fast[(bits.acc >> (64 - LOOKUP_BITS)) as usize];
        if fast != 0 {
            bits.consume((fast & 31) as u32);
            let advance = (fast >> 5) & 127;
            if advance == END_OF_BLOCK {
                break;
            }
            k += advance as usize;
            if fast >> 16 != 0 {
                if k > to + 1 {
                    return None;
                }
                block[k - 1] = ((fast >> 16) as i16).wrapping_shl(shift);
            }
            continue;
        }
        let rs = bits.symbol(ac)?;
        let (run, size) = (usize::from(rs >> 4), u32::from(rs & 15));
        if size != 0 {
            k += run;
            if k > to || size > 10 {
                return None;
            }
            let value = bits.value(size);
            block[k] = (value as i16).wrapping_shl(shift);
            k += 1;
        } else if run == 15 {
            k += 16;
        } else {
            // An end-of-band run: this block and 2^run - 1 + (run more bits) after it.
            *end_run = (1 << run) - 1 + raw_bits(bits, run as u32);
            break;
        }
    }
    Some(())
}

/// A refining AC scan's band of one block (`jdphuff.c`'s `decode_mcu_AC_refine`): one more
/// bit for each coefficient already nonzero, and new coefficients of +-1 at `shift`.
#[inline(always)]
fn ac_refine(
    bits: &mut Bits,
    ac: &Huffman,
    block: &mut [i16; 64],
    (from, to): (usize, usize),
    shift: u32,
    end_run: &mut u32,
) -> Option<()> {
    let (plus, minus) = (1i16.wrapping_shl(shift), (-1i16).wrapping_shl(shift));
    // One more bit of a coefficient already nonzero (unless it has that bit already).
    let refine = |bits: &mut Bits, coefficient: &mut i16| {
        if raw_bits(bits, 1) == 1 && *coefficient & plus == 0 {
            let step = if *coefficient >= 0 { plus } else { minus };
            *coefficient = coefficient.wrapping_add(step);
        }
    };
    let mut k = from;
    if *end_run == 0 {
        while k <= to {
            bits.fill();
            let rs = bits.symbol(ac)?;
            let (mut run, size) = (i32::from(rs >> 4), rs & 15);
            let mut value = 0;
            if size != 0 {
                // New coefficients are +-1 at this bit.
                if size != 1 {
                    return None;
                }
                value = if raw_bits(bits, 1) == 1 { plus } else { minus };
            } else if run != 15 {
                *end_run = (1 << run) + raw_bits(bits, run as u32);
                break;
            }
            // Past `run` zero coefficients (refining the nonzero ones on the way) to the one
            // that takes `value`, if any.
            while k <= to {
                let coefficient = &mut block[k];
                if *coefficient != 0 {
                    refine(bits, coefficient);
                } else {
                    if run == 0 {
                        break;
                    }
                    run -= 1;
                }
                k += 1;
            }
            if value != 0 {
                *block.get_mut(k)? = value;
            }
            k += 1;
        }
    }
    if *end_run > 0 {
        // In an end-of-band run: only the nonzero coefficients get their bit.
        if k <= to {
            // Straight to the nonzero ones: most of a band is zeros.
            let band = (u64::MAX >> (63 - to)) & (u64::MAX << k);
            let mut nonzero = nonzero_mask(block) & band;
            while nonzero != 0 {
                refine(bits, &mut block[nonzero.trailing_zeros() as usize]);
                nonzero &= nonzero - 1;
            }
        }
        *end_run -= 1;
    }
    Some(())
}

/// The inverse DCT of `block` into `c`'s plane at `start` (which `scan_full` checked has
/// room for it).
#[inline(always)]
fn transform(c: &mut Component, start: usize, block: &mut [i32; 64]) {
    jpeg_idct::idct(block, &mut c.plane[start..], c.blocks_w * 8);
}

/// One member's blocks of a DC-only scan (`jpeg_dc::walk`), to be turned into its plane's
/// samples.
struct Means<'a> {
    terms: &'a jpeg_dc::DcTerms,
    /// The DC difference of each window in `terms`.
    values: jpeg_dc::DcValues,
    /// The member's blocks per MCU, across and down; where they start within each MCU's,
    /// and how many blocks an MCU has.
    layout: (usize, usize),
    first: usize,
    per_mcu: usize,
    mcus_w: usize,
    restart: usize,
    /// The plane's width (one value per block).
    stride: usize,
}

impl Means<'_> {
    /// Writes `value` of each of the member's blocks' DC terms into `plane`. Returns the
    /// terms' bits OR-ed together, for the caller to check their size; `None` if `terms`
    /// and `plane` do not have the layout they should.
    fn fill<T>(&self, plane: &mut [T], value: impl Fn(i32) -> T) -> Option<u32> {
        match self.layout {
            (1, 1) => self.fill_as::<1, 1, T>(plane, value),
            (2, 1) => self.fill_as::<2, 1, T>(plane, value),
            (1, 2) => self.fill_as::<1, 2, T>(plane, value),
            (2, 2) => self.fill_as::<2, 2, T>(plane, value),
            _ => None,
        }
    }

    /// `fill` for `BW x BH` blocks per MCU.
    #[inline(always)]
    fn fill_as<const BW: usize, const BH: usize, T>(
        &self,
        plane: &mut [T],
        value: impl Fn(i32) -> T,
    ) -> Option<u32> {
        let (mut prediction, mut largest) = (0i32, 0u32);
        let mut until_restart = self.restart;
        let (stride, mcus_w) = (self.stride, self.mcus_w);
        if stride < mcus_w * BW || self.first + BW * BH > self.per_mcu {
            return None;
        }
        let mut bands = plane.chunks_exact_mut(BH * stride);
        for (my, row) in self.terms.windows.chunks(self.per_mcu * mcus_w).enumerate() {
            let band = bands.next()?;
            let (top, bottom) = band.split_at_mut(stride);
            let top = top[..mcus_w * BW].as_chunks_mut::<BW>().0;
            let bottom = bottom[..(BH - 1) * mcus_w * BW].as_chunks_mut::<BW>().0;
            let blocks = row.chunks_exact(self.per_mcu);
            if blocks.len() != mcus_w {
                return None;
            }
            for (mx, block) in blocks.enumerate() {
                if self.restart > 0 {
                    if until_restart == 0 {
                        prediction = 0;
                        until_restart = self.restart;
                    }
                    until_restart -= 1;
                }
                let windows = &block[self.first..self.first + BW * BH];
                for by in 0..BH {
                    let out = if by == 0 {
                        &mut top[mx]
                    } else {
                        &mut bottom[mx]
                    };
                    for (bx, o) in out.iter_mut().enumerate() {
                        let window = windows[by * BW + bx];
                        let diff = if window == jpeg_dc::ESCAPED {
                            let block = (my * mcus_w + mx) * self.per_mcu + self.first;
                            self.escaped(block + by * BW + bx)?
                        } else {
                            self.values.get(window)
                        };
                        prediction = prediction.wrapping_add(i32::from(diff));
                        largest |= prediction.unsigned_abs();
                        *o = value(prediction);
                    }
                }
            }
        }
        Some(largest)
    }

    /// The difference of `block`, escaped from the windows.
    #[cold]
    fn escaped(&self, block: usize) -> Option<i16> {
        let escaped = &self.terms.escaped;
        let at = escaped.binary_search_by_key(&block, |&(b, _)| b).ok()?;
        Some(escaped[at].1)
    }
}

/// `plane` (`w x h`) upsampled by `fx` across and `fy` down (each 1 or 2) with libjpeg's
/// "fancy" triangle filter: each output sample is 3/4 its own input sample and 1/4 the
/// neighbour on its side, per upsampled axis, with edges repeated.
#[cfg(test)]
fn upsample(plane: &[u8], w: usize, h: usize, fx: usize, fy: usize) -> Vec<u8> {
    let mut out = vec![0u8; w * fx * h * fy];
    let mut sums = Vec::new();
    for (y, row) in out.chunks_exact_mut(w * fx).enumerate() {
        upsample_row(plane, w, (w, h), (fx, fy), y, &mut sums, row);
    }
    out
}

/// Output row `y` of `upsample`, into `out` (`w * fx` samples), for a `plane` with rows of
/// `stride` of which the first `w x h` samples are the image's (past them, the edge is
/// repeated: the blocks' padding is not used, as in libjpeg); `sums` is scratch.
#[inline(always)]
fn upsample_row(
    plane: &[u8],
    stride: usize,
    (w, h): (usize, usize),
    (fx, fy): (usize, usize),
    y: usize,
    sums: &mut Vec<u16>,
    out: &mut [u8],
) {
    // Column sums of the vertical pass, scaled by 4 whether or not it upsamples.
    sums.resize(w, 0);
    let (near, far) = if fy == 2 {
        let near = y / 2;
        let far = if y.is_multiple_of(2) {
            near.saturating_sub(1)
        } else {
            (near + 1).min(h - 1)
        };
        (near, far)
    } else {
        (y, y)
    };
    let (near, far) = (&plane[near * stride..][..w], &plane[far * stride..][..w]);
    for ((s, &a), &b) in sums.iter_mut().zip(near).zip(far) {
        *s = 3 * u16::from(a) + u16::from(b);
    }
    // Rounding as libjpeg-turbo's `jdsample.c` does, which alternates it so that halves
    // do not all round one way.
    if fx == 2 {
        let biases = if fy == 2 { (8, 7) } else { (4, 8) };
        widen(sums, out, biases);
    } else {
        let bias = if y.is_multiple_of(2) { 1 } else { 2 };
        for (o, &s) in out.iter_mut().zip(sums.iter()) {
            *o = ((s + bias) >> 2) as u8;
        }
    }
}

/// The horizontal pass of `upsample`: `sums` (scaled by 4) to twice as many samples in
/// `out`, each 3/4 its own sum and 1/4 its neighbour's, rounded up by the biases (in
/// sixteenths) on the left and right.
#[inline(always)]
fn widen(sums: &[u16], out: &mut [u8], (left_bias, right_bias): (u16, u16)) {
    let w = sums.len();
    let pair = |this: u16, left: u16, right: u16| {
        [
            ((3 * this + left + left_bias) >> 4) as u8,
            ((3 * this + right + right_bias) >> 4) as u8,
        ]
    };
    if w < 2 {
        if let (Some(&s), Some(out)) = (sums.first(), out.get_mut(..2)) {
            out.copy_from_slice(&pair(s, s, s));
        }
        return;
    }
    // The edges repeat their own sum; in between, a loop without edge cases to vectorize.
    out[..2].copy_from_slice(&pair(sums[0], sums[0], sums[1]));
    out[2 * w - 2..2 * w].copy_from_slice(&pair(sums[w - 1], sums[w - 2], sums[w - 1]));
    let inner = out[2..2 * w - 2].chunks_exact_mut(2);
    for (((o, &left), &this), &right) in inner.zip(&sums[..w - 2]).zip(&sums[1..]).zip(&sums[2..]) {
        o.copy_from_slice(&pair(this, left, right));
    }
}

/// Huffman-decodes one block, keeping its coefficients as (natural position, value not yet
/// dequantised) in `out`; returns how many (the DC term always first).
#[inline(always)]
fn decode_block(
    bits: &mut Bits,
    dc: &Huffman,
    ac: &Huffman,
    prediction: &mut i32,
    out: &mut [(u8, i32); 64],
) -> Option<usize> {
    decode_block_into(bits, dc, ac, prediction, |i, z, value| out[i] = (z, value))
}

/// `decode_block`, handing each coefficient to `put` as (its index among the block's
/// nonzero coefficients, natural position, value) instead.
#[inline(always)]
fn decode_block_into(
    bits: &mut Bits,
    dc: &Huffman,
    ac: &Huffman,
    prediction: &mut i32,
    mut put: impl FnMut(usize, u8, i32),
) -> Option<usize> {
    bits.fill();
    let fast = dc.fast[(bits.acc >> (64 - LOOKUP_BITS)) as usize];
    let diff = if fast != 0 {
        bits.consume((fast & 31) as u32);
        fast >> 16
    } else {
        let size = bits.symbol(dc)?;
        if size > 11 {
            return None;
        }
        bits.value(u32::from(size))
    };
    *prediction += diff;
    // 8-bit samples keep the DC term within 11 bits; more is a corrupt stream.
    if prediction.abs() > 2047 {
        return None;
    }
    put(0, 0, *prediction);
    let mut count = 1;
    // `k` is the zigzag index of the next coefficient.
    let mut k = 1usize;
    while k < 64 {
        bits.fill();
        let fast = ac.fast[(bits.acc >> (64 - LOOKUP_BITS)) as usize];
        if fast != 0 {
            bits.consume((fast & 31) as u32);
            let advance = (fast >> 5) & 127;
            if advance == END_OF_BLOCK {
                break;
            }
            k += advance as usize;
            if k > 64 {
                return None;
            }
            // A coefficient unless the symbol was sixteen zeros (ZRL, whose value is 0;
            // fifteen zeros and a value advance 16 too).
            if fast >> 16 != 0 {
                put(count, ZIGZAG[k - 1], fast >> 16);
                count += 1;
            }
            continue;
        }
        let rs = bits.symbol(ac)?;
        let (run, size) = (usize::from(rs >> 4), u32::from(rs & 15));
        if size > 10 {
            return None;
        }
        if size == 0 {
            if run == 15 {
                k += 16;
                continue;
            }
            break;
        }
        k += run;
        if k > 63 {
            return None;
        }
        put(count, ZIGZAG[k], bits.value(size));
        count += 1;
        k += 1;
    }
    if k > 64 {
        return None;
    }
    Some(count)
}

/// `k x 8`: row x holds the 8-point IDCT's basis functions averaged over the 8/k samples
/// that output sample x stands for, so that a block's reduced output is exactly the box
/// average of its full decode. (Truncating to a k-point IDCT of the low frequencies is
/// sharper than that and drifts visibly from the full-size result.)
fn box_idct(k: usize) -> Vec<f32> {
    let m = 8 / k;
    let mut matrix = vec![0f32; k * 8];
    for x in 0..k {
        for u in 0..8 {
            let c = if u == 0 {
                std::f64::consts::FRAC_1_SQRT_2
            } else {
                1.0
            };
            let sum: f64 = (0..m)
                .map(|j| {
                    let pixel = (m * x + j) as f64;
                    ((2.0 * pixel + 1.0) * u as f64 * std::f64::consts::PI / 16.0).cos()
                })
                .sum();
            matrix[x * 8 + u] = (c / 2.0 * sum / m as f64) as f32;
        }
    }
    matrix
}

/// The reduced inverse DCT of a block's `coefficients` (see `decode_block`) into `out`
/// (row-major, `c.ny` rows of `c.nx`): a sum of the basis of each coefficient the block
/// has, which for photos is a handful.
#[inline(always)]
fn reduced_idct(coefficients: &[(u8, i32)], quant: &[i32; 64], c: &Component, out: &mut [u8; 64]) {
    match c.nx * c.ny {
        2 => sum_basis::<2>(coefficients, quant, &c.basis, out),
        4 => sum_basis::<4>(coefficients, quant, &c.basis, out),
        8 => sum_basis::<8>(coefficients, quant, &c.basis, out),
        16 => sum_basis::<16>(coefficients, quant, &c.basis, out),
        32 => sum_basis::<32>(coefficients, quant, &c.basis, out),
        _ => sum_basis::<64>(coefficients, quant, &c.basis, out),
    }
}

#[inline(always)]
fn sum_basis<const K: usize>(
    coefficients: &[(u8, i32)],
    quant: &[i32; 64],
    basis: &[f32],
    out: &mut [u8; 64],
) {
    let mut sum = [128.0f32; K];
    for &(z, value) in coefficients {
        let z = usize::from(z);
        let weight = (value * quant[z]) as f32;
        let basis: &[f32; K] = basis[z * K..z * K + K].try_into().expect("K samples");
        for (s, b) in sum.iter_mut().zip(basis) {
            *s += weight * b;
        }
    }
    // Rounded by adding 2^23, where a float's unit in the last place is 1, and keeping the
    // low bits: vector instructions throughout, where `as u8` converts one sample at a time.
    for (o, s) in out.iter_mut().zip(sum) {
        *o = (s.clamp(0.0, 255.0) + 8_388_608.0).to_bits() as u8;
    }
}

/// JFIF's YCbCr to RGB in libjpeg's 16-bit fixed point (`jdcolor.c`).
#[inline(always)]
fn ycbcr_to_rgb(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
    const HALF: i32 = 1 << 15;
    const fn fix(x: f64) -> i32 {
        (x * 65536.0 + 0.5) as i32
    }
    for (((&y, &cb), &cr), rgb) in y.iter().zip(cb).zip(cr).zip(out.chunks_exact_mut(3)) {
        let (y, cb, cr) = (i32::from(y), i32::from(cb) - 128, i32::from(cr) - 128);
        let r = y + ((fix(1.402) * cr + HALF) >> 16);
        // libjpeg's constants to five places (FIX(0.344136) would be one less).
        let g = y + ((-fix(0.344_14) * cb - fix(0.714_14) * cr + HALF) >> 16);
        let b = y + ((fix(1.772) * cb + HALF) >> 16);
        rgb[0] = r.clamp(0, 255) as u8;
        rgb[1] = g.clamp(0, 255) as u8;
        rgb[2] = b.clamp(0, 255) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A colour test card with edges, `w x h` (at most 390 x 390), as JPEG with 4:2:0
    /// chroma at `quality`.
    fn card(w: u16, h: u16, quality: u8) -> Vec<u8> {
        let image = RgbImage::from_fn(u32::from(w), u32::from(h), |x, y| {
            // Sharp edges in brightness, smooth colour (as in photos; and the full decoder
            // upsamples chroma its own way, which sharp colour edges would expose).
            let edge = if (x / 13 + y / 7) % 2 == 0 { 60 } else { 0 };
            image::Rgb([
                (x / 2 + edge) as u8,
                (y / 2 + edge) as u8,
                ((x + y) / 4 + edge) as u8,
            ])
        });
        super::super::jpeg_encode::encode(image.as_raw(), w.into(), h.into(), true, quality)
    }

    /// Photos from tests/image/data in each layout the decoder takes: Pillow's 4:2:0, with
    /// restart intervals, 4:2:2, 4:4:4 (with restarts by rows) and gray with restarts.
    fn photos() -> Vec<(&'static str, &'static [u8])> {
        macro_rules! photo {
            ($name:literal) => {
                (
                    $name,
                    include_bytes!(concat!("../../../tests/image/data/", $name)),
                )
            };
        }
        vec![
            photo!("coffee.jpg"),
            photo!("astronaut.jpg"),
            photo!("chelsea.jpg"),
            photo!("coffee-restarts.jpg"),
            photo!("coffee-422.jpg"),
            photo!("coffee-444.jpg"),
            photo!("camera-restarts.jpg"),
        ]
    }

    /// JFIF's luma of an RGB image: what its YCbCr was, whatever the chroma did.
    fn luma(image: &DynamicImage) -> DynamicImage {
        let rgb = image.to_rgb8();
        DynamicImage::ImageLuma8(GrayImage::from_fn(rgb.width(), rgb.height(), |x, y| {
            let [r, g, b] = rgb.get_pixel(x, y).0.map(f64::from);
            image::Luma([(0.299 * r + 0.587 * g + 0.114 * b).round() as u8])
        }))
    }

    /// The mean absolute difference between `reduced` and the `denom x denom` box average
    /// of `full`, over inner pixels (the edge blocks average the encoder's padding too).
    fn box_difference(full: &DynamicImage, reduced: &DynamicImage, denom: u32) -> f64 {
        let channels = usize::from(full.color().channel_count());
        let (w, h) = (full.width(), full.height());
        let (full, reduced) = (full.as_bytes(), reduced.as_bytes());
        let reduced_w = w.div_ceil(denom) as usize;
        let (mut diff, mut n) = (0f64, 0u64);
        for y in 0..h / denom {
            for x in 0..w / denom {
                for c in 0..channels {
                    let mut sum = 0u32;
                    for j in 0..denom {
                        for i in 0..denom {
                            let at = ((y * denom + j) * w + x * denom + i) as usize;
                            sum += u32::from(full[at * channels + c]);
                        }
                    }
                    let mean = f64::from(sum) / f64::from(denom * denom);
                    let at = (y as usize * reduced_w + x as usize) * channels + c;
                    diff += (f64::from(reduced[at]) - mean).abs();
                    n += 1;
                }
            }
        }
        diff / n as f64
    }

    #[test]
    fn reduced_decode_is_the_box_average_of_the_full_decode() {
        let card = card(203, 117, 90);
        let mut inputs = photos();
        inputs.push(("card", &card));
        for (name, data) in inputs {
            let full = image::load_from_memory(data).unwrap();
            let (w, h) = (full.width(), full.height());
            for denom in [2u32, 4, 8] {
                let reduced = decode(data, denom, (w, h))
                    .unwrap_or_else(|| panic!("{name} 1/{denom}: declined"));
                assert_eq!(
                    (reduced.width(), reduced.height()),
                    (w.div_ceil(denom), h.div_ceil(denom)),
                    "{name} 1/{denom}"
                );
                assert_eq!(reduced.color(), full.color(), "{name}");
                let diff = box_difference(&full, &reduced, denom);
                // At 1/8 subsampled chroma is one mean per chroma block, upsampled (as in
                // libjpeg); luma stays each block's mean.
                let chroma_means = denom == 8 && !name.ends_with("444.jpg");
                if chroma_means && full.color().has_color() {
                    assert!(diff < 4.0, "{name} 1/{denom}: {diff}");
                    let luma = box_difference(&luma(&full), &luma(&reduced), denom);
                    assert!(luma < 1.0, "{name} 1/{denom} luma: {luma}");
                } else {
                    assert!(diff < 1.0, "{name} 1/{denom}: {diff}");
                }
            }
        }
    }

    #[test]
    fn full_size_decode_agrees_with_the_image_crate() {
        // The `image` crate's decoder (zune-jpeg) rounds its IDCT and upsampling its own way,
        // so a level apart at most places; Mosaic's decode is libjpeg's exactly (the image
        // tests hold it to Pillow's pixels).
        let card = card(203, 117, 90);
        let mut inputs = photos();
        inputs.push(("card", &card));
        for (name, data) in inputs {
            let reference = image::load_from_memory(data).unwrap();
            let (w, h) = (reference.width(), reference.height());
            let full = decode(data, 1, (w, h)).unwrap_or_else(|| panic!("{name}: declined"));
            assert_eq!((full.width(), full.height()), (w, h), "{name}");
            assert_eq!(full.color(), reference.color(), "{name}");
            let diff = box_difference(&reference, &full, 1);
            assert!(diff < 0.3, "{name}: {diff}");
        }
    }

    #[test]
    fn fifteen_zeros_and_a_value_in_a_short_code_is_a_coefficient() {
        // Optimised Huffman tables can give run-15 symbols short codes, which the one-look-up
        // path decodes: AC codes 00 = end of block, 01 = 0xF1 (15 zeros, then a 1-bit value),
        // 10 = 0x01; DC code 0 = a difference of 0.
        let ac = Huffman::new(
            &[0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            vec![0x00, 0xF1, 0x01],
            true,
        )
        .unwrap();
        let dc = Huffman::new(
            &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            vec![0],
            false,
        )
        .unwrap();
        // DC 0, then 0xF1 with value bit 1 (+1), then end of block; padded with ones.
        let data = [0b0011_0011, 0xFF, 0xD9];
        let mut bits = Bits::new(&data, 0);
        let mut out = [(0u8, 0i32); 64];
        let count = decode_block(&mut bits, &dc, &ac, &mut 0, &mut out).unwrap();
        assert_eq!(&out[..count], &[(0, 0), (ZIGZAG[16], 1)]);
    }

    #[test]
    fn the_dc_walk_takes_long_codes_and_full_blocks() {
        // Noise at quality 100: every coefficient coded (blocks without an end-of-block),
        // long AC codes, and alternately black and white blocks for DC differences too
        // large for the walk's tables.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let image = RgbImage::from_fn(96, 64, |x, y| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let base = if (x / 16 + y / 16) % 2 == 0 { 20 } else { 230 };
            let noise = (state % 25) as u8;
            image::Rgb([base + noise, base + noise / 2, base])
        });
        for quality in [100, 75] {
            let data = super::super::jpeg_encode::encode(image.as_raw(), 96, 64, true, quality);
            let full = image::load_from_memory(&data).unwrap();
            let reduced = decode(&data, 8, (96, 64)).expect("a baseline JPEG");
            let diff = box_difference(&full, &reduced, 8);
            assert!(diff < 1.5, "quality {quality}: {diff}");
        }
    }

    #[test]
    fn fancy_upsampling_keeps_flat_planes_and_interpolates_ramps() {
        let flat = vec![90u8; 5 * 3];
        for (fx, fy) in [(2, 2), (2, 1), (1, 2)] {
            let out = upsample(&flat, 5, 3, fx, fy);
            assert_eq!(out.len(), 5 * fx * 3 * fy);
            assert!(out.iter().all(|&v| v == 90), "{fx}x{fy}");
        }
        // A ramp of 40 per sample: upsampled samples sit at a quarter and three quarters
        // between their inputs (10 and 30 past each), edges held.
        let ramp: Vec<u8> = (0..4).map(|x| 40 * x as u8 + 20).collect();
        let out = upsample(&ramp, 4, 1, 2, 1);
        assert_eq!(out, [20, 30, 50, 70, 90, 110, 130, 140]);
        let out = upsample(&ramp, 1, 4, 1, 2);
        assert_eq!(out, [20, 30, 50, 70, 90, 110, 130, 140]);
        // Planes one and two samples wide.
        assert_eq!(upsample(&[100], 1, 1, 2, 1), [100, 100]);
        assert_eq!(upsample(&[20, 60], 2, 1, 2, 1), [20, 30, 50, 60]);
    }

    #[test]
    fn corrupt_streams_do_not_panic() {
        let data = card(64, 48, 90);
        for cut in (0..data.len()).step_by(7) {
            let _ = decode(&data[..cut], 4, (64, 48));
            let _ = decode(&data[..cut], 8, (64, 48));
            let _ = decode(&data[..cut], 1, (64, 48));
        }
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut bad = data.clone();
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = (state % bad.len() as u64) as usize;
                bad[at] = (state >> 32) as u8;
            }
            let _ = decode(&bad, 8, (64, 48));
            let _ = decode(&bad, 2, (64, 48));
            let _ = decode(&bad, 1, (64, 48));
        }
    }

    #[test]
    fn a_progressive_jpeg_decodes_as_its_baseline_twin() {
        macro_rules! data {
            ($name:literal) => {
                include_bytes!(concat!("../../../tests/image/data/", $name)).as_slice()
            };
        }
        // The same pixels and quality coded progressively (DC at half precision, then the
        // AC scans, then the DC terms' last bit; interleaved colour with restart markers,
        // and gray) and in one baseline scan: the same quantised coefficients, so at 1/8
        // the same means and at full size the same pixels.
        for (name, progressive, baseline) in [
            (
                "coffee",
                data!("coffee-progressive.jpg"),
                data!("coffee-restarts.jpg"),
            ),
            (
                "camera",
                data!("camera-progressive.jpg"),
                data!("camera-restarts.jpg"),
            ),
            (
                "astronaut",
                data!("astronaut-progressive.jpg"),
                data!("astronaut.jpg"),
            ),
        ] {
            let full = image::load_from_memory(progressive).unwrap();
            let size = (full.width(), full.height());
            let reduced = decode(progressive, 8, size).expect(name);
            assert_eq!(
                reduced.as_bytes(),
                decode(baseline, 8, size).unwrap().as_bytes(),
                "{name}"
            );
            let diff = box_difference(&luma(&full), &luma(&reduced), 8);
            assert!(diff < 1.0, "{name} luma: {diff}");
            // At full size every scan is decoded: progressive coding only reorders the
            // quantised coefficients' bits, so the pixels are the baseline twin's exactly.
            let full = decode(progressive, 1, size).expect(name);
            assert_eq!(
                full.as_bytes(),
                decode(baseline, 1, size).unwrap().as_bytes(),
                "{name} full size"
            );
            // So at 1/2 and 1/4 (every scan too, through the reduced transform).
            for denom in [2, 4] {
                assert_eq!(
                    decode(progressive, denom, size).expect(name).as_bytes(),
                    decode(baseline, denom, size).unwrap().as_bytes(),
                    "{name} at 1/{denom}"
                );
            }
            // A progressive stream cut short, or damaged, is declined or decoded, never
            // a panic.
            let step = progressive.len() / 400 + 1;
            for (i, cut) in (0..progressive.len()).step_by(step).enumerate() {
                let _ = decode(&progressive[..cut], 8, size);
                // A full decode costs more (unoptimised, as tests build it): every fifth.
                if i % 5 == 0 {
                    let _ = decode(&progressive[..cut], 1, size);
                    let _ = decode(&progressive[..cut], 2, size);
                }
            }
            for (i, at) in (0..progressive.len()).step_by(step / 2 + 1).enumerate() {
                let mut bad = progressive.to_vec();
                bad[at] ^= 0x41;
                let _ = decode(&bad, 8, size);
                if i % 5 == 0 {
                    let _ = decode(&bad, 1, size);
                    let _ = decode(&bad, 4, size);
                }
            }
        }
    }

    #[test]
    fn progressive_and_other_frames_are_declined() {
        let mut data = card(32, 32, 90);
        let sof = data.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        data[sof + 1] = 0xC2;
        assert!(decode(&data, 1, (32, 32)).is_none());
        assert!(decode(&data, 2, (32, 32)).is_none());
        assert!(decode(&data, 8, (32, 32)).is_none());
        // Components named R, G, B: RGB samples, left to the `image` crate.
        let mut data = card(32, 32, 90);
        let sof = data.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        for (i, id) in b"RGB".iter().enumerate() {
            data[sof + 10 + 3 * i] = *id;
        }
        // The scan names its components by the same ids.
        let sos = data.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        for (i, id) in b"RGB".iter().enumerate() {
            data[sos + 5 + 2 * i] = *id;
        }
        assert!(decode(&data, 1, (32, 32)).is_none());
        assert!(decode(&data, 4, (32, 32)).is_none());
    }
}
