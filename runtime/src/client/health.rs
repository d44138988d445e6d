//! Passive health: an endpoint whose connections are refused or whose calls time out is
//! ejected (it gets no new calls) for a backoff that starts at 1 s and doubles to 30 s. When the
//! backoff ends, one trial call goes there: if it gets through, the endpoint is back; if it
//! fails the same way, it is ejected again for twice as long.
//!
//! Why passive: the calls themselves are the probe, so a healthy set costs nothing (one relaxed
//! atomic load per candidate), and an endpoint that a registry still lists but that cannot
//! answer stops taking calls within one failure instead of one registry TTL.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The first ejection's length.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest ejection.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
pub(super) struct Health {
    /// Set while ejected (including while a trial call runs): the only thing the hot path reads.
    ejected: AtomicBool,
    /// A trial call is under way.
    trial: AtomicBool,
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

    /// The endpoint answered a trial call: it takes calls again.
    pub(super) fn readmit(&self) {
        let mut state = self.state();
        state.strikes = 0;
        state.until = None;
        self.ejected.store(false, Ordering::Relaxed);
        self.trial.store(false, Ordering::Release);
    }

    /// A connection was refused or a call timed out. Failures while already ejected (calls
    /// that were in flight when the first one failed) do not lengthen the backoff; a failed
    /// trial does.
    pub(super) fn eject(&self, trial: bool) {
        let mut state = self.state();
        let now = Instant::now();
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
}
