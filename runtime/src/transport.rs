//! Transports: where one message ends and the next begins.
//!
//! Thrift has two framings on TCP: *framed* (each message preceded by its length as a 4-byte
//! big-endian integer) and *unframed*, also called buffered (messages back to back). Unframed
//! messages carry no length, so their end is found by walking their structure; see
//! [`MessageBuffer::next_message`].
//!
//! A server does not know in advance what a peer speaks: [`detect`] decides from the first bytes
//! of a connection, so one port serves every client.

use std::io::IoSlice;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::error::{ProtocolError, ProtocolErrorKind};
use crate::protocol::{BinaryReader, CompactReader, DecodeLimits, Protocol, ProtocolRead, TType};

/// How messages are delimited on a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Framing {
    /// A 4-byte big-endian length before each message (`TFramedTransport`).
    Framed,
    /// Messages back to back (`TBufferedTransport`, or a plain socket).
    Unframed,
}

/// What a peer speaks: its protocol and framing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Encoding {
    pub protocol: Protocol,
    pub framing: Framing,
}

const STRICT_BINARY: [u8; 2] = [0x80, 0x01];

/// After a message larger than this, an empty read buffer is released instead of kept.
const KEEP_IDLE_CAPACITY: usize = 64 * 1024;

/// Frames up to this size get their whole length reserved as soon as it is known.
pub const WHOLE_FRAME_RESERVE: usize = 16 * 1024 * 1024;
const COMPACT_ID: u8 = 0x82;

/// Decides the protocol and framing from the first bytes a peer sent.
///
/// Returns `Ok(None)` while more bytes are needed (at most 6). The cases:
/// - `80 01`: strict binary, unframed;
/// - `82` followed by a version-1 byte: compact, unframed;
/// - otherwise the first four bytes are a length: a frame length when the message inside
///   starts like a message (`80 01`, `82`, or a non-strict binary name length `00 ..`),
///   else a non-strict binary message's name length (unframed).
pub fn detect(first: &[u8]) -> Result<Option<Encoding>, ProtocolError> {
    let unframed = |protocol| {
        Ok(Some(Encoding {
            protocol,
            framing: Framing::Unframed,
        }))
    };
    let Some(&b0) = first.first() else {
        return Ok(None);
    };
    if b0 == STRICT_BINARY[0] {
        return match first.get(1) {
            None => Ok(None),
            Some(0x01) => unframed(Protocol::Binary),
            Some(v) => Err(bad_start(format!(
                "bytes 80 {v:02x} are not a binary protocol version 1 header"
            ))),
        };
    }
    if b0 == COMPACT_ID {
        return match first.get(1) {
            None => Ok(None),
            Some(v) if v & 0x1f == 1 => unframed(Protocol::Compact),
            Some(v) => Err(bad_start(format!(
                "bytes 82 {v:02x} are not a compact protocol version 1 header"
            ))),
        };
    }
    if first.len() < 6 {
        return Ok(None);
    }
    let len = i32::from_be_bytes([first[0], first[1], first[2], first[3]]);
    if len <= 0 {
        return Err(bad_start(format!(
            "the first four bytes {:02x?} are neither a Thrift message header nor a positive frame length",
            &first[..4]
        )));
    }
    let framed = |protocol| {
        Ok(Some(Encoding {
            protocol,
            framing: Framing::Framed,
        }))
    };
    match (first[4], first[5]) {
        (0x80, 0x01) => framed(Protocol::Binary),
        (COMPACT_ID, v) if v & 0x1f == 1 => framed(Protocol::Compact),
        // A non-strict binary message inside a frame starts with its name length, whose high
        // byte is zero for any sane name; a name itself (unframed non-strict) is printable.
        (0x00, _) => framed(Protocol::Binary),
        (b, _) if b.is_ascii_graphic() => unframed(Protocol::Binary),
        _ => Err(bad_start(format!(
            "the first bytes {:02x?} are not a Thrift message in any supported protocol",
            &first[..6]
        ))),
    }
}

fn bad_start(message: String) -> ProtocolError {
    ProtocolError::new(ProtocolErrorKind::InvalidData, message)
}

/// Accumulates bytes read from a connection and cuts them into whole messages.
#[derive(Debug)]
pub struct MessageBuffer {
    buf: BytesMut,
    encoding: Option<Encoding>,
    max_message: usize,
    limits: DecodeLimits,
    budget: Option<Arc<MemoryBudget>>,
    /// Bytes of `budget` this buffer holds for its capacity.
    charged: usize,
    /// The charge of the last message returned, when the buffer handed its memory to it.
    handed_over: Option<Charge>,
    /// Unframed: the buffered length the current message needs at least, from the last walk.
    /// No walk happens before the buffer holds that much, so a large message trickling in is
    /// walked a few times, not once per read.
    wait_until: usize,
    /// How many walks found no whole message (tests check that trickling is not quadratic).
    #[cfg(test)]
    failed_walks: usize,
    /// A large frame being read straight into a pooled buffer of its size (its payload only;
    /// `buf` is empty meanwhile), and that size.
    large: Option<(Vec<u8>, usize)>,
}

/// Frames with a payload of at least this many bytes are read into pooled buffers of their
/// own (see [`crate::buffers`]) instead of the connection's buffer.
const POOLED_FRAME: usize = KEEP_IDLE_CAPACITY;

/// A cap on the bytes that all connections of a server may hold in read buffers, so that many
/// peers sending (or pretending to send) large messages at once cannot exhaust memory. Each
/// connection reads up to [`FREE_PER_CONNECTION`] bytes without charge; past that it must take
/// from the budget, and a connection that cannot is closed.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: usize,
    used: AtomicUsize,
}

/// What a connection may buffer without taking from the [`MemoryBudget`].
pub const FREE_PER_CONNECTION: usize = 64 * 1024;

impl MemoryBudget {
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(MemoryBudget {
            limit,
            used: AtomicUsize::new(0),
        })
    }

    /// Bytes currently taken.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    fn try_take(&self, n: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    fn give(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }
}

/// Bytes taken from a [`MemoryBudget`] for a message being handled; given back when dropped.
#[derive(Debug)]
pub struct Charge {
    budget: Arc<MemoryBudget>,
    bytes: usize,
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.budget.give(self.bytes);
    }
}

impl Drop for MessageBuffer {
    fn drop(&mut self) {
        if let Some(b) = &self.budget {
            b.give(self.charged);
        }
    }
}

impl MessageBuffer {
    /// A buffer for a peer whose encoding is known (a client), or `None` to detect it (a server).
    pub fn new(encoding: Option<Encoding>, max_message: usize, limits: DecodeLimits) -> Self {
        MessageBuffer {
            buf: BytesMut::with_capacity(8 * 1024),
            encoding,
            max_message,
            limits,
            budget: None,
            charged: 0,
            handed_over: None,
            wait_until: 0,
            #[cfg(test)]
            failed_walks: 0,
            large: None,
        }
    }

    /// Charges buffer growth past [`FREE_PER_CONNECTION`] to `budget`.
    pub fn with_budget(mut self, budget: Arc<MemoryBudget>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// The budget charge that went with the last message returned, if its memory was large:
    /// keep it alive while the message is in use.
    pub fn take_charge(&mut self) -> Option<Charge> {
        self.handed_over.take()
    }

    /// Makes sure the budget covers a buffer of `capacity` bytes.
    fn charge_for(&mut self, capacity: usize) -> Result<(), ProtocolError> {
        let Some(budget) = &self.budget else {
            return Ok(());
        };
        let need = capacity.saturating_sub(FREE_PER_CONNECTION);
        if need > self.charged {
            if !budget.try_take(need - self.charged) {
                return Err(ProtocolError::new(
                    ProtocolErrorKind::SizeLimit,
                    format!(
                        "the server's memory budget for incoming messages ({} bytes) is \
                         exhausted; a message of at least {capacity} bytes cannot be received now",
                        budget.limit
                    ),
                ));
            }
            self.charged = need;
        }
        Ok(())
    }

    /// The buffer gave its memory to the message just cut from it: so does its charge.
    fn hand_over(&mut self) {
        if let (Some(budget), true) = (&self.budget, self.charged > 0) {
            self.handed_over = Some(Charge {
                budget: budget.clone(),
                bytes: self.charged,
            });
            self.charged = 0;
        }
    }

    /// The detected (or configured) encoding.
    pub fn encoding(&self) -> Option<Encoding> {
        self.encoding
    }

    /// What to read into (`reader.read_buf(input.buffer_mut())`): the connection's buffer,
    /// or the pooled buffer of a large frame. Reserve before reading; see
    /// [`MessageBuffer::reserve_for_read`].
    pub fn buffer_mut(&mut self) -> &mut Self {
        self
    }

    /// Bytes received but not yet part of a returned message.
    pub fn pending(&self) -> usize {
        // A large frame's 4-byte length counts too: it was received.
        self.buf.len() + self.large.as_ref().map_or(0, |(v, _)| 4 + v.len())
    }

    /// Makes room for the next read. A frame whose length is known gets room for all of it at
    /// once (up to [`WHOLE_FRAME_RESERVE`]), so it is read in place without being copied as it
    /// grows; otherwise the buffer grows with what is arriving, so a peer's claimed length
    /// allocates only as its bytes arrive.
    pub fn reserve_for_read(&mut self) -> Result<(), ProtocolError> {
        if self.large.is_some() {
            return Ok(());
        }
        let framed = matches!(self.encoding, Some(e) if e.framing == Framing::Framed);
        if framed && self.buf.len() >= 4 {
            let len = u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
            let frame = 4 + len as usize;
            // A large frame not yet all here: its payload goes into a pooled buffer of its
            // size, so it is read in place and its memory is recycled after its call.
            if (len as usize) >= POOLED_FRAME
                && frame <= WHOLE_FRAME_RESERVE
                && (len as usize) <= self.max_message
                && frame > self.buf.len()
            {
                self.charge_for(len as usize)?;
                let mut payload = crate::buffers::take(len as usize);
                payload.extend_from_slice(&self.buf[4..]);
                self.buf.clear();
                if self.buf.capacity() > KEEP_IDLE_CAPACITY {
                    self.buf = BytesMut::new();
                }
                self.large = Some((payload, len as usize));
                return Ok(());
            }
            if frame <= WHOLE_FRAME_RESERVE && frame > self.buf.len() {
                let additional = (frame - self.buf.len()).max(8 * 1024);
                self.charge_for(self.buf.len() + additional)?;
                self.buf.reserve(additional);
                return Ok(());
            }
        }
        let want = (self.buf.len() / 2).clamp(8 * 1024, 4 * 1024 * 1024);
        if self.buf.capacity() - self.buf.len() < want / 2 {
            self.charge_for(self.buf.len() + want)?;
            self.buf.reserve(want);
        }
        Ok(())
    }

    /// The next complete message, if the buffer holds one.
    pub fn next_message(&mut self) -> Result<Option<Bytes>, ProtocolError> {
        if let Some((payload, len)) = &self.large {
            if payload.len() < *len {
                return Ok(None);
            }
            let (payload, _) = self.large.take().unwrap_or_default();
            self.hand_over();
            return Ok(Some(crate::buffers::freeze(payload)));
        }
        let encoding = match self.encoding {
            Some(e) => e,
            None => match detect(&self.buf)? {
                Some(e) => {
                    self.encoding = Some(e);
                    e
                }
                None => return Ok(None),
            },
        };
        match encoding.framing {
            Framing::Framed => self.next_frame(),
            Framing::Unframed => self.next_unframed(encoding.protocol),
        }
    }

    fn next_frame(&mut self) -> Result<Option<Bytes>, ProtocolError> {
        if self.buf.len() < 4 {
            return Ok(None);
        }
        let len = i32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
        if len <= 0 {
            return Err(bad_start(format!("frame length {len} is not positive")));
        }
        let len = len as usize;
        if len > self.max_message {
            return Err(ProtocolError::new(
                ProtocolErrorKind::SizeLimit,
                format!(
                    "frame of {len} bytes exceeds the limit of {} bytes",
                    self.max_message
                ),
            ));
        }
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        self.buf.advance(4);
        let message = self.buf.split_to(len).freeze();
        if self.buf.is_empty() && len > KEEP_IDLE_CAPACITY {
            // Let the large buffer go with the message (freed once its reply is written) rather
            // than hold it while the connection idles: memory follows the calls in flight, not
            // the largest call each connection ever made.
            self.buf = BytesMut::new();
            self.hand_over();
        }
        Ok(Some(message))
    }

    /// Walks the message's structure to find its end. The walk uses the protocol readers over
    /// the buffered bytes, so the same limits apply; running out of bytes means "wait".
    fn next_unframed(&mut self, protocol: Protocol) -> Result<Option<Bytes>, ProtocolError> {
        if self.buf.is_empty() || self.buf.len() < self.wait_until {
            return Ok(None);
        }
        let all = std::mem::take(&mut self.buf).freeze();
        let (scanned, wanted) = match protocol {
            Protocol::Binary => {
                let mut r = BinaryReader::new(all.clone(), self.limits);
                (scan(&mut r, |r| r.position()), r.wanted())
            }
            Protocol::Compact => {
                let mut r = CompactReader::new(all.clone(), self.limits);
                (scan(&mut r, |r| r.position()), r.wanted())
            }
        };
        match scanned {
            Ok(end) => {
                let message = all.slice(..end);
                self.buf = BytesMut::from(&all[end..]);
                self.wait_until = 0;
                self.hand_over();
                Ok(Some(message))
            }
            Err(e) if e.kind() == ProtocolErrorKind::Truncated => {
                if all.len() >= self.max_message || wanted > self.max_message {
                    return Err(ProtocolError::new(
                        ProtocolErrorKind::SizeLimit,
                        format!("message exceeds the limit of {} bytes", self.max_message),
                    ));
                }
                self.wait_until = wanted.max(all.len() + 1);
                #[cfg(test)]
                {
                    self.failed_walks += 1;
                }
                // Only the reader's clone shared the bytes, and it is gone: no copy here.
                self.buf = all
                    .try_into_mut()
                    .unwrap_or_else(|shared| BytesMut::from(&shared[..]));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

// Reading into a `MessageBuffer` appends to the large frame in progress (never past its end,
// so the next message's bytes stay in `buf`), or else to the connection's buffer.
unsafe impl BufMut for MessageBuffer {
    fn remaining_mut(&self) -> usize {
        match &self.large {
            Some((payload, len)) => len - payload.len(),
            None => self.buf.remaining_mut(),
        }
    }

    unsafe fn advance_mut(&mut self, cnt: usize) {
        match &mut self.large {
            Some((payload, len)) => {
                assert!(cnt <= *len - payload.len(), "advance past the frame");
                // SAFETY: the caller initialised `cnt` bytes of the chunk `chunk_mut` gave,
                // which lies in the payload's spare capacity.
                unsafe { payload.set_len(payload.len() + cnt) }
            }
            // SAFETY: forwarded from the caller's promise.
            None => unsafe { self.buf.advance_mut(cnt) },
        }
    }

    fn chunk_mut(&mut self) -> &mut bytes::buf::UninitSlice {
        match &mut self.large {
            Some((payload, len)) => {
                let room = *len - payload.len();
                bytes::buf::UninitSlice::uninit(&mut payload.spare_capacity_mut()[..room])
            }
            None => self.buf.chunk_mut(),
        }
    }
}

/// An encoded message waiting to be written: `chunks` (large values kept by reference), then
/// `tail`. See [`crate::protocol::ProtocolWrite::write_bytes`].
pub(crate) type Encoded = (Vec<Bytes>, BytesMut);

/// Messages smaller than this are copied into one buffer and written together; larger ones are
/// written from their own chunks, without a copy.
const COALESCE_LIMIT: usize = 64 * 1024;

/// Writes messages with their frame headers (when framed). Small ones are gathered into `out`
/// and go out in one write; a large one goes out in one vectored write of `out` and its own
/// chunks, without copying.
pub(crate) async fn write_messages<W: AsyncWrite + Unpin>(
    wr: &mut W,
    messages: impl Iterator<Item = Encoded>,
    out: &mut BytesMut,
    framing: Framing,
) -> std::io::Result<()> {
    for (chunks, tail) in messages {
        let len = chunks.iter().map(Bytes::len).sum::<usize>() + tail.len();
        if framing == Framing::Framed {
            out.extend_from_slice(&(len as u32).to_be_bytes());
        }
        if len < COALESCE_LIMIT {
            for c in &chunks {
                out.extend_from_slice(c);
            }
            out.extend_from_slice(&tail);
        } else {
            let mut parts: Vec<&[u8]> = Vec::with_capacity(chunks.len() + 2);
            parts.push(out);
            parts.extend(chunks.iter().map(|c| &c[..]));
            parts.push(&tail);
            write_all_parts(wr, &parts).await?;
            out.clear();
        }
    }
    if !out.is_empty() {
        wr.write_all(out).await?;
        out.clear();
    }
    Ok(())
}

/// Writes every part, in order, with as few (vectored) writes as the socket allows.
async fn write_all_parts<W: AsyncWrite + Unpin>(
    wr: &mut W,
    parts: &[&[u8]],
) -> std::io::Result<()> {
    let (mut part, mut offset) = (0, 0);
    while part < parts.len() {
        let slices: Vec<IoSlice<'_>> = std::iter::once(&parts[part][offset..])
            .chain(parts[part + 1..].iter().copied())
            .map(IoSlice::new)
            .collect();
        let mut written = wr.write_vectored(&slices).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        while part < parts.len() && written >= parts[part].len() - offset {
            written -= parts[part].len() - offset;
            part += 1;
            offset = 0;
        }
        offset += written;
    }
    Ok(())
}

fn scan<R: ProtocolRead>(
    r: &mut R,
    position: impl Fn(&R) -> usize,
) -> Result<usize, ProtocolError> {
    r.read_message_begin()?;
    r.skip(TType::Struct)?;
    Ok(position(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_every_encoding() {
        let cases: [(&[u8], Protocol, Framing); 6] = [
            (&[0x80, 0x01, 0, 1], Protocol::Binary, Framing::Unframed),
            (&[0x82, 0x21], Protocol::Compact, Framing::Unframed),
            (
                &[0, 0, 0, 20, 0x80, 0x01],
                Protocol::Binary,
                Framing::Framed,
            ),
            (
                &[0, 0, 0, 20, 0x82, 0x21],
                Protocol::Compact,
                Framing::Framed,
            ),
            (&[0, 0, 0, 20, 0, 0], Protocol::Binary, Framing::Framed),
            (
                &[0, 0, 0, 8, b't', b'e'],
                Protocol::Binary,
                Framing::Unframed,
            ),
        ];
        for (bytes, protocol, framing) in cases {
            assert_eq!(
                detect(bytes).unwrap(),
                Some(Encoding { protocol, framing }),
                "bytes {bytes:02x?}"
            );
        }
    }

    #[test]
    fn a_large_unframed_message_trickling_in_is_walked_a_few_times() {
        use crate::protocol::{BinaryWriter, MessageType, ProtocolWrite};
        let mut msg = BytesMut::new();
        let mut w = BinaryWriter::new(&mut msg);
        w.write_message_begin("sum", MessageType::Call, 1).unwrap();
        w.write_field_begin(TType::List, 1).unwrap();
        w.write_list_begin(TType::I32, 100_000).unwrap();
        for i in 0..100_000 {
            w.write_i32(i).unwrap();
        }
        w.write_field_stop().unwrap();
        let mut input = MessageBuffer::new(
            Some(Encoding {
                protocol: Protocol::Binary,
                framing: Framing::Unframed,
            }),
            1 << 20,
            DecodeLimits::default(),
        );
        let mut got = None;
        for piece in msg.chunks(1024) {
            assert!(
                got.is_none(),
                "a message came out before all its bytes arrived"
            );
            input.buffer_mut().put_slice(piece);
            got = input.next_message().unwrap();
        }
        assert_eq!(got.expect("the whole message").len(), msg.len());
        assert!(
            input.failed_walks <= 3,
            "{} walks for {} pieces",
            input.failed_walks,
            msg.len() / 1024
        );
    }

    /// Feeds `bytes` the way a socket read does (never more than `remaining_mut` at once) and
    /// collects the messages that come out.
    fn feed(input: &mut MessageBuffer, mut bytes: &[u8], piece: usize) -> Vec<Bytes> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            input.reserve_for_read().unwrap();
            let n = piece.min(bytes.len()).min(input.remaining_mut());
            input.buffer_mut().put_slice(&bytes[..n]);
            bytes = &bytes[n..];
            while let Some(m) = input.next_message().unwrap() {
                out.push(m);
            }
        }
        out
    }

    #[test]
    fn large_frames_read_in_place_keep_the_next_message_apart() {
        let frame = |len: usize, fill: u8| {
            let mut f = (len as u32).to_be_bytes().to_vec();
            f.extend_from_slice(&[0x80, 0x01, 0x00, 0x01]);
            f.resize(4 + len, fill);
            f
        };
        // Large, small, large of another size, each glued to the next in one stream.
        let mut stream = frame(300_000, 1);
        stream.extend(frame(100, 2));
        stream.extend(frame(1 << 20, 3));
        for piece in [1, 7, 4096, 65_536, 1 << 21] {
            if piece == 1 {
                // Byte by byte over 1.3 MB is slow in debug builds: the first 70 KB will do.
                let mut input = MessageBuffer::new(None, 2 << 20, DecodeLimits::default());
                assert!(feed(&mut input, &stream[..70_000], 1).is_empty());
                assert_eq!(input.pending(), 70_000);
                continue;
            }
            let mut input = MessageBuffer::new(None, 2 << 20, DecodeLimits::default());
            let got = feed(&mut input, &stream, piece);
            let lens: Vec<usize> = got.iter().map(Bytes::len).collect();
            assert_eq!(lens, [300_000, 100, 1 << 20], "pieces of {piece}");
            for (m, fill) in got.iter().zip([1u8, 2, 3]) {
                assert_eq!(&m[..4], &[0x80, 0x01, 0x00, 0x01]);
                assert!(m[4..].iter().all(|&b| b == fill), "pieces of {piece}");
            }
            assert_eq!(input.pending(), 0);
        }
    }

    #[test]
    fn waits_for_enough_bytes_and_rejects_garbage() {
        assert_eq!(detect(&[]).unwrap(), None);
        assert_eq!(detect(&[0x80]).unwrap(), None);
        assert_eq!(detect(&[0, 0, 0]).unwrap(), None);
        assert!(detect(b"GET / HTTP/1.1").is_ok_and(|e| e.is_some()));
        assert!(detect(&[0x80, 0x02]).is_err());
        assert!(detect(&[0xff, 0xff, 0xff, 0xff, 0, 0]).is_err());
        assert!(detect(&[0, 0, 0, 5, 0xff, 0xfe]).is_err());
    }
}
