//! The compact protocol (Apache's `thrift-compact-protocol.md`): zigzag varints, field id
//! deltas, and booleans folded into field headers.

use bytes::{BufMut, Bytes, BytesMut};

use super::{
    min_size, spill, string_len, Cursor, DecodeLimits, FieldHeader, ListHeader, MapHeader,
    MessageHeader, MessageType, ProtocolRead, ProtocolWrite, TType, ZERO_COPY_MIN,
};
use crate::error::{ProtocolError, ProtocolErrorKind};
use crate::types::Uuid;

const PROTOCOL_ID: u8 = 0x82;
const VERSION: u8 = 1;

// Compact type ids.
const CT_STOP: u8 = 0;
const CT_TRUE: u8 = 1;
const CT_FALSE: u8 = 2;
const CT_I8: u8 = 3;
const CT_I16: u8 = 4;
const CT_I32: u8 = 5;
const CT_I64: u8 = 6;
const CT_DOUBLE: u8 = 7;
const CT_BINARY: u8 = 8;
const CT_LIST: u8 = 9;
const CT_SET: u8 = 10;
const CT_MAP: u8 = 11;
const CT_STRUCT: u8 = 12;
const CT_UUID: u8 = 13;

fn compact_id(ty: TType) -> u8 {
    match ty {
        TType::Stop | TType::Void => CT_STOP,
        TType::Bool => CT_TRUE,
        TType::I8 => CT_I8,
        TType::I16 => CT_I16,
        TType::I32 => CT_I32,
        TType::I64 => CT_I64,
        TType::Double => CT_DOUBLE,
        TType::String => CT_BINARY,
        TType::List => CT_LIST,
        TType::Set => CT_SET,
        TType::Map => CT_MAP,
        TType::Struct => CT_STRUCT,
        TType::Uuid => CT_UUID,
    }
}

fn from_compact_id(id: u8) -> Result<TType, ProtocolError> {
    Ok(match id {
        CT_STOP => TType::Stop,
        CT_TRUE | CT_FALSE => TType::Bool,
        CT_I8 => TType::I8,
        CT_I16 => TType::I16,
        CT_I32 => TType::I32,
        CT_I64 => TType::I64,
        CT_DOUBLE => TType::Double,
        CT_BINARY => TType::String,
        CT_LIST => TType::List,
        CT_SET => TType::Set,
        CT_MAP => TType::Map,
        CT_STRUCT => TType::Struct,
        CT_UUID => TType::Uuid,
        other => {
            return Err(ProtocolError::invalid(format!(
                "unknown compact type id {other}"
            )))
        }
    })
}

#[inline]
fn zigzag32(n: i32) -> u32 {
    ((n << 1) ^ (n >> 31)) as u32
}

#[inline]
fn zigzag64(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

#[inline]
fn unzigzag64(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

/// Reads the compact protocol from one complete message or struct.
#[derive(Debug)]
pub struct CompactReader {
    cur: Cursor,
    last_field_id: i16,
    /// Field ids of the enclosing structs (deltas restart in each struct).
    field_ids: Vec<i16>,
    /// A bool field's value travels in its header; it is held here until `read_bool`.
    pending_bool: Option<bool>,
}

impl CompactReader {
    pub fn new(buf: Bytes, limits: DecodeLimits) -> Self {
        CompactReader {
            cur: Cursor::new(buf, limits),
            last_field_id: 0,
            field_ids: Vec::new(),
            pending_bool: None,
        }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.cur.remaining()
    }

    /// The read position in the buffer.
    pub fn position(&self) -> usize {
        self.cur.pos
    }

    /// After input ran out: the least total input length with which reading gets further.
    pub(crate) fn wanted(&self) -> usize {
        self.cur.wanted
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, ProtocolError> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.cur.byte()?;
            if shift == 63 && b > 1 {
                break;
            }
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ProtocolError::invalid("varint is longer than 64 bits"))
    }

    fn varint32(&mut self) -> Result<u32, ProtocolError> {
        let v = self.varint()?;
        u32::try_from(v).map_err(|_| ProtocolError::invalid("varint does not fit 32 bits"))
    }

    fn len(&mut self) -> Result<usize, ProtocolError> {
        let len = self.varint32()?;
        if len > i32::MAX as u32 {
            return Err(ProtocolError::new(
                ProtocolErrorKind::NegativeSize,
                format!("negative length {}", len as i32),
            ));
        }
        Ok(len as usize)
    }

    fn list_header(&mut self) -> Result<ListHeader, ProtocolError> {
        let head = self.cur.byte()?;
        let elem = from_compact_id(head & 0x0f)?;
        let len = match head >> 4 {
            15 => i64::from(self.varint32()? as i32),
            short => i64::from(short),
        };
        let len = self.cur.container_len(len, min_size(elem, true))?;
        self.cur.enter()?;
        Ok(ListHeader { elem, len })
    }
}

impl ProtocolRead for CompactReader {
    fn read_message_begin(&mut self) -> Result<MessageHeader, ProtocolError> {
        let id = self.cur.byte()?;
        if id != PROTOCOL_ID {
            return Err(ProtocolError::new(
                ProtocolErrorKind::BadVersion,
                format!("expected compact protocol id 0x82, found {id:#04x}"),
            ));
        }
        let vt = self.cur.byte()?;
        if vt & 0x1f != VERSION {
            return Err(ProtocolError::new(
                ProtocolErrorKind::BadVersion,
                format!("unknown compact protocol version {}", vt & 0x1f),
            ));
        }
        let kind = MessageType::from_id(vt >> 5)?;
        let seqid = self.varint32()? as i32;
        let len = self.len()?;
        let name = self.cur.bytes(len)?;
        if std::str::from_utf8(&name).is_err() {
            return Err(ProtocolError::invalid("method name is not valid UTF-8"));
        }
        Ok(MessageHeader::new(name, kind, seqid))
    }

    fn read_struct_begin(&mut self) -> Result<(), ProtocolError> {
        self.cur.enter()?;
        self.field_ids.push(self.last_field_id);
        self.last_field_id = 0;
        Ok(())
    }

    fn read_struct_end(&mut self) -> Result<(), ProtocolError> {
        self.cur.leave();
        self.last_field_id = self.field_ids.pop().unwrap_or(0);
        Ok(())
    }

    #[inline]
    fn read_field_begin(&mut self) -> Result<Option<FieldHeader>, ProtocolError> {
        let head = self.cur.byte()?;
        let ct = head & 0x0f;
        if ct == CT_STOP {
            return Ok(None);
        }
        let ty = from_compact_id(ct)?;
        let delta = head >> 4;
        let id = if delta == 0 {
            let raw = unzigzag64(self.varint()?);
            i16::try_from(raw)
                .map_err(|_| ProtocolError::invalid(format!("field id {raw} does not fit i16")))?
        } else {
            self.last_field_id.wrapping_add(i16::from(delta))
        };
        self.last_field_id = id;
        if ty == TType::Bool {
            self.pending_bool = Some(ct == CT_TRUE);
        }
        Ok(Some(FieldHeader { ty, id }))
    }

    fn read_bool(&mut self) -> Result<bool, ProtocolError> {
        match self.pending_bool.take() {
            Some(v) => Ok(v),
            // In a container a bool is a byte: 1 is true; 2 (the spec) and 0 (some peers) false.
            None => match self.cur.byte()? {
                CT_TRUE => Ok(true),
                0 | CT_FALSE => Ok(false),
                other => Err(ProtocolError::invalid(format!(
                    "byte {other} is not a compact bool"
                ))),
            },
        }
    }

    fn read_i8(&mut self) -> Result<i8, ProtocolError> {
        Ok(self.cur.byte()? as i8)
    }

    fn read_i16(&mut self) -> Result<i16, ProtocolError> {
        let v = unzigzag64(self.varint()?);
        i16::try_from(v).map_err(|_| ProtocolError::invalid(format!("{v} does not fit i16")))
    }

    fn read_i32(&mut self) -> Result<i32, ProtocolError> {
        let v = unzigzag64(self.varint()?);
        i32::try_from(v).map_err(|_| ProtocolError::invalid(format!("{v} does not fit i32")))
    }

    fn read_i64(&mut self) -> Result<i64, ProtocolError> {
        Ok(unzigzag64(self.varint()?))
    }

    fn read_double(&mut self) -> Result<f64, ProtocolError> {
        Ok(f64::from_bits(u64::from_le_bytes(self.cur.take()?)))
    }

    fn read_uuid(&mut self) -> Result<Uuid, ProtocolError> {
        Ok(Uuid::from_bytes(self.cur.take()?))
    }

    fn read_string(&mut self) -> Result<String, ProtocolError> {
        let len = self.len()?;
        self.cur.string(len)
    }

    fn read_binary(&mut self) -> Result<Bytes, ProtocolError> {
        let len = self.len()?;
        self.cur.bytes(len)
    }

    fn read_list_begin(&mut self) -> Result<ListHeader, ProtocolError> {
        self.list_header()
    }

    fn read_list_end(&mut self) -> Result<(), ProtocolError> {
        self.cur.leave();
        Ok(())
    }

    fn read_set_begin(&mut self) -> Result<ListHeader, ProtocolError> {
        self.list_header()
    }

    fn read_set_end(&mut self) -> Result<(), ProtocolError> {
        self.cur.leave();
        Ok(())
    }

    fn read_map_begin(&mut self) -> Result<MapHeader, ProtocolError> {
        let len = i64::from(self.varint32()? as i32);
        let (key, value) = if len == 0 {
            // An empty map has no type byte; any types do.
            (TType::I8, TType::I8)
        } else {
            let kv = self.cur.byte()?;
            (from_compact_id(kv >> 4)?, from_compact_id(kv & 0x0f)?)
        };
        let len = self
            .cur
            .container_len(len, min_size(key, true) + min_size(value, true))?;
        self.cur.enter()?;
        Ok(MapHeader { key, value, len })
    }

    fn read_map_end(&mut self) -> Result<(), ProtocolError> {
        self.cur.leave();
        Ok(())
    }
}

/// Writes the compact protocol into a buffer.
#[derive(Debug)]
pub struct CompactWriter<'a> {
    buf: &'a mut BytesMut,
    chunks: Option<&'a mut Vec<Bytes>>,
    last_field_id: i16,
    field_ids: Vec<i16>,
    /// A bool field's header waits for its value, which it carries.
    pending_bool_field: Option<i16>,
}

impl<'a> CompactWriter<'a> {
    pub fn new(buf: &'a mut BytesMut) -> Self {
        CompactWriter {
            buf,
            chunks: None,
            last_field_id: 0,
            field_ids: Vec::new(),
            pending_bool_field: None,
        }
    }

    /// A writer that moves finished output to `chunks` whenever it keeps a large `binary` by
    /// reference (see [`ProtocolWrite::write_bytes`]); the output is `chunks` then `buf`.
    pub fn with_chunks(buf: &'a mut BytesMut, chunks: &'a mut Vec<Bytes>) -> Self {
        CompactWriter {
            chunks: Some(chunks),
            ..CompactWriter::new(buf)
        }
    }

    #[inline]
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.put_u8((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.put_u8(v as u8);
    }

    fn field_header(&mut self, ct: u8, id: i16) {
        let delta = i32::from(id) - i32::from(self.last_field_id);
        if (1..=15).contains(&delta) {
            self.buf.put_u8(((delta as u8) << 4) | ct);
        } else {
            self.buf.put_u8(ct);
            self.varint(u64::from(zigzag32(i32::from(id))));
        }
        self.last_field_id = id;
    }

    fn collection_header(&mut self, elem: TType, len: usize) -> Result<(), ProtocolError> {
        let len = string_len(len)?;
        let ct = compact_id(elem);
        if len < 15 {
            self.buf.put_u8(((len as u8) << 4) | ct);
        } else {
            self.buf.put_u8(0xf0 | ct);
            self.varint(len as u64);
        }
        Ok(())
    }
}

impl ProtocolWrite for CompactWriter<'_> {
    fn write_message_begin(
        &mut self,
        name: &str,
        kind: MessageType,
        seqid: i32,
    ) -> Result<(), ProtocolError> {
        self.buf.put_u8(PROTOCOL_ID);
        self.buf.put_u8(((kind as u8) << 5) | VERSION);
        self.varint(u64::from(seqid as u32));
        self.write_string(name)
    }

    fn write_struct_begin(&mut self) -> Result<(), ProtocolError> {
        self.field_ids.push(self.last_field_id);
        self.last_field_id = 0;
        Ok(())
    }

    fn write_struct_end(&mut self) -> Result<(), ProtocolError> {
        self.last_field_id = self.field_ids.pop().unwrap_or(0);
        Ok(())
    }

    #[inline]
    fn write_field_begin(&mut self, ty: TType, id: i16) -> Result<(), ProtocolError> {
        if ty == TType::Bool {
            self.pending_bool_field = Some(id);
        } else {
            self.field_header(compact_id(ty), id);
        }
        Ok(())
    }

    fn write_field_stop(&mut self) -> Result<(), ProtocolError> {
        self.buf.put_u8(CT_STOP);
        Ok(())
    }

    fn write_bool(&mut self, v: bool) -> Result<(), ProtocolError> {
        let ct = if v { CT_TRUE } else { CT_FALSE };
        match self.pending_bool_field.take() {
            Some(id) => self.field_header(ct, id),
            None => self.buf.put_u8(ct),
        }
        Ok(())
    }

    fn write_i8(&mut self, v: i8) -> Result<(), ProtocolError> {
        self.buf.put_i8(v);
        Ok(())
    }

    fn write_i16(&mut self, v: i16) -> Result<(), ProtocolError> {
        self.varint(u64::from(zigzag32(i32::from(v))));
        Ok(())
    }

    fn write_i32(&mut self, v: i32) -> Result<(), ProtocolError> {
        self.varint(u64::from(zigzag32(v)));
        Ok(())
    }

    fn write_i64(&mut self, v: i64) -> Result<(), ProtocolError> {
        self.varint(zigzag64(v));
        Ok(())
    }

    fn write_double(&mut self, v: f64) -> Result<(), ProtocolError> {
        self.buf.put_u64_le(v.to_bits());
        Ok(())
    }

    fn write_uuid(&mut self, v: &Uuid) -> Result<(), ProtocolError> {
        self.buf.put_slice(v.as_bytes());
        Ok(())
    }

    fn write_binary(&mut self, v: &[u8]) -> Result<(), ProtocolError> {
        let len = string_len(v.len())?;
        self.varint(len as u64);
        self.buf.put_slice(v);
        Ok(())
    }

    fn write_bytes(&mut self, v: &Bytes) -> Result<(), ProtocolError> {
        if v.len() < ZERO_COPY_MIN || self.chunks.is_none() {
            return self.write_binary(v);
        }
        let len = string_len(v.len())?;
        self.varint(len as u64);
        if let Some(chunks) = self.chunks.as_deref_mut() {
            spill(self.buf, chunks, v);
        }
        Ok(())
    }

    fn write_list_begin(&mut self, elem: TType, len: usize) -> Result<(), ProtocolError> {
        self.collection_header(elem, len)
    }

    fn write_map_begin(
        &mut self,
        key: TType,
        value: TType,
        len: usize,
    ) -> Result<(), ProtocolError> {
        let len = string_len(len)?;
        if len == 0 {
            self.buf.put_u8(0);
        } else {
            self.varint(len as u64);
            self.buf.put_u8((compact_id(key) << 4) | compact_id(value));
        }
        Ok(())
    }
}
