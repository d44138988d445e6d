//! The async client: a pool of connections to one address, calls pipelined on each connection
//! and matched to replies by sequence id, a deadline per call, and typed errors.
//!
//! Generated clients (`ThriftTestClient::new(client)`) wrap a [`Client`]; one `Client` can be
//! shared (it is cheap to clone) by every generated client talking to that address.
//!
//! ```no_run
//! # async fn example() -> Result<(), mosaic_runtime::Error> {
//! use std::time::Duration;
//! let client = mosaic_runtime::Client::builder("127.0.0.1:9090")
//!     .timeout(Duration::from_secs(5))
//!     .build();
//! # Ok(()) }
//! ```

mod connection;

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::error::{ApplicationException, ApplicationExceptionKind, Error, ProtocolError};
use crate::protocol::{
    BinaryReader, BinaryWriter, CompactReader, CompactWriter, DecodeLimits, MessageType, Protocol,
    ProtocolRead, ProtocolWrite, Struct,
};
use crate::transport::{Encoded, Encoding, Framing};
use connection::{Connection, Expect};

/// Configures a [`Client`].
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    addr: String,
    encoding: Encoding,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    max_connections: usize,
    max_message_size: usize,
    decode_limits: DecodeLimits,
    retries: u32,
}

impl ClientBuilder {
    /// The protocol to speak. Default: [`Protocol::Binary`].
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.encoding.protocol = protocol;
        self
    }

    /// The framing to use. Default: [`Framing::Framed`].
    pub fn framing(mut self, framing: Framing) -> Self {
        self.encoding.framing = framing;
        self
    }

    /// The deadline of each call, from its start to its reply. Default: none.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long connecting may take. Default: 5 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Most connections to open to the address. Calls are pipelined on each connection; a new
    /// connection opens only while every open one has a call in flight. Default: 4.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How many times a call is sent again after a failure that certainly happened before any
    /// handler saw it (connection refused, server overloaded: [`Error::is_retry_safe`]), with
    /// a short growing pause between attempts, all within the call's deadline. Default: 2.
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// Largest reply accepted, in bytes. Default: 96 MiB.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self.decode_limits.max_string_len = self.decode_limits.max_string_len.min(bytes);
        self
    }

    /// Builds the client. Connections open on first use.
    pub fn build(self) -> Client {
        Client {
            inner: Arc::new(Inner {
                config: self,
                pool: Mutex::new(Vec::new()),
                seqid: AtomicI32::new(0),
            }),
        }
    }
}

/// A connection pool to one Thrift server. Cheap to clone; clones share the pool.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: ClientBuilder,
    pool: Mutex<Vec<Arc<Connection>>>,
    seqid: AtomicI32,
}

impl Client {
    /// A builder for a client of `addr` (`host:port`).
    pub fn builder(addr: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            addr: addr.into(),
            encoding: Encoding {
                protocol: Protocol::Binary,
                framing: Framing::Framed,
            },
            timeout: None,
            connect_timeout: Duration::from_secs(5),
            max_connections: 4,
            retries: 2,
            max_message_size: 96 * 1024 * 1024,
            decode_limits: DecodeLimits {
                max_string_len: 96 * 1024 * 1024,
                ..DecodeLimits::default()
            },
        }
    }

    /// The address this client talks to.
    pub fn addr(&self) -> &str {
        &self.inner.config.addr
    }

    /// Calls `method` with the argument struct `args` and returns the decoded result struct.
    /// `service` is the `TMultiplexedProtocol` service name, if the server multiplexes.
    /// An EXCEPTION reply becomes [`Error::Application`].
    pub async fn call<A: Struct, R: Struct>(
        &self,
        service: Option<&str>,
        method: &str,
        args: &A,
    ) -> Result<R, Error> {
        let work = async {
            let mut attempt = 0;
            loop {
                match self.call_once(service, method, args).await {
                    Err(e) if attempt < self.inner.config.retries && e.is_retry_safe() => {
                        attempt += 1;
                        tokio::time::sleep(retry_pause(attempt)).await;
                    }
                    result => return result,
                }
            }
        };
        match self.inner.config.timeout {
            Some(t) => tokio::time::timeout(t, work)
                .await
                .unwrap_or(Err(Error::Timeout(t))),
            None => work.await,
        }
    }

    async fn call_once<A: Struct, R: Struct>(
        &self,
        service: Option<&str>,
        method: &str,
        args: &A,
    ) -> Result<R, Error> {
        let seqid = self.next_seqid();
        let message = self.encode(service, method, MessageType::Call, seqid, args)?;
        let conn = self.connection().await?;
        let reply = conn.send(message, Expect::Reply(seqid)).await?;
        self.decode_reply(reply, method, seqid)
    }

    /// Sends a oneway call: returns once the message is written; no reply comes.
    pub async fn oneway<A: Struct>(
        &self,
        service: Option<&str>,
        method: &str,
        args: &A,
    ) -> Result<(), Error> {
        let work = async {
            let seqid = self.next_seqid();
            let message = self.encode(service, method, MessageType::Oneway, seqid, args)?;
            let conn = self.connection().await?;
            conn.send(message, Expect::Written).await.map(drop)
        };
        match self.inner.config.timeout {
            Some(t) => tokio::time::timeout(t, work)
                .await
                .unwrap_or(Err(Error::Timeout(t))),
            None => work.await,
        }
    }

    fn next_seqid(&self) -> i32 {
        self.inner
            .seqid
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1)
    }

    fn encode<A: Struct>(
        &self,
        service: Option<&str>,
        method: &str,
        kind: MessageType,
        seqid: i32,
        args: &A,
    ) -> Result<Encoded, Error> {
        fn write<W: ProtocolWrite, A: Struct>(
            w: &mut W,
            name: &str,
            kind: MessageType,
            seqid: i32,
            args: &A,
        ) -> Result<(), ProtocolError> {
            w.write_message_begin(name, kind, seqid)?;
            args.encode(w)
        }
        let prefixed;
        let name = match service {
            Some(s) => {
                prefixed = format!("{s}:{method}");
                prefixed.as_str()
            }
            None => method,
        };
        // Large `binary` arguments (images, tensors) are kept by reference, not copied.
        let mut buf = BytesMut::with_capacity(128);
        let mut chunks = Vec::new();
        match self.inner.config.encoding.protocol {
            Protocol::Binary => write(
                &mut BinaryWriter::with_chunks(&mut buf, &mut chunks),
                name,
                kind,
                seqid,
                args,
            )?,
            Protocol::Compact => write(
                &mut CompactWriter::with_chunks(&mut buf, &mut chunks),
                name,
                kind,
                seqid,
                args,
            )?,
        }
        let len = chunks.iter().map(Bytes::len).sum::<usize>() + buf.len();
        if len > self.inner.config.max_message_size {
            return Err(Error::Protocol(ProtocolError::new(
                crate::ProtocolErrorKind::SizeLimit,
                format!(
                    "the call of {method} encodes to {len} bytes, over the limit of {}",
                    self.inner.config.max_message_size
                ),
            )));
        }
        Ok((chunks, buf))
    }

    fn decode_reply<R: Struct>(&self, reply: Bytes, method: &str, seqid: i32) -> Result<R, Error> {
        let limits = self.inner.config.decode_limits;
        match self.inner.config.encoding.protocol {
            Protocol::Binary => read_reply(BinaryReader::new(reply, limits), method, seqid),
            Protocol::Compact => read_reply(CompactReader::new(reply, limits), method, seqid),
        }
    }

    /// The least busy open connection, or a new one while the pool has room and every open
    /// connection is busy.
    async fn connection(&self) -> Result<Arc<Connection>, Error> {
        let config = &self.inner.config;
        {
            let mut pool = self.inner.pool.lock().unwrap_or_else(|e| e.into_inner());
            pool.retain(|c| !c.is_closed());
            let best = pool.iter().min_by_key(|c| c.in_flight()).cloned();
            match best {
                Some(c) if c.in_flight() == 0 || pool.len() >= config.max_connections => {
                    return Ok(c)
                }
                _ => {}
            }
        }
        let conn = Arc::new(
            Connection::open(
                &config.addr,
                config.connect_timeout,
                config.encoding,
                config.max_message_size,
                config.decode_limits,
            )
            .await?,
        );
        let mut pool = self.inner.pool.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < config.max_connections {
            pool.push(conn.clone());
        }
        Ok(conn)
    }
}

/// The pause before retry number `attempt` (1, 2, ...): 25 ms, doubling, at most 1 s.
fn retry_pause(attempt: u32) -> Duration {
    Duration::from_millis(25u64 << attempt.saturating_sub(1).min(5)).min(Duration::from_secs(1))
}

fn read_reply<R: ProtocolRead, T: Struct>(mut r: R, method: &str, seqid: i32) -> Result<T, Error> {
    let header = r.read_message_begin()?;
    if header.seqid != seqid {
        return Err(Error::Application(ApplicationException::new(
            ApplicationExceptionKind::BAD_SEQUENCE_ID,
            format!(
                "reply to {method} has sequence id {} instead of {seqid}",
                header.seqid
            ),
        )));
    }
    // Servers answer with the bare method name; some echo a multiplexing prefix.
    let name = header.name();
    let bare = name.rsplit_once(':').map_or(name, |(_, m)| m);
    if bare != method {
        return Err(Error::Application(ApplicationException::new(
            ApplicationExceptionKind::WRONG_METHOD_NAME,
            format!("the reply to {method} (sequence id {seqid}) is for method {name}"),
        )));
    }
    match header.kind {
        MessageType::Reply => Ok(T::decode(&mut r)?),
        MessageType::Exception => Err(Error::Application(ApplicationException::decode(&mut r)?)),
        other => Err(Error::Application(ApplicationException::new(
            ApplicationExceptionKind::INVALID_MESSAGE_TYPE,
            format!("reply to {method} is a {other:?} message"),
        ))),
    }
}
