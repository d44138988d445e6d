//! The Huffman walk of a baseline scan that keeps only each block's DC term: what a
//! 1/8-scale decode needs, where a block becomes one sample, its mean. The AC terms still
//! have to be read to find where the next block starts, but only their lengths matter, so a
//! table look-up skips several of them at once.
//!
//! Where a block ends depends on the data, so a branch on it is mispredicted about once per
//! block, and a thumbnail is mostly blocks. The walk is therefore one straight-line step,
//! repeated: a look-up (of a DC term, or of a run of AC terms) in the table the current
//! position selects, then the position's update by conditional moves. The bit buffer refills
//! without a branch too, from a copy of the entropy-coded bytes with their stuffed zeros
//! taken out. Only codes too long for the tables, and corrupt data, leave the straight path.

use std::collections::VecDeque;
use std::hint::select_unpredictable;
use std::sync::{Arc, Mutex, PoisonError};

use super::jpeg_decode::Huffman;

/// Look-up width for DC terms: every code of a photo's DC table.
const DC_BITS: u32 = 12;
/// The look-up width of either kind of entry: one, so that the walk shifts by a constant.
const LOOKUP_BITS: u32 = DC_BITS;
const _: () = assert!(AC_BITS == LOOKUP_BITS);
/// How many bits of the stream each DC term keeps in `DcTerms::windows`: its code and
/// value bits, for nearly every difference in a photo (a 12-bit window escaped one in 45).
const WINDOW_BITS: u32 = 15;
/// Look-up width for AC terms: several short symbols per look-up, in a table that (with the
/// DC one) stays in the L1 cache for two components.
const AC_BITS: u32 = 12;
/// The most bits one look-up may consume, so that three steps fit in a refill's 56 bits:
/// the codes of an AC entry must lie in its window, but the (skipped) value bits of the
/// last one may run past it.
const MAX_STEP: u32 = 18;
/// The flag of an AC entry whose last symbol is end-of-block (and of every DC entry in a
/// scan of DC terms alone).
const ENDS: u32 = 1 << 15;
/// What `DcTerms::windows` holds for a DC term decoded on its own, its difference being in
/// `DcTerms::escaped` (a window has only `WINDOW_BITS` bits).
pub(super) const ESCAPED: u16 = u16::MAX;
/// The flag of a `DcValues` entry whose code and value bits run past its `DC_BITS`: the
/// value is then read from the whole window, with the code's length in bits 4 to 7 and
/// the value's size in bits 0 to 3. No difference (-2047 to 2047) has bits 12 to 14 so.
const LONG: u16 = 0x4000;
/// Stuffed-free bytes are followed by this many zeros, so that a refill may read a whole
/// word at any position the walk reaches before its bounds are checked.
const PADDING: usize = 64;

/// A block position's Huffman tables, DC and AC; no AC table in a scan of DC terms alone
/// (a progressive JPEG's DC scans), whose blocks end after their DC term.
pub(super) type Member<'a> = (&'a Huffman, Option<&'a Huffman>);

/// One block position within an MCU, in scan order: where its tables start in
/// `Tables::entries`, which position follows, and that one's DC table (so that the walk
/// knows the next table before a block ends, not one dependent look-up after).
#[derive(Clone, Copy)]
struct Slot {
    dc: usize,
    ac: usize,
    next: usize,
    next_dc: usize,
}

/// The look-up tables of every distinct (DC, AC) table pair of a scan, concatenated.
///
/// An entry holds how many bits it consumes in its low 6 bits, and how far it moves the
/// coefficient index (at most 63) in bits 6 to 11. A DC entry, indexed by the next
/// `DC_BITS` bits, moves it by 1 (the DC term's value is read from its window later, see
/// `DcValues`), or in a scan of DC terms alone, ends the block. An AC entry, indexed by
/// the next `AC_BITS` bits, covers every whole symbol that fits, with `ENDS` set when the
/// last of them is end-of-block. 0 when the first symbol does not fit.
struct Tables {
    entries: Vec<u16>,
    slots: Vec<Slot>,
}

impl Tables {
    fn new(members: &[Member<'_>]) -> Tables {
        let mut entries = Vec::new();
        let mut built: Vec<(*const Huffman, Option<*const Huffman>, usize, usize)> = Vec::new();
        let mut slots = Vec::with_capacity(members.len());
        for &(dc, ac) in members {
            let key = (dc as *const Huffman, ac.map(|ac| ac as *const Huffman));
            let (dc_at, ac_at) = match built.iter().find(|b| (b.0, b.1) == key) {
                Some(b) => (b.2, b.3),
                None => {
                    let dc_at = entries.len();
                    entries.extend_from_slice(&pair_entries(dc, ac));
                    let ac_at = dc_at + (1 << DC_BITS);
                    built.push((key.0, key.1, dc_at, ac_at));
                    (dc_at, ac_at)
                }
            };
            slots.push(Slot {
                dc: dc_at,
                ac: ac_at,
                next: 0,
                next_dc: 0,
            });
        }
        let n = slots.len();
        for i in 0..n {
            slots[i].next = (i + 1) % n;
            slots[i].next_dc = slots[(i + 1) % n].dc;
        }
        Tables { entries, slots }
    }
}

/// Tables built lately, by what they were built from (see `kept`).
static BUILT: Mutex<VecDeque<Built>> = Mutex::new(VecDeque::new());
type Built = (Vec<u8>, Arc<[u16]>);
/// How many tables `BUILT` keeps (8 KiB or 16 KiB each).
const KEPT: usize = 12;

/// The table `build` makes of the Huffman tables `key` defines. Building one takes longer
/// than a small image's walk, and most JPEGs use the standard tables, or their encoder's
/// own, over and over: recent ones are kept.
fn kept(key: Vec<u8>, build: impl FnOnce() -> Arc<[u16]>) -> Arc<[u16]> {
    let built = || BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, table)) = built().iter().find(|(k, _)| *k == key) {
        return Arc::clone(table);
    }
    let table = build();
    let mut kept = built();
    if kept.len() == KEPT {
        kept.pop_front();
    }
    kept.push_back((key, Arc::clone(&table)));
    table
}

/// The DC entries of `dc` followed by the AC entries of `ac`. Without `ac`, the DC entries
/// end their block (and the AC entries, for a DC term that `one_symbol` decodes, end it
/// where it stands, consuming nothing).
fn pair_entries(dc: &Huffman, ac: Option<&Huffman>) -> Arc<[u16]> {
    let (class, ac_counts, ac_symbols) = match ac {
        Some(ac) => (b'e', &ac.counts[..], &ac.symbols[..]),
        None => (b'd', &[][..], &[][..]),
    };
    let key = [&[class][..], &dc.counts, &dc.symbols, ac_counts, ac_symbols].concat();
    kept(key, || {
        let ac_entries = (0..1u32 << AC_BITS).map(|w| ac.map_or(ENDS as u16, |ac| ac_entry(ac, w)));
        let dc_only = |entry: u16| match entry {
            0 => 0,
            _ => ENDS as u16 | (entry & 63),
        };
        (0..1u32 << DC_BITS)
            .map(|w| dc_entry(dc, w))
            .map(|entry| if ac.is_some() { entry } else { dc_only(entry) })
            .chain(ac_entries)
            .collect()
    })
}

/// The DC difference each window of `DcTerms::windows` starts with, for one DC table.
pub(super) struct DcValues(Arc<[u16; 1 << DC_BITS]>);

impl DcValues {
    pub(super) fn new(dc: &Huffman) -> Option<DcValues> {
        let key = [&[b'v'][..], &dc.counts, &dc.symbols].concat();
        let table = kept(key, || {
            (0..1u32 << DC_BITS)
                .map(|prefix| dc_value_entry(dc, prefix))
                .collect()
        });
        Some(DcValues(table.try_into().ok()?))
    }

    /// The difference `window` starts with, if `dc_entry` accepted its first `DC_BITS`.
    #[inline(always)]
    pub(super) fn get(&self, window: u16) -> i16 {
        let entry = self.0[usize::from(window >> (WINDOW_BITS - DC_BITS)) & 4095];
        if entry & 0x7000 != LONG {
            return entry as i16;
        }
        long_value(entry, window)
    }
}

/// The `DcValues` entry of a window starting with the `DC_BITS` bits `prefix`: the
/// difference if its bits lie within them, else `LONG` with the lengths to read it.
fn dc_value_entry(dc: &Huffman, prefix: u32) -> u16 {
    let Some((len, size)) = dc.peek(prefix, DC_BITS) else {
        return 0;
    };
    let size = u32::from(size).min(11);
    if len + size > DC_BITS {
        return LONG | (len << 4 | size) as u16;
    }
    let raw = (prefix >> (DC_BITS - len - size)) & ((1 << size) - 1);
    extend(raw, size) as u16
}

/// The difference of a `LONG` `entry`, read from the whole `window`.
#[cold]
fn long_value(entry: u16, window: u16) -> i16 {
    let (len, size) = (u32::from(entry >> 4) & 15, u32::from(entry) & 15);
    let Some(rest) = WINDOW_BITS.checked_sub(len + size) else {
        return 0;
    };
    let raw = (u32::from(window) >> rest) & ((1 << size) - 1);
    extend(raw, size) as i16
}

/// The DC entry for the `DC_BITS` bits `window`.
fn dc_entry(table: &Huffman, window: u32) -> u16 {
    let Some((len, size)) = table.peek(window, DC_BITS) else {
        return 0;
    };
    let size = u32::from(size);
    if len + size > WINDOW_BITS || size > 11 {
        return 0;
    }
    (1 << 6 | (len + size)) as u16
}

/// The AC entry for the `AC_BITS` bits `window`.
fn ac_entry(table: &Huffman, window: u32) -> u16 {
    let (mut used, mut advance, mut ends) = (0u32, 0u32, 0u32);
    while used < AC_BITS {
        // The bits from `used` on, zeros after the window: a symbol that fits in what is
        // left decodes the same whatever follows.
        let rest = (window << used) & ((1 << AC_BITS) - 1);
        let Some((len, rs)) = table.peek(rest, AC_BITS) else {
            break;
        };
        let size = u32::from(rs & 15);
        if used + len > AC_BITS || used + len + size > MAX_STEP {
            break;
        }
        let step = match rs {
            0x00 => {
                used += len;
                ends = ENDS;
                break;
            }
            0xF0 => 16,
            // Other symbols of size 0 are invalid: left to the symbol-by-symbol path.
            _ if size == 0 => break,
            _ => u32::from(rs >> 4) + 1,
        };
        if advance + step > 63 {
            break;
        }
        used += len + size;
        advance += step;
    }
    if used == 0 {
        0
    } else {
        (ends | advance << 6 | used) as u16
    }
}

/// JPEG's EXTEND: the signed value of `size` raw bits.
fn extend(raw: u32, size: u32) -> i32 {
    if size == 0 {
        0
    } else if raw < 1 << (size - 1) {
        raw as i32 - (1 << size) + 1
    } else {
        raw as i32
    }
}

/// The destuffed bytes of one entropy-coded segment, read most significant bit first.
struct Reader<'a> {
    bytes: &'a [u8],
    /// The bytes before `at` are in `acc` or consumed.
    at: usize,
    /// The next `count` bits of the stream at the top, followed by (some of) byte `at` on.
    acc: u64,
    count: u32,
}

impl Reader<'_> {
    /// Tops `acc` up to at least 56 bits, without a branch on the data.
    #[inline(always)]
    fn refill(&mut self) -> Option<()> {
        let word = self.bytes.get(self.at..self.at + 8)?;
        let word = u64::from_be_bytes(word.try_into().ok()?);
        self.acc |= word >> self.count;
        self.at += ((63 - self.count) >> 3) as usize;
        self.count |= 56;
        Some(())
    }

    #[inline(always)]
    fn consume(&mut self, bits: u32) {
        self.acc <<= bits;
        self.count -= bits;
    }

    /// Bits consumed so far.
    fn consumed(&self) -> usize {
        self.at * 8 - self.count as usize
    }
}

/// The walk's position: which block, which coefficient of it, and the table to look in.
struct Walk<'a> {
    bits: Reader<'a>,
    entries: &'a [u16],
    slots: &'a [Slot],
    members: &'a [Member<'a>],
    /// The current block (an index into the differences) and its slot.
    block: usize,
    slot: usize,
    /// Zigzag index of the next coefficient: 0 for the DC term.
    k: u32,
    /// Where the next look-up's table starts.
    base: usize,
}

impl<'a> Walk<'a> {
    /// A walk from byte `at` of `bytes`, at the start of `block`.
    fn new(
        bytes: &'a [u8],
        at: usize,
        tables: &'a Tables,
        members: &'a [Member<'a>],
        block: usize,
    ) -> Walk<'a> {
        let slot = block % tables.slots.len();
        Walk {
            bits: Reader {
                bytes,
                at,
                acc: 0,
                count: 0,
            },
            entries: &tables.entries,
            slots: &tables.slots,
            members,
            block,
            slot,
            k: 0,
            base: tables.slots[slot].dc,
        }
    }

    /// Walks on to the start of block `end`, checking that it stays within the data.
    #[inline(always)]
    fn run_to(&mut self, end: usize, terms: &mut DcTerms) -> Option<()> {
        // Three steps per refill: each takes at most `MAX_STEP` bits of the 56
        // (`one_symbol` refills for itself); and stop three blocks short, so that none walks
        // past `end`.
        while self.block + 3 < end {
            self.bits.refill()?;
            self.step(terms)?;
            self.step(terms)?;
            self.step(terms)?;
        }
        while self.block < end {
            self.bits.refill()?;
            self.step(terms)?;
        }
        (self.bits.consumed() <= (self.bits.bytes.len() - PADDING) * 8).then_some(())
    }

    /// Walks `MEETING_BLOCKS` blocks from a block 0 of its own, returning the bit
    /// position each one starts at. A walk that starts out of step may find codes no block
    /// can have: it then starts again, at block 0, from the byte after (a few times).
    #[inline(always)]
    fn record_starts(&mut self, terms: &mut DcTerms) -> Option<Vec<usize>> {
        let mut starts = Vec::with_capacity(MEETING_BLOCKS);
        for _ in 0..RESTARTS {
            starts.clear();
            terms.escaped.clear();
            while self.block < MEETING_BLOCKS {
                if starts.len() == self.block {
                    starts.push(self.bits.consumed());
                }
                if self.bits.refill().and_then(|()| self.step(terms)).is_none() {
                    break;
                }
            }
            if self.block == MEETING_BLOCKS {
                return Some(starts);
            }
            self.bits = Reader {
                at: self.bits.consumed() / 8 + 1,
                acc: 0,
                count: 0,
                ..self.bits
            };
            (self.block, self.slot, self.k, self.base) = (0, 0, 0, self.slots[0].dc);
        }
        None
    }

    /// Walks on until a block starts where one of `starts` (recorded by another walk whose
    /// block `i` is at member `i % per_mcu`) did, at the same member; returns that block
    /// and the index of its start in `starts`. `None` once the walk is past them all (or
    /// at block `total`).
    #[inline(always)]
    fn meet(
        &mut self,
        starts: &[usize],
        per_mcu: usize,
        total: usize,
        terms: &mut DcTerms,
    ) -> Option<(usize, usize)> {
        let mut i = 0;
        while self.block < total {
            if self.k == 0 {
                let at = self.bits.consumed();
                while *starts.get(i)? < at {
                    i += 1;
                }
                if starts[i] == at && self.block % per_mcu == i % per_mcu && self.block >= i {
                    return Some((self.block, i));
                }
            }
            self.bits.refill()?;
            self.step(terms)?;
        }
        None
    }

    /// Decodes one DC term or skips a run of AC terms, storing a DC term's window at its
    /// block (see `advance`).
    #[inline(always)]
    fn step(&mut self, terms: &mut DcTerms) -> Option<()> {
        let window = (self.bits.acc >> (64 - LOOKUP_BITS)) as usize;
        // SAFETY: `base` is the start of a table of 1 << `LOOKUP_BITS` entries (`Tables`).
        let entry = u32::from(unsafe { *self.entries.get_unchecked(self.base + window) });
        let target = self.k + ((entry >> 6) & 63);
        // The symbols must stay within the block, and end it only with an end-of-block, so
        // that whether it ends is the entry's flag alone, known a few operations earlier
        // than the target. (A block whose last coefficient is coded is left to
        // `one_symbol`.) One test for both conditions: two would be two branches.
        if (u32::from(entry == 0) | u32::from(target >= 64)) != 0 {
            return self.one_symbol(terms);
        }
        let kept = (self.bits.acc >> (64 - WINDOW_BITS)) as u16;
        self.advance(entry & 63, target, entry & ENDS != 0, kept, terms)
    }

    /// The step for a symbol the tables do not hold, decoded on its own.
    #[inline(always)]
    fn one_symbol(&mut self, terms: &mut DcTerms) -> Option<()> {
        self.bits.refill()?;
        let (dc, ac) = self.members[self.slot];
        let (bits, target, value) = one_symbol(dc, ac, self.k, self.bits.acc)?;
        if self.k == 0 {
            terms.escaped.push((self.block, value));
        }
        self.advance(bits, target, target >= 64, ESCAPED, terms)?;
        self.bits.refill()
    }

    /// Consumes `bits` and moves to coefficient `target`, or to the next block if `ends`,
    /// storing `window` if this step decoded a DC term.
    #[inline(always)]
    fn advance(
        &mut self,
        bits: u32,
        target: u32,
        ends: bool,
        window: u16,
        terms: &mut DcTerms,
    ) -> Option<()> {
        self.bits.consume(bits);
        // A DC term's window goes to its block. Anything else goes to the next block's
        // place, which that block's DC term overwrites (the last block's goes to the spare
        // one at the end).
        *terms
            .windows
            .get_mut(self.block + usize::from(self.k != 0))? = window;
        // Read whether or not the block ends: its slot is known well before `ends`. Read as
        // volatile, because the compiler would otherwise turn the choice of the next base
        // into a choice of address and a load after it, on the chain from one look-up to
        // the next.
        // SAFETY: `slot` is below the number of slots: it starts so (`Walk::new`), and every
        // slot's `next` is (`Tables::new`).
        let here = unsafe { std::ptr::read_volatile(self.slots.get_unchecked(self.slot)) };
        self.k = select_unpredictable(ends, 0, target);
        self.block += usize::from(ends);
        self.base = select_unpredictable(ends, here.next_dc, here.ac);
        self.slot = select_unpredictable(ends, here.next, self.slot);
        Some(())
    }
}

/// A step's (bits, target, DC value) for a symbol the tables do not hold, decoded on its
/// own from the (at least 56) bits at the top of `acc`, at coefficient `k` of a block. The
/// target is 64 or more when the block ends.
#[cold]
#[inline(never)]
fn one_symbol(dc: &Huffman, ac: Option<&Huffman>, k: u32, acc: u64) -> Option<(u32, u32, i16)> {
    if k == 0 {
        let (len, size) = dc.peek((acc >> 48) as u32, 16)?;
        let size = u32::from(size);
        if size > 11 {
            return None;
        }
        let raw = if size == 0 {
            0
        } else {
            ((acc << len) >> (64 - size)) as u32
        };
        return Some((len + size, 1, extend(raw, size) as i16));
    }
    let (len, rs) = ac?.peek((acc >> 48) as u32, 16)?;
    let (run, size) = (u32::from(rs >> 4), u32::from(rs & 15));
    let target = match (run, size) {
        (0, 0) => 64,
        (15, 0) => k + 16,
        (_, 0) => return None,
        _ if size > 10 => return None,
        _ => k + run + 1,
    };
    if target > 64 {
        return None;
    }
    Some((len + size, target, 0))
}

/// The DC terms of a scan's blocks, in scan order (their predictions reset at each
/// restart marker).
#[derive(Default)]
pub(super) struct DcTerms {
    /// Per block, the `WINDOW_BITS` bits its DC term starts with, which hold its code and
    /// value (see `DcValues`); or `ESCAPED`.
    pub(super) windows: Vec<u16>,
    /// The blocks whose DC term did not fit in a window, with its difference.
    pub(super) escaped: Vec<(usize, i16)>,
}

/// Walks the scan whose entropy-coded data starts at `data[pos]`: `mcus` MCUs of blocks
/// that use `members`' (DC, AC) tables in turn, with a restart marker every `restart` MCUs
/// (0 for none). Leaves the blocks' DC terms in `terms` and returns the position of the
/// marker after the scan; `None` for a corrupt stream.
pub(super) fn walk(
    data: &[u8],
    pos: usize,
    members: &[Member<'_>],
    mcus: usize,
    restart: usize,
    terms: &mut DcTerms,
) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("bmi2") {
        // SAFETY: the CPU has BMI2, checked just above.
        return unsafe { walk_bmi2(data, pos, members, mcus, restart, terms) };
    }
    walk_any(data, pos, members, mcus, restart, terms)
}

/// `walk` compiled with BMI2, whose flag-free variable shifts (`shlx`, `shrx`) shorten the
/// chain from one look-up to the next.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi2")]
unsafe fn walk_bmi2(
    data: &[u8],
    pos: usize,
    members: &[Member<'_>],
    mcus: usize,
    restart: usize,
    terms: &mut DcTerms,
) -> Option<usize> {
    walk_any(data, pos, members, mcus, restart, terms)
}

#[inline(always)]
fn walk_any(
    data: &[u8],
    pos: usize,
    members: &[Member<'_>],
    mcus: usize,
    restart: usize,
    terms: &mut DcTerms,
) -> Option<usize> {
    let tables = Tables::new(members);
    let per_mcu = members.len();
    let total = mcus.checked_mul(per_mcu)?;
    terms.windows.clear();
    terms.escaped.clear();
    // One more: where the look-ups after the last DC term store their (meaningless) window.
    terms.windows.resize(total + 1, 0);
    let interval = if restart == 0 { mcus } else { restart };
    // Where each segment (a restart interval's MCUs) starts and ends, in blocks.
    let segment = |done: usize| (done * per_mcu, (done + interval).min(mcus) * per_mcu);
    // The marker at `at` must be a restart marker; fresh data follows it.
    let after_restart = |at: usize| {
        let marker = data.get(at..at + 2)?;
        (marker[0] == 0xFF && (0xD0..=0xD7).contains(&marker[1])).then_some(at + 2)
    };
    let (mut bytes, mut next_bytes) = (Vec::new(), Vec::new());
    let (mut pos, mut done) = (pos, 0usize);
    let marker = loop {
        let marker = destuff(data, pos, &mut bytes);
        let (start, end) = segment(done);
        let mut walk = Walk::new(&bytes, 0, &tables, members, start);
        if end == total {
            if start == 0 && bytes.len() >= SPLIT_BYTES {
                walk_halves(walk, &tables, members, total, terms)?;
            } else {
                walk.run_to(total, terms)?;
            }
            break marker;
        }
        // Restart markers: two segments at once, each walk alone bound by its latency.
        pos = after_restart(marker)?;
        let marker = destuff(data, pos, &mut next_bytes);
        let (next_start, next_end) = segment(end / per_mcu);
        let next = Walk::new(&next_bytes, 0, &tables, members, next_start);
        walk_pair(walk, end, next, next_end, terms)?;
        if next_end == total {
            break marker;
        }
        pos = after_restart(marker)?;
        done = next_end / per_mcu;
    };
    terms.windows.truncate(total);
    // The two walks of a pair found their escaped terms in turn.
    terms.escaped.sort_unstable_by_key(|&(block, _)| block);
    Some(marker)
}

/// Walks two consecutive restart segments at once (as `walk_halves` does two halves):
/// `first` to the start of block `first_end`, where `second` starts, and `second` to
/// `second_end`.
#[inline(always)]
fn walk_pair(
    mut first: Walk<'_>,
    first_end: usize,
    mut second: Walk<'_>,
    second_end: usize,
    terms: &mut DcTerms,
) -> Option<()> {
    // The first walk's last steps store their (meaningless) windows at the block where the
    // second starts, whose own window its first step stores: put back once the first ends.
    second.bits.refill()?;
    second.step(terms)?;
    let second_window = *terms.windows.get(first_end)?;
    while first.block + 3 < first_end && second.block + 3 < second_end {
        first.bits.refill()?;
        second.bits.refill()?;
        first.step(terms)?;
        second.step(terms)?;
        first.step(terms)?;
        second.step(terms)?;
        first.step(terms)?;
        second.step(terms)?;
    }
    first.run_to(first_end, terms)?;
    terms.windows[first_end] = second_window;
    second.run_to(second_end, terms)
}

/// The least data for which a scan is walked in two halves (`walk_halves`).
const SPLIT_BYTES: usize = 1 << 15;
/// How many block starts the second half's walk records for the first one to meet.
const MEETING_BLOCKS: usize = 512;
/// How many times the second half's walk may start again after finding itself out of step.
const RESTARTS: usize = 16;

/// Walks a whole scan of `total` blocks (no restart markers), `first` being the walk from
/// its start, as two walks at once: one walk alone is bound by the latency of its chain of
/// look-ups, and a second, independent chain runs in the same time.
///
/// Where a block starts in the second half is not known until the first walk gets there,
/// so the second starts at the middle byte as if a block of the MCU's first member began
/// there, and records where its next `MEETING_BLOCKS` blocks start. Huffman codes fall
/// back into step after a few symbols, and so does the position within the MCU after a
/// few blocks: once the first walk starts a block where the second one did, at the same
/// member, the two walks are in the same state from there on, and the second one's blocks
/// are the scan's. Should they never meet (or the second walk fail), the first walk goes on
/// alone: the result is the same either way, only the time differs. Returns whether they
/// met.
#[inline(always)]
fn walk_halves(
    mut first: Walk<'_>,
    tables: &Tables,
    members: &[Member<'_>],
    total: usize,
    terms: &mut DcTerms,
) -> Option<bool> {
    let bytes = first.bits.bytes;
    let per_mcu = members.len();
    let mut second = Walk::new(bytes, (bytes.len() - PADDING) / 2, tables, members, 0);
    let near_end = bytes.len() - PADDING - 16;
    // Its blocks are numbered from 0 until the walks meet (then shifted into place).
    let mut second_terms = DcTerms {
        windows: vec![0; total + 1],
        escaped: Vec::new(),
    };
    let alone =
        |mut first: Walk<'_>, terms: &mut DcTerms| first.run_to(total, terms).map(|()| false);
    let Some(starts) = second.record_starts(&mut second_terms) else {
        return alone(first, terms);
    };
    // Both at once, until the first walk reaches where the second started, or the second
    // nears the end of the data (past which it would be walking the padding).
    let meet_at = starts[0];
    let mut second_ok = true;
    while first.bits.consumed() < meet_at && first.block + 3 < total && second.bits.at < near_end {
        first.bits.refill()?;
        second_ok = second.bits.refill().is_some();
        if !second_ok {
            break;
        }
        first.step(terms)?;
        let one = second.step(&mut second_terms);
        first.step(terms)?;
        let two = second.step(&mut second_terms);
        first.step(terms)?;
        let three = second.step(&mut second_terms);
        second_ok = one.is_some() & two.is_some() & three.is_some();
        if !second_ok {
            break;
        }
    }
    // The first walk alone, looking for a block start the second one recorded.
    let met = second_ok
        .then(|| first.meet(&starts, per_mcu, total, terms))
        .flatten();
    let Some((block, recorded)) = met else {
        return alone(first, terms);
    };
    // From `block` on, the second walk's blocks (`recorded` on) are the scan's.
    let offset = block - recorded;
    let last = total - offset;
    if second.block > last {
        // Past the scan's last block: data after it, which the first walk never reaches.
        return alone(first, terms);
    }
    second.run_to(last, &mut second_terms)?;
    terms
        .windows
        .get_mut(block..=total)?
        .copy_from_slice(second_terms.windows.get(recorded..=last)?);
    terms.escaped.retain(|&(b, _)| b < block);
    terms.escaped.extend(
        second_terms
            .escaped
            .iter()
            .filter(|&&(b, _)| b >= recorded)
            .map(|&(b, value)| (b + offset, value)),
    );
    Some(true)
}

/// Copies the entropy-coded bytes from `data[pos]` up to the next marker into `out`
/// without their stuffed zeros, then `PADDING` zeros; returns the marker's position (or the
/// data's end).
fn destuff(data: &[u8], pos: usize, out: &mut Vec<u8>) -> usize {
    out.clear();
    let mut at = pos.min(data.len());
    out.reserve(data.len() - at + PADDING);
    let end = loop {
        let Some(ff) = memchr::memchr(0xFF, &data[at..]) else {
            out.extend_from_slice(&data[at..]);
            break data.len();
        };
        out.extend_from_slice(&data[at..at + ff]);
        let ff = at + ff;
        if data.get(ff + 1) != Some(&0) {
            break ff;
        }
        out.push(0xFF);
        at = ff + 2;
    };
    out.resize(out.len() + PADDING, 0);
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The (DC, AC) Huffman tables in the DHT segments of `data`.
    fn tables(data: &[u8]) -> (Vec<Huffman>, Vec<Huffman>) {
        let (mut dc, mut ac) = (Vec::new(), Vec::new());
        let mut at = 2;
        while at + 4 <= data.len() && data[at] == 0xFF && data[at + 1] != 0xDA {
            let len = usize::from(u16::from_be_bytes([data[at + 2], data[at + 3]]));
            if data[at + 1] == 0xC4 {
                let mut body = &data[at + 4..at + 2 + len];
                while !body.is_empty() {
                    let counts: [u8; 16] = body[1..17].try_into().unwrap();
                    let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
                    let class = body[0] >> 4;
                    let table = Huffman::new(&counts, body[17..17 + total].to_vec(), class == 1);
                    [&mut dc, &mut ac][usize::from(class)].push(table.unwrap());
                    body = &body[17 + total..];
                }
            }
            at += 2 + len;
        }
        (dc, ac)
    }

    fn photo_tables() -> (Vec<Huffman>, Vec<Huffman>) {
        tables(include_bytes!("../../../tests/image/data/coffee.jpg"))
    }

    #[test]
    fn ac_entries_agree_with_symbol_by_symbol_decoding() {
        let (_, ac) = photo_tables();
        assert_eq!(ac.len(), 2, "luma and chroma AC tables");
        for table in &ac {
            let mut covered = 0;
            for window in 0..1u32 << AC_BITS {
                // Symbol by symbol from the window (zeros after it): (bits, advance, ends)
                // after each symbol whose code lies within the window.
                let mut steps = Vec::new();
                let (mut used, mut advance) = (0u32, 0u32);
                while used < AC_BITS {
                    let rest = ((window << used) & ((1 << AC_BITS) - 1)) << (16 - AC_BITS);
                    let Some((len, rs)) = table.peek(rest, 16) else {
                        break;
                    };
                    if used + len > AC_BITS {
                        break;
                    }
                    used += len + u32::from(rs & 15);
                    if rs == 0 {
                        steps.push((used, advance, true));
                        break;
                    }
                    advance += if rs == 0xF0 {
                        16
                    } else {
                        u32::from(rs >> 4) + 1
                    };
                    steps.push((used, advance, false));
                }
                let entry = u32::from(ac_entry(table, window));
                if entry == 0 {
                    continue;
                }
                covered += 1;
                let got = (entry & 63, (entry >> 6) & 63, entry & ENDS != 0);
                assert!(got.0 <= MAX_STEP, "window {window:012b}: {got:?}");
                assert!(
                    steps.contains(&got),
                    "window {window:012b}: {got:?} not in {steps:?}"
                );
            }
            // Nearly every window starts with a short symbol.
            assert!(covered * 20 > 19 << AC_BITS, "{covered} windows covered");
        }
    }

    #[test]
    fn dc_entries_and_values_agree_with_symbol_by_symbol_decoding() {
        let (dc, _) = photo_tables();
        assert_eq!(dc.len(), 2, "luma and chroma DC tables");
        for table in &dc {
            let values = DcValues::new(table).unwrap();
            let (mut covered, mut long) = (0, 0);
            for prefix in 0..1u32 << DC_BITS {
                let entry = u32::from(dc_entry(table, prefix));
                if entry == 0 {
                    continue;
                }
                covered += 1;
                let (len, size) = table.peek(prefix << (16 - DC_BITS), 16).unwrap();
                let size = u32::from(size);
                assert_eq!(entry & 63, len + size, "prefix {prefix:012b}");
                assert_eq!(
                    entry >> 6,
                    1,
                    "prefix {prefix:012b}: moves to the first AC term"
                );
                long += usize::from(len + size > DC_BITS);
                // Every window with this prefix, however its value bits go on.
                let extra = WINDOW_BITS - DC_BITS;
                for suffix in 0..1u32 << extra {
                    let window = prefix << extra | suffix;
                    let raw = (window >> (WINDOW_BITS - len - size)) & ((1 << size) - 1);
                    assert_eq!(
                        i32::from(values.get(window as u16)),
                        extend(raw, size),
                        "window {window:015b}"
                    );
                }
            }
            assert!(covered * 20 > 19 << DC_BITS, "{covered} prefixes covered");
            assert!(long > 0, "some values run past the prefix");
        }
    }

    /// A JPEG's first scan: its Huffman tables by class and id, the (DC, AC) table ids
    /// of each block of an MCU, the number of MCUs, the restart interval and where the
    /// entropy-coded data starts.
    struct Scan {
        tables: [[Option<Huffman>; 4]; 2],
        members: Vec<(usize, usize)>,
        mcus: usize,
        restart: usize,
        pos: usize,
    }

    fn scan(data: &[u8]) -> Scan {
        let be16 = |at: usize| usize::from(u16::from_be_bytes([data[at], data[at + 1]]));
        let mut tables: [[Option<Huffman>; 4]; 2] = Default::default();
        let (mut size, mut sampling, mut restart) = ((0, 0), Vec::new(), 0);
        let mut at = 2;
        loop {
            assert_eq!(data[at], 0xFF, "a marker at {at}");
            let (kind, len, body) = (data[at + 1], be16(at + 2), at + 4);
            match kind {
                0xC0 | 0xC2 => {
                    size = (be16(body + 3), be16(body + 1));
                    for c in data[body + 6..body + 6 + 3 * usize::from(data[body + 5])].chunks(3) {
                        sampling.push((c[0], usize::from(c[1] >> 4), usize::from(c[1] & 15)));
                    }
                }
                0xC4 => {
                    let mut table = &data[body..at + 2 + len];
                    while !table.is_empty() {
                        let counts: [u8; 16] = table[1..17].try_into().unwrap();
                        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
                        let (class, id) = (table[0] >> 4, usize::from(table[0] & 15));
                        let symbols = table[17..17 + total].to_vec();
                        tables[usize::from(class)][id] =
                            Some(Huffman::new(&counts, symbols, class == 1).unwrap());
                        table = &table[17 + total..];
                    }
                }
                0xDD => restart = be16(body),
                0xDA => break,
                _ => {}
            }
            at += 2 + len;
        }
        let body = at + 4;
        let selectors = &data[body + 1..body + 1 + 2 * usize::from(data[body])];
        let (h_max, v_max) = sampling
            .iter()
            .fold((1, 1), |m, c| (m.0.max(c.1), m.1.max(c.2)));
        let mut members = Vec::new();
        for s in selectors.chunks(2) {
            let &(_, h, v) = sampling.iter().find(|c| c.0 == s[0]).unwrap();
            let blocks = if selectors.len() == 2 { 1 } else { h * v };
            let ids = (usize::from(s[1] >> 4), usize::from(s[1] & 15));
            members.extend(std::iter::repeat_n(ids, blocks));
        }
        let (h_max, v_max) = if selectors.len() == 2 {
            (1, 1)
        } else {
            (h_max, v_max)
        };
        let mcus = size.0.div_ceil(8 * h_max) * size.1.div_ceil(8 * v_max);
        let pos = at + 2 + be16(at + 2);
        Scan {
            tables,
            members,
            mcus,
            restart,
            pos,
        }
    }

    /// The DC terms of `scan` in `data` walked from start to end, and walked in two halves
    /// with whether those met; `None` where a walk finds the data corrupt. The blocks have
    /// AC terms if `ac` (else the scan is a progressive one of DC terms).
    fn walk_both_ways(
        data: &[u8],
        scan: &Scan,
        ac: bool,
    ) -> (Option<DcTerms>, Option<(DcTerms, bool)>) {
        let members: Vec<Member<'_>> = scan
            .members
            .iter()
            .map(|&(dc, ac_id)| {
                let dc = scan.tables[0][dc].as_ref().unwrap();
                (dc, ac.then(|| scan.tables[1][ac_id].as_ref().unwrap()))
            })
            .collect();
        let tables = Tables::new(&members);
        let total = scan.mcus * members.len();
        let mut bytes = Vec::new();
        destuff(data, scan.pos, &mut bytes);
        let fresh = || DcTerms {
            windows: vec![0; total + 1],
            escaped: Vec::new(),
        };
        let mut whole = fresh();
        let whole = Walk::new(&bytes, 0, &tables, &members, 0)
            .run_to(total, &mut whole)
            .map(|()| whole);
        let mut halves = fresh();
        let first = Walk::new(&bytes, 0, &tables, &members, 0);
        let halves =
            walk_halves(first, &tables, &members, total, &mut halves).map(|met| (halves, met));
        (whole, halves)
    }

    const PHOTOS: [&[u8]; 4] = [
        include_bytes!("../../../tests/image/data/coffee.jpg"),
        include_bytes!("../../../tests/image/data/astronaut.jpg"),
        include_bytes!("../../../tests/image/data/chelsea.jpg"),
        include_bytes!("../../../tests/image/data/coffee-422.jpg"),
    ];

    #[test]
    fn a_walk_in_two_halves_equals_one_from_start_to_end() {
        for (i, photo) in PHOTOS.into_iter().enumerate() {
            let scan = scan(photo);
            assert_eq!(scan.restart, 0, "photo {i}: one segment");
            let (whole, halves) = walk_both_ways(photo, &scan, true);
            let (whole, (halves, met)) = (whole.unwrap(), halves.unwrap());
            assert!(met, "photo {i}: the halves met");
            assert_eq!(halves.windows[..], whole.windows[..], "photo {i}");
            assert_eq!(halves.escaped, whole.escaped, "photo {i}");
        }
    }

    #[test]
    fn restart_segments_walked_in_pairs_equal_one_by_one() {
        for (i, photo) in [
            &include_bytes!("../../../tests/image/data/coffee-restarts.jpg")[..],
            include_bytes!("../../../tests/image/data/camera-restarts.jpg"),
            include_bytes!("../../../tests/image/data/coffee-444.jpg"),
        ]
        .into_iter()
        .enumerate()
        {
            let scan = scan(photo);
            assert!(
                scan.restart > 0 && scan.restart < scan.mcus,
                "photo {i}: segments"
            );
            let members: Vec<Member<'_>> = scan
                .members
                .iter()
                .map(|&(dc, ac)| {
                    let dc = scan.tables[0][dc].as_ref().unwrap();
                    (dc, Some(scan.tables[1][ac].as_ref().unwrap()))
                })
                .collect();
            let mut pairs = DcTerms::default();
            let end = walk(
                photo,
                scan.pos,
                &members,
                scan.mcus,
                scan.restart,
                &mut pairs,
            );
            // One segment after the other, each walked alone.
            let (tables, per_mcu) = (Tables::new(&members), members.len());
            let total = scan.mcus * per_mcu;
            let mut alone = DcTerms {
                windows: vec![0; total + 1],
                escaped: Vec::new(),
            };
            let (mut pos, mut done, mut bytes) = (scan.pos, 0, Vec::new());
            let marker = loop {
                let marker = destuff(photo, pos, &mut bytes);
                let end = (done + scan.restart).min(scan.mcus) * per_mcu;
                let mut segment = Walk::new(&bytes, 0, &tables, &members, done * per_mcu);
                segment.run_to(end, &mut alone).unwrap();
                done = end / per_mcu;
                if done == scan.mcus {
                    break marker;
                }
                pos = marker + 2;
            };
            alone.windows.truncate(total);
            assert_eq!(end, Some(marker), "photo {i}");
            assert_eq!(pairs.windows, alone.windows, "photo {i}");
            assert_eq!(pairs.escaped, alone.escaped, "photo {i}");
        }
    }

    #[test]
    fn a_scan_of_dc_terms_alone_walks_in_two_halves_too() {
        // A progressive JPEG's first scan: every block's DC term (at half precision).
        let photo = include_bytes!("../../../tests/image/data/astronaut-progressive.jpg");
        let scan = scan(photo);
        assert_eq!(scan.members.len(), 6, "4:2:0, interleaved");
        let (whole, halves) = walk_both_ways(photo, &scan, false);
        let (whole, (halves, met)) = (whole.unwrap(), halves.unwrap());
        assert!(met, "the halves met");
        assert_eq!(halves.windows[..], whole.windows[..]);
        assert_eq!(halves.escaped, whole.escaped);
        // One DC term per block, each ending it: as many windows as blocks, most nonzero.
        let total = scan.mcus * 6;
        let zero = whole.windows[..total].iter().filter(|&&w| w == 0).count();
        assert!(zero * 4 < total, "{zero} of {total} windows are 0");
    }

    #[test]
    fn a_walk_in_two_halves_fails_where_one_from_start_to_end_does() {
        let photo = PHOTOS[0];
        let scan = scan(photo);
        let data_len = photo.len() - scan.pos;
        let mut corrupt = 0;
        // Damage early, at the middle (where the second half starts) and late; and cuts.
        for n in 0..40 {
            let mut data = photo.to_vec();
            let at = scan.pos + data_len * n / 40 + n % 7;
            data[at] ^= 0x5A;
            let (whole, halves) = walk_both_ways(&data, &scan, true);
            corrupt += usize::from(whole.is_none());
            match (whole, halves) {
                (None, None) => {}
                (Some(whole), Some((halves, _))) => {
                    assert_eq!(halves.windows[..], whole.windows[..], "byte {at} damaged");
                    assert_eq!(halves.escaped, whole.escaped, "byte {at} damaged");
                }
                (whole, halves) => panic!(
                    "byte {at} damaged: whole {}, halves {}",
                    whole.is_some(),
                    halves.is_some()
                ),
            }
        }
        assert!(corrupt > 5, "{corrupt} of 40 damaged scans found corrupt");
        for cut in [data_len / 3, data_len / 2, data_len - 100] {
            let mut data = photo[..scan.pos + cut].to_vec();
            data.extend_from_slice(&[0xFF, 0xD9]);
            let (whole, halves) = walk_both_ways(&data, &scan, true);
            assert!(whole.is_none() && halves.is_none(), "cut at {cut}");
        }
    }

    #[test]
    fn destuffing_drops_stuffed_zeros_and_stops_at_a_marker() {
        let data = [0x12, 0xFF, 0x00, 0x34, 0xFF, 0x00, 0xFF, 0xD0, 0x56];
        let mut out = Vec::new();
        assert_eq!(destuff(&data, 0, &mut out), 6);
        assert_eq!(out[..4], [0x12, 0xFF, 0x34, 0xFF]);
        assert_eq!(out.len(), 4 + PADDING);
        assert!(out[4..].iter().all(|&b| b == 0));
        assert_eq!(destuff(&data, 8, &mut out), 9);
        assert_eq!(out.len(), 1 + PADDING);
        // Past the end, and a lone 0xFF at the end.
        assert_eq!(destuff(&data, 20, &mut out), 9);
        assert_eq!(out.len(), PADDING);
        assert_eq!(destuff(&[0x01, 0xFF], 0, &mut out), 1);
    }

    #[test]
    fn a_walk_past_its_data_is_refused() {
        // A scan cut short: the blocks it promises need more bits than it has.
        let (dc, ac) = photo_tables();
        let members = [(&dc[0], Some(&ac[0]))];
        let mut terms = DcTerms::default();
        // One block of the standard luma tables: DC difference 0 (`00`), end-of-block
        // (`1010`), padding ones; then the end-of-image marker.
        let data = [0b0010_1011, 0xFF, 0xD9];
        assert_eq!(walk(&data, 0, &members, 1, 0, &mut terms), Some(1));
        // The window: the block's bits, then the zeros that follow the destuffed bytes.
        assert_eq!(terms.windows, [0b0010_1011 << 7]);
        assert!(terms.escaped.is_empty());
        assert_eq!(DcValues::new(&dc[0]).unwrap().get(0b0010_1011 << 7), 0);
        assert_eq!(walk(&data, 0, &members, 200, 0, &mut terms), None);
        // A restart marker expected but another one found.
        assert_eq!(walk(&data, 0, &members, 2, 1, &mut terms), None);
    }
}
