//! Passive health: an endpoint whose connections are refused, or whose calls time out
//! [`TIMEOUTS_TO_EJECT`] times in a row, is ejected (it gets no new calls) for a backoff that
//! starts at 1 s and doubles to 30 s. When the backoff ends, one trial call goes there: if it
//! gets through, the endpoint is back; if it fails the same way (or times out once), it is
//! ejected again for twice as long. Any other answer from an ejected endpoint (a call sent
//! before the ejection) takes it back too.
//!
//! Why passive: the calls themselves are the probe, so a healthy set costs nothing (one relaxed
//! atomic load per candidate), and an endpoint that a registry still lists but that cannot
//! answer stops taking calls within one refused connection instead of one registry TTL.
//!
//! Why timeouts accrue: an image or model server answers some calls slowly (a large image, a
//! cold model) and stays healthy; ejecting it for one late reply would push its share onto the
//! others. A server that answers nothing still goes after a few calls, and any answer in
//! between resets the count.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The first ejection's length.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest ejection.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Calls that time out in a row, with no answer between them, before the endpoint is ejected.
pub(super) const TIMEOUTS_TO_EJECT: u32 = 3;

#[derive(Debug, Default)]
pub(super) struct Health {
    /// Set while ejected (including while a trial call runs): the only thing the hot path reads.
    ejected: AtomicBool,
    /// A trial call is under way.
    trial: AtomicBool,
    /// Calls timed out in a row since the last answer (or ejection).
    timeouts: AtomicU32,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Ejections in a row without a successful trial.
    strikes: u32,
    /// When the current ejection ends.
    until: Option<Instant>,
}

impl Health {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the endpoint is ejected (trial or not).
    pub(super) fn is_ejected(&self) -> bool {
        self.ejected.load(Ordering::Relaxed)
    }

    /// Whether a new call may go here: not ejected, or ejected with the backoff over and no
    /// trial running.
    #[inline]
    pub(super) fn admits(&self) -> bool {
        !self.is_ejected() || self.trial_due()
    }

    #[cold]
    fn trial_due(&self) -> bool {
        !self.trial.load(Ordering::Relaxed)
            && self.state().until.map_or(true, |t| Instant::now() >= t)
    }

    /// When the current ejection ends (`None` when not ejected).
    pub(super) fn ejected_until(&self) -> Option<Instant> {
        if self.is_ejected() {
            self.state().until
        } else {
            None
        }
    }

    /// Claims the trial call of an ejected endpoint; true if this call is it.
    pub(super) fn claim_trial(&self) -> bool {
        self.is_ejected() && !self.trial.swap(true, Ordering::AcqRel)
    }

    /// A trial call ended without a verdict (it was dropped): let another call try.
    pub(super) fn release_trial(&self) {
        self.trial.store(false, Ordering::Release);
    }

    /// The endpoint answered a call that was not a trial: it ends a run of timeouts, and
    /// an ejected endpoint that answers (a call sent before it was ejected, or the one tried
    /// when every endpoint was out) is alive: it takes calls again, as the Python and Java
    /// clients have it.
    #[inline]
    pub(super) fn answered(&self) {
        // Loads first: the common case (healthy, no timeouts) writes nothing shared.
        if self.is_ejected() {
            self.restore();
        } else if self.timeouts.load(Ordering::Relaxed) != 0 {
            self.timeouts.store(0, Ordering::Relaxed);
        }
    }

    /// Takes the endpoint back with a fresh backoff. A trial under way keeps its claim: its
    /// own end releases it.
    #[cold]
    fn restore(&self) {
        let mut state = self.state();
        state.strikes = 0;
        state.until = None;
        self.timeouts.store(0, Ordering::Relaxed);
        self.ejected.store(false, Ordering::Relaxed);
    }

    /// A call timed out after its connection was made. A trial's timeout ejects again at
    /// once; otherwise the endpoint goes after [`TIMEOUTS_TO_EJECT`] in a row.
    pub(super) fn timed_out(&self, trial: bool) {
        if trial {
            self.eject(true);
        } else if self.timeouts.fetch_add(1, Ordering::Relaxed) + 1 >= TIMEOUTS_TO_EJECT {
            self.eject(false);
        }
    }

    /// The endpoint answered a trial call: it takes calls again.
    pub(super) fn readmit(&self) {
        self.restore();
        self.trial.store(false, Ordering::Release);
    }

    /// A connection was refused, a trial failed, or calls kept timing out. Failures while
    /// already ejected (calls that were in flight when the first one failed) do not lengthen
    /// the backoff; a failed trial does.
    pub(super) fn eject(&self, trial: bool) {
        let mut state = self.state();
        let now = Instant::now();
        self.timeouts.store(0, Ordering::Relaxed);
        if !trial && state.until.is_some_and(|t| t > now) {
            return;
        }
        state.strikes = state.strikes.saturating_add(1);
        state.until = Some(now + backoff(state.strikes));
        self.ejected.store(true, Ordering::Relaxed);
        if trial {
            self.trial.store(false, Ordering::Release);
        }
    }
}

/// The length of ejection number `strikes` (1, 2, ...): 1 s, doubling, at most 30 s.
pub(super) fn backoff(strikes: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1 << strikes.saturating_sub(1).min(5))
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_to_thirty() {
        let secs: Vec<u64> = (1..=7).map(|s| backoff(s).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30]);
    }

    #[test]
    fn an_ejected_endpoint_gets_one_trial_after_its_backoff() {
        let h = Health::default();
        assert!(h.admits());
        h.eject(false);
        assert!(h.is_ejected() && !h.admits());
        // Pretend the backoff is over.
        h.state().until = Some(Instant::now());
        assert!(h.admits());
        assert!(h.claim_trial());
        assert!(!h.admits(), "one trial at a time");
        h.eject(true);
        assert_eq!(h.state().strikes, 2);
        h.state().until = Some(Instant::now());
        assert!(h.claim_trial());
        h.readmit();
        assert!(!h.is_ejected() && h.admits());
        assert_eq!(h.state().strikes, 0);
    }

    #[test]
    fn timeouts_eject_only_when_they_come_in_a_row() {
        let h = Health::default();
        for _ in 1..TIMEOUTS_TO_EJECT {
            h.timed_out(false);
        }
        assert!(h.admits(), "not yet: {} in a row", TIMEOUTS_TO_EJECT - 1);
        h.answered();
        for _ in 1..TIMEOUTS_TO_EJECT {
            h.timed_out(false);
        }
        assert!(h.admits(), "an answer started the count again");
        h.timed_out(false);
        assert!(h.is_ejected() && !h.admits());
        assert_eq!(h.state().strikes, 1);
        // A trial that times out ejects again at once, for twice as long.
        h.state().until = Some(Instant::now());
        assert!(h.claim_trial());
        h.timed_out(true);
        assert!(h.is_ejected() && !h.admits());
        assert_eq!(h.state().strikes, 2);
    }

    #[test]
    fn any_answer_readmits_an_ejected_endpoint() {
        let h = Health::default();
        h.eject(false);
        h.eject(true);
        assert!(h.is_ejected());
        // A call sent before the ejection comes back answered.
        h.answered();
        assert!(!h.is_ejected() && h.admits());
        assert_eq!(h.state().strikes, 0, "the backoff starts again");
    }
}
