//! A bounded pool for CPU-heavy work, so that it never runs on (and stalls) the reactor.
//!
//! Work runs on tokio's blocking threads, at most [`CpuPool::threads`] at a time; at most
//! [`CpuPool::queue`] more wait. Past that, [`CpuPool::run`] answers [`Error::Overloaded`] at
//! once: a server at capacity says so instead of queueing without end.

use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

use crate::error::Error;

/// The process-wide pool's queue per core by default: long enough to ride out bursts. A call
/// at the back waits for all those ahead of it, so servers of long calls want a shorter one
/// (`mosaic serve image --queue-per-core`).
pub const DEFAULT_QUEUE_PER_CORE: usize = 64;

static GLOBAL: OnceLock<CpuPool> = OnceLock::new();

/// A bounded pool for CPU-bound closures.
#[derive(Clone, Debug)]
pub struct CpuPool {
    running: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
    threads: usize,
    queue: usize,
}

impl CpuPool {
    /// A pool that runs `threads` closures at once and lets `queue` more wait.
    pub fn new(threads: usize, queue: usize) -> Self {
        let threads = threads.max(1);
        CpuPool {
            running: Arc::new(Semaphore::new(threads)),
            admitted: Arc::new(Semaphore::new(threads + queue)),
            threads,
            queue,
        }
    }

    /// The process-wide pool: one thread per core, and a queue of
    /// [`DEFAULT_QUEUE_PER_CORE`] per core unless [`CpuPool::configure_global`] said otherwise.
    pub fn global() -> &'static CpuPool {
        GLOBAL.get_or_init(|| CpuPool::per_core(DEFAULT_QUEUE_PER_CORE))
    }

    /// Gives the process-wide pool a queue of `per_core` calls per core (0: a call is refused
    /// whenever every thread is busy). Takes effect only before the pool is first used or
    /// configured; returns whether it did.
    pub fn configure_global(per_core: usize) -> bool {
        GLOBAL.set(CpuPool::per_core(per_core)).is_ok()
    }

    /// One thread per core and `per_core` queued calls per core.
    fn per_core(per_core: usize) -> CpuPool {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        CpuPool::new(cores, cores.saturating_mul(per_core))
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    pub fn queue(&self) -> usize {
        self.queue
    }

    /// Runs `f` on the pool and returns its result, or [`Error::Overloaded`] at once when the
    /// pool and its queue are full.
    pub async fn run<T, F>(&self, f: F) -> Result<T, Error>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let Ok(_admitted) = self.admitted.clone().try_acquire_owned() else {
            return Err(Error::Overloaded(format!(
                "the CPU pool is busy ({} running, {} queued)",
                self.threads, self.queue
            )));
        };
        let running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::internal("the CPU pool is closed"))?;
        tokio::task::spawn_blocking(move || {
            let out = f();
            drop(running);
            out
        })
        .await
        .map_err(|e| Error::internal(format!("CPU task failed: {e}")))
    }
}

/// Runs `f` on the [global](CpuPool::global) pool.
pub async fn run<T, F>(f: F) -> Result<T, Error>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    CpuPool::global().run(f).await
}
