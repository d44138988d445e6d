//! Thrift protocols: how values become bytes.
//!
//! Readers decode from a complete message held in one [`Bytes`] buffer (the transport has already
//! found where the message ends), so `binary` values are slices of that buffer, not copies, and
//! a truncated message is an error rather than a wait. Writers append to a [`BytesMut`].
//!
//! Generated code is generic over [`ProtocolRead`] and [`ProtocolWrite`], so each struct's
//! codec is monomorphised per protocol: no dynamic dispatch per value.

mod binary;
mod compact;

pub use binary::{BinaryReader, BinaryWriter};
pub use compact::{CompactReader, CompactWriter};

use bytes::{Bytes, BytesMut};

use crate::error::{ProtocolError, ProtocolErrorKind};
use crate::types::Uuid;

/// Thrift's value types, with the binary protocol's type ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TType {
    Stop = 0,
    Void = 1,
    Bool = 2,
    I8 = 3,
    Double = 4,
    I16 = 6,
    I32 = 8,
    I64 = 10,
    /// `string` and `binary`.
    String = 11,
    Struct = 12,
    Map = 13,
    Set = 14,
    List = 15,
    Uuid = 16,
}

impl TType {
    /// The type for a binary-protocol type id.
    pub fn from_binary_id(id: u8) -> Result<TType, ProtocolError> {
        Ok(match id {
            0 => TType::Stop,
            1 => TType::Void,
            2 => TType::Bool,
            3 => TType::I8,
            4 => TType::Double,
            6 => TType::I16,
            8 => TType::I32,
            10 => TType::I64,
            11 => TType::String,
            12 => TType::Struct,
            13 => TType::Map,
            14 => TType::Set,
            15 => TType::List,
            16 => TType::Uuid,
            other => return Err(ProtocolError::invalid(format!("unknown type id {other}"))),
        })
    }
}

/// The kind of an RPC message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageType {
    Call = 1,
    Reply = 2,
    Exception = 3,
    Oneway = 4,
}

impl MessageType {
    pub fn from_id(id: u8) -> Result<MessageType, ProtocolError> {
        Ok(match id {
            1 => MessageType::Call,
            2 => MessageType::Reply,
            3 => MessageType::Exception,
            4 => MessageType::Oneway,
            other => {
                return Err(ProtocolError::invalid(format!(
                    "unknown message type {other}"
                )))
            }
        })
    }
}

/// The header of an RPC message. The name is a slice of the message buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageHeader {
    name: Bytes,
    pub kind: MessageType,
    pub seqid: i32,
}

impl MessageHeader {
    /// `name` must be valid UTF-8; readers check it.
    pub(crate) fn new(name: Bytes, kind: MessageType, seqid: i32) -> Self {
        debug_assert!(std::str::from_utf8(&name).is_ok());
        MessageHeader { name, kind, seqid }
    }

    /// The method name, possibly with a `Service:` multiplexing prefix.
    pub fn name(&self) -> &str {
        // Checked in `new`'s callers; the fallback never triggers.
        std::str::from_utf8(&self.name).unwrap_or("")
    }

    pub(crate) fn name_bytes(&self) -> &Bytes {
        &self.name
    }
}

/// A field header: its type and id, or the end of the struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldHeader {
    pub ty: TType,
    pub id: i16,
}

/// A list or set header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListHeader {
    pub elem: TType,
    pub len: usize,
}

/// A map header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapHeader {
    pub key: TType,
    pub value: TType,
    pub len: usize,
}

/// Limits on what a peer's bytes can make a reader do. Lengths are also checked against the
/// bytes actually left in the message, so no claimed size allocates more than was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Longest `string` or `binary`, in bytes.
    pub max_string_len: usize,
    /// Most elements in one list, set or map.
    pub max_container_len: usize,
    /// Deepest nesting of structs and containers.
    pub max_depth: u16,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_string_len: 128 * 1024 * 1024,
            max_container_len: 16 * 1024 * 1024,
            max_depth: 64,
        }
    }
}

/// Which protocol a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// The binary protocol; strict (versioned) headers are written, both forms are read.
    Binary,
    Compact,
}

/// Decoding Thrift values. Every method checks bounds and limits; none panics on any input.
pub trait ProtocolRead {
    fn read_message_begin(&mut self) -> Result<MessageHeader, ProtocolError>;
    /// Enters a struct (counts towards the depth limit).
    fn read_struct_begin(&mut self) -> Result<(), ProtocolError>;
    fn read_struct_end(&mut self) -> Result<(), ProtocolError>;
    /// The next field's header, or `None` at the end of the struct.
    fn read_field_begin(&mut self) -> Result<Option<FieldHeader>, ProtocolError>;
    fn read_bool(&mut self) -> Result<bool, ProtocolError>;
    fn read_i8(&mut self) -> Result<i8, ProtocolError>;
    fn read_i16(&mut self) -> Result<i16, ProtocolError>;
    fn read_i32(&mut self) -> Result<i32, ProtocolError>;
    fn read_i64(&mut self) -> Result<i64, ProtocolError>;
    fn read_double(&mut self) -> Result<f64, ProtocolError>;
    fn read_uuid(&mut self) -> Result<Uuid, ProtocolError>;
    /// A `string`: UTF-8 is checked.
    fn read_string(&mut self) -> Result<String, ProtocolError>;
    /// A `binary`: a zero-copy slice of the message buffer.
    fn read_binary(&mut self) -> Result<Bytes, ProtocolError>;
    /// Enters a list (counts towards the depth limit).
    fn read_list_begin(&mut self) -> Result<ListHeader, ProtocolError>;
    fn read_list_end(&mut self) -> Result<(), ProtocolError>;
    fn read_set_begin(&mut self) -> Result<ListHeader, ProtocolError>;
    fn read_set_end(&mut self) -> Result<(), ProtocolError>;
    fn read_map_begin(&mut self) -> Result<MapHeader, ProtocolError>;
    fn read_map_end(&mut self) -> Result<(), ProtocolError>;

    /// Reads and discards a value of type `ty` (an unknown field from a newer peer).
    fn skip(&mut self, ty: TType) -> Result<(), ProtocolError> {
        match ty {
            TType::Bool => self.read_bool().map(drop),
            TType::I8 => self.read_i8().map(drop),
            TType::I16 => self.read_i16().map(drop),
            TType::I32 => self.read_i32().map(drop),
            TType::I64 => self.read_i64().map(drop),
            TType::Double => self.read_double().map(drop),
            TType::Uuid => self.read_uuid().map(drop),
            TType::String => self.read_binary().map(drop),
            TType::Struct => {
                self.read_struct_begin()?;
                while let Some(f) = self.read_field_begin()? {
                    self.skip(f.ty)?;
                }
                self.read_struct_end()
            }
            TType::List => {
                let h = self.read_list_begin()?;
                for _ in 0..h.len {
                    self.skip(h.elem)?;
                }
                self.read_list_end()
            }
            TType::Set => {
                let h = self.read_set_begin()?;
                for _ in 0..h.len {
                    self.skip(h.elem)?;
                }
                self.read_set_end()
            }
            TType::Map => {
                let h = self.read_map_begin()?;
                for _ in 0..h.len {
                    self.skip(h.key)?;
                    self.skip(h.value)?;
                }
                self.read_map_end()
            }
            TType::Stop | TType::Void => Err(ProtocolError::invalid(format!(
                "cannot skip a value of type {ty:?}"
            ))),
        }
    }
}

/// Encoding Thrift values into a buffer. Writes fail only for values the protocol cannot
/// represent (a string longer than `i32::MAX` bytes).
pub trait ProtocolWrite {
    fn write_message_begin(
        &mut self,
        name: &str,
        kind: MessageType,
        seqid: i32,
    ) -> Result<(), ProtocolError>;
    fn write_struct_begin(&mut self) -> Result<(), ProtocolError>;
    fn write_struct_end(&mut self) -> Result<(), ProtocolError>;
    fn write_field_begin(&mut self, ty: TType, id: i16) -> Result<(), ProtocolError>;
    fn write_field_stop(&mut self) -> Result<(), ProtocolError>;
    fn write_bool(&mut self, v: bool) -> Result<(), ProtocolError>;
    fn write_i8(&mut self, v: i8) -> Result<(), ProtocolError>;
    fn write_i16(&mut self, v: i16) -> Result<(), ProtocolError>;
    fn write_i32(&mut self, v: i32) -> Result<(), ProtocolError>;
    fn write_i64(&mut self, v: i64) -> Result<(), ProtocolError>;
    fn write_double(&mut self, v: f64) -> Result<(), ProtocolError>;
    fn write_uuid(&mut self, v: &Uuid) -> Result<(), ProtocolError>;
    fn write_string(&mut self, v: &str) -> Result<(), ProtocolError> {
        self.write_binary(v.as_bytes())
    }
    fn write_binary(&mut self, v: &[u8]) -> Result<(), ProtocolError>;
    /// A `binary` held in [`Bytes`]. Writers made `with_chunks` keep a large value by reference
    /// instead of copying it (a 1 MiB echo is sent from the request's own buffer).
    fn write_bytes(&mut self, v: &Bytes) -> Result<(), ProtocolError> {
        self.write_binary(v)
    }
    fn write_list_begin(&mut self, elem: TType, len: usize) -> Result<(), ProtocolError>;
    fn write_list_end(&mut self) -> Result<(), ProtocolError> {
        Ok(())
    }
    fn write_set_begin(&mut self, elem: TType, len: usize) -> Result<(), ProtocolError> {
        self.write_list_begin(elem, len)
    }
    fn write_set_end(&mut self) -> Result<(), ProtocolError> {
        Ok(())
    }
    fn write_map_begin(
        &mut self,
        key: TType,
        value: TType,
        len: usize,
    ) -> Result<(), ProtocolError>;
    fn write_map_end(&mut self) -> Result<(), ProtocolError> {
        Ok(())
    }
}

/// A value that encodes as a Thrift struct: generated structs, unions, exceptions, and the
/// argument and result structs of service methods.
pub trait Struct: Sized {
    fn encode<W: ProtocolWrite>(&self, w: &mut W) -> Result<(), ProtocolError>;
    fn decode<R: ProtocolRead>(r: &mut R) -> Result<Self, ProtocolError>;
}

/// Enters a list whose elements the IDL says are `elem`; for generated decoders.
///
/// When the list's elements have another type, they are read and discarded, `*matched` is set
/// to `false`, and the header returned has length 0: the caller's loop reads no elements, it
/// ends the list with `read_list_end` as usual, and then treats the field as absent (as it
/// treats a field of the wrong type). An empty list matches any element type: the compact
/// protocol writes no types for empty maps, and some peers write arbitrary ones.
pub fn read_list_of<R: ProtocolRead + ?Sized>(
    r: &mut R,
    elem: TType,
    matched: &mut bool,
) -> Result<ListHeader, ProtocolError> {
    let h = r.read_list_begin()?;
    skip_unless_elements(r, h, elem, matched)
}

/// [`read_list_of`] for a set (ended with `read_set_end`).
pub fn read_set_of<R: ProtocolRead + ?Sized>(
    r: &mut R,
    elem: TType,
    matched: &mut bool,
) -> Result<ListHeader, ProtocolError> {
    let h = r.read_set_begin()?;
    skip_unless_elements(r, h, elem, matched)
}

/// [`read_list_of`] for a map whose keys the IDL says are `key` and values `value` (ended
/// with `read_map_end`).
pub fn read_map_of<R: ProtocolRead + ?Sized>(
    r: &mut R,
    key: TType,
    value: TType,
    matched: &mut bool,
) -> Result<MapHeader, ProtocolError> {
    let h = r.read_map_begin()?;
    if h.len == 0 || (h.key == key && h.value == value) {
        return Ok(h);
    }
    for _ in 0..h.len {
        r.skip(h.key)?;
        r.skip(h.value)?;
    }
    *matched = false;
    Ok(MapHeader { len: 0, ..h })
}

fn skip_unless_elements<R: ProtocolRead + ?Sized>(
    r: &mut R,
    h: ListHeader,
    elem: TType,
    matched: &mut bool,
) -> Result<ListHeader, ProtocolError> {
    if h.len == 0 || h.elem == elem {
        return Ok(h);
    }
    for _ in 0..h.len {
        r.skip(h.elem)?;
    }
    *matched = false;
    Ok(ListHeader { len: 0, ..h })
}

/// Encodes a struct alone (not in a message) with the given protocol.
pub fn encode_struct<T: Struct>(
    value: &T,
    protocol: Protocol,
    out: &mut BytesMut,
) -> Result<(), ProtocolError> {
    match protocol {
        Protocol::Binary => value.encode(&mut BinaryWriter::new(out)),
        Protocol::Compact => value.encode(&mut CompactWriter::new(out)),
    }
}

/// Decodes a struct alone (not in a message) from `bytes`, which must hold exactly one struct.
pub fn decode_struct<T: Struct>(
    bytes: Bytes,
    protocol: Protocol,
    limits: DecodeLimits,
) -> Result<T, ProtocolError> {
    fn finish<T>(value: T, remaining: usize) -> Result<T, ProtocolError> {
        if remaining == 0 {
            Ok(value)
        } else {
            Err(ProtocolError::new(
                ProtocolErrorKind::InvalidData,
                format!("{remaining} bytes follow the end of the struct"),
            ))
        }
    }
    match protocol {
        Protocol::Binary => {
            let mut r = BinaryReader::new(bytes, limits);
            let v = T::decode(&mut r)?;
            finish(v, r.remaining())
        }
        Protocol::Compact => {
            let mut r = CompactReader::new(bytes, limits);
            let v = T::decode(&mut r)?;
            finish(v, r.remaining())
        }
    }
}

/// Shared bookkeeping for readers: the buffer, the position and the nesting depth.
#[derive(Debug)]
struct Cursor {
    buf: Bytes,
    pos: usize,
    depth: u16,
    limits: DecodeLimits,
    /// When input ran out: how long the input must be, at least, for reading to get further.
    wanted: usize,
}

impl Cursor {
    fn new(buf: Bytes, limits: DecodeLimits) -> Self {
        Cursor {
            buf,
            pos: 0,
            depth: 0,
            limits,
            wanted: 0,
        }
    }

    #[inline]
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Records that `n` bytes are needed at the current position, and makes the error.
    #[cold]
    fn short(&mut self, n: usize) -> ProtocolError {
        self.wanted = self.wanted.max(self.pos.saturating_add(n));
        ProtocolError::truncated()
    }

    #[inline]
    fn take<const N: usize>(&mut self) -> Result<[u8; N], ProtocolError> {
        let end = self.pos + N;
        match self.buf.get(self.pos..end) {
            Some(s) => {
                self.pos = end;
                // The slice has exactly N bytes.
                Ok(s.try_into().unwrap_or([0; N]))
            }
            None => Err(self.short(N)),
        }
    }

    #[inline]
    fn byte(&mut self) -> Result<u8, ProtocolError> {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.short(1)),
        }
    }

    /// `len` bytes as a zero-copy slice, after checking the string limit.
    #[inline]
    fn bytes(&mut self, len: usize) -> Result<Bytes, ProtocolError> {
        if len > self.limits.max_string_len {
            return Err(ProtocolError::new(
                ProtocolErrorKind::SizeLimit,
                format!(
                    "string or binary of {len} bytes exceeds the limit of {} bytes",
                    self.limits.max_string_len
                ),
            ));
        }
        if len > self.remaining() {
            self.short(len);
            return Err(ProtocolError::new(
                ProtocolErrorKind::Truncated,
                format!(
                    "string or binary claims {len} bytes but only {} remain in the message",
                    self.remaining()
                ),
            ));
        }
        let s = self.buf.slice(self.pos..self.pos + len);
        self.pos += len;
        Ok(s)
    }

    #[inline]
    fn string(&mut self, len: usize) -> Result<String, ProtocolError> {
        let b = self.bytes(len)?;
        match std::str::from_utf8(&b) {
            Ok(s) => Ok(s.to_owned()),
            Err(e) => Err(ProtocolError::invalid(format!(
                "string is not valid UTF-8 (at byte {})",
                e.valid_up_to()
            ))),
        }
    }

    #[inline]
    fn enter(&mut self) -> Result<(), ProtocolError> {
        if self.depth >= self.limits.max_depth {
            return Err(ProtocolError::new(
                ProtocolErrorKind::DepthLimit,
                format!(
                    "values nest deeper than the limit of {}",
                    self.limits.max_depth
                ),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    #[inline]
    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Checks a container size against the limit and against the bytes left: every element
    /// takes at least `min_elem_size` bytes, so a size the message cannot hold is a lie.
    #[inline]
    fn container_len(&mut self, len: i64, min_elem_size: usize) -> Result<usize, ProtocolError> {
        if len < 0 {
            return Err(ProtocolError::new(
                ProtocolErrorKind::NegativeSize,
                format!("negative container size {len}"),
            ));
        }
        let len = len as u64;
        if len > self.limits.max_container_len as u64 {
            return Err(ProtocolError::new(
                ProtocolErrorKind::SizeLimit,
                format!(
                    "container of {len} elements exceeds the limit of {}",
                    self.limits.max_container_len
                ),
            ));
        }
        let len = len as usize;
        if len.saturating_mul(min_elem_size) > self.remaining() {
            self.short(len.saturating_mul(min_elem_size));
            return Err(ProtocolError::new(
                ProtocolErrorKind::Truncated,
                format!(
                    "container claims {len} elements but only {} bytes remain in the message",
                    self.remaining()
                ),
            ));
        }
        Ok(len)
    }
}

/// The smallest encoding of one value of a type, in bytes, for the container size check.
fn min_size(ty: TType, compact: bool) -> usize {
    match ty {
        TType::Bool | TType::I8 | TType::Struct | TType::Void | TType::Stop => 1,
        TType::I16 | TType::I32 | TType::I64 if compact => 1,
        TType::String | TType::List | TType::Set | TType::Map if compact => 1,
        TType::I16 => 2,
        TType::I32 => 4,
        TType::I64 | TType::Double => 8,
        TType::String | TType::Set | TType::List | TType::Map => 4,
        TType::Uuid => 16,
    }
}

/// Binary values at least this long are kept by reference by writers made `with_chunks`.
pub const ZERO_COPY_MIN: usize = 16 * 1024;

/// Ends the current chunk after the length prefix already in `buf` and adds `v` by reference.
fn spill(buf: &mut BytesMut, chunks: &mut Vec<Bytes>, v: &Bytes) {
    chunks.push(buf.split().freeze());
    chunks.push(v.clone());
}

fn string_len(len: usize) -> Result<i32, ProtocolError> {
    i32::try_from(len).map_err(|_| {
        ProtocolError::new(
            ProtocolErrorKind::SizeLimit,
            format!("a length of {len} does not fit Thrift's i32 length"),
        )
    })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod element_check_tests {
    use super::*;

    /// `[list<string> ["a", "b"], list<i32> [], map<i32, i32> {1: 2}, i8 7]` with `w`.
    fn containers<W: ProtocolWrite>(w: &mut W) -> Result<(), ProtocolError> {
        w.write_list_begin(TType::String, 2)?;
        w.write_string("a")?;
        w.write_string("b")?;
        w.write_list_end()?;
        w.write_set_begin(TType::Struct, 0)?;
        w.write_set_end()?;
        w.write_map_begin(TType::I32, TType::I32, 1)?;
        w.write_i32(1)?;
        w.write_i32(2)?;
        w.write_map_end()?;
        w.write_i8(7)
    }

    fn check<R: ProtocolRead>(r: &mut R) {
        let mut matched = true;
        let h = read_list_of(r, TType::String, &mut matched).unwrap();
        assert_eq!(
            (h.len, matched),
            (2, true),
            "matching elements are read by the caller"
        );
        assert_eq!(r.read_string().unwrap(), "a");
        assert_eq!(r.read_string().unwrap(), "b");
        r.read_list_end().unwrap();
        let h = read_set_of(r, TType::I32, &mut matched).unwrap();
        assert_eq!((h.len, matched), (0, true), "an empty set matches any type");
        r.read_set_end().unwrap();
        let h = read_map_of(r, TType::I32, TType::String, &mut matched).unwrap();
        assert_eq!((h.len, matched), (0, false), "a mismatched map is skipped");
        r.read_map_end().unwrap();
        assert_eq!(r.read_i8().unwrap(), 7, "what follows is read as usual");
    }

    #[test]
    fn mismatched_elements_are_skipped() {
        let mut buf = BytesMut::new();
        containers(&mut BinaryWriter::new(&mut buf)).unwrap();
        check(&mut BinaryReader::new(
            buf.freeze(),
            DecodeLimits::default(),
        ));
        let mut buf = BytesMut::new();
        containers(&mut CompactWriter::new(&mut buf)).unwrap();
        check(&mut CompactReader::new(
            buf.freeze(),
            DecodeLimits::default(),
        ));

        let mut buf = BytesMut::new();
        let mut w = BinaryWriter::new(&mut buf);
        w.write_list_begin(TType::I64, 2).unwrap();
        w.write_i64(1).unwrap();
        w.write_i64(2).unwrap();
        let mut r = BinaryReader::new(buf.freeze(), DecodeLimits::default());
        let mut matched = true;
        let h = read_list_of(&mut r, TType::I32, &mut matched).unwrap();
        assert_eq!((h.len, matched), (0, false));
        assert_eq!(r.remaining(), 0, "every element was skipped");
    }
}
