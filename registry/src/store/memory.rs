//! The embedded store: leases in this process's memory, expired by one timer task.
//!
//! Deadlines sit in a min-heap with one entry per lease. A heartbeat only moves the lease's
//! deadline (O(1)); when the old entry surfaces, the reaper puts it back at the new deadline.
//! So however fast a peer heartbeats, the heap does not grow; entries of deregistered leases
//! are dropped as they surface, and the heap is rebuilt if they ever outnumber the live ones.
//! The reaper sleeps until the earliest entry, so an instance leaves lookups when its lease
//! lapses, not at the next sweep.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{unix_ms, NewInstance, Store, StoreError};
use crate::catalog::Catalog;
use crate::idl::registry::Instance;

/// Leases and instances in memory: what `mosaic up` and `mosaic registry` use unless told
/// to use etcd. Everything is lost when the process exits; servers register again when
/// their next heartbeat is refused.
pub struct MemoryStore {
    shared: Arc<Shared>,
    reaper: JoinHandle<()>,
}

struct Shared {
    catalog: Catalog,
    leases: Mutex<Leases>,
    /// Rings when a lease is granted, whose deadline may be the earliest.
    granted: Notify,
    /// Versions and lease ids start at the clock's microseconds, so a restarted registry
    /// never repeats its predecessor's: an old version wakes its watcher at once, and an old
    /// lease is refused rather than mistaken for a new instance's.
    version: AtomicI64,
    next_lease: AtomicI64,
}

#[derive(Default)]
struct Leases {
    live: HashMap<i64, Lease>,
    deadlines: BinaryHeap<Reverse<(Instant, i64)>>,
}

impl Leases {
    /// Rebuilds the heap from the live leases when entries of deregistered ones outnumber
    /// them, so register/deregister churn cannot grow it either.
    fn compact(&mut self) {
        if self.deadlines.len() > 2 * self.live.len() + 1024 {
            self.deadlines = self
                .live
                .iter()
                .map(|(&id, lease)| Reverse((lease.deadline, id)))
                .collect();
        }
    }
}

struct Lease {
    service: String,
    ttl: Duration,
    deadline: Instant,
}

impl MemoryStore {
    /// An empty store; its reaper runs on the current tokio runtime until the store drops.
    pub fn new() -> Self {
        let start = unix_ms().saturating_mul(1000);
        let shared = Arc::new(Shared {
            catalog: Catalog::new(),
            leases: Mutex::new(Leases::default()),
            granted: Notify::new(),
            version: AtomicI64::new(start),
            next_lease: AtomicI64::new(start),
        });
        let reaper = tokio::spawn(reap(shared.clone()));
        MemoryStore { shared, reaper }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for MemoryStore {
    fn drop(&mut self) {
        self.reaper.abort();
    }
}

impl Shared {
    fn leases(&self) -> MutexGuard<'_, Leases> {
        self.leases.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn next_version(&self) -> i64 {
        self.version.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn unlist(&self, service: &str, lease: i64) {
        self.catalog.remove(service, lease, self.next_version());
    }
}

/// Removes leases as their deadlines pass.
async fn reap(shared: Arc<Shared>) {
    loop {
        let mut expired = Vec::new();
        let next = {
            let mut leases = shared.leases();
            let now = Instant::now();
            let mut next = None;
            while let Some(&Reverse((deadline, id))) = leases.deadlines.peek() {
                if deadline > now {
                    next = Some(deadline);
                    break;
                }
                leases.deadlines.pop();
                match leases.live.get(&id).map(|l| l.deadline) {
                    Some(current) if current <= now => {
                        if let Some(lease) = leases.live.remove(&id) {
                            expired.push((lease.service, id));
                        }
                    }
                    // Renewed since this entry was pushed: wait for the new deadline.
                    Some(current) => leases.deadlines.push(Reverse((current, id))),
                    // Deregistered: nothing to do.
                    None => {}
                }
            }
            next
        };
        for (service, id) in expired {
            tracing::info!(service, lease = id, "lease expired");
            shared.unlist(&service, id);
        }
        let granted = shared.granted.notified();
        match next {
            Some(deadline) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(deadline) => {}
                    _ = granted => {}
                }
            }
            None => granted.await,
        }
    }
}

impl Store for MemoryStore {
    async fn register(&self, new: NewInstance, ttl: Duration) -> Result<i64, StoreError> {
        let shared = &self.shared;
        let id = shared.next_lease.fetch_add(1, Ordering::Relaxed) + 1;
        let deadline = Instant::now() + ttl;
        {
            let mut leases = shared.leases();
            leases.live.insert(
                id,
                Lease {
                    service: new.service.clone(),
                    ttl,
                    deadline,
                },
            );
            leases.deadlines.push(Reverse((deadline, id)));
        }
        shared.granted.notify_one();
        let instance = Instance {
            id,
            host: new.host,
            port: new.port,
            weight: new.weight,
            zone: new.zone,
            tags: new.tags,
            registered_at_ms: unix_ms(),
        };
        shared
            .catalog
            .put(&new.service, instance, shared.next_version());
        Ok(id)
    }

    async fn heartbeat(&self, id: i64) -> Result<Duration, StoreError> {
        let now = Instant::now();
        let mut leases = self.shared.leases();
        let Leases { live, .. } = &mut *leases;
        match live.get_mut(&id) {
            Some(lease) if lease.deadline > now => {
                // The heap entry stays where it is; the reaper moves it when it surfaces.
                lease.deadline = now + lease.ttl;
                Ok(lease.ttl)
            }
            // Lapsed but not yet reaped: a heartbeat after the deadline is too late.
            Some(_) => {
                let lease = live.remove(&id).expect("present");
                drop(leases);
                self.shared.unlist(&lease.service, id);
                Err(StoreError::LeaseExpired(id))
            }
            None => Err(StoreError::LeaseExpired(id)),
        }
    }

    async fn deregister(&self, id: i64) -> Result<(), StoreError> {
        let removed = {
            let mut leases = self.shared.leases();
            let removed = leases.live.remove(&id);
            leases.compact();
            removed
        };
        if let Some(lease) = removed {
            self.shared.unlist(&lease.service, id);
        }
        Ok(())
    }

    fn catalog(&self) -> &Catalog {
        &self.shared.catalog
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_instance(service: &str, port: i32) -> NewInstance {
        NewInstance {
            service: service.into(),
            host: "127.0.0.1".into(),
            port,
            weight: 100,
            zone: None,
            tags: Default::default(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_lease_lapses_one_ttl_after_its_last_heartbeat() {
        let store = MemoryStore::new();
        let ttl = Duration::from_secs(3);
        let id = store.register(new_instance("image", 1), ttl).await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(store.heartbeat(id).await, Ok(ttl));
        tokio::time::sleep(Duration::from_millis(2900)).await;
        assert_eq!(store.catalog().lookup("image").instances.len(), 1);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(store.catalog().lookup("image").instances.is_empty());
        assert_eq!(store.heartbeat(id).await, Err(StoreError::LeaseExpired(id)));
    }

    #[tokio::test(start_paused = true)]
    async fn expiry_wakes_watchers_and_changes_the_version() {
        let store = Arc::new(MemoryStore::new());
        store
            .register(new_instance("image", 1), Duration::from_secs(1))
            .await
            .unwrap();
        let before = store.catalog().lookup("image").version;
        let answer = store
            .catalog()
            .watch("image", before, Duration::from_secs(60))
            .await;
        assert_ne!(answer.version, before);
        assert!(answer.instances.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn heartbeats_and_churn_do_not_grow_the_heap() {
        let store = MemoryStore::new();
        let ttl = Duration::from_secs(60);
        let id = store.register(new_instance("image", 1), ttl).await.unwrap();
        for _ in 0..10_000 {
            store.heartbeat(id).await.unwrap();
        }
        assert_eq!(store.shared.leases().deadlines.len(), 1);
        for port in 0..5000 {
            let churn = store
                .register(new_instance("image", port), ttl)
                .await
                .unwrap();
            store.deregister(churn).await.unwrap();
        }
        assert!(store.shared.leases().deadlines.len() <= 1026);
        // The renewed lease still lapses one TTL after its last heartbeat, not before.
        tokio::time::sleep(ttl - Duration::from_millis(10)).await;
        assert_eq!(store.catalog().lookup("image").instances.len(), 1);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(store.catalog().lookup("image").instances.is_empty());
    }

    #[tokio::test]
    async fn deregister_unlists_at_once_and_is_idempotent() {
        let store = MemoryStore::new();
        let id = store
            .register(new_instance("image", 1), Duration::from_secs(10))
            .await
            .unwrap();
        let other = store
            .register(new_instance("image", 2), Duration::from_secs(10))
            .await
            .unwrap();
        assert_ne!(id, other);
        store.deregister(id).await.unwrap();
        store.deregister(id).await.unwrap();
        let left = store.catalog().lookup("image");
        assert_eq!(left.instances.len(), 1);
        assert_eq!(left.instances[0].id, other);
        assert_eq!(left.instances[0].port, 2);
    }
}
