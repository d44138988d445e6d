//! Decoding the PNGs photos and screenshots are (8-bit gray, gray + alpha, RGB or RGBA, not
//! interlaced) in one pass over one buffer; every other PNG, and any file this path finds
//! malformed, is left to the `image` crate, which also words the error.
//!
//! A 1080p photo spends its time in two places: inflating (fdeflate, as the `png` crate
//! does) and undoing the Paeth filter, which encoders choose for almost every row of a
//! photo. Paeth predicts each byte from its left, upper and upper-left neighbours, so a row
//! is one long dependency chain through the left pixel; `sse41::paeth` keeps that chain short
//! (the `png` crate's scalar code took half the decode). The image is inflated straight into
//! the buffer that becomes the image: each row is unfiltered where it landed and moved down
//! over the filter bytes, so no second image-sized buffer is touched.

use image::{DynamicImage, ImageBuffer};

const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// The image, or `None` when the file is outside this path or malformed. The caller has
/// checked the header's size against the pixel budget.
pub(super) fn decode(data: &[u8]) -> Option<DynamicImage> {
    let mut chunks = Chunks::new(data)?;
    let (kind, ihdr) = chunks.next()?;
    if kind != *b"IHDR" || ihdr.len() != 13 {
        return None;
    }
    let width = u32::from_be_bytes(ihdr[0..4].try_into().ok()?) as usize;
    let height = u32::from_be_bytes(ihdr[4..8].try_into().ok()?) as usize;
    let (depth, colour, interlace) = (ihdr[8], ihdr[9], ihdr[12]);
    let channels = match colour {
        0 => 1,
        4 => 2,
        2 => 3,
        6 => 4,
        _ => return None, // palette
    };
    if depth != 8 || interlace != 0 || ihdr[10] != 0 || ihdr[11] != 0 || width == 0 || height == 0 {
        return None;
    }
    let stride = width.checked_mul(channels)?;
    let filtered = stride.checked_add(1)?.checked_mul(height)?;
    // One byte past the image, so that the vector Paeth can load and store 3-byte pixels
    // as 4-byte words (see `sse41::paeth`).
    let mut pixels = vec![0u8; filtered + 1];
    let mut inflater = fdeflate::Decompressor::new();
    let mut produced = 0;
    let (mut seen_data, mut ended) = (false, false);
    for (kind, body) in chunks {
        match &kind {
            b"IDAT" => {
                seen_data = true;
                produced = inflate(
                    &mut inflater,
                    body,
                    &mut pixels[..filtered],
                    produced,
                    false,
                )?;
            }
            b"IEND" => {
                ended = true;
                break;
            }
            // Transparency would add an alpha channel, EXIF an orientation, animation
            // frames; the full decoder handles those.
            b"tRNS" | b"eXIf" | b"acTL" => return None,
            // Other critical chunks (PLTE aside, a suggestion for RGB) are not ours to skip.
            _ if kind[0].is_ascii_uppercase() && kind != *b"PLTE" => return None,
            _ => {}
        }
    }
    produced = inflate(&mut inflater, &[], &mut pixels[..filtered], produced, true)?;
    if !seen_data || !ended || !inflater.is_done() || produced != filtered {
        return None;
    }
    unfilter(&mut pixels, stride, height, channels)?;
    pixels.truncate(stride * height);
    let (w, h) = (width as u32, height as u32);
    Some(match channels {
        1 => DynamicImage::ImageLuma8(ImageBuffer::from_raw(w, h, pixels)?),
        2 => DynamicImage::ImageLumaA8(ImageBuffer::from_raw(w, h, pixels)?),
        3 => DynamicImage::ImageRgb8(ImageBuffer::from_raw(w, h, pixels)?),
        _ => DynamicImage::ImageRgba8(ImageBuffer::from_raw(w, h, pixels)?),
    })
}

/// Feeds `input` to the inflater, writing from `at`; returns the new end of the output, or
/// `None` when the stream is corrupt or longer than the image.
fn inflate(
    inflater: &mut fdeflate::Decompressor,
    mut input: &[u8],
    out: &mut [u8],
    mut at: usize,
    end: bool,
) -> Option<usize> {
    loop {
        let (read, wrote) = inflater.read(input, out, at, end).ok()?;
        at += wrote;
        input = &input[read..];
        if inflater.is_done() || (input.is_empty() && !end) {
            return Some(at);
        }
        if read == 0 && wrote == 0 {
            // The output is full but the stream goes on, or it ended early.
            return None;
        }
    }
}

/// The chunks after the signature, each CRC-checked; iteration stops at the first chunk
/// that is cut short or fails its CRC (the caller then finds no IEND or too little data).
struct Chunks<'a> {
    rest: &'a [u8],
}

impl<'a> Chunks<'a> {
    fn new(data: &'a [u8]) -> Option<Self> {
        let rest = data.strip_prefix(SIGNATURE)?;
        Some(Chunks { rest })
    }
}

impl<'a> Iterator for Chunks<'a> {
    type Item = ([u8; 4], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let len = u32::from_be_bytes(self.rest.get(..4)?.try_into().ok()?) as usize;
        let kind: [u8; 4] = self.rest.get(4..8)?.try_into().ok()?;
        let body = self.rest.get(8..8usize.checked_add(len)?)?;
        let crc = u32::from_be_bytes(self.rest.get(8 + len..12 + len)?.try_into().ok()?);
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&kind);
        hasher.update(body);
        if hasher.finalize() != crc {
            self.rest = &[];
            return None;
        }
        self.rest = &self.rest[12 + len..];
        Some((kind, body))
    }
}

/// Undoes each row's filter, reading it where it was inflated (after its filter byte, at
/// `y * (stride + 1) + 1`) and leaving it at `y * stride`, where the next row reads it as
/// the row above. `buf` has one byte more than the rows. `None` for an unknown filter type.
fn unfilter(buf: &mut [u8], stride: usize, height: usize, bpp: usize) -> Option<()> {
    let zeros = vec![0u8; stride + 1];
    #[cfg(target_arch = "x86_64")]
    let vector_paeth = (bpp == 3 || bpp == 4) && std::arch::is_x86_feature_detected!("sse4.1");
    for y in 0..height {
        #[cfg(target_arch = "x86_64")]
        if vector_paeth && buf[y * (stride + 1)] == 4 {
            let above = if y == 0 {
                zeros.as_ptr()
            } else {
                buf[(y - 1) * stride..].as_ptr()
            };
            // SAFETY: the CPU supports SSE4.1 (checked above). The row's filtered bytes
            // (`stride` from y * (stride + 1) + 1), its destination (`stride` from
            // y * stride, y + 1 bytes before them) and the row above, each with one byte
            // more, lie inside `buf` or `zeros`; the row above ends where the destination
            // starts.
            unsafe {
                let row = buf.as_mut_ptr().add(y * stride);
                sse41::paeth(row.add(y + 1), above, row, stride / bpp, bpp);
            }
            continue;
        }
        let (done, rest) = buf.split_at_mut(y * stride);
        let above: &[u8] = if y == 0 {
            &zeros
        } else {
            &done[(y - 1) * stride..]
        };
        let filter = rest[y];
        let row = &mut rest[y + 1..y + 1 + stride];
        match filter {
            0 => {}
            1 => sub(row, bpp),
            2 => up(row, above),
            3 => average(row, above, bpp),
            4 => paeth(row, above, bpp),
            _ => return None,
        }
        rest.copy_within(y + 1..y + 1 + stride, 0);
    }
    Some(())
}

fn sub(row: &mut [u8], bpp: usize) {
    for i in bpp..row.len() {
        row[i] = row[i].wrapping_add(row[i - bpp]);
    }
}

fn up(row: &mut [u8], above: &[u8]) {
    for (x, &b) in row.iter_mut().zip(above) {
        *x = x.wrapping_add(b);
    }
}

fn average(row: &mut [u8], above: &[u8], bpp: usize) {
    for i in 0..row.len() {
        let left = if i >= bpp { u16::from(row[i - bpp]) } else { 0 };
        row[i] = row[i].wrapping_add(((left + u16::from(above[i])) / 2) as u8);
    }
}

fn paeth(row: &mut [u8], above: &[u8], bpp: usize) {
    for i in 0..row.len() {
        let (left, corner) = if i >= bpp {
            (row[i - bpp], above[i - bpp])
        } else {
            (0, 0)
        };
        row[i] = row[i].wrapping_add(predict(left, above[i], corner));
    }
}

/// The Paeth predictor as the PNG specification writes it.
#[inline(always)]
fn predict(a: u8, b: u8, c: u8) -> u8 {
    let (a16, b16, c16) = (i16::from(a), i16::from(b), i16::from(c));
    let pa = (b16 - c16).abs();
    let pb = (a16 - c16).abs();
    let pc = (a16 + b16 - 2 * c16).abs();
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

#[cfg(target_arch = "x86_64")]
mod sse41 {
    use std::arch::x86_64::*;

    /// Paeth for `pixels` pixels of 3 or 4 bytes from `src` to `dst`, one pixel per step in
    /// 16-bit lanes. What does not depend on the left pixel `a` (`b - c` and `pa = |b - c|`)
    /// is off the chain; on it are `a - c`, two absolute values, three compares merged into
    /// two blends, and a byte add (the lanes' high bytes are zero, so `paddb` wraps each
    /// sample at 256 by itself).
    ///
    /// Pixels move as 4-byte words: a 3-byte pixel's load takes the next byte along (its
    /// lane is ignored) and its store writes one byte of garbage after it, which the next
    /// pixel overwrites.
    ///
    /// # Safety
    ///
    /// SSE4.1; `src`, `above` and `dst` hold `pixels * bpp + 1` bytes; `dst` starts before
    /// `src` if they overlap (so every store lands on bytes already loaded), and `above`
    /// overlaps neither.
    #[target_feature(enable = "sse4.1")]
    pub(super) unsafe fn paeth(
        src: *const u8,
        above: *const u8,
        dst: *mut u8,
        pixels: usize,
        bpp: usize,
    ) {
        debug_assert!(bpp == 3 || bpp == 4);
        let load = |p: *const u8| -> __m128i {
            // SAFETY: `p` points at a pixel of `src` or `above`, with 4 bytes readable.
            let word = unsafe { p.cast::<u32>().read_unaligned() };
            _mm_unpacklo_epi8(_mm_cvtsi32_si128(word as i32), _mm_setzero_si128())
        };
        let (mut a, mut c) = (_mm_setzero_si128(), _mm_setzero_si128());
        for i in 0..pixels {
            // SAFETY: pixel i lies inside all three rows (i < pixels).
            let (b, x) = (load(above.add(i * bpp)), load(src.add(i * bpp)));
            let bc = _mm_sub_epi16(b, c);
            let pa = _mm_abs_epi16(bc);
            let ac = _mm_sub_epi16(a, c);
            let pb = _mm_abs_epi16(ac);
            let pc = _mm_abs_epi16(_mm_add_epi16(ac, bc));
            // Not a: pa > pb or pa > pc. Then b unless pb > pc.
            let not_a = _mm_or_si128(_mm_cmpgt_epi16(pa, pb), _mm_cmpgt_epi16(pa, pc));
            let b_or_c = _mm_blendv_epi8(b, c, _mm_cmpgt_epi16(pb, pc));
            let out = _mm_add_epi8(x, _mm_blendv_epi8(a, b_or_c, not_a));
            let bytes = _mm_cvtsi128_si32(_mm_packus_epi16(out, out));
            dst.add(i * bpp).cast::<i32>().write_unaligned(bytes);
            a = out;
            c = b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A photo-like test card: gradients, noise and hard edges, so that every filter type
    /// meets every kind of neighbourhood.
    fn card(width: u32, height: u32, channels: usize) -> Vec<u8> {
        let mut seed = 0x2545_f491_u32;
        let mut out = Vec::with_capacity(width as usize * height as usize * channels);
        for y in 0..height {
            for x in 0..width {
                for c in 0..channels as u32 {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    let smooth = (x * 3 + y * 5 + c * 40) % 256;
                    let v = if (x / 7 + y / 5) % 3 == 0 {
                        seed % 256
                    } else if x % 11 == 0 {
                        255
                    } else {
                        smooth
                    };
                    out.push(v as u8);
                }
            }
        }
        out
    }

    fn encode(
        pixels: &[u8],
        w: u32,
        h: u32,
        colour: png::ColorType,
        filter: png::Filter,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(colour);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_filter(filter);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(pixels).unwrap();
        writer.finish().unwrap();
        out
    }

    #[test]
    fn every_filter_and_layout_decodes_as_the_png_crate_does() {
        let layouts = [
            (png::ColorType::Grayscale, 1),
            (png::ColorType::GrayscaleAlpha, 2),
            (png::ColorType::Rgb, 3),
            (png::ColorType::Rgba, 4),
        ];
        let filters = [
            png::Filter::NoFilter,
            png::Filter::Sub,
            png::Filter::Up,
            png::Filter::Avg,
            png::Filter::Paeth,
            png::Filter::Adaptive,
        ];
        for (colour, channels) in layouts {
            for (w, h) in [(1, 1), (2, 3), (37, 19), (256, 9)] {
                let pixels = card(w, h, channels);
                for filter in filters {
                    let file = encode(&pixels, w, h, colour, filter);
                    let ours = decode(&file).expect("an 8-bit PNG takes the fast path");
                    let theirs = image::load_from_memory(&file).unwrap();
                    assert_eq!(ours.color(), theirs.color(), "{colour:?} {filter:?}");
                    assert_eq!(
                        ours.as_bytes(),
                        theirs.as_bytes(),
                        "{colour:?} {w}x{h} {filter:?}"
                    );
                    assert_eq!(ours.as_bytes(), &pixels[..]);
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_vector_paeth_is_the_scalar_one() {
        if !std::arch::is_x86_feature_detected!("sse4.1") {
            return;
        }
        for bpp in [3usize, 4] {
            let mut above = card(64, 1, bpp);
            let filtered = card(64, 2, bpp)[64 * bpp..].to_vec();
            let mut scalar = filtered.clone();
            paeth(&mut scalar, &above, bpp);
            above.push(0x5a);
            // Moved down by 1 to 5 bytes as `unfilter` moves rows.
            for shift in 1..=5 {
                let mut buf = vec![0u8; shift];
                buf.extend_from_slice(&filtered);
                buf.push(0xa5);
                // SAFETY: SSE4.1 is there; src is buf[shift..] and dst buf[..], 64 pixels
                // and a byte each, dst before src; `above` is a buffer of its own.
                unsafe {
                    let p = buf.as_mut_ptr();
                    sse41::paeth(p.add(shift), above.as_ptr(), p, 64, bpp);
                }
                assert_eq!(
                    buf[..64 * bpp],
                    scalar[..],
                    "{bpp} bytes per pixel, shift {shift}"
                );
            }
        }
    }

    #[test]
    fn other_pngs_and_broken_ones_are_left_to_the_full_decoder() {
        let pixels = card(16, 8, 3);
        let good = encode(&pixels, 16, 8, png::ColorType::Rgb, png::Filter::Paeth);
        assert!(decode(&good).is_some());
        // 16-bit samples.
        let wide: Vec<u8> = pixels.iter().flat_map(|&v| [v, v]).collect();
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, 16, 8);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Sixteen);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&wide).unwrap();
        writer.finish().unwrap();
        assert!(decode(&out).is_none(), "16-bit");
        // Cut anywhere after the header, or one byte changed: never an image.
        for cut in [40, good.len() / 2, good.len() - 13, good.len() - 1] {
            assert!(decode(&good[..cut]).is_none(), "cut at {cut}");
        }
        for at in (33..good.len()).step_by(7) {
            let mut bad = good.clone();
            bad[at] ^= 0x10;
            assert!(decode(&bad).is_none(), "byte {at} changed");
        }
        assert!(decode(b"not a png").is_none());
    }
}
