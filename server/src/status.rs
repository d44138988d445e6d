//! What `Health.status` reports: uptime and call counts, kept with atomics.

use std::sync::atomic::{AtomicI32, AtomicI64, Ordering};
use std::time::Instant;

use crate::idl::common::ServerStatus;

pub struct Status {
    name: &'static str,
    started: Instant,
    in_flight: AtomicI32,
    served: AtomicI64,
}

impl Status {
    pub fn new(name: &'static str) -> Self {
        Status {
            name,
            started: Instant::now(),
            in_flight: AtomicI32::new(0),
            served: AtomicI64::new(0),
        }
    }

    /// Counts one call in flight until the guard drops, then as served.
    pub fn enter(&self) -> CallGuard<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        CallGuard(self)
    }

    pub fn snapshot(&self) -> ServerStatus {
        ServerStatus {
            name: self.name.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            uptime_ms: self.started.elapsed().as_millis() as i64,
            in_flight: self.in_flight.load(Ordering::Relaxed),
            served: self.served.load(Ordering::Relaxed),
        }
    }
}

pub struct CallGuard<'a>(&'a Status);

impl Drop for CallGuard<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.served.fetch_add(1, Ordering::Relaxed);
    }
}
