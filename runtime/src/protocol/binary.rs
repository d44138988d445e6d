//! The binary protocol (Apache's `thrift-binary-protocol.md`): fixed-width big-endian integers,
//! i32 length prefixes. Writes strict (versioned) message headers; reads both strict and the
//! old non-strict form.

use bytes::{BufMut, Bytes, BytesMut};

use super::{
    min_size, spill, string_len, Cursor, DecodeLimits, FieldHeader, ListHeader, MapHeader,
    MessageHeader, MessageType, ProtocolRead, ProtocolWrite, TType, ZERO_COPY_MIN,
};
use crate::error::{ProtocolError, ProtocolErrorKind};
use crate::types::Uuid;

const VERSION_1: u32 = 0x8001_0000;
const VERSION_MASK: u32 = 0xffff_0000;

/// Reads the binary protocol from one complete message or struct.
#[derive(Debug)]
pub struct BinaryReader {
    cur: Cursor,
}

impl BinaryReader {
    pub fn new(buf: Bytes, limits: DecodeLimits) -> Self {
        BinaryReader {
            cur: Cursor::new(buf, limits),
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

    fn ttype(&mut self) -> Result<TType, ProtocolError> {
        TType::from_binary_id(self.cur.byte()?)
    }

    fn len(&mut self) -> Result<usize, ProtocolError> {
        let len = self.read_i32()?;
        if len < 0 {
            return Err(ProtocolError::new(
                ProtocolErrorKind::NegativeSize,
                format!("negative length {len}"),
            ));
        }
        Ok(len as usize)
    }

    fn list_header(&mut self) -> Result<ListHeader, ProtocolError> {
        let elem = self.ttype()?;
        let len = self.read_i32()?;
        let len = self.cur.container_len(len.into(), min_size(elem, false))?;
        self.cur.enter()?;
        Ok(ListHeader { elem, len })
    }
}

impl ProtocolRead for BinaryReader {
    fn read_message_begin(&mut self) -> Result<MessageHeader, ProtocolError> {
        let first = self.read_i32()?;
        if first < 0 {
            let word = first as u32;
            if word & VERSION_MASK != VERSION_1 {
                return Err(ProtocolError::new(
                    ProtocolErrorKind::BadVersion,
                    format!(
                        "unknown binary protocol version {:#010x}",
                        word & VERSION_MASK
                    ),
                ));
            }
            let kind = MessageType::from_id((word & 0xff) as u8)?;
            let len = self.len()?;
            let name = self.cur.bytes(len)?;
            check_name(&name)?;
            let seqid = self.read_i32()?;
            Ok(MessageHeader::new(name, kind, seqid))
        } else {
            // Non-strict: the name's length comes first, then the name, the type and the seqid.
            let name = self.cur.bytes(first as usize)?;
            check_name(&name)?;
            let kind = MessageType::from_id(self.cur.byte()?)?;
            let seqid = self.read_i32()?;
            Ok(MessageHeader::new(name, kind, seqid))
        }
    }

    fn read_struct_begin(&mut self) -> Result<(), ProtocolError> {
        self.cur.enter()
    }

    fn read_struct_end(&mut self) -> Result<(), ProtocolError> {
        self.cur.leave();
        Ok(())
    }

    #[inline]
    fn read_field_begin(&mut self) -> Result<Option<FieldHeader>, ProtocolError> {
        let ty = self.ttype()?;
        if ty == TType::Stop {
            return Ok(None);
        }
        let id = self.read_i16()?;
        Ok(Some(FieldHeader { ty, id }))
    }

    fn read_bool(&mut self) -> Result<bool, ProtocolError> {
        Ok(self.cur.byte()? != 0)
    }

    fn read_i8(&mut self) -> Result<i8, ProtocolError> {
        Ok(self.cur.byte()? as i8)
    }

    #[inline]
    fn read_i16(&mut self) -> Result<i16, ProtocolError> {
        Ok(i16::from_be_bytes(self.cur.take()?))
    }

    #[inline]
    fn read_i32(&mut self) -> Result<i32, ProtocolError> {
        Ok(i32::from_be_bytes(self.cur.take()?))
    }

    fn read_i64(&mut self) -> Result<i64, ProtocolError> {
        Ok(i64::from_be_bytes(self.cur.take()?))
    }

    fn read_double(&mut self) -> Result<f64, ProtocolError> {
        Ok(f64::from_bits(u64::from_be_bytes(self.cur.take()?)))
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
        let key = self.ttype()?;
        let value = self.ttype()?;
        let len = self.read_i32()?;
        let len = self
            .cur
            .container_len(len.into(), min_size(key, false) + min_size(value, false))?;
        self.cur.enter()?;
        Ok(MapHeader { key, value, len })
    }

    fn read_map_end(&mut self) -> Result<(), ProtocolError> {
        self.cur.leave();
        Ok(())
    }
}

fn check_name(name: &[u8]) -> Result<(), ProtocolError> {
    std::str::from_utf8(name)
        .map(drop)
        .map_err(|_| ProtocolError::invalid("method name is not valid UTF-8"))
}

/// Writes the binary protocol into a buffer.
#[derive(Debug)]
pub struct BinaryWriter<'a> {
    buf: &'a mut BytesMut,
    chunks: Option<&'a mut Vec<Bytes>>,
}

impl<'a> BinaryWriter<'a> {
    pub fn new(buf: &'a mut BytesMut) -> Self {
        BinaryWriter { buf, chunks: None }
    }

    /// A writer that moves finished output to `chunks` whenever it keeps a large `binary` by
    /// reference (see [`ProtocolWrite::write_bytes`]); the output is `chunks` then `buf`.
    pub fn with_chunks(buf: &'a mut BytesMut, chunks: &'a mut Vec<Bytes>) -> Self {
        BinaryWriter {
            buf,
            chunks: Some(chunks),
        }
    }
}

impl ProtocolWrite for BinaryWriter<'_> {
    fn write_message_begin(
        &mut self,
        name: &str,
        kind: MessageType,
        seqid: i32,
    ) -> Result<(), ProtocolError> {
        self.buf.put_u32(VERSION_1 | kind as u32);
        self.write_string(name)?;
        self.buf.put_i32(seqid);
        Ok(())
    }

    fn write_struct_begin(&mut self) -> Result<(), ProtocolError> {
        Ok(())
    }

    fn write_struct_end(&mut self) -> Result<(), ProtocolError> {
        Ok(())
    }

    #[inline]
    fn write_field_begin(&mut self, ty: TType, id: i16) -> Result<(), ProtocolError> {
        self.buf.put_u8(ty as u8);
        self.buf.put_i16(id);
        Ok(())
    }

    #[inline]
    fn write_field_stop(&mut self) -> Result<(), ProtocolError> {
        self.buf.put_u8(TType::Stop as u8);
        Ok(())
    }

    fn write_bool(&mut self, v: bool) -> Result<(), ProtocolError> {
        self.buf.put_u8(v as u8);
        Ok(())
    }

    fn write_i8(&mut self, v: i8) -> Result<(), ProtocolError> {
        self.buf.put_i8(v);
        Ok(())
    }

    fn write_i16(&mut self, v: i16) -> Result<(), ProtocolError> {
        self.buf.put_i16(v);
        Ok(())
    }

    fn write_i32(&mut self, v: i32) -> Result<(), ProtocolError> {
        self.buf.put_i32(v);
        Ok(())
    }

    fn write_i64(&mut self, v: i64) -> Result<(), ProtocolError> {
        self.buf.put_i64(v);
        Ok(())
    }

    fn write_double(&mut self, v: f64) -> Result<(), ProtocolError> {
        self.buf.put_u64(v.to_bits());
        Ok(())
    }

    fn write_uuid(&mut self, v: &Uuid) -> Result<(), ProtocolError> {
        self.buf.put_slice(v.as_bytes());
        Ok(())
    }

    fn write_binary(&mut self, v: &[u8]) -> Result<(), ProtocolError> {
        self.buf.put_i32(string_len(v.len())?);
        self.buf.put_slice(v);
        Ok(())
    }

    fn write_bytes(&mut self, v: &Bytes) -> Result<(), ProtocolError> {
        match self.chunks.as_deref_mut() {
            Some(chunks) if v.len() >= ZERO_COPY_MIN => {
                self.buf.put_i32(string_len(v.len())?);
                spill(self.buf, chunks, v);
                Ok(())
            }
            _ => self.write_binary(v),
        }
    }

    fn write_list_begin(&mut self, elem: TType, len: usize) -> Result<(), ProtocolError> {
        self.buf.put_u8(elem as u8);
        self.buf.put_i32(string_len(len)?);
        Ok(())
    }

    fn write_map_begin(
        &mut self,
        key: TType,
        value: TType,
        len: usize,
    ) -> Result<(), ProtocolError> {
        self.buf.put_u8(key as u8);
        self.buf.put_u8(value as u8);
        self.buf.put_i32(string_len(len)?);
        Ok(())
    }
}
