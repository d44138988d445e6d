//! The async client: calls balanced across a set of endpoints, each with its own pool of
//! connections; calls pipelined on each connection and matched to replies by sequence id; a
//! deadline per call; typed errors.
//!
//! The set is one address ([`Client::builder`]), a fixed list ([`Client::builder_static`]) or a
//! list that changes ([`Client::builder_watch`]: a `watch` channel that discovery, such as
//! `mosaic-client`'s registry watcher, keeps current). The runtime knows nothing of where a
//! list comes from. How calls spread is the [`Balancer`]'s business (`balance.rs`); which
//! endpoints are healthy enough to get calls is passive health's (`health.rs`); the set and
//! what each endpoint keeps across updates is `endpoints.rs`.
//!
//! Generated clients (`ThriftTestClient::new(client)`) wrap a [`Client`]; one `Client` can be
//! shared (it is cheap to clone) by every generated client talking to those endpoints, and
//! [`Client::with_key`] makes a clone whose calls stick to one endpoint by a key.
//!
//! ```no_run
//! # async fn example() -> Result<(), mosaic_runtime::Error> {
//! use std::time::Duration;
//! use mosaic_runtime::client::{Balancer, Client, Endpoint};
//! let one = Client::builder("127.0.0.1:9090")
//!     .timeout(Duration::from_secs(5))
//!     .build();
//! let three = Client::builder_static([
//!     Endpoint::from("10.0.0.1:9090"),
//!     Endpoint::from("10.0.0.2:9090"),
//!     Endpoint::from("10.0.0.3:9090").with_weight(200),
//! ])
//! .balancer(Balancer::ConsistentHash)
//! .build();
//! let sticky = three.with_key("resnet50");
//! # Ok(()) }
//! ```

mod balance;
mod connection;
mod endpoints;
mod health;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::error::{ApplicationException, ApplicationExceptionKind, Error, ProtocolError};
use crate::protocol::{
    BinaryReader, BinaryWriter, CompactReader, CompactWriter, DecodeLimits, MessageType, Protocol,
    ProtocolRead, ProtocolWrite, Struct,
};
use crate::transport::{Encoded, Encoding, Framing};
pub use balance::Balancer;
use connection::Expect;
use endpoints::{Attempt, Current, EndpointState, Layout, Outcome, Set, Source};
pub use endpoints::{Endpoint, EndpointStats};

/// Configures a [`Client`].
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    name: String,
    source: Source,
    balancer: Balancer,
    zone: Option<Box<str>>,
    tags: BTreeMap<String, String>,
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

    /// How calls spread across the endpoints. Default: [`Balancer::PowerOfTwoChoices`].
    pub fn balancer(mut self, balancer: Balancer) -> Self {
        self.balancer = balancer;
        self
    }

    /// Prefers the endpoints of `zone` (as [`Endpoint::zone`] says, e.g. from the registry)
    /// while any of them takes calls and is not ejected; the others get calls only then. The
    /// balancer chooses among the preferred ones as it would among all. Default: none.
    pub fn zone(mut self, zone: impl Into<String>) -> Self {
        self.zone = Some(zone.into().into_boxed_str());
        self
    }

    /// Calls only endpoints tagged `key` = `value` (as [`Endpoint::tags`] says, e.g. from
    /// the registry: `mosaic serve image --tag gpu=a100`); the others are left out of the set
    /// as if unlisted. Several tags must all match. Default: none.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    /// Most connections to open to each endpoint. Calls are pipelined on each connection; a new
    /// connection opens only while every open one has a call in flight. Default: 4.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How many times a call is sent again after a failure that certainly happened before any
    /// handler saw it (no connection could be made, or [`Error::is_retry_safe`]: connection
    /// refused, server overloaded), all within the call's deadline. A retry goes to another
    /// endpoint when there is one, at once; to the same one after a short growing pause
    /// otherwise. Default: 2.
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
    pub fn build(mut self) -> Client {
        let source = std::mem::replace(&mut self.source, Source::Fixed(Vec::new()));
        Client {
            inner: Arc::new(Inner {
                set: Set::new(
                    source,
                    Layout {
                        balancer: self.balancer,
                        zone: self.zone.clone(),
                        tags: self.tags.clone(),
                    },
                ),
                config: self,
                seqid: AtomicI32::new(0),
                next: AtomicUsize::new(0),
            }),
            key: None,
        }
    }
}

/// A client of a set of Thrift servers: a connection pool per endpoint, calls balanced across
/// them. Cheap to clone; clones share the pools.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    /// The hash of the key calls stick by ([`Client::with_key`]).
    key: Option<u64>,
}

struct Inner {
    config: ClientBuilder,
    set: Set,
    seqid: AtomicI32,
    /// Round robin's position.
    next: AtomicUsize,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoints", &self.inner.config.name)
            .field("balancer", &self.inner.config.balancer)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder for a client of `addr` (`host:port`).
    pub fn builder(addr: impl Into<String>) -> ClientBuilder {
        let addr = addr.into();
        Self::configure(addr.clone(), Source::Fixed(vec![Endpoint::from(addr)]))
    }

    /// A builder for a client of a fixed set of endpoints (`Endpoint::from("host:port")`).
    pub fn builder_static<E: Into<Endpoint>>(
        endpoints: impl IntoIterator<Item = E>,
    ) -> ClientBuilder {
        let list: Vec<Endpoint> = endpoints.into_iter().map(Into::into).collect();
        let name = list
            .iter()
            .map(Endpoint::addr)
            .collect::<Vec<_>>()
            .join(",");
        Self::configure(name, Source::Fixed(list))
    }

    /// A builder for a client of a set that changes: every call uses the newest list sent on
    /// the channel; when the sender is gone, the last list stays. Endpoints that stay across
    /// lists (same `host:port`) keep their connections and health. While the list is empty,
    /// a call waits for one until its deadline (or the connect timeout, if it has none).
    pub fn builder_watch(source: watch::Receiver<Arc<[Endpoint]>>) -> ClientBuilder {
        Self::configure("watched endpoints".into(), Source::Watch(source))
    }

    fn configure(name: String, source: Source) -> ClientBuilder {
        ClientBuilder {
            name,
            source,
            balancer: Balancer::default(),
            zone: None,
            tags: BTreeMap::new(),
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

    /// The address this client was built for; for a fixed set, the addresses joined by
    /// commas.
    pub fn addr(&self) -> &str {
        &self.inner.config.name
    }

    /// A clone whose calls carry `key`: under [`Balancer::ConsistentHash`] every call with the
    /// same key goes to the same endpoint while it is in the set and healthy (e.g. the
    /// instance that has a model loaded); other balancers ignore keys. Cheap: the key is
    /// hashed here, once. Generated clients wrap it like any client:
    /// `ImageServiceClient::new(client.with_key("resnet50"))`.
    pub fn with_key(&self, key: impl AsRef<[u8]>) -> Client {
        Client {
            inner: self.inner.clone(),
            key: Some(balance::hash_key(key.as_ref())),
        }
    }

    /// What this client has seen of each endpoint in its current set.
    pub fn stats(&self) -> Vec<EndpointStats> {
        self.inner.set.current().stats()
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
        let config = &self.inner.config;
        let deadline = config.timeout.map(|t| Instant::now() + t);
        let current = self.current(deadline).await;
        let mut avoid: Option<&EndpointState> = None;
        let mut attempt = 0;
        loop {
            let seqid = self.next_seqid();
            let message = self.encode(service, method, MessageType::Call, seqid, args)?;
            let state = self.pick(&current, avoid)?;
            let guard = state.begin();
            let mut connected = false;
            let work = async {
                let conn = state
                    .connection(config)
                    .await
                    .map_err(AttemptError::Unreachable)?;
                connected = true;
                let reply = conn.send(message, Expect::Reply(seqid)).await?;
                Ok(self.decode_reply(reply, method, seqid)?)
            };
            let result = match deadline {
                Some(d) => tokio::time::timeout_at(d, work).await,
                None => Ok(work.await),
            };
            let result = result.unwrap_or(Err(AttemptError::TimedOut { connected }));
            let result = self.settle(guard, result);
            match result {
                // Sent again only if it certainly never reached a handler: no connection was
                // made, or the error says so.
                Err((e, unsent)) if attempt < config.retries && (unsent || e.is_retry_safe()) => {
                    attempt += 1;
                    // Another endpoint at once if there is one; the same one after a pause.
                    if !balance::has_other(&current, state) {
                        self.pause(retry_pause(attempt), deadline).await?;
                    }
                    avoid = Some(state);
                }
                result => return result.map_err(|(e, _)| e),
            }
        }
    }

    /// Sends a oneway call: returns once the message is written; no reply comes.
    pub async fn oneway<A: Struct>(
        &self,
        service: Option<&str>,
        method: &str,
        args: &A,
    ) -> Result<(), Error> {
        let config = &self.inner.config;
        let deadline = config.timeout.map(|t| Instant::now() + t);
        let current = self.current(deadline).await;
        let seqid = self.next_seqid();
        let message = self.encode(service, method, MessageType::Oneway, seqid, args)?;
        let state = self.pick(&current, None)?;
        let guard = state.begin();
        let mut connected = false;
        let work = async {
            let conn = state
                .connection(config)
                .await
                .map_err(AttemptError::Unreachable)?;
            connected = true;
            conn.send(message, Expect::Written).await?;
            Ok(())
        };
        let result = match deadline {
            Some(d) => tokio::time::timeout_at(d, work).await,
            None => Ok(work.await),
        };
        let result = result.unwrap_or(Err(AttemptError::TimedOut { connected }));
        self.settle(guard, result).map_err(|(e, _)| e)
    }

    /// The current snapshot of the set (waiting for a first list if a watched one is empty).
    async fn current(&self, deadline: Option<Instant>) -> Current<'_> {
        let current = self.inner.set.current();
        if !current.members.is_empty() {
            return current;
        }
        let limit = deadline.unwrap_or_else(|| Instant::now() + self.inner.config.connect_timeout);
        self.inner.set.current_or_wait(limit).await
    }

    #[inline]
    fn pick<'s>(
        &self,
        current: &'s Current<'_>,
        avoid: Option<&EndpointState>,
    ) -> Result<&'s EndpointState, Error> {
        let config = &self.inner.config;
        match balance::pick(current, config.balancer, self.key, avoid, &self.inner.next) {
            Some(i) => Ok(&current.members[i].state),
            None => Err(Error::Transport(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                if config.tags.is_empty() {
                    format!("no endpoint of {} takes calls", config.name)
                } else {
                    let tags: Vec<String> = config
                        .tags
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect();
                    format!(
                        "no endpoint of {} tagged {} takes calls",
                        config.name,
                        tags.join(", ")
                    )
                },
            ))),
        }
    }

    /// Ends an attempt: counts it and tells passive health how it went. A failure says
    /// whether the message certainly was not sent (no connection could be made).
    #[inline]
    fn settle<T>(
        &self,
        guard: Attempt<'_>,
        result: Result<T, AttemptError>,
    ) -> Result<T, (Error, bool)> {
        match result {
            Ok(v) => {
                guard.finish(Outcome::Answered);
                Ok(v)
            }
            Err(AttemptError::Unreachable(e)) => {
                guard.finish(Outcome::Unreachable);
                Err((e, true))
            }
            Err(AttemptError::TimedOut { connected }) => {
                // Not connected by the deadline: as good as refused. Connected: slow or hung,
                // which only a run of timeouts tells apart.
                guard.finish(if connected {
                    Outcome::TimedOut
                } else {
                    Outcome::Unreachable
                });
                let t = self.inner.config.timeout.unwrap_or_default();
                Err((Error::Timeout(t), false))
            }
            Err(AttemptError::Failed(e)) => {
                guard.finish(match e {
                    // The server answered: it is up, whatever it said.
                    Error::Application(_) | Error::Overloaded(_) => Outcome::Answered,
                    _ => Outcome::Failed,
                });
                Err((e, false))
            }
        }
    }

    /// Waits before a retry; the deadline ends the call if it comes first.
    async fn pause(&self, pause: Duration, deadline: Option<Instant>) -> Result<(), Error> {
        let until = Instant::now() + pause;
        match (deadline, self.inner.config.timeout) {
            (Some(d), Some(t)) if d <= until => {
                tokio::time::sleep_until(d).await;
                Err(Error::Timeout(t))
            }
            _ => {
                tokio::time::sleep_until(until).await;
                Ok(())
            }
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
}

/// How an attempt failed, as passive health needs to know it.
enum AttemptError {
    /// No connection could be opened.
    Unreachable(Error),
    /// The deadline passed; `connected` if it passed after the connection was made.
    TimedOut { connected: bool },
    /// Anything else.
    Failed(Error),
}

impl From<Error> for AttemptError {
    fn from(e: Error) -> Self {
        AttemptError::Failed(e)
    }
}

impl From<ProtocolError> for AttemptError {
    fn from(e: ProtocolError) -> Self {
        AttemptError::Failed(Error::Protocol(e))
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
