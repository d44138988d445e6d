//! The etcd store: leases and instances kept in an etcd cluster that several registry
//! processes share.
//!
//! - A registration's lease is an etcd lease (its TTL rounded up to whole seconds, as etcd
//!   counts), and `Lease.id` is the etcd lease id, so a heartbeat may reach any registry
//!   process on the same etcd.
//! - Each instance is the key `{prefix}/services/{service}/{lease id}`, attached to its lease,
//!   whose value is the `Instance` struct in Thrift's compact protocol. When a lease lapses,
//!   etcd deletes the key itself, so an instance leaves lookups even if every registry
//!   process is down when it dies.
//! - The catalog is fed from etcd, never from this process's own writes: a range read of the
//!   prefix, then a watch from the next revision. Every registry process therefore sees every
//!   registration and expiry, and versions are etcd revisions, equal in all of them, so a
//!   client's long poll can move between registry processes.
//! - If the watch breaks (etcd restarted or unreachable), the task reconnects with backoff and
//!   reads the prefix again; `Catalog::replace` wakes only services that changed. While etcd is
//!   unreachable, writes fail within `EtcdOptions::timeout` as `StoreError::Unavailable`, and
//!   reads answer from the last catalog.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use etcd_client::{
    Client, ConnectOptions, EventType, GetOptions, KeyValue, PutOptions, WatchOptions,
};
use mosaic_runtime::protocol::{CompactReader, CompactWriter, DecodeLimits};
use mosaic_runtime::Struct;
use tokio::task::JoinHandle;

use super::{unix_ms, NewInstance, Store, StoreError};
use crate::catalog::Catalog;
use crate::idl::registry::Instance;

/// How the store talks to etcd.
#[derive(Clone, Debug)]
pub struct EtcdOptions {
    /// Keys live under `{prefix}/services/`. Registries that should share instances use the
    /// same prefix.
    pub prefix: String,
    /// The most any one etcd request may take; past it, the call is `Unavailable`.
    pub timeout: Duration,
}

impl Default for EtcdOptions {
    fn default() -> Self {
        EtcdOptions {
            prefix: "/mosaic".into(),
            timeout: Duration::from_secs(3),
        }
    }
}

/// Leases in etcd. Dropping it stops its watch.
pub struct EtcdStore {
    client: Client,
    catalog: Arc<Catalog>,
    options: EtcdOptions,
    keys: String,
    watcher: JoinHandle<()>,
}

impl EtcdStore {
    /// Connects to etcd at `endpoints` (`http://host:port`), reads every instance under the
    /// prefix, and starts following changes. Fails if etcd does not answer within the
    /// options' timeout.
    pub async fn connect(endpoints: &[String], options: EtcdOptions) -> Result<Self, StoreError> {
        let connect = ConnectOptions::new()
            .with_connect_timeout(options.timeout)
            .with_timeout(options.timeout)
            .with_keep_alive(Duration::from_secs(5), options.timeout);
        let client = Client::connect(endpoints, Some(connect))
            .await
            .map_err(|e| unavailable("connecting", e))?;
        let keys = format!("{}/services/", options.prefix.trim_end_matches('/'));
        let catalog = Arc::new(Catalog::new());
        // The first read happens here, so a registry that starts answers from a full catalog.
        let revision = resync(&client, &keys, &catalog).await?;
        let watcher = tokio::spawn(follow(
            client.clone(),
            keys.clone(),
            catalog.clone(),
            revision,
        ));
        Ok(EtcdStore {
            client,
            catalog,
            options,
            keys,
            watcher,
        })
    }

    fn key(&self, service: &str, lease: i64) -> String {
        format!("{}{service}/{lease}", self.keys)
    }

    /// Runs one etcd request within the timeout (the client's own deadline does not cover
    /// establishing a channel to a dead endpoint).
    async fn bounded<T>(
        &self,
        what: &str,
        request: impl std::future::Future<Output = Result<T, etcd_client::Error>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.options.timeout, request).await {
            Ok(result) => result.map_err(|e| unavailable(what, e)),
            Err(_) => Err(StoreError::Unavailable(format!(
                "{what}: etcd did not answer within {:?}",
                self.options.timeout
            ))),
        }
    }
}

impl Drop for EtcdStore {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

fn unavailable(what: &str, e: etcd_client::Error) -> StoreError {
    StoreError::Unavailable(format!("{what}: {e}"))
}

/// etcd reports an unknown lease as "requested lease not found" (a revoke) or "lease not
/// found" (a keep-alive); etcd-client wraps the two in different error variants.
fn is_unknown_lease(e: &etcd_client::Error) -> bool {
    match e {
        etcd_client::Error::GRpcStatus(status) => status.message().contains("lease not found"),
        other => other.to_string().contains("lease not found"),
    }
}

fn encode(instance: &Instance) -> Vec<u8> {
    let mut buf = BytesMut::with_capacity(128);
    // Encoding into memory cannot fail.
    let _ = instance.encode(&mut CompactWriter::new(&mut buf));
    buf.to_vec()
}

/// The service and instance a key and value hold; `None` for anything else under the prefix.
fn decode(keys: &str, kv: &KeyValue) -> Option<(String, Instance)> {
    let key = std::str::from_utf8(kv.key()).ok()?;
    let service = key.strip_prefix(keys)?.split('/').next()?.to_string();
    let mut reader =
        CompactReader::new(Bytes::copy_from_slice(kv.value()), DecodeLimits::default());
    match Instance::decode(&mut reader) {
        Ok(instance) => Some((service, instance)),
        Err(e) => {
            tracing::warn!(key, error = %e, "skipping an etcd value that is not an Instance");
            None
        }
    }
}

/// Replaces the catalog with what etcd holds now; returns the revision read.
async fn resync(client: &Client, keys: &str, catalog: &Catalog) -> Result<i64, StoreError> {
    let mut client = client.clone();
    let response = client
        .get(keys, Some(GetOptions::new().with_prefix()))
        .await
        .map_err(|e| unavailable("reading the instances", e))?;
    let revision = response.header().map_or(0, |h| h.revision());
    let mut all: HashMap<String, Vec<Instance>> = HashMap::new();
    for kv in response.kvs() {
        if let Some((service, instance)) = decode(keys, kv) {
            all.entry(service).or_default().push(instance);
        }
    }
    catalog.replace(all, revision);
    Ok(revision)
}

/// Follows etcd's changes into the catalog for as long as the store lives, reconnecting
/// and reading everything again whenever the watch breaks.
async fn follow(client: Client, keys: String, catalog: Arc<Catalog>, mut revision: i64) {
    let mut failures = 0u32;
    loop {
        match watch_from(&client, &keys, &catalog, &mut revision).await {
            Ok(()) => tracing::warn!("etcd closed the watch; following again"),
            Err(e) => tracing::warn!(error = %e, "lost etcd's watch; following again"),
        }
        loop {
            failures += 1;
            let pause =
                Duration::from_millis(100u64 << failures.min(6)).min(Duration::from_secs(5));
            tokio::time::sleep(pause).await;
            match resync(&client, &keys, &catalog).await {
                Ok(r) => {
                    revision = r;
                    failures = 0;
                    break;
                }
                Err(e) => tracing::warn!(error = %e, "cannot read etcd; retrying"),
            }
        }
    }
}

/// Applies watch events after `revision` until the stream ends or fails.
async fn watch_from(
    client: &Client,
    keys: &str,
    catalog: &Catalog,
    revision: &mut i64,
) -> Result<(), etcd_client::Error> {
    let mut client = client.clone();
    let options = WatchOptions::new()
        .with_prefix()
        .with_start_revision(*revision + 1);
    let mut stream = client.watch(keys, Some(options)).await?;
    while let Some(response) = stream.message().await? {
        if response.canceled() {
            // Compacted past our revision, or etcd cancelled: read everything again.
            return Ok(());
        }
        for event in response.events() {
            let Some(kv) = event.kv() else { continue };
            let version = kv.mod_revision().max(*revision);
            match event.event_type() {
                EventType::Put => {
                    if let Some((service, instance)) = decode(keys, kv) {
                        catalog.put(&service, instance, kv.mod_revision());
                    }
                }
                EventType::Delete => {
                    let Ok(key) = std::str::from_utf8(kv.key()) else {
                        continue;
                    };
                    let Some((service, lease)) =
                        key.strip_prefix(keys).and_then(|rest| rest.split_once('/'))
                    else {
                        continue;
                    };
                    if let Ok(lease) = lease.parse::<i64>() {
                        // A delete's kv carries the revision of the delete itself.
                        catalog.remove(service, lease, version);
                    }
                }
            }
            *revision = (*revision).max(kv.mod_revision());
        }
        if let Some(header) = response.header() {
            *revision = (*revision).max(header.revision());
        }
    }
    Ok(())
}

impl Store for EtcdStore {
    async fn register(&self, new: NewInstance, ttl: Duration) -> Result<i64, StoreError> {
        let mut client = self.client.clone();
        let seconds = ttl.as_millis().div_ceil(1000).max(1) as i64;
        let granted = self
            .bounded("granting a lease", client.lease_grant(seconds, None))
            .await?;
        let id = granted.id();
        let instance = Instance {
            id,
            host: new.host,
            port: new.port,
            weight: new.weight,
            zone: new.zone,
            tags: new.tags,
            registered_at_ms: unix_ms(),
        };
        let put = client.put(
            self.key(&new.service, id),
            encode(&instance),
            Some(PutOptions::new().with_lease(id)),
        );
        if let Err(e) = self.bounded("listing the instance", put).await {
            // Do not leave a lease behind that nothing will renew; it would lapse anyway.
            let _ = self.bounded("revoking", client.lease_revoke(id)).await;
            return Err(e);
        }
        Ok(id)
    }

    async fn heartbeat(&self, lease: i64) -> Result<Duration, StoreError> {
        let mut client = self.client.clone();
        let renewal = async {
            let (mut keeper, mut answers) = client.lease_keep_alive(lease).await?;
            keeper.keep_alive().await?;
            answers.message().await
        };
        let renewed = match tokio::time::timeout(self.options.timeout, renewal).await {
            Ok(Ok(renewed)) => renewed,
            Ok(Err(e)) if is_unknown_lease(&e) => return Err(StoreError::LeaseExpired(lease)),
            Ok(Err(e)) => return Err(unavailable("renewing the lease", e)),
            Err(_) => {
                return Err(StoreError::Unavailable(format!(
                    "renewing the lease: etcd did not answer within {:?}",
                    self.options.timeout
                )))
            }
        };
        match renewed {
            // etcd answers an expired lease with a TTL of 0 (or the error above).
            Some(answer) if answer.ttl() > 0 => Ok(Duration::from_secs(answer.ttl() as u64)),
            Some(_) => Err(StoreError::LeaseExpired(lease)),
            None => Err(StoreError::Unavailable(
                "renewing the lease: etcd closed the stream".into(),
            )),
        }
    }

    async fn deregister(&self, lease: i64) -> Result<(), StoreError> {
        let mut client = self.client.clone();
        match tokio::time::timeout(self.options.timeout, client.lease_revoke(lease)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if is_unknown_lease(&e) => Ok(()),
            Ok(Err(e)) => Err(unavailable("revoking the lease", e)),
            Err(_) => Err(StoreError::Unavailable(format!(
                "revoking the lease: etcd did not answer within {:?}",
                self.options.timeout
            ))),
        }
    }

    fn catalog(&self) -> &Catalog {
        &self.catalog
    }
}
