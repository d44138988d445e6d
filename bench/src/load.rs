//! The load driver: `connections` TCP connections, each with `in_flight` calls outstanding at
//! all times, for a warm-up and then a measured window.
//!
//! Each connection is one task that owns its socket and keeps its calls pipelined: as soon as a
//! reply arrives, its sequence id is matched against the calls in flight, the reply is checked,
//! and a new call is queued. Calls freed by one read go out in one write, as any pipelining client
//! would send them. Reading and writing are driven from socket readiness in one loop, so a
//! connection whose requests and replies are both 1 MiB never blocks writing while the server
//! blocks writing back.
//!
//! The driver is built for a `current_thread` runtime: the servers and the load generator share
//! two cores, and one thread keeps the load generator's share near one core, the same for every
//! server.

use std::{
    io,
    net::SocketAddr,
    time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context, Result};
use bytes::{Buf, BytesMut};
use hdrhistogram::Histogram;
use tokio::{
    io::Interest,
    net::TcpStream,
    time::{timeout, timeout_at},
};

use crate::wire::{self, CallTemplate};

/// Calls larger than this are written straight from the connection's template, one at a time,
/// instead of being copied into a batch.
const BATCH_LIMIT: usize = 64 * 1024;

/// How long connecting, and finishing the calls in flight after the window, may take.
const GRACE: Duration = Duration::from_secs(10);

/// One load run against one server.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// The call to repeat.
    pub call: CallTemplate,
    /// Number of TCP connections.
    pub connections: usize,
    /// Calls outstanding on each connection.
    pub in_flight: usize,
    /// Time under load before measuring.
    pub warmup: Duration,
    /// The measured window.
    pub measure: Duration,
    /// Compare every byte of large echoes (see [`CallTemplate::check_reply`]).
    pub full_check: bool,
    /// Send the calls freed by one read in one write. Off, each call gets its own write, as
    /// independent callers sharing a connection would send them, and a server can only batch
    /// what happens to arrive together.
    pub coalesce: bool,
}

/// The two instants at which the caller samples the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// The warm-up ends and counting starts.
    MeasureStart,
    /// Counting ends.
    MeasureEnd,
}

/// What one load run measured.
#[derive(Debug, Clone)]
pub struct LoadResult {
    /// Replies received inside the measured window.
    pub calls: u64,
    /// Replies received in the whole run, warm-up and drain included; every one was checked.
    pub checked: u64,
    /// The measured window.
    pub window: Duration,
    /// Latency of the calls completed in the window, in nanoseconds, from the moment the call
    /// was handed to the socket to the moment its reply was parsed.
    pub latency: Histogram<u64>,
}

impl LoadResult {
    /// Calls per second over the measured window.
    pub fn qps(&self) -> f64 {
        self.calls as f64 / self.window.as_secs_f64()
    }
}

/// A latency histogram from 1 ns to 100 s at 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000_000, 3).expect("constant bounds are valid")
}

/// Runs `spec` against `addr`, calling `at_edge` when the measured window starts and ends.
///
/// `at_edge` runs on a thread of its own, so it fires on time even while the connection tasks
/// keep the runtime's one thread busy (a read of a 1 MiB reply is not a short step).
///
/// # Errors
///
/// A connection fails, the server closes one, a reply is wrong (bad framing, wrong type, unknown
/// sequence id, wrong content), or the calls in flight do not finish within 10 s of the window.
pub async fn run(
    addr: SocketAddr,
    spec: &LoadSpec,
    mut at_edge: impl FnMut(Edge) + Send + 'static,
) -> Result<LoadResult> {
    if spec.connections == 0 || spec.in_flight == 0 {
        bail!("connections and in-flight calls must be at least 1");
    }
    let mut streams = Vec::with_capacity(spec.connections);
    for i in 0..spec.connections {
        let stream = timeout(GRACE, TcpStream::connect(addr))
            .await
            .map_err(|_| anyhow!("connecting to {addr} timed out"))?
            .with_context(|| format!("connection {i} to {addr}"))?;
        stream.set_nodelay(true)?;
        streams.push(stream);
    }

    let start = Instant::now();
    let window = Window {
        from: start + spec.warmup,
        to: start + spec.warmup + spec.measure,
    };
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|stream| {
            let conn = Conn::new(stream, spec, window);
            tokio::spawn(timeout_at((window.to + GRACE).into(), conn.drive()))
        })
        .collect();

    let sampler = std::thread::spawn(move || {
        std::thread::sleep(window.from.saturating_duration_since(Instant::now()));
        at_edge(Edge::MeasureStart);
        std::thread::sleep(window.to.saturating_duration_since(Instant::now()));
        at_edge(Edge::MeasureEnd);
    });

    let mut result = LoadResult {
        calls: 0,
        checked: 0,
        window: spec.measure,
        latency: new_histogram(),
    };
    for (i, task) in tasks.into_iter().enumerate() {
        let stats = task
            .await
            .context("connection task panicked")?
            .map_err(|_| {
                anyhow!("connection {i}: calls still in flight {GRACE:?} after the window")
            })?
            .with_context(|| format!("connection {i}"))?;
        result.calls += stats.calls;
        result.checked += stats.checked;
        result.latency.add(&stats.latency)?;
    }
    // The tasks run past `window.to`, so the sampler is done or about to be.
    sampler
        .join()
        .map_err(|_| anyhow!("the window sampler panicked"))?;
    Ok(result)
}

#[derive(Debug, Clone, Copy)]
struct Window {
    from: Instant,
    to: Instant,
}

struct ConnStats {
    calls: u64,
    checked: u64,
    latency: Histogram<u64>,
}

struct Conn {
    stream: TcpStream,
    call: CallTemplate,
    window: Window,
    full_check: bool,
    coalesce: bool,
    /// Sequence id and send time of each call in flight (at most `in_flight`, so a scan is
    /// cheaper than a map).
    in_flight: Vec<(i32, Instant)>,
    next_seqid: i32,
    /// Small calls waiting to be written, and how much of them is written.
    out: Vec<u8>,
    out_pos: usize,
    /// Large calls: how many wait, and how far the current one (in `call`'s bytes) is written.
    large_waiting: usize,
    large_pos: Option<usize>,
    input: BytesMut,
    stats: ConnStats,
}

impl Conn {
    fn new(stream: TcpStream, spec: &LoadSpec, window: Window) -> Self {
        let mut conn = Conn {
            stream,
            call: spec.call.clone(),
            window,
            full_check: spec.full_check,
            coalesce: spec.coalesce,
            in_flight: Vec::with_capacity(spec.in_flight),
            next_seqid: 1,
            out: Vec::new(),
            out_pos: 0,
            large_waiting: 0,
            large_pos: None,
            input: BytesMut::with_capacity(64 * 1024),
            stats: ConnStats {
                calls: 0,
                checked: 0,
                latency: new_histogram(),
            },
        };
        let now = Instant::now();
        for _ in 0..spec.in_flight {
            conn.queue_call(now);
        }
        conn
    }

    fn large(&self) -> bool {
        self.call.bytes().len() > BATCH_LIMIT
    }

    fn take_seqid(&mut self) -> i32 {
        let seqid = self.next_seqid;
        self.next_seqid = self.next_seqid.wrapping_add(1);
        seqid
    }

    fn queue_call(&mut self, now: Instant) {
        if self.large() {
            self.large_waiting += 1;
        } else {
            let seqid = self.take_seqid();
            self.call.append(&mut self.out, seqid);
            self.in_flight.push((seqid, now));
        }
    }

    fn wants_write(&self) -> bool {
        self.out_pos < self.out.len() || self.large_pos.is_some() || self.large_waiting > 0
    }

    /// Writes what it can without blocking; returns at `WouldBlock` or when nothing is left.
    fn write_some(&mut self) -> io::Result<()> {
        loop {
            if self.out_pos < self.out.len() {
                // `out` holds whole calls of one length from offset 0, so call boundaries are
                // multiples of that length.
                let end = if self.coalesce {
                    self.out.len()
                } else {
                    let len = self.call.bytes().len();
                    (self.out_pos / len + 1) * len
                };
                let n = self.stream.try_write(&self.out[self.out_pos..end])?;
                self.out_pos += n;
                if self.out_pos == self.out.len() {
                    self.out.clear();
                    self.out_pos = 0;
                }
            } else if let Some(pos) = self.large_pos {
                let n = self.stream.try_write(&self.call.bytes()[pos..])?;
                let pos = pos + n;
                self.large_pos = (pos < self.call.bytes().len()).then_some(pos);
            } else if self.large_waiting > 0 {
                // The template is patched only between calls, never while one is half written.
                self.large_waiting -= 1;
                let seqid = self.take_seqid();
                self.call.set_seqid(seqid);
                self.in_flight.push((seqid, Instant::now()));
                self.large_pos = Some(0);
            } else {
                return Ok(());
            }
        }
    }

    /// Parses every complete reply in the input buffer.
    fn take_replies(&mut self) -> Result<()> {
        let now = Instant::now();
        let counted = now >= self.window.from && now < self.window.to;
        let mut used = 0;
        while let Some(len) = wire::frame_len(&self.input[used..])? {
            let frame = &self.input[used + 4..used + 4 + len];
            let seqid = self.call.check_reply(frame, self.full_check)?;
            let at = self
                .in_flight
                .iter()
                .position(|&(s, _)| s == seqid)
                .ok_or_else(|| anyhow!("reply with seqid {seqid}, which is not in flight"))?;
            let (_, sent) = self.in_flight.swap_remove(at);
            used += 4 + len;
            self.stats.checked += 1;
            if counted {
                self.stats.calls += 1;
                let ns = now.saturating_duration_since(sent).as_nanos();
                self.stats
                    .latency
                    .saturating_record(u64::try_from(ns).unwrap_or(u64::MAX));
            }
            if now < self.window.to {
                self.queue_call(now);
            }
        }
        self.input.advance(used);
        // Make room for a whole large reply at once instead of growing it read by read.
        if let (Some(head), Ok(None)) = (self.input.get(..4), wire::frame_len(&self.input)) {
            let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
            self.input
                .reserve((4 + len).saturating_sub(self.input.len()));
        }
        Ok(())
    }

    async fn drive(mut self) -> Result<ConnStats> {
        // Bounded: calls are queued only before `window.to`, so once those replies are in the
        // loop ends; the caller's timeout bounds a server that stops answering.
        while !self.in_flight.is_empty() || self.wants_write() {
            if self.wants_write() {
                match self.write_some() {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e).context("writing calls"),
                }
            }
            let interest = if self.wants_write() {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            let ready = self.stream.ready(interest).await?;
            if ready.is_readable() {
                if self.input.capacity() - self.input.len() < 4096 {
                    self.input.reserve(64 * 1024);
                }
                match self.stream.try_read_buf(&mut self.input) {
                    Ok(0) => bail!(
                        "server closed the connection with {} calls in flight",
                        self.in_flight.len()
                    ),
                    Ok(_) => self.take_replies()?,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e).context("reading replies"),
                }
            }
        }
        Ok(self.stats)
    }
}
