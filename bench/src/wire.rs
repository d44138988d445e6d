//! Framed strict-binary Thrift, by hand, for the three methods of `bench.thrift`.
//!
//! A frame is a 4-byte big-endian length followed by one message: the strict version word
//! `0x8001_00TT` (TT = message type), the method name as a length-prefixed string, the sequence
//! id, and the argument or result struct. Offsets here follow Apache's
//! `doc/specs/thrift-binary-protocol.md`.

use std::fmt;

/// The largest frame either side accepts: 1 MiB echo plus headroom, far below anything that
/// could exhaust memory.
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

const VERSION_1: u32 = 0x8001_0000;
const VERSION_MASK: u32 = 0xffff_0000;

/// Message types of the binary protocol.
pub const CALL: u8 = 1;
/// A normal reply.
pub const REPLY: u8 = 2;
/// A `TApplicationException` reply.
pub const EXCEPTION: u8 = 3;

const T_STOP: u8 = 0;
const T_I64: u8 = 10;
const T_STRING: u8 = 11;
const T_I32: u8 = 8;

/// `TApplicationException` type for a method the server does not know.
pub const UNKNOWN_METHOD: i32 = 1;

/// What went wrong reading a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// The frame header announces more than [`MAX_FRAME`] bytes, or a negative length.
    FrameTooLarge(i64),
    /// The message ends before the field it was reading.
    Truncated(&'static str),
    /// The first word is not a strict binary version word.
    NotStrictBinary(u32),
    /// A field or message type other than the one expected.
    Unexpected(String),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::FrameTooLarge(n) => write!(f, "frame length {n} outside 0..={MAX_FRAME}"),
            WireError::Truncated(what) => write!(f, "message truncated in {what}"),
            WireError::NotStrictBinary(w) => write!(f, "not strict binary: first word {w:#010x}"),
            WireError::Unexpected(what) => write!(f, "unexpected {what}"),
        }
    }
}

impl std::error::Error for WireError {}

/// Returns the length of the first complete frame's body in `buf`, `Ok(None)` if more bytes are
/// needed, and an error if the header announces an impossible length.
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, WireError> {
    let Some(header) = buf.get(..4) else {
        return Ok(None);
    };
    let len = i32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let len = usize::try_from(len)
        .ok()
        .filter(|&n| n <= MAX_FRAME)
        .ok_or(WireError::FrameTooLarge(len.into()))?;
    Ok((buf.len() - 4 >= len).then_some(len))
}

/// The header of one message, borrowed from its frame body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageHeader<'a> {
    /// The method name.
    pub name: &'a [u8],
    /// [`CALL`], [`REPLY`], [`EXCEPTION`] or oneway (4).
    pub kind: u8,
    /// The sequence id the reply must echo.
    pub seqid: i32,
    /// The struct after the header.
    pub body: &'a [u8],
}

/// A cursor over a message body that never reads past its end.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], WireError> {
        if self.buf.len() < n {
            return Err(WireError::Truncated(what));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, WireError> {
        Ok(self.take(1, what)?[0])
    }

    fn i16(&mut self, what: &'static str) -> Result<i16, WireError> {
        let b = self.take(2, what)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self, what: &'static str) -> Result<i32, WireError> {
        let b = self.take(4, what)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self, what: &'static str) -> Result<i64, WireError> {
        let b = self.take(8, what)?;
        let mut a = [0; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }

    fn binary(&mut self, what: &'static str) -> Result<&'a [u8], WireError> {
        let len = self.i32(what)?;
        let len = usize::try_from(len)
            .map_err(|_| WireError::Unexpected(format!("negative length {len} in {what}")))?;
        self.take(len, what)
    }
}

/// Parses the message header of a frame body (the bytes after the 4-byte length).
pub fn parse_header(frame: &[u8]) -> Result<MessageHeader<'_>, WireError> {
    let mut r = Reader { buf: frame };
    let word = r.i32("version")? as u32;
    if word & VERSION_MASK != VERSION_1 {
        return Err(WireError::NotStrictBinary(word));
    }
    let name = r.binary("method name")?;
    let seqid = r.i32("sequence id")?;
    Ok(MessageHeader {
        name,
        kind: (word & 0xff) as u8,
        seqid,
        body: r.buf,
    })
}

/// Appends a frame header, with its length left at zero, and the message header; returns the
/// offset of the frame start so [`finish_frame`] can fill the length in.
pub fn begin_message(out: &mut Vec<u8>, name: &[u8], kind: u8, seqid: i32) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(VERSION_1 | u32::from(kind)).to_be_bytes());
    out.extend_from_slice(&(name.len() as i32).to_be_bytes());
    out.extend_from_slice(name);
    out.extend_from_slice(&seqid.to_be_bytes());
    start
}

/// Writes the frame length of the frame that begins at `start` and ends at `out.len()`.
pub fn finish_frame(out: &mut [u8], start: usize) {
    let len = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// Appends the header of a `binary` field; its `len` bytes must follow.
pub fn binary_field_header(out: &mut Vec<u8>, id: i16, len: usize) {
    out.push(T_STRING);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&(len as i32).to_be_bytes());
}

/// Appends an `i64` field.
pub fn i64_field(out: &mut Vec<u8>, id: i16, value: i64) {
    out.push(T_I64);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&value.to_be_bytes());
}

/// Appends the end of a struct.
pub fn stop(out: &mut Vec<u8>) {
    out.push(T_STOP);
}

/// Appends a framed `TApplicationException` reply: message (field 1) and type (field 2).
pub fn application_exception(out: &mut Vec<u8>, name: &[u8], seqid: i32, kind: i32, msg: &str) {
    let start = begin_message(out, name, EXCEPTION, seqid);
    binary_field_header(out, 1, msg.len());
    out.extend_from_slice(msg.as_bytes());
    out.push(T_I32);
    out.extend_from_slice(&2i16.to_be_bytes());
    out.extend_from_slice(&kind.to_be_bytes());
    stop(out);
    finish_frame(out, start);
}

/// Skips fields until one with `id` and type `ty`; returns a reader positioned at its value.
fn find_field<'a>(body: &'a [u8], want_id: i16, want_ty: u8) -> Result<Reader<'a>, WireError> {
    let mut r = Reader { buf: body };
    // Each turn consumes at least one byte, so the loop ends within `body.len()` turns.
    loop {
        let ty = r.u8("field type")?;
        if ty == T_STOP {
            return Err(WireError::Unexpected(format!(
                "struct without field {want_id}"
            )));
        }
        let id = r.i16("field id")?;
        if id == want_id && ty == want_ty {
            return Ok(r);
        }
        match ty {
            T_I64 => drop(r.i64("skipped i64")?),
            T_I32 => drop(r.i32("skipped i32")?),
            T_STRING => drop(r.binary("skipped binary")?),
            other => {
                return Err(WireError::Unexpected(format!(
                    "field {id} of type {other} (this parser knows bench.thrift only)"
                )))
            }
        }
    }
}

/// The arguments of one call of `bench.thrift`, as a server reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Args<'a> {
    /// `ping()`.
    Ping,
    /// `echo(1: binary data)`.
    Echo(&'a [u8]),
    /// `add(1: i64 a, 2: i64 b)`.
    Add(i64, i64),
    /// Any other method name.
    Unknown,
}

/// Reads the arguments of a call to one of the three methods.
pub fn parse_args<'a>(name: &[u8], body: &'a [u8]) -> Result<Args<'a>, WireError> {
    Ok(match name {
        b"ping" => Args::Ping,
        b"echo" => Args::Echo(find_field(body, 1, T_STRING)?.binary("echo data")?),
        b"add" => {
            let a = find_field(body, 1, T_I64)?.i64("add a")?;
            let b = find_field(body, 2, T_I64)?.i64("add b")?;
            Args::Add(a, b)
        }
        _ => Args::Unknown,
    })
}

/// A call the load generator sends over and over: encoded once, only its sequence id patched.
#[derive(Debug, Clone)]
pub struct CallTemplate {
    bytes: Vec<u8>,
    seqid_at: usize,
    expect: Expect,
}

/// What a reply to a [`CallTemplate`] must contain.
#[derive(Debug, Clone)]
enum Expect {
    Void,
    Binary(std::sync::Arc<[u8]>),
    I64(i64),
}

impl CallTemplate {
    /// `ping()`.
    pub fn ping() -> Self {
        Self::build(b"ping", Expect::Void, stop)
    }

    /// `echo(data)`: the reply must carry the same bytes.
    pub fn echo(data: &[u8]) -> Self {
        Self::build(b"echo", Expect::Binary(data.into()), |out| {
            binary_field_header(out, 1, data.len());
            out.extend_from_slice(data);
            stop(out);
        })
    }

    /// `add(a, b)`: the reply must carry `a + b` (wrapping, as Rust's servers compute it).
    pub fn add(a: i64, b: i64) -> Self {
        Self::build(b"add", Expect::I64(a.wrapping_add(b)), |out| {
            i64_field(out, 1, a);
            i64_field(out, 2, b);
            stop(out);
        })
    }

    fn build(name: &[u8], expect: Expect, args: impl FnOnce(&mut Vec<u8>)) -> Self {
        let mut bytes = Vec::new();
        let start = begin_message(&mut bytes, name, CALL, 0);
        let seqid_at = bytes.len() - 4;
        args(&mut bytes);
        finish_frame(&mut bytes, start);
        CallTemplate {
            bytes,
            seqid_at,
            expect,
        }
    }

    /// The whole frame, with the sequence id last set by [`set_seqid`](Self::set_seqid).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Patches the sequence id in place.
    pub fn set_seqid(&mut self, seqid: i32) {
        self.bytes[self.seqid_at..self.seqid_at + 4].copy_from_slice(&seqid.to_be_bytes());
    }

    /// Appends this call with `seqid` to `out`.
    pub fn append(&self, out: &mut Vec<u8>, seqid: i32) {
        let at = out.len() + self.seqid_at;
        out.extend_from_slice(&self.bytes);
        out[at..at + 4].copy_from_slice(&seqid.to_be_bytes());
    }

    /// Checks a reply frame body: a `REPLY` to this method whose result is what the call asked
    /// for. Returns its sequence id. With `full` false, echoed payloads over 64 KiB are compared
    /// at their length, both ends and 64 evenly spaced 64-byte windows, so that checking 1 MiB
    /// replies does not cost the load generator more than the servers it measures.
    pub fn check_reply(&self, frame: &[u8], full: bool) -> Result<i32, WireError> {
        let h = parse_header(frame)?;
        if h.kind != REPLY {
            return Err(WireError::Unexpected(format!(
                "message type {} (want REPLY) for seqid {}",
                h.kind, h.seqid
            )));
        }
        let name = &self.bytes[12..self.seqid_at];
        if h.name != name {
            return Err(WireError::Unexpected(format!(
                "reply for method {:?}",
                String::from_utf8_lossy(h.name)
            )));
        }
        match &self.expect {
            Expect::Void => {
                if h.body.first() != Some(&T_STOP) {
                    return Err(WireError::Unexpected("non-empty result for void".into()));
                }
            }
            Expect::I64(want) => {
                let got = find_field(h.body, 0, T_I64)?.i64("add result")?;
                if got != *want {
                    return Err(WireError::Unexpected(format!("sum {got}, want {want}")));
                }
            }
            Expect::Binary(want) => {
                let got = find_field(h.body, 0, T_STRING)?.binary("echo result")?;
                if !same_payload(got, want, full) {
                    return Err(WireError::Unexpected(format!(
                        "echo of {} bytes differs from the {} sent",
                        got.len(),
                        want.len()
                    )));
                }
            }
        }
        Ok(h.seqid)
    }
}

fn same_payload(got: &[u8], want: &[u8], full: bool) -> bool {
    const WINDOW: usize = 64;
    if got.len() != want.len() {
        return false;
    }
    if full || got.len() <= 64 * 1024 {
        return got == want;
    }
    let step = (got.len() - WINDOW) / 64;
    (0..=64).all(|i| {
        let at = i * step;
        got[at..at + WINDOW] == want[at..at + WINDOW]
    }) && got[got.len() - WINDOW..] == want[want.len() - WINDOW..]
}

/// A payload of `len` bytes whose content depends on position, so a reply that is shifted,
/// truncated or from another call does not compare equal.
pub fn payload(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251) as u8 ^ (i >> 12) as u8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds the reply a correct server would send, with the library's own encoders.
    fn reply(name: &[u8], seqid: i32, result: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut out = Vec::new();
        let start = begin_message(&mut out, name, REPLY, seqid);
        result(&mut out);
        stop(&mut out);
        finish_frame(&mut out, start);
        out
    }

    #[test]
    fn ping_call_matches_apache_bytes() {
        let mut t = CallTemplate::ping();
        t.set_seqid(7);
        // Apache's TBinaryOutputProtocol (strict) + TFramedTransport for ping(), seqid 7.
        let want = [
            0, 0, 0, 17, 0x80, 1, 0, 1, 0, 0, 0, 4, b'p', b'i', b'n', b'g', 0, 0, 0, 7, 0,
        ];
        assert_eq!(
            t.bytes(),
            want,
            "ping frame must be byte-identical to Apache's"
        );
    }

    #[test]
    fn echo_round_trips_through_server_side_parsing() {
        let data = payload(3000);
        let t = CallTemplate::echo(&data);
        let mut framed = Vec::new();
        t.append(&mut framed, 42);
        let len = frame_len(&framed).unwrap().expect("a whole frame");
        let h = parse_header(&framed[4..4 + len]).unwrap();
        assert_eq!(h.seqid, 42, "append must patch the sequence id");
        assert_eq!(parse_args(h.name, h.body).unwrap(), Args::Echo(&data));

        let r = reply(b"echo", 42, |out| {
            binary_field_header(out, 0, data.len());
            out.extend_from_slice(&data);
        });
        assert_eq!(
            t.check_reply(&r[4..], true),
            Ok(42),
            "a correct echo passes"
        );
        let mut bad = r.clone();
        bad[100] ^= 1;
        assert!(
            t.check_reply(&bad[4..], true).is_err(),
            "a changed byte fails"
        );
    }

    #[test]
    fn sampled_check_still_catches_wrong_length_and_shift() {
        let data = payload(1 << 20);
        let t = CallTemplate::echo(&data);
        let short = reply(b"echo", 1, |out| {
            binary_field_header(out, 0, data.len() - 1);
            out.extend_from_slice(&data[1..]);
        });
        assert!(
            t.check_reply(&short[4..], false).is_err(),
            "short echo fails"
        );
        let mut shifted = data.clone();
        shifted.rotate_left(1);
        let r = reply(b"echo", 1, |out| {
            binary_field_header(out, 0, shifted.len());
            out.extend_from_slice(&shifted);
        });
        assert!(t.check_reply(&r[4..], false).is_err(), "shifted echo fails");
    }

    #[test]
    fn add_and_exceptions_are_checked() {
        let t = CallTemplate::add(2, 40);
        let ok = reply(b"add", 3, |out| i64_field(out, 0, 42));
        assert_eq!(t.check_reply(&ok[4..], true), Ok(3));
        let wrong = reply(b"add", 3, |out| i64_field(out, 0, 41));
        assert!(
            t.check_reply(&wrong[4..], true).is_err(),
            "a wrong sum fails"
        );
        let mut exc = Vec::new();
        application_exception(&mut exc, b"add", 3, UNKNOWN_METHOD, "no");
        assert!(
            t.check_reply(&exc[4..], true).is_err(),
            "an exception is not a reply"
        );
    }

    #[test]
    fn frame_len_rejects_huge_and_negative_lengths() {
        assert!(
            frame_len(&[0x7f, 0, 0, 0]).is_err(),
            "2 GiB frame is refused"
        );
        assert!(
            frame_len(&[0xff, 0xff, 0xff, 0xff]).is_err(),
            "negative length is refused"
        );
        assert_eq!(frame_len(&[0, 0, 0, 2, 1]), Ok(None), "partial frame waits");
        assert_eq!(frame_len(&[0, 0, 0, 1, 1]), Ok(Some(1)));
    }
}
