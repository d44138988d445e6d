//! One client connection: a writer task that batches outgoing calls, a reader task that hands
//! each reply to the call waiting for its sequence id.
//!
//! Reading and writing run in separate tasks so that a large request being written never stops
//! replies from being read (which could otherwise deadlock both ends on full socket buffers).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, ProtocolError};
use crate::protocol::{BinaryReader, CompactReader, DecodeLimits, Protocol, ProtocolRead};
use crate::transport::{write_messages, Encoded, Encoding, Framing, MessageBuffer};

/// What a sent message waits for.
pub(super) enum Expect {
    /// The reply with this sequence id.
    Reply(i32),
    /// Only for the message to be written (oneway calls).
    Written,
}

type ReplySender = oneshot::Sender<Result<Bytes, Error>>;

/// Calls waiting for replies, by sequence id; `None` once the connection has failed.
#[derive(Debug, Default)]
struct Pending(Mutex<Option<HashMap<i32, ReplySender>>>);

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<HashMap<i32, ReplySender>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn insert(&self, seqid: i32, tx: ReplySender) -> Result<(), Error> {
        match self.lock().as_mut() {
            Some(map) => {
                map.insert(seqid, tx);
                Ok(())
            }
            None => Err(Error::ConnectionClosed),
        }
    }

    fn take(&self, seqid: i32) -> Option<ReplySender> {
        self.lock().as_mut().and_then(|m| m.remove(&seqid))
    }

    fn len(&self) -> usize {
        self.lock().as_ref().map_or(0, HashMap::len)
    }

    /// Fails every waiting call and refuses new ones.
    fn close(&self, reason: impl Fn() -> Error) {
        if let Some(map) = self.lock().take() {
            for (_, tx) in map {
                let _ = tx.send(Err(reason()));
            }
        }
    }
}

struct Outgoing {
    message: Encoded,
    written: Option<oneshot::Sender<Result<(), Error>>>,
}

#[derive(Debug)]
pub(super) struct Connection {
    tx: mpsc::Sender<Outgoing>,
    pending: Arc<Pending>,
    closed: Arc<AtomicBool>,
}

impl Connection {
    pub(super) async fn open(
        addr: &str,
        connect_timeout: Duration,
        encoding: Encoding,
        max_message: usize,
        limits: DecodeLimits,
    ) -> Result<Connection, Error> {
        let stream = tokio::time::timeout(connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| {
                Error::Transport(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("connecting to {addr} took longer than {connect_timeout:?}"),
                ))
            })??;
        let _ = stream.set_nodelay(true);
        let (rd, wr) = stream.into_split();
        let (tx, rx) = mpsc::channel(1024);
        let pending = Arc::new(Pending(Mutex::new(Some(HashMap::new()))));
        let closed = Arc::new(AtomicBool::new(false));
        tokio::spawn(write_loop(
            wr,
            rx,
            encoding.framing,
            pending.clone(),
            closed.clone(),
        ));
        tokio::spawn(read_loop(
            rd,
            MessageBuffer::new(Some(encoding), max_message, limits),
            encoding.protocol,
            limits,
            pending.clone(),
            closed.clone(),
        ));
        Ok(Connection {
            tx,
            pending,
            closed,
        })
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    pub(super) fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Sends an encoded message and waits for what `expect` says. Returns the reply message, or empty bytes for [`Expect::Written`].
    pub(super) async fn send(&self, message: Encoded, expect: Expect) -> Result<Bytes, Error> {
        match expect {
            Expect::Reply(seqid) => {
                let (tx, rx) = oneshot::channel();
                self.pending.insert(seqid, tx)?;
                // Forget the entry if this call is dropped (deadline passed, caller gave up).
                let guard = Forget {
                    pending: &self.pending,
                    seqid,
                };
                self.tx
                    .send(Outgoing {
                        message,
                        written: None,
                    })
                    .await
                    .map_err(|_| Error::ConnectionClosed)?;
                let reply = rx.await.unwrap_or(Err(Error::ConnectionClosed));
                std::mem::forget(guard);
                reply
            }
            Expect::Written => {
                let (tx, rx) = oneshot::channel();
                self.tx
                    .send(Outgoing {
                        message,
                        written: Some(tx),
                    })
                    .await
                    .map_err(|_| Error::ConnectionClosed)?;
                rx.await.unwrap_or(Err(Error::ConnectionClosed))?;
                Ok(Bytes::new())
            }
        }
    }
}

struct Forget<'a> {
    pending: &'a Pending,
    seqid: i32,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.pending.take(self.seqid);
    }
}

/// Most messages gathered into one write.
const BATCH_MESSAGES: usize = 64;

async fn write_loop(
    mut wr: OwnedWriteHalf,
    mut rx: mpsc::Receiver<Outgoing>,
    framing: Framing,
    pending: Arc<Pending>,
    closed: Arc<AtomicBool>,
) {
    let mut out = BytesMut::new();
    let mut batch = Vec::new();
    let mut acks = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(o) = next.take() {
            batch.push(o.message);
            acks.extend(o.written);
            if batch.len() < BATCH_MESSAGES {
                next = rx.try_recv().ok();
            }
        }
        let result = write_messages(&mut wr, batch.drain(..), &mut out, framing).await;
        for ack in acks.drain(..) {
            let _ = ack.send(match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(Error::Transport(std::io::Error::new(
                    e.kind(),
                    e.to_string(),
                ))),
            });
        }
        if let Err(e) = result {
            tracing::debug!(error = %e, "client connection: write failed");
            closed.store(true, Ordering::Relaxed);
            pending.close(|| Error::Transport(std::io::Error::new(e.kind(), e.to_string())));
            return;
        }
    }
    // Every handle to the connection is gone.
    let _ = wr.shutdown().await;
}

async fn read_loop(
    mut rd: OwnedReadHalf,
    mut input: MessageBuffer,
    protocol: Protocol,
    limits: DecodeLimits,
    pending: Arc<Pending>,
    closed: Arc<AtomicBool>,
) {
    let failure = loop {
        if let Err(e) = deliver(&mut input, protocol, limits, &pending) {
            break Error::Protocol(e);
        }
        if let Err(e) = input.reserve_for_read() {
            break Error::Protocol(e);
        }
        match rd.read_buf(input.buffer_mut()).await {
            Ok(0) => break Error::ConnectionClosed,
            Ok(_) => {}
            Err(e) => break Error::Transport(e),
        }
    };
    closed.store(true, Ordering::Relaxed);
    let message = failure.to_string();
    pending.close(|| match &failure {
        Error::ConnectionClosed => Error::ConnectionClosed,
        Error::Protocol(e) => Error::Protocol(e.clone()),
        _ => Error::Transport(std::io::Error::other(message.clone())),
    });
}

/// Hands every whole reply in the buffer to the call waiting for it.
fn deliver(
    input: &mut MessageBuffer,
    protocol: Protocol,
    limits: DecodeLimits,
    pending: &Pending,
) -> Result<(), ProtocolError> {
    while let Some(message) = input.next_message()? {
        let seqid = seqid_of(&message, protocol, limits)?;
        match pending.take(seqid) {
            Some(tx) => {
                let _ = tx.send(Ok(message));
            }
            None => tracing::debug!(seqid, "reply for a call no longer waiting"),
        }
    }
    Ok(())
}

fn seqid_of(
    message: &Bytes,
    protocol: Protocol,
    limits: DecodeLimits,
) -> Result<i32, ProtocolError> {
    let header = match protocol {
        Protocol::Binary => BinaryReader::new(message.clone(), limits).read_message_begin()?,
        Protocol::Compact => CompactReader::new(message.clone(), limits).read_message_begin()?,
    };
    Ok(header.seqid)
}
