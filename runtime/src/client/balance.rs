//! Choosing the endpoint of each call.
//!
//! - [`Balancer::PowerOfTwoChoices`] (the default): two endpoints drawn at random in proportion
//!   to their weights, the one with fewer outstanding calls per unit of weight wins. It follows
//!   load as it is now (a slow endpoint accumulates outstanding calls and stops winning) at the
//!   cost of two atomic loads, with no shared state to contend on.
//! - [`Balancer::RoundRobin`]: a precomputed smooth weighted schedule (weights 3:1 give
//!   `a a b a`, not `a a a b`) walked by one atomic counter.
//! - [`Balancer::ConsistentHash`]: calls made through [`Client::with_key`](super::Client::with_key)
//!   go to the first endpoint clockwise from the key's hash on a ring where each endpoint has
//!   points in proportion to its weight, so a key sticks to one endpoint and adding or removing
//!   an endpoint moves only the keys between it and its neighbours (about 1/n of them).
//!   Calls without a key are balanced as by power of two choices.
//!
//! With a preferred zone ([`ClientBuilder::zone`](super::ClientBuilder::zone)), the balancer
//! first chooses among that zone's endpoints (with plans of their own) and turns to the rest
//! only when none of them will do.
//!
//! Every plan is computed when the set changes, never per call; picking allocates nothing.
//! Endpoints of weight 0 never get new calls, nor do ejected ones (see `health`), unless every
//! endpoint that takes calls is ejected: then the one whose backoff ends first is tried.

use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::endpoints::{EndpointState, Member, Snapshot};

/// How a client spreads calls across its endpoints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Balancer {
    /// The less loaded (outstanding calls per weight) of two endpoints drawn by weight.
    #[default]
    PowerOfTwoChoices,
    /// Each endpoint in turn, as often as its weight says.
    RoundRobin,
    /// Keyed calls hash onto a weighted ring with virtual nodes; others as power of two choices.
    ConsistentHash,
}

/// Ring points per 100 of weight (the default weight gets 160 points: keys spread within a
/// few percent of the weights).
const POINTS_PER_100: u64 = 160;
/// Most ring points of one endpoint (weight 2500 and above).
const MAX_POINTS: u64 = 4000;
/// Longest round-robin schedule: weights are scaled down to fit.
const MAX_SCHEDULE: u64 = 4096;

/// What the balancer precomputes for one snapshot.
#[derive(Debug, Default)]
pub(super) struct Plan {
    /// Running sums of the members' weights, for drawing by weight.
    cumulative: Box<[u64]>,
    /// Round robin's order of member indices.
    schedule: Box<[u32]>,
    /// The hash ring: (point, member index), sorted by point.
    ring: Box<[(u64, u32)]>,
}

impl Plan {
    pub(super) fn new(members: &[Member], balancer: Balancer) -> Plan {
        let weights: Vec<u64> = members.iter().map(|m| m.endpoint.weight as u64).collect();
        let cumulative = weights
            .iter()
            .scan(0u64, |sum, w| {
                *sum += w;
                Some(*sum)
            })
            .collect();
        let schedule = match balancer {
            Balancer::RoundRobin => smooth_schedule(&weights),
            _ => Box::default(),
        };
        let ring = match balancer {
            Balancer::ConsistentHash => ring(members),
            _ => Box::default(),
        };
        Plan {
            cumulative,
            schedule,
            ring,
        }
    }

    fn total(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }
}

/// Smooth weighted round robin (as nginx does it), computed once: each step adds every weight
/// to its member's credit and takes the member with the most, which then pays the total.
fn smooth_schedule(weights: &[u64]) -> Box<[u32]> {
    let g = weights.iter().fold(0, |g, &w| gcd(g, w));
    if g == 0 {
        return Box::default();
    }
    let mut reduced: Vec<u64> = weights.iter().map(|w| w / g).collect();
    let total: u64 = reduced.iter().sum();
    if total > MAX_SCHEDULE {
        for w in reduced.iter_mut().filter(|w| **w > 0) {
            *w = (*w * MAX_SCHEDULE / total).max(1);
        }
    }
    let total: u64 = reduced.iter().sum();
    let mut credit = vec![0i64; reduced.len()];
    let mut schedule = Vec::with_capacity(total as usize);
    for _ in 0..total {
        let mut best = 0;
        for (i, w) in reduced.iter().enumerate() {
            credit[i] += *w as i64;
            if credit[i] > credit[best] {
                best = i;
            }
        }
        credit[best] -= total as i64;
        schedule.push(best as u32);
    }
    schedule.into_boxed_slice()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The hash ring. An endpoint's points depend only on its address and weight, so adding or
/// removing another endpoint never moves them.
fn ring(members: &[Member]) -> Box<[(u64, u32)]> {
    let mut ring = Vec::new();
    for (i, m) in members.iter().enumerate() {
        if m.endpoint.weight == 0 {
            continue;
        }
        let points = (m.endpoint.weight as u64 * POINTS_PER_100)
            .div_ceil(100)
            .clamp(1, MAX_POINTS);
        let base = hash_key(m.state.addr.as_bytes());
        for p in 0..points {
            ring.push((mix(base ^ mix(p + 1)), i as u32));
        }
    }
    ring.sort_unstable();
    ring.into_boxed_slice()
}

/// The hash of a call's key: FNV-1a, then a finaliser so that near keys land far apart.
/// Stable across processes and versions (a key maps to the same point everywhere).
pub(super) fn hash_key(key: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

/// SplitMix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

thread_local! {
    static RNG: Cell<u64> = Cell::new(
        std::collections::hash_map::RandomState::new().build_hasher().finish() | 1,
    );
}

/// A per-thread xorshift64*: cheap, uncontended, good enough to draw candidates.
fn random() -> u64 {
    RNG.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

/// Whether a new call may go to `m`: it takes calls, is not ejected, and is not `avoid` (the
/// endpoint the call's previous attempt failed on).
#[inline]
fn usable(m: &Member, avoid: Option<&EndpointState>) -> bool {
    m.endpoint.weight > 0
        && avoid.map_or(true, |a| !std::ptr::eq(a, &*m.state))
        && m.state.health.admits()
}

/// The index of the member a call goes to, or `None` when no member takes calls.
#[inline]
pub(super) fn pick(
    snapshot: &Snapshot,
    balancer: Balancer,
    key: Option<u64>,
    avoid: Option<&EndpointState>,
    next: &AtomicUsize,
) -> Option<usize> {
    let members = &snapshot.members;
    // One endpoint (a client of one address): nothing to choose, and nowhere else to go
    // while it is ejected.
    if members.len() == 1 {
        return (members[0].endpoint.weight > 0).then_some(0);
    }
    // The preferred zone's members lead the list; the others only when none of those will do.
    let local = snapshot.local;
    if local > 0 {
        let chosen = choose(
            &members[..local],
            &snapshot.local_plan,
            balancer,
            key,
            avoid,
            next,
        );
        if chosen.is_some() {
            return chosen;
        }
    }
    choose(members, &snapshot.plan, balancer, key, avoid, next).or_else(|| fallback(members, avoid))
}

/// The balancer's choice among `members` (with `plan`, built over them).
#[inline]
fn choose(
    members: &[Member],
    plan: &Plan,
    balancer: Balancer,
    key: Option<u64>,
    avoid: Option<&EndpointState>,
    next: &AtomicUsize,
) -> Option<usize> {
    match (balancer, key) {
        (Balancer::ConsistentHash, Some(key)) => by_ring(members, plan, key, avoid),
        (Balancer::RoundRobin, _) => in_turn(members, plan, next, avoid),
        _ => two_choices(members, plan, avoid),
    }
}

fn two_choices(members: &[Member], plan: &Plan, avoid: Option<&EndpointState>) -> Option<usize> {
    let total = plan.total();
    if total == 0 {
        return None;
    }
    let at = |r: u64| plan.cumulative.partition_point(|&c| c <= r);
    let a = at(random() % total);
    let wa = members[a].endpoint.weight as u64;
    // The second draw leaves out the first's share, so the two differ.
    let b = if total > wa {
        let mut r = random() % (total - wa);
        if r >= plan.cumulative[a] - wa {
            r += wa;
        }
        at(r)
    } else {
        a
    };
    let (ma, mb) = (&members[a], &members[b]);
    match (usable(ma, avoid), usable(mb, avoid)) {
        (true, true) => {
            // Outstanding per weight: oa / wa against ob / wb.
            let wb = mb.endpoint.weight as u64;
            let (oa, ob) = (ma.state.outstanding() as u64, mb.state.outstanding() as u64);
            Some(if ob * wa < oa * wb { b } else { a })
        }
        _ => least_loaded(members, avoid),
    }
}

/// The usable member with the fewest outstanding calls per weight (when a draw hit an
/// ejected or avoided endpoint).
#[cold]
fn least_loaded(members: &[Member], avoid: Option<&EndpointState>) -> Option<usize> {
    members
        .iter()
        .enumerate()
        .filter(|(_, m)| usable(m, avoid))
        .min_by(|(_, x), (_, y)| {
            let (ox, wx) = (x.state.outstanding() as u64, x.endpoint.weight as u64);
            let (oy, wy) = (y.state.outstanding() as u64, y.endpoint.weight as u64);
            (ox * wy).cmp(&(oy * wx))
        })
        .map(|(i, _)| i)
}

fn in_turn(
    members: &[Member],
    plan: &Plan,
    next: &AtomicUsize,
    avoid: Option<&EndpointState>,
) -> Option<usize> {
    let schedule = &plan.schedule;
    if schedule.is_empty() {
        return None;
    }
    let start = next.fetch_add(1, Ordering::Relaxed);
    (0..schedule.len())
        .map(|step| schedule[start.wrapping_add(step) % schedule.len()] as usize)
        .find(|&i| usable(&members[i], avoid))
}

fn by_ring(
    members: &[Member],
    plan: &Plan,
    key: u64,
    avoid: Option<&EndpointState>,
) -> Option<usize> {
    let ring = &plan.ring;
    if ring.is_empty() {
        return None;
    }
    let start = ring.partition_point(|&(point, _)| point < key);
    (0..ring.len())
        .map(|step| ring[(start + step) % ring.len()].1 as usize)
        .find(|&i| usable(&members[i], avoid))
}

/// No usable member: every endpoint that takes calls is ejected (or is the one to avoid).
/// Rather than fail, try the ejected one whose backoff ends first, then the avoided one.
#[cold]
fn fallback(members: &[Member], avoid: Option<&EndpointState>) -> Option<usize> {
    let is_avoided = |m: &Member| avoid.is_some_and(|a| std::ptr::eq(a, &*m.state));
    members
        .iter()
        .enumerate()
        .filter(|(_, m)| m.endpoint.weight > 0)
        .min_by_key(|(_, m)| (is_avoided(m), m.state.health.ejected_until()))
        .map(|(i, _)| i)
}

/// Whether a retry after a failure on `failed` can go elsewhere.
pub(super) fn has_other(snapshot: &Snapshot, failed: &EndpointState) -> bool {
    snapshot.members.iter().any(|m| usable(m, Some(failed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smooth_schedule_interleaves_by_weight() {
        let s = smooth_schedule(&[300, 100]);
        assert_eq!(&*s, &[0, 0, 1, 0]);
        let s = smooth_schedule(&[100, 100, 0]);
        assert_eq!(&*s, &[0, 1]);
        let s = smooth_schedule(&[10000, 1]);
        assert!(s.len() as u64 <= MAX_SCHEDULE + 1 && s.contains(&1));
        assert!(smooth_schedule(&[0, 0]).is_empty());
    }

    #[test]
    fn key_hashes_are_stable() {
        assert_eq!(hash_key(b"resnet50"), hash_key(b"resnet50"));
        assert_ne!(hash_key(b"resnet50"), hash_key(b"resnet51"));
    }

    /// The Python and Java SDKs assert the same values (test_hash_ring.py, HashRingTest), so a
    /// key reaches the same instance from every language.
    #[test]
    fn ring_hashes_are_the_other_sdks_hashes() {
        assert_eq!(hash_key(b"resnet50"), 0x72ec_cf81_23a0_5068);
        assert_eq!(hash_key(b""), 0xf52a_15e9_a9b5_e89b);
        let base = hash_key(b"127.0.0.1:9090");
        assert_eq!(mix(base ^ mix(1)), 0x172e_0be8_f322_7e33);
        assert_eq!(mix(base ^ mix(160)), 0xa9cc_262e_11dd_c080);
    }
}
