//! The `Registry` service: checks each request, then asks the store (leases) or reads its
//! catalog (lookups, long polls, listings).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI32, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::idl::common::{Health, InvalidArgument, ServerStatus, TooLarge};
use crate::idl::registry::{
    DeregisterInstanceError, HeartbeatError, Instances, Lease, LeaseExpired, LookupError,
    RegisterInstanceError, Registration, Registry, ServicesError, StoreUnavailable, WatchError,
};
use crate::store::{NewInstance, Store, StoreError};

/// What the registry accepts.
#[derive(Clone, Copy, Debug)]
pub struct RegistryLimits {
    /// The TTL of a registration that asks for none.
    pub default_ttl: Duration,
    /// Requested TTLs are clamped into `min_ttl..=max_ttl`.
    pub min_ttl: Duration,
    pub max_ttl: Duration,
    /// The most instances listed at once, across services.
    pub max_instances: usize,
    /// The longest a `watch` may wait.
    pub max_watch: Duration,
}

impl Default for RegistryLimits {
    fn default() -> Self {
        RegistryLimits {
            default_ttl: Duration::from_secs(10),
            min_ttl: Duration::from_secs(1),
            max_ttl: Duration::from_secs(300),
            max_instances: 100_000,
            max_watch: Duration::from_secs(300),
        }
    }
}

/// Serves the registry over `store`: `RegistryService::new(RegistryHandler::new(store, ..))`.
pub struct RegistryHandler<S> {
    store: Arc<S>,
    limits: RegistryLimits,
    started: Instant,
    in_flight: AtomicI32,
    served: AtomicI64,
}

impl<S: Store> RegistryHandler<S> {
    /// A handler over `store` with `limits`.
    pub fn new(store: Arc<S>, limits: RegistryLimits) -> Self {
        RegistryHandler {
            store,
            limits,
            started: Instant::now(),
            in_flight: AtomicI32::new(0),
            served: AtomicI64::new(0),
        }
    }

    /// The store behind this handler.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    fn enter(&self) -> CallGuard<'_, S> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        CallGuard(self)
    }

    fn lease(&self, id: i64, ttl: Duration) -> Lease {
        Lease {
            id,
            ttl_ms: ttl.as_millis().min(i32::MAX as u128) as i32,
        }
    }
}

/// Counts a call in flight until dropped, then as served (for `Health.status`).
struct CallGuard<'a, S>(&'a RegistryHandler<S>);

impl<S> Drop for CallGuard<'_, S> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.served.fetch_add(1, Ordering::Relaxed);
    }
}

fn invalid(field: &str, message: impl Into<String>) -> InvalidArgument {
    InvalidArgument {
        message: format!("{field}: {}", message.into()),
        field: Some(field.to_string()),
    }
}

/// 1 to 128 characters of `[A-Za-z0-9._-]`: safe as an etcd key segment and in logs.
fn check_service_name(field: &str, name: &str) -> Result<(), InvalidArgument> {
    if name.is_empty() || name.len() > 128 {
        return Err(invalid(
            field,
            format!("must be 1 to 128 characters, not {}", name.len()),
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(invalid(
            field,
            format!("{name:?} has {bad:?}; only letters, digits, '.', '_' and '-' are allowed"),
        ));
    }
    Ok(())
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), InvalidArgument> {
    if value.len() > max {
        return Err(invalid(
            field,
            format!("is {} bytes, over the limit of {max}", value.len()),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(())
}

/// The registration as the store lists it, or what is wrong with it.
fn check_registration(r: Registration) -> Result<NewInstance, InvalidArgument> {
    check_service_name("registration.service_name", &r.service_name)?;
    if r.host.is_empty() {
        return Err(invalid("registration.host", "must not be empty"));
    }
    check_text("registration.host", &r.host, 253)?;
    if r.host.contains(char::is_whitespace) {
        return Err(invalid("registration.host", "must not contain spaces"));
    }
    if !(1..=65535).contains(&r.port) {
        return Err(invalid(
            "registration.port",
            format!("must be in 1..65535, not {}", r.port),
        ));
    }
    let weight = r.weight.unwrap_or(100);
    if !(0..=10_000).contains(&weight) {
        return Err(invalid(
            "registration.weight",
            format!("must be in 0..10000, not {weight}"),
        ));
    }
    if let Some(zone) = &r.zone {
        check_text("registration.zone", zone, 128)?;
    }
    let tags = r.tags.unwrap_or_default();
    if tags.len() > 64 {
        return Err(invalid(
            "registration.tags",
            format!("has {} entries, over the limit of 64", tags.len()),
        ));
    }
    for (key, value) in &tags {
        if key.is_empty() {
            return Err(invalid("registration.tags", "a key is empty"));
        }
        check_text(&format!("registration.tags[{key:?}]"), key, 128)?;
        check_text(&format!("registration.tags[{key:?}]"), value, 4096)?;
    }
    Ok(NewInstance {
        service: r.service_name,
        host: r.host,
        port: r.port,
        weight,
        zone: r.zone,
        tags: tags.into_iter().collect::<BTreeMap<_, _>>(),
    })
}

fn unavailable(why: String) -> StoreUnavailable {
    StoreUnavailable {
        message: format!("the registry's store is unavailable: {why}"),
    }
}

impl<S: Store> Health for RegistryHandler<S> {
    async fn ping(&self) -> Result<(), mosaic_runtime::Error> {
        let _call = self.enter();
        Ok(())
    }

    async fn status(&self) -> Result<ServerStatus, mosaic_runtime::Error> {
        let _call = self.enter();
        Ok(ServerStatus {
            name: "registry".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            uptime_ms: self.started.elapsed().as_millis() as i64,
            in_flight: self.in_flight.load(Ordering::Relaxed),
            served: self.served.load(Ordering::Relaxed),
        })
    }
}

impl<S: Store> Registry for RegistryHandler<S> {
    async fn register_instance(
        &self,
        registration: Registration,
    ) -> Result<Lease, RegisterInstanceError> {
        let _call = self.enter();
        let requested = registration.ttl_ms;
        let new = check_registration(registration)?;
        let ttl = match requested {
            None => self.limits.default_ttl,
            Some(ms) if ms <= 0 => {
                return Err(
                    invalid("registration.ttl_ms", format!("must be positive, not {ms}")).into(),
                )
            }
            Some(ms) => {
                Duration::from_millis(ms as u64).clamp(self.limits.min_ttl, self.limits.max_ttl)
            }
        };
        let listed = self.store.catalog().len();
        if listed >= self.limits.max_instances {
            return Err(TooLarge {
                message: format!(
                    "the registry lists {listed} instances, its limit; deregister some or \
                     raise --max-instances"
                ),
                what: Some("instances".into()),
                limit: Some(self.limits.max_instances as i64),
                requested: Some(listed as i64 + 1),
            }
            .into());
        }
        let (service, host, port) = (new.service.clone(), new.host.clone(), new.port);
        match self.store.register(new, ttl).await {
            Ok(id) => {
                tracing::info!(service, host, port, lease = id, ttl_ms = ?ttl.as_millis(), "registered");
                Ok(self.lease(id, ttl))
            }
            Err(StoreError::Unavailable(why)) => Err(unavailable(why).into()),
            // A store never refuses a new lease as expired; say so rather than hide it.
            Err(e @ StoreError::LeaseExpired(_)) => Err(unavailable(e.to_string()).into()),
        }
    }

    async fn heartbeat(&self, lease: i64) -> Result<Lease, HeartbeatError> {
        let _call = self.enter();
        match self.store.heartbeat(lease).await {
            Ok(ttl) => Ok(self.lease(lease, ttl)),
            Err(StoreError::LeaseExpired(_)) => Err(LeaseExpired {
                message: format!(
                    "lease {lease} is not known: it expired or was deregistered; register again"
                ),
                lease: Some(lease),
            }
            .into()),
            Err(StoreError::Unavailable(why)) => Err(unavailable(why).into()),
        }
    }

    async fn deregister_instance(&self, lease: i64) -> Result<(), DeregisterInstanceError> {
        let _call = self.enter();
        match self.store.deregister(lease).await {
            Ok(()) | Err(StoreError::LeaseExpired(_)) => Ok(()),
            Err(StoreError::Unavailable(why)) => Err(unavailable(why).into()),
        }
    }

    async fn lookup(&self, service_name: String) -> Result<Instances, LookupError> {
        let _call = self.enter();
        check_service_name("service_name", &service_name)?;
        Ok(Instances::clone(
            &self.store.catalog().lookup(&service_name),
        ))
    }

    async fn watch(
        &self,
        service_name: String,
        known_version: i64,
        timeout_ms: i32,
    ) -> Result<Instances, WatchError> {
        let _call = self.enter();
        check_service_name("service_name", &service_name)?;
        let max = self.limits.max_watch.as_millis() as i64;
        if !(0..=max).contains(&(timeout_ms as i64)) {
            return Err(invalid(
                "timeout_ms",
                format!("must be in 0..{max}, not {timeout_ms}"),
            )
            .into());
        }
        let timeout = Duration::from_millis(timeout_ms as u64);
        let answer = self
            .store
            .catalog()
            .watch(&service_name, known_version, timeout)
            .await;
        Ok(Instances::clone(&answer))
    }

    async fn services(&self) -> Result<Vec<Instances>, ServicesError> {
        let _call = self.enter();
        Ok(self
            .store
            .catalog()
            .services()
            .iter()
            .map(|s| Instances::clone(s))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration() -> Registration {
        Registration {
            service_name: "image".into(),
            host: "127.0.0.1".into(),
            port: 9090,
            weight: None,
            zone: None,
            tags: None,
            ttl_ms: None,
        }
    }

    fn field_of(r: Registration) -> Option<String> {
        check_registration(r).err().and_then(|e| e.field)
    }

    #[test]
    fn registrations_are_checked_field_by_field() {
        assert!(check_registration(registration()).is_ok());
        let bad_name = Registration {
            service_name: "image/../x".into(),
            ..registration()
        };
        assert_eq!(
            field_of(bad_name).as_deref(),
            Some("registration.service_name")
        );
        let bad_port = Registration {
            port: 70000,
            ..registration()
        };
        assert_eq!(field_of(bad_port).as_deref(), Some("registration.port"));
        let bad_weight = Registration {
            weight: Some(-1),
            ..registration()
        };
        assert_eq!(field_of(bad_weight).as_deref(), Some("registration.weight"));
        let many_tags = Registration {
            tags: Some((0..65).map(|i| (i.to_string(), String::new())).collect()),
            ..registration()
        };
        assert_eq!(field_of(many_tags).as_deref(), Some("registration.tags"));
        let empty_host = Registration {
            host: String::new(),
            ..registration()
        };
        assert_eq!(field_of(empty_host).as_deref(), Some("registration.host"));
    }

    #[test]
    fn weight_defaults_to_100_and_zero_is_allowed() {
        assert_eq!(check_registration(registration()).unwrap().weight, 100);
        let draining = Registration {
            weight: Some(0),
            ..registration()
        };
        assert_eq!(check_registration(draining).unwrap().weight, 0);
    }
}
