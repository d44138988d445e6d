//! The boundary between the server runtime and generated dispatchers.

use std::future::Future;
use std::pin::Pin;

use bytes::{Bytes, BytesMut};

use crate::error::{ApplicationException, ApplicationExceptionKind, Error, ProtocolError};
use crate::protocol::ZERO_COPY_MIN;
use crate::protocol::{
    BinaryReader, BinaryWriter, CompactReader, CompactWriter, DecodeLimits, MessageType, Protocol,
    ProtocolWrite, Struct,
};
use crate::transport::Charge;

/// What a dispatcher returns for one call: a future of the reply.
pub type CallFuture = Pin<Box<dyn Future<Output = Reply> + Send + 'static>>;

/// A Thrift service as the server sees it: a name (for `TMultiplexedProtocol`) and a dispatcher.
///
/// Generated code implements this for each IDL service (`ThriftTestService<H>` wraps a handler
/// `H: ThriftTest`); users rarely implement it by hand.
pub trait Service: Send + Sync + 'static {
    /// The IDL service name, which multiplexing clients put before the method (`Name:method`).
    fn name(&self) -> &'static str;

    /// Decodes the arguments of `call`, runs the handler, and returns the reply to send.
    /// Unknown methods answer [`Call::unknown_method`].
    fn call(&self, call: Call) -> CallFuture;
}

/// One incoming call: its method, sequence id, protocol, and the bytes of its argument struct.
#[derive(Debug)]
pub struct Call {
    method: Bytes,
    seqid: i32,
    kind: MessageType,
    protocol: Protocol,
    args: Bytes,
    limits: DecodeLimits,
    /// The server memory budget held for this call's message, given back when the call ends.
    _charge: Option<Charge>,
}

impl Call {
    pub(crate) fn new(
        method: Bytes,
        seqid: i32,
        kind: MessageType,
        protocol: Protocol,
        args: Bytes,
        limits: DecodeLimits,
        charge: Option<Charge>,
    ) -> Self {
        Call {
            method,
            seqid,
            kind,
            protocol,
            args,
            limits,
            _charge: charge,
        }
    }

    /// The method name, without any multiplexing prefix.
    pub fn method(&self) -> &str {
        // The transport checked that the name is UTF-8.
        std::str::from_utf8(&self.method).unwrap_or("")
    }

    pub fn seqid(&self) -> i32 {
        self.seqid
    }

    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Whether the caller sent a ONEWAY message (it expects no reply).
    pub fn is_oneway(&self) -> bool {
        self.kind == MessageType::Oneway
    }

    /// Decodes the argument struct.
    pub fn decode<A: Struct>(&self) -> Result<A, ProtocolError> {
        match self.protocol {
            Protocol::Binary => A::decode(&mut BinaryReader::new(self.args.clone(), self.limits)),
            Protocol::Compact => A::decode(&mut CompactReader::new(self.args.clone(), self.limits)),
        }
    }

    /// A REPLY carrying `result` (the method's result struct).
    pub fn reply<R: Struct>(&self, result: &R) -> Reply {
        if self.is_oneway() {
            return Reply::none();
        }
        // Replies are often about as large as their call (echoes, transforms). A large call's
        // large values go by reference, so its reply buffer holds only headers.
        let guess = if self.args.len() < ZERO_COPY_MIN {
            self.args.len()
        } else {
            192
        };
        let mut buf = BytesMut::with_capacity(64 + guess);
        let mut chunks = Vec::new();
        let encoded = match self.protocol {
            Protocol::Binary => write_message(
                &mut BinaryWriter::with_chunks(&mut buf, &mut chunks),
                self,
                MessageType::Reply,
                result,
            ),
            Protocol::Compact => write_message(
                &mut CompactWriter::with_chunks(&mut buf, &mut chunks),
                self,
                MessageType::Reply,
                result,
            ),
        };
        match encoded {
            Ok(()) => Reply::message(chunks, buf),
            Err(e) => self.exception(&ApplicationException::internal(format!(
                "the result of {} could not be encoded: {e}",
                self.method()
            ))),
        }
    }

    /// An EXCEPTION message carrying a `TApplicationException`.
    pub fn exception(&self, e: &ApplicationException) -> Reply {
        if self.is_oneway() {
            return Reply::none();
        }
        let mut buf = BytesMut::with_capacity(64 + e.message.len());
        let result = match self.protocol {
            Protocol::Binary => write_message(
                &mut BinaryWriter::new(&mut buf),
                self,
                MessageType::Exception,
                e,
            ),
            Protocol::Compact => write_message(
                &mut CompactWriter::new(&mut buf),
                self,
                MessageType::Exception,
                e,
            ),
        };
        // An application exception is a short string and an i32: encoding cannot fail.
        debug_assert!(result.is_ok());
        Reply::message(Vec::new(), buf)
    }

    /// The answer for a failed handler: a `TApplicationException` made from `error`.
    pub fn error(&self, error: &Error) -> Reply {
        self.exception(&error.to_application_exception())
    }

    /// The answer for arguments that could not be decoded.
    pub fn protocol_error(&self, error: ProtocolError) -> CallFuture {
        let mut reply = self.exception(&ApplicationException::new(
            ApplicationExceptionKind::PROTOCOL_ERROR,
            format!(
                "arguments of {} could not be decoded: {error}",
                self.method()
            ),
        ));
        // A peer that sends bad bytes is not trusted with more calls on this connection.
        reply.close = true;
        Box::pin(std::future::ready(reply))
    }

    /// The answer for a method the service does not have.
    pub fn unknown_method(&self) -> CallFuture {
        let reply = self.exception(&ApplicationException::new(
            ApplicationExceptionKind::UNKNOWN_METHOD,
            format!("unknown method {}", self.method()),
        ));
        Box::pin(std::future::ready(reply))
    }
}

fn write_message<W: ProtocolWrite, S: Struct>(
    w: &mut W,
    call: &Call,
    kind: MessageType,
    body: &S,
) -> Result<(), ProtocolError> {
    w.write_message_begin(call.method(), kind, call.seqid)?;
    body.encode(w)
}

/// The encoded reply message, or nothing (for oneway calls).
///
/// A message is `chunks` followed by `tail`: large `binary` values are kept by reference in
/// `chunks` rather than copied (see [`ProtocolWrite::write_bytes`]). The connection adds the
/// frame header, if any, when it writes.
#[derive(Debug)]
pub struct Reply {
    pub(crate) message: Option<(Vec<Bytes>, BytesMut)>,
    /// Close the connection once this reply is written.
    pub(crate) close: bool,
}

impl Reply {
    fn message(chunks: Vec<Bytes>, tail: BytesMut) -> Self {
        Reply {
            message: Some((chunks, tail)),
            close: false,
        }
    }

    /// No reply at all (oneway calls).
    pub fn none() -> Self {
        Reply {
            message: None,
            close: false,
        }
    }

    /// A oneway call: no reply. Same as [`Reply::none`], named for generated code.
    pub fn oneway() -> CallFuture {
        Box::pin(std::future::ready(Reply::none()))
    }
}

impl Struct for ApplicationException {
    fn encode<W: ProtocolWrite>(&self, w: &mut W) -> Result<(), ProtocolError> {
        use crate::protocol::TType;
        w.write_struct_begin()?;
        w.write_field_begin(TType::String, 1)?;
        w.write_string(&self.message)?;
        w.write_field_begin(TType::I32, 2)?;
        w.write_i32(self.kind.0)?;
        w.write_field_stop()?;
        w.write_struct_end()
    }

    fn decode<R: crate::protocol::ProtocolRead>(r: &mut R) -> Result<Self, ProtocolError> {
        use crate::protocol::TType;
        let mut message = String::new();
        let mut kind = ApplicationExceptionKind::UNKNOWN;
        r.read_struct_begin()?;
        while let Some(f) = r.read_field_begin()? {
            match (f.id, f.ty) {
                (1, TType::String) => message = r.read_string()?,
                (2, TType::I32) => kind = ApplicationExceptionKind(r.read_i32()?),
                (_, ty) => r.skip(ty)?,
            }
        }
        r.read_struct_end()?;
        Ok(ApplicationException { kind, message })
    }
}
