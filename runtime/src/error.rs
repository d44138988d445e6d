//! Errors: what went wrong on the wire ([`ProtocolError`]), what a Thrift peer reports as an
//! undeclared failure ([`ApplicationException`]), and the one error type calls return
//! ([`Error`]).

use std::fmt;
use std::io;

/// Why bytes could not be decoded (or a value could not be encoded).
///
/// The kinds follow Apache Thrift's `TProtocolException`, plus [`ProtocolErrorKind::Truncated`]
/// for input that ends early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolErrorKind {
    /// The input ended in the middle of a value.
    Truncated,
    /// Bytes that no valid encoding produces (unknown type ids, bad UTF-8, bad bool...).
    InvalidData,
    /// A length or size was negative.
    NegativeSize,
    /// A length, size or message exceeds a configured limit.
    SizeLimit,
    /// The message header carries an unknown protocol version.
    BadVersion,
    /// Values nest deeper than the configured limit.
    DepthLimit,
    /// A required field was absent, or a union had no field set.
    MissingField,
}

/// A decoding or encoding failure, with a message that says what and where.
#[derive(Clone, PartialEq, Eq)]
pub struct ProtocolError(Box<(ProtocolErrorKind, String)>);

impl ProtocolError {
    pub fn new(kind: ProtocolErrorKind, message: impl Into<String>) -> Self {
        ProtocolError(Box::new((kind, message.into())))
    }

    pub fn kind(&self) -> ProtocolErrorKind {
        self.0 .0
    }

    pub fn message(&self) -> &str {
        &self.0 .1
    }

    pub(crate) fn truncated() -> Self {
        Self::new(
            ProtocolErrorKind::Truncated,
            "input ended in the middle of a value",
        )
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(ProtocolErrorKind::InvalidData, message)
    }

    /// A required field that was not on the wire (used by generated code).
    pub fn missing_field(type_name: &str, field: &str) -> Self {
        Self::new(
            ProtocolErrorKind::MissingField,
            format!("required field `{field}` of `{type_name}` is missing"),
        )
    }

    /// A union with no field (or more than one field) set (used by generated code).
    pub fn bad_union(type_name: &str, fields_set: usize) -> Self {
        Self::new(
            ProtocolErrorKind::InvalidData,
            format!("union `{type_name}` must have exactly one field set, found {fields_set}"),
        )
    }

    /// A union value holding a member only a newer peer knows, which cannot be written back
    /// because its value was skipped when it was read (used by generated code).
    pub fn unknown_union_member(type_name: &str, field_id: i16) -> Self {
        Self::new(
            ProtocolErrorKind::InvalidData,
            format!(
                "union `{type_name}` holds a member unknown to this code (field id {field_id}), \
                 which cannot be written"
            ),
        )
    }
}

impl fmt::Debug for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProtocolError({:?}: {})", self.kind(), self.message())
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for ProtocolError {}

/// `TApplicationException` type codes, as Apache Thrift defines them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ApplicationExceptionKind(pub i32);

impl ApplicationExceptionKind {
    pub const UNKNOWN: Self = Self(0);
    pub const UNKNOWN_METHOD: Self = Self(1);
    pub const INVALID_MESSAGE_TYPE: Self = Self(2);
    pub const WRONG_METHOD_NAME: Self = Self(3);
    pub const BAD_SEQUENCE_ID: Self = Self(4);
    pub const MISSING_RESULT: Self = Self(5);
    pub const INTERNAL_ERROR: Self = Self(6);
    pub const PROTOCOL_ERROR: Self = Self(7);
    pub const INVALID_TRANSFORM: Self = Self(8);
    pub const INVALID_PROTOCOL: Self = Self(9);
    pub const UNSUPPORTED_CLIENT_TYPE: Self = Self(10);
    /// Not in Apache's list: Mosaic's answer when a server is at capacity. Apache clients see
    /// an unknown type code and a message saying so.
    pub const OVERLOADED: Self = Self(100);
}

/// A failure the method did not declare: Thrift's `TApplicationException`
/// (struct `{1: string message, 2: i32 type}` in an EXCEPTION message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicationException {
    pub kind: ApplicationExceptionKind,
    pub message: String,
}

impl ApplicationException {
    pub fn new(kind: ApplicationExceptionKind, message: impl Into<String>) -> Self {
        ApplicationException {
            kind,
            message: message.into(),
        }
    }

    /// An internal error in a handler.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ApplicationExceptionKind::INTERNAL_ERROR, message)
    }
}

impl fmt::Display for ApplicationException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ApplicationExceptionKind::UNKNOWN => "unknown",
            ApplicationExceptionKind::UNKNOWN_METHOD => "unknown method",
            ApplicationExceptionKind::INVALID_MESSAGE_TYPE => "invalid message type",
            ApplicationExceptionKind::WRONG_METHOD_NAME => "wrong method name",
            ApplicationExceptionKind::BAD_SEQUENCE_ID => "bad sequence id",
            ApplicationExceptionKind::MISSING_RESULT => "missing result",
            ApplicationExceptionKind::INTERNAL_ERROR => "internal error",
            ApplicationExceptionKind::PROTOCOL_ERROR => "protocol error",
            ApplicationExceptionKind::INVALID_TRANSFORM => "invalid transform",
            ApplicationExceptionKind::INVALID_PROTOCOL => "invalid protocol",
            ApplicationExceptionKind::UNSUPPORTED_CLIENT_TYPE => "unsupported client type",
            ApplicationExceptionKind::OVERLOADED => "overloaded",
            _ => "application error",
        };
        write!(f, "{kind}: {}", self.message)
    }
}

impl std::error::Error for ApplicationException {}

/// The error of a call, on either side.
///
/// A handler returns it for failures its method does not declare (the server answers with a
/// `TApplicationException`); a client gets it for everything that is not a declared exception.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The peer (or the handler) reported an undeclared failure.
    Application(ApplicationException),
    /// Bytes on the wire could not be decoded, or a value could not be encoded.
    Protocol(ProtocolError),
    /// Connecting, reading or writing failed.
    Transport(io::Error),
    /// The call's deadline passed before a reply arrived.
    Timeout(std::time::Duration),
    /// The server (or the client's own limits) refused the call because it is at capacity.
    Overloaded(String),
    /// The connection closed before the reply arrived.
    ConnectionClosed,
}

impl Error {
    /// An undeclared internal failure, answered to the peer as `INTERNAL_ERROR`.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::Application(ApplicationException::internal(message))
    }

    /// Whether the request certainly never reached a handler, so that sending it again
    /// (elsewhere) cannot run it twice.
    pub fn is_retry_safe(&self) -> bool {
        match self {
            Error::Transport(e) => matches!(
                e.kind(),
                io::ErrorKind::ConnectionRefused | io::ErrorKind::NotFound
            ),
            Error::Overloaded(_) => true,
            Error::Application(a) => a.kind == ApplicationExceptionKind::OVERLOADED,
            _ => false,
        }
    }

    /// What a server sends back for this error.
    pub fn to_application_exception(&self) -> ApplicationException {
        match self {
            Error::Application(a) => a.clone(),
            Error::Overloaded(m) => {
                ApplicationException::new(ApplicationExceptionKind::OVERLOADED, m.clone())
            }
            Error::Protocol(p) => {
                ApplicationException::new(ApplicationExceptionKind::PROTOCOL_ERROR, p.message())
            }
            other => ApplicationException::internal(other.to_string()),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Application(a) => write!(f, "application exception: {a}"),
            Error::Protocol(p) => write!(f, "protocol error: {p}"),
            Error::Transport(e) => write!(f, "transport error: {e}"),
            Error::Timeout(d) => write!(f, "no reply within the deadline of {d:?}"),
            Error::Overloaded(m) => write!(f, "overloaded: {m}"),
            Error::ConnectionClosed => f.write_str("connection closed before the reply arrived"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Application(a) => Some(a),
            Error::Protocol(p) => Some(p),
            Error::Transport(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ApplicationException> for Error {
    fn from(e: ApplicationException) -> Self {
        Error::Application(e)
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Error::Protocol(e)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Transport(e)
    }
}
