//! Where leases live. A store grants, renews and revokes leases and keeps a [`Catalog`]
//! of the instances they hold current; the handler validates requests and reads the
//! catalog, so the two stores differ only in how leases are kept.

#[cfg(feature = "etcd")]
mod etcd;
mod memory;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

#[cfg(feature = "etcd")]
pub use etcd::{EtcdOptions, EtcdStore};
pub use memory::MemoryStore;

use crate::catalog::Catalog;

/// What a validated registration asks to list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewInstance {
    pub service: String,
    pub host: String,
    pub port: i32,
    pub weight: i32,
    pub zone: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// Why a store could not do what was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The lease is not known: it expired or was revoked.
    LeaseExpired(i64),
    /// The backing store (etcd) cannot be reached; nothing changed.
    Unavailable(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::LeaseExpired(lease) => write!(
                f,
                "lease {lease} is not known: it expired or was deregistered; register again"
            ),
            StoreError::Unavailable(why) => write!(f, "the registry's store is unavailable: {why}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// Keeps leases and the catalog of the instances they hold.
pub trait Store: Send + Sync + 'static {
    /// Grants a lease of `ttl` and lists `instance` under it; returns the lease id, which
    /// is also the instance's id.
    fn register(
        &self,
        instance: NewInstance,
        ttl: Duration,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Renews `lease` for another TTL; returns the TTL.
    fn heartbeat(&self, lease: i64) -> impl Future<Output = Result<Duration, StoreError>> + Send;

    /// Revokes `lease` and unlists its instance; an unknown lease is not an error.
    fn deregister(&self, lease: i64) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The instances as this store last knew them.
    fn catalog(&self) -> &Catalog;
}

/// Milliseconds since the Unix epoch, for `Instance.registered_at_ms`.
pub(crate) fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
