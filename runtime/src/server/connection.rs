//! One connection: read messages, run calls concurrently, write replies in batches.

use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;

use bytes::{Bytes, BytesMut};
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::Instrument;

use super::{Call, CallFuture, Reply, Shared};
use crate::error::{ApplicationException, ApplicationExceptionKind, ProtocolError};
use crate::protocol::{
    BinaryReader, CompactReader, MessageHeader, MessageType, Protocol, ProtocolRead,
};
use crate::transport::{write_messages, Charge, Encoded, Framing, MessageBuffer};

type InFlight = tracing::instrument::Instrumented<CallFuture>;

pub(super) async fn serve(
    mut stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    // Replies are written whole and at once; Nagle's algorithm would only delay them.
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.split();
    let limits = &shared.limits;
    let mut input = MessageBuffer::new(None, limits.max_message_size, limits.decode)
        .with_budget(shared.budget.clone());
    let mut in_flight: FuturesUnordered<InFlight> = FuturesUnordered::new();
    let mut ready: Vec<Encoded> = Vec::new();
    let mut out = BytesMut::new();
    let mut reading = true;
    // One waiter for the whole connection: registering a fresh one on every loop turn would
    // take the watch channel's lock twice per call.
    let shutdown = stop.changed();
    tokio::pin!(shutdown);
    // When the bytes of an unfinished message started waiting: a peer gets
    // `Limits::message_timeout` to finish a message it started.
    let mut partial_since: Option<Instant> = None;

    loop {
        // Start every call that is already buffered, up to the in-flight limit. A call whose
        // handler finishes at once is answered without going through the in-flight set.
        while reading && in_flight.len() < limits.max_in_flight_per_connection {
            let message = match input.next_message() {
                Ok(Some(m)) => {
                    // The clock for unfinished messages restarts with every finished one.
                    partial_since = None;
                    m
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(%peer, error = %e, "closing connection: bad bytes from peer");
                    reading = false;
                    break;
                }
            };
            let protocol = input.encoding().map_or(Protocol::Binary, |e| e.protocol);
            let charge = input.take_charge();
            let mut call = match start_call(message, charge, protocol, &shared) {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(%peer, error = %e, "closing connection: bad message");
                    reading = false;
                    break;
                }
            };
            match std::future::poll_fn(|cx| Poll::Ready(call.poll_unpin(cx))).await {
                Poll::Ready(reply) => reading &= push_reply(&mut ready, reply),
                Poll::Pending => in_flight.push(call),
            }
        }

        // Collect whatever else has finished, then write it all.
        while let Some(Some(reply)) = in_flight.next().now_or_never() {
            reading &= push_reply(&mut ready, reply);
        }
        if !ready.is_empty() {
            let framing = input.encoding().map_or(Framing::Framed, |e| e.framing);
            if let Err(e) = write_messages(&mut wr, ready.drain(..), &mut out, framing).await {
                tracing::debug!(%peer, error = %e, "closing connection: write failed");
                return;
            }
        }
        if !reading && in_flight.is_empty() {
            break;
        }

        if reading {
            if let Err(e) = input.reserve_for_read() {
                tracing::warn!(%peer, error = %e, "closing connection");
                reading = false;
                continue;
            }
        }
        let can_read = reading && in_flight.len() < limits.max_in_flight_per_connection;
        partial_since = match (input.pending(), partial_since) {
            (0, _) => None,
            (_, None) => Some(Instant::now()),
            (_, since) => since,
        };
        let give_up = partial_since.map(|t| t + limits.message_timeout);
        tokio::select! {
            biased;
            Some(reply) = in_flight.next(), if !in_flight.is_empty() => reading &= push_reply(&mut ready, reply),
            read = rd.read_buf(input.buffer_mut()), if can_read => match read {
                Ok(0) => {
                    if input.pending() > 0 {
                        tracing::debug!(%peer, pending = input.pending(),
                            "peer closed in the middle of a message");
                    }
                    reading = false;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "closing connection: read failed");
                    return;
                }
            },
            changed = &mut shutdown, if reading => {
                // Shutdown (or the server is gone): take no new calls, finish the running ones.
                let _ = changed;
                reading = false;
            }
            _ = sleep_until(give_up), if can_read && give_up.is_some() => {
                tracing::warn!(%peer, pending = input.pending(), timeout = ?limits.message_timeout,
                    "closing connection: a message was not finished in time");
                reading = false;
            }
        }
    }
    let _ = wr.shutdown().await;
}

/// Parses the message header, routes the call, and starts its handler.
fn start_call(
    message: Bytes,
    charge: Option<Charge>,
    protocol: Protocol,
    shared: &Shared,
) -> Result<InFlight, ProtocolError> {
    let limits = shared.limits.decode;
    let (header, args_at) = match protocol {
        Protocol::Binary => header(BinaryReader::new(message.clone(), limits), |r| r.position())?,
        Protocol::Compact => header(CompactReader::new(message.clone(), limits), |r| {
            r.position()
        })?,
    };
    if !matches!(header.kind, MessageType::Call | MessageType::Oneway) {
        return Err(ProtocolError::new(
            crate::ProtocolErrorKind::InvalidData,
            format!("a server takes calls, not {:?} messages", header.kind),
        ));
    }
    let name = header.name();
    let span = tracing::debug_span!("call", method = name, seqid = header.seqid);
    let args = message.slice(args_at..);
    let future = match shared.router.route(name) {
        Some((service, method)) => {
            let prefix = name.len() - method.len();
            let method = header.name_bytes().slice(prefix..);
            service.call(Call::new(
                method,
                header.seqid,
                header.kind,
                protocol,
                args,
                limits,
                charge,
            ))
        }
        None => {
            let call = Call::new(
                header.name_bytes().clone(),
                header.seqid,
                header.kind,
                protocol,
                args,
                limits,
                charge,
            );
            let service = name.split(':').next().unwrap_or_default();
            let reply = call.exception(&ApplicationException::new(
                ApplicationExceptionKind::UNKNOWN_METHOD,
                format!("unknown service {service} (in method name {name})"),
            ));
            Box::pin(std::future::ready(reply))
        }
    };
    Ok(future.instrument(span))
}

fn header<R: ProtocolRead>(
    mut reader: R,
    position: impl Fn(&R) -> usize,
) -> Result<(MessageHeader, usize), ProtocolError> {
    let h = reader.read_message_begin()?;
    Ok((h, position(&reader)))
}

/// Queues a reply for writing; returns false when the connection must close after it.
/// Sleeps until `deadline` (the select guard makes sure there is one).
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn push_reply(ready: &mut Vec<Encoded>, reply: Reply) -> bool {
    if let Some(message) = reply.message {
        ready.push(message);
    }
    !reply.close
}
