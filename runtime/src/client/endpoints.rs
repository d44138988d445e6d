//! The endpoints a client balances across: what one is ([`Endpoint`]), where the set comes from
//! (a fixed list, or a `watch` channel that discovery keeps current), and what each endpoint
//! keeps while it stays in the set (its connection pool, counters and health).
//!
//! Calls read an immutable [`Snapshot`] of the set. A fixed set is one snapshot for the client's
//! life, read without any lock; a watched set swaps in a new snapshot when the channel says the
//! list changed (checked under a mutex held for a pointer copy). An endpoint that stays in the
//! list across an update keeps its state (same `host:port`), so its connections survive the
//! registry's churn; one that leaves is dropped with its connections once no call uses it.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use super::balance::{Balancer, Plan};
use super::connection::Connection;
use super::health::Health;
use super::ClientBuilder;
use crate::error::Error;

/// One server a client may call: where it is, its share of calls, and what it says about itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Endpoint {
    /// A host name or IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// Its relative share of calls; 0 keeps it in the set but sends it no new calls (it is
    /// draining). Default: [`Endpoint::DEFAULT_WEIGHT`].
    pub weight: u32,
    /// Where it runs (a rack, a zone), as the registry reports it.
    pub zone: Option<String>,
    /// Free-form labels, as the registry reports them.
    pub tags: BTreeMap<String, String>,
}

impl Endpoint {
    /// The weight of an endpoint that does not say (the registry's default too).
    pub const DEFAULT_WEIGHT: u32 = 100;

    /// An endpoint at `host:port` with the default weight.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Endpoint {
            host: host.into(),
            port,
            weight: Self::DEFAULT_WEIGHT,
            zone: None,
            tags: BTreeMap::new(),
        }
    }

    /// Parses `host:port` (`[v6]:port` for IPv6 literals).
    pub fn parse(addr: &str) -> Option<Self> {
        let (host, port) = addr.rsplit_once(':')?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        Some(Endpoint::new(host, port.parse().ok()?))
    }

    pub fn with_weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    pub fn with_zone(mut self, zone: impl Into<String>) -> Self {
        self.zone = Some(zone.into());
        self
    }

    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    /// `host:port`, with brackets around an IPv6 literal: what the client connects to, and
    /// what identifies the endpoint across updates of the set.
    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// `host:port`; a string that does not parse is kept whole as the host (port 0), so connecting
/// fails with the resolver's error rather than here.
impl From<&str> for Endpoint {
    fn from(addr: &str) -> Self {
        Endpoint::parse(addr).unwrap_or_else(|| Endpoint::new(addr, 0))
    }
}

impl From<String> for Endpoint {
    fn from(addr: String) -> Self {
        Endpoint::from(addr.as_str())
    }
}

impl From<SocketAddr> for Endpoint {
    fn from(addr: SocketAddr) -> Self {
        Endpoint::new(addr.ip().to_string(), addr.port())
    }
}

/// What a client has seen of one endpoint, from [`Client::stats`](super::Client::stats).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct EndpointStats {
    pub endpoint: Endpoint,
    /// Attempts sent there (a retried call counts once per endpoint it tried).
    pub calls: u64,
    /// Attempts that failed (transport, protocol, deadline, undeclared exceptions).
    pub errors: u64,
    /// Attempts under way now.
    pub outstanding: usize,
    /// Passive health took it out of rotation (a backoff or its trial call is running).
    pub ejected: bool,
    /// When its current ejection ends, if ejected.
    pub ejected_for: Option<Duration>,
    /// Open connections in its pool.
    pub connections: usize,
}

/// Where the set of endpoints comes from.
#[derive(Clone, Debug)]
pub(super) enum Source {
    Fixed(Vec<Endpoint>),
    Watch(watch::Receiver<Arc<[Endpoint]>>),
}

/// What a client keeps for one endpoint while it is in the set.
#[derive(Debug)]
pub(super) struct EndpointState {
    pub(super) addr: String,
    pool: Mutex<Vec<Arc<Connection>>>,
    outstanding: AtomicUsize,
    calls: AtomicU64,
    errors: AtomicU64,
    pub(super) health: Health,
}

impl EndpointState {
    fn new(addr: String) -> Self {
        EndpointState {
            addr,
            pool: Mutex::new(Vec::new()),
            outstanding: AtomicUsize::new(0),
            calls: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            health: Health::default(),
        }
    }

    #[inline]
    pub(super) fn outstanding(&self) -> usize {
        self.outstanding.load(Ordering::Relaxed)
    }

    /// Counts an attempt starting here; the guard counts its end.
    #[inline]
    pub(super) fn begin(&self) -> Attempt<'_> {
        self.outstanding.fetch_add(1, Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed);
        let trial = self.health.is_ejected() && self.health.claim_trial();
        Attempt { state: self, trial }
    }

    /// The least busy open connection, or a new one while the pool has room and every open
    /// connection is busy.
    pub(super) async fn connection(
        &self,
        config: &ClientBuilder,
    ) -> Result<Arc<Connection>, Error> {
        {
            let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
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
                &self.addr,
                config.connect_timeout,
                config.encoding,
                config.max_message_size,
                config.decode_limits,
            )
            .await?,
        );
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < config.max_connections {
            pool.push(conn.clone());
        }
        Ok(conn)
    }

    fn stats(&self, endpoint: &Endpoint) -> EndpointStats {
        let until = self.health.ejected_until();
        EndpointStats {
            endpoint: endpoint.clone(),
            calls: self.calls.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            outstanding: self.outstanding(),
            ejected: self.health.is_ejected(),
            ejected_for: until.map(|t| t.saturating_duration_since(std::time::Instant::now())),
            connections: {
                let pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
                pool.iter().filter(|c| !c.is_closed()).count()
            },
        }
    }
}

/// How an attempt ended, for passive health.
pub(super) enum Outcome {
    /// A reply (or an error reply) came back: the endpoint is up.
    Answered,
    /// No connection could be opened, or the deadline passed waiting for it.
    Unreachable,
    /// The deadline passed after the connection was made: slow, or hung.
    TimedOut,
    /// Some other failure (the connection broke, bad bytes): counted, not ejected for.
    Failed,
}

/// One attempt on one endpoint: counted as outstanding until dropped.
pub(super) struct Attempt<'a> {
    state: &'a EndpointState,
    trial: bool,
}

impl Attempt<'_> {
    pub(super) fn finish(mut self, outcome: Outcome) {
        let health = &self.state.health;
        if !matches!(outcome, Outcome::Answered) {
            self.state.errors.fetch_add(1, Ordering::Relaxed);
        }
        let trial = std::mem::take(&mut self.trial);
        match outcome {
            Outcome::Unreachable => health.eject(trial),
            Outcome::TimedOut => health.timed_out(trial),
            _ if trial => health.readmit(),
            Outcome::Answered => health.answered(),
            Outcome::Failed => {}
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        self.state.outstanding.fetch_sub(1, Ordering::Relaxed);
        if self.trial {
            self.state.health.release_trial();
        }
    }
}

/// One endpoint as the current list describes it, with the state it keeps across lists.
#[derive(Debug)]
pub(super) struct Member {
    pub(super) endpoint: Endpoint,
    pub(super) state: Arc<EndpointState>,
}

/// How a client arranges its endpoints: what every snapshot's plans are built for.
#[derive(Clone, Debug, Default)]
pub(super) struct Layout {
    pub(super) balancer: Balancer,
    /// The zone whose endpoints are preferred while any of them takes calls.
    pub(super) zone: Option<Box<str>>,
    /// Tags an endpoint must carry (each key with this value) to be in the set at all.
    pub(super) tags: BTreeMap<String, String>,
}

impl Layout {
    /// Whether `endpoint` carries every tag the client asks for.
    fn admits(&self, endpoint: &Endpoint) -> bool {
        self.tags
            .iter()
            .all(|(key, value)| endpoint.tags.get(key) == Some(value))
    }
}

/// An immutable view of the set: its members and the balancer's precomputed plans.
#[derive(Debug)]
pub(super) struct Snapshot {
    /// The members, those of the preferred zone first.
    pub(super) members: Box<[Member]>,
    pub(super) plan: Plan,
    /// How many members lead the list as the preferred zone's: 0 when there is no zone, or
    /// when every member is in it (nothing to prefer then).
    pub(super) local: usize,
    /// The plan over the first `local` members.
    pub(super) local_plan: Plan,
}

impl Snapshot {
    /// The snapshot of `endpoints` (those with the layout's tags), reusing the state of
    /// endpoints `previous` already had. Duplicate addresses keep their first entry.
    fn build(endpoints: &[Endpoint], previous: Option<&Snapshot>, layout: &Layout) -> Self {
        let mut known: HashMap<&str, &Arc<EndpointState>> = previous
            .map(|p| {
                p.members
                    .iter()
                    .map(|m| (m.state.addr.as_str(), &m.state))
                    .collect()
            })
            .unwrap_or_default();
        let mut seen = std::collections::HashSet::new();
        let mut members = Vec::with_capacity(endpoints.len());
        for endpoint in endpoints.iter().filter(|e| layout.admits(e)) {
            let addr = endpoint.addr();
            if !seen.insert(addr.clone()) {
                continue;
            }
            let state = match known.remove(addr.as_str()) {
                Some(s) => s.clone(),
                None => Arc::new(EndpointState::new(addr)),
            };
            members.push(Member {
                endpoint: endpoint.clone(),
                state,
            });
        }
        let in_zone = |m: &Member| {
            layout.zone.is_some() && m.endpoint.zone.as_deref() == layout.zone.as_deref()
        };
        // A stable sort: within each part the list's own order stays.
        members.sort_by_key(|m| !in_zone(m));
        let mut local = members.iter().take_while(|m| in_zone(m)).count();
        if local == members.len() {
            local = 0;
        }
        let balancer = layout.balancer;
        Snapshot {
            plan: Plan::new(&members, balancer),
            local_plan: Plan::new(&members[..local], balancer),
            members: members.into_boxed_slice(),
            local,
        }
    }

    pub(super) fn stats(&self) -> Vec<EndpointStats> {
        self.members
            .iter()
            .map(|m| m.state.stats(&m.endpoint))
            .collect()
    }
}

/// The client's set of endpoints.
#[derive(Debug)]
pub(super) enum Set {
    Fixed(Snapshot),
    Watched {
        layout: Layout,
        state: Mutex<Watched>,
    },
}

/// A watched set's source and the snapshot of its last list.
type Watched = (watch::Receiver<Arc<[Endpoint]>>, Arc<Snapshot>);

/// The snapshot a call uses: borrowed from a fixed set, shared from a watched one.
pub(super) enum Current<'a> {
    Borrowed(&'a Snapshot),
    Shared(Arc<Snapshot>),
}

impl Deref for Current<'_> {
    type Target = Snapshot;

    #[inline]
    fn deref(&self) -> &Snapshot {
        match self {
            Current::Borrowed(s) => s,
            Current::Shared(s) => s,
        }
    }
}

impl Set {
    pub(super) fn new(source: Source, layout: Layout) -> Self {
        match source {
            Source::Fixed(list) => Set::Fixed(Snapshot::build(&list, None, &layout)),
            Source::Watch(mut rx) => {
                let list = rx.borrow_and_update().clone();
                let snapshot = Arc::new(Snapshot::build(&list, None, &layout));
                Set::Watched {
                    layout,
                    state: Mutex::new((rx, snapshot)),
                }
            }
        }
    }

    /// The current snapshot, taking in a new list if the source has one.
    #[inline]
    pub(super) fn current(&self) -> Current<'_> {
        match self {
            Set::Fixed(s) => Current::Borrowed(s),
            Set::Watched { layout, state } => {
                let mut guard = state.lock().unwrap_or_else(|e| e.into_inner());
                let (rx, snapshot) = &mut *guard;
                // A closed source (discovery stopped) keeps the last list.
                if rx.has_changed().unwrap_or(false) {
                    let list = rx.borrow_and_update().clone();
                    *snapshot = Arc::new(Snapshot::build(&list, Some(snapshot), layout));
                }
                Current::Shared(snapshot.clone())
            }
        }
    }

    /// The current snapshot; when it is empty and the source is watched, waits (until
    /// `limit`) for a list with endpoints in it, so that a client used right after discovery
    /// starts does not fail before the first lookup answers.
    pub(super) async fn current_or_wait(&self, limit: tokio::time::Instant) -> Current<'_> {
        loop {
            let current = self.current();
            let Set::Watched { state, .. } = self else {
                return current;
            };
            if !current.members.is_empty() {
                return current;
            }
            let mut rx = state.lock().unwrap_or_else(|e| e.into_inner()).0.clone();
            match tokio::time::timeout_at(limit, rx.changed()).await {
                Ok(Ok(())) => continue,
                _ => return self.current(),
            }
        }
    }
}
