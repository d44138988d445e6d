//! A server's side of discovery: register, keep the lease alive, deregister on the way out.
//!
//! `mosaic serve --registry ADDR` runs one [`Announcer`] next to its server. The announcer
//! never gives up: if the registry is unreachable it keeps trying (rotating among the
//! registry addresses it was given), and if its lease was lost (the registry restarted, or
//! heartbeats were late) it registers again, so a server always finds its way back into
//! lookups once a registry answers.

use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::idl::registry::{HeartbeatError, Lease, Registration, RegistryClient};

/// Keeps one registration alive in the background until [`Announcer::stop`].
pub struct Announcer {
    lease: watch::Receiver<Option<Lease>>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Announcer {
    /// Starts announcing `registration` to the registry at `registries` (`host:port`, tried in
    /// turn). Must be called on a tokio runtime.
    pub fn start(registries: Vec<String>, registration: Registration) -> Announcer {
        assert!(!registries.is_empty(), "at least one registry address");
        let clients = registries
            .iter()
            .map(|addr| {
                RegistryClient::new(
                    mosaic_runtime::Client::builder(addr.clone())
                        .timeout(Duration::from_secs(3))
                        .connect_timeout(Duration::from_secs(2))
                        .max_connections(1)
                        .build(),
                )
            })
            .collect();
        let (lease_tx, lease) = watch::channel(None);
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(announce(clients, registration, lease_tx, stopped));
        Announcer {
            lease,
            stop: Some(stop),
            task,
        }
    }

    /// The lease as it changes: `None` until granted and while lost.
    pub fn leases(&self) -> watch::Receiver<Option<Lease>> {
        self.lease.clone()
    }

    /// Waits until the registry has granted a lease, and returns it.
    pub async fn registered(&self) -> Lease {
        match first_lease(self.leases()).await {
            Some(lease) => lease,
            // The task ended (stopped) without a lease: nothing will come.
            None => std::future::pending().await,
        }
    }

    /// The lease held now, if any.
    pub fn lease(&self) -> Option<Lease> {
        self.lease.borrow().clone()
    }

    /// Deregisters (waiting at most a few seconds for the registry) and stops.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// The first lease `leases` holds, waiting for it; `None` if the announcer stopped first.
pub async fn first_lease(mut leases: watch::Receiver<Option<Lease>>) -> Option<Lease> {
    match leases.wait_for(Option::is_some).await {
        Ok(lease) => lease.clone(),
        Err(_) => None,
    }
}

impl Drop for Announcer {
    fn drop(&mut self) {
        // Dropped without `stop`: the lease simply lapses after its TTL.
        self.task.abort();
    }
}

async fn announce(
    clients: Vec<RegistryClient>,
    registration: Registration,
    lease_tx: watch::Sender<Option<Lease>>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut current = 0;
    let mut failures = 0u32;
    let mut lease: Option<Lease> = None;
    // When the registry last confirmed the lease; past its TTL, it is surely gone.
    let mut confirmed = Instant::now();
    loop {
        let pause = match lease.clone() {
            None => match clients[current]
                .register_instance(registration.clone())
                .await
            {
                Ok(granted) => {
                    tracing::info!(lease = granted.id, ttl_ms = granted.ttl_ms, "registered");
                    confirmed = Instant::now();
                    failures = 0;
                    let pause = period(&granted);
                    lease = Some(granted.clone());
                    lease_tx.send_replace(Some(granted));
                    pause
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!(error = %e, "cannot register with the registry; retrying");
                    current = (current + 1) % clients.len();
                    backoff(failures)
                }
            },
            Some(held) => match clients[current].heartbeat(held.id).await {
                Ok(renewed) => {
                    confirmed = Instant::now();
                    failures = 0;
                    let pause = period(&renewed);
                    lease = Some(renewed);
                    pause
                }
                Err(HeartbeatError::Expired(_)) => {
                    tracing::warn!(lease = held.id, "lease lost; registering again");
                    lease = None;
                    lease_tx.send_replace(None);
                    Duration::ZERO
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!(error = %e, "heartbeat failed; retrying");
                    current = (current + 1) % clients.len();
                    let ttl = Duration::from_millis(held.ttl_ms.max(0) as u64);
                    if confirmed.elapsed() > ttl {
                        lease = None;
                        lease_tx.send_replace(None);
                    }
                    backoff(failures).min(period(&held))
                }
            },
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = &mut stopped => break,
        }
    }
    if let Some(held) = lease {
        let bye = clients[current].deregister_instance(held.id);
        match tokio::time::timeout(Duration::from_secs(3), bye).await {
            Ok(Ok(())) => tracing::info!(lease = held.id, "deregistered"),
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot deregister; the lease will lapse"),
            Err(_) => tracing::warn!("deregistering timed out; the lease will lapse"),
        }
        lease_tx.send_replace(None);
    }
}

/// Heartbeats come three times per TTL, so one lost heartbeat never loses the lease.
fn period(lease: &Lease) -> Duration {
    Duration::from_millis((lease.ttl_ms.max(300) / 3) as u64)
}

/// 100 ms doubling to 5 s between failed attempts.
fn backoff(failures: u32) -> Duration {
    Duration::from_millis(100u64 << failures.saturating_sub(1).min(6)).min(Duration::from_secs(5))
}
