//! The registry's view of every service: its live instances and their version, and the
//! watchers waiting for the next change.
//!
//! Both stores keep a `Catalog` current (the memory store as it changes leases, the etcd store
//! from etcd's watch stream), so lookups, long polls and listings read memory and behave the
//! same whatever the store. Each service holds its current answer as one shared snapshot, so a
//! lookup is a reference-count increment and a change wakes every watcher at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use crate::idl::registry::{Instance, Instances};

/// Every service's instances. Cheap to share behind an `Arc`.
#[derive(Debug, Default)]
pub struct Catalog {
    services: Mutex<HashMap<String, Entry>>,
}

#[derive(Debug)]
struct Entry {
    instances: BTreeMap<i64, Instance>,
    /// The current answer; its receivers are the watchers waiting on this service.
    snapshot: watch::Sender<Arc<Instances>>,
}

impl Entry {
    fn empty(service: &str) -> Self {
        Entry {
            instances: BTreeMap::new(),
            snapshot: watch::Sender::new(Arc::new(Instances {
                service_name: service.to_string(),
                version: 0,
                instances: Vec::new(),
            })),
        }
    }

    /// Publishes the instances as `version` and wakes the watchers.
    fn publish(&mut self, service: &str, version: i64) {
        let snapshot = Arc::new(Instances {
            service_name: service.to_string(),
            version,
            instances: self.instances.values().cloned().collect(),
        });
        self.snapshot.send_replace(snapshot);
    }

    /// Kept only while it has instances or someone waits on it, so a peer that makes up
    /// service names cannot grow the map.
    fn is_garbage(&self) -> bool {
        self.instances.is_empty() && self.snapshot.receiver_count() == 0
    }
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A panic elsewhere cannot leave an entry half-written: every change is one insert
        // or remove followed by a publish.
        self.services.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `instance` (or replaces the one with its id) under `service` as `version`.
    pub fn put(&self, service: &str, instance: Instance, version: i64) {
        let mut services = self.lock();
        let entry = services
            .entry(service.to_string())
            .or_insert_with(|| Entry::empty(service));
        entry.instances.insert(instance.id, instance);
        entry.publish(service, version);
    }

    /// Removes instance `id` from `service` as `version`; false if it was not there.
    pub fn remove(&self, service: &str, id: i64, version: i64) -> bool {
        let mut services = self.lock();
        let Some(entry) = services.get_mut(service) else {
            return false;
        };
        if entry.instances.remove(&id).is_none() {
            return false;
        }
        entry.publish(service, version);
        if entry.is_garbage() {
            services.remove(service);
        }
        true
    }

    /// Replaces everything with `all` (service → instances) as `version`: how a store that
    /// lost track (a broken etcd watch) catches up. Services whose set did not change keep
    /// their version, so their watchers are not woken for nothing.
    pub fn replace(&self, mut all: HashMap<String, Vec<Instance>>, version: i64) {
        let mut services = self.lock();
        for (name, entry) in services.iter_mut() {
            let fresh: BTreeMap<i64, Instance> = all
                .remove(name)
                .unwrap_or_default()
                .into_iter()
                .map(|i| (i.id, i))
                .collect();
            if fresh != entry.instances {
                entry.instances = fresh;
                entry.publish(name, version);
            }
        }
        for (name, instances) in all {
            let mut entry = Entry::empty(&name);
            entry.instances = instances.into_iter().map(|i| (i.id, i)).collect();
            entry.publish(&name, version);
            services.insert(name, entry);
        }
        services.retain(|_, entry| !entry.is_garbage());
    }

    /// The service's instances now (none, at version 0, for a service nobody registered).
    pub fn lookup(&self, service: &str) -> Arc<Instances> {
        match self.lock().get(service) {
            Some(entry) => entry.snapshot.borrow().clone(),
            None => Arc::new(Instances {
                service_name: service.to_string(),
                version: 0,
                instances: Vec::new(),
            }),
        }
    }

    /// Answers as soon as the service's version differs from `known` (at once if it already
    /// does), or with the unchanged set after `timeout`.
    pub async fn watch(&self, service: &str, known: i64, timeout: Duration) -> Arc<Instances> {
        let mut changes = {
            let mut services = self.lock();
            services
                .entry(service.to_string())
                .or_insert_with(|| Entry::empty(service))
                .snapshot
                .subscribe()
        };
        let current = changes.borrow_and_update().clone();
        let answer = if current.version != known {
            current
        } else {
            // The sender lives while this receiver does (entries with watchers are kept).
            let _ = tokio::time::timeout(timeout, changes.changed()).await;
            changes.borrow().clone()
        };
        drop(changes);
        // The watcher may have been the only reason to keep an empty entry.
        let mut services = self.lock();
        if services.get(service).is_some_and(Entry::is_garbage) {
            services.remove(service);
        }
        answer
    }

    /// Every service with at least one instance, by name.
    pub fn services(&self) -> Vec<Arc<Instances>> {
        let services = self.lock();
        let mut all: Vec<Arc<Instances>> = services
            .values()
            .filter(|entry| !entry.instances.is_empty())
            .map(|entry| entry.snapshot.borrow().clone())
            .collect();
        all.sort_by(|a, b| a.service_name.cmp(&b.service_name));
        all
    }

    /// How many instances are listed, across services.
    pub fn len(&self) -> usize {
        self.lock().values().map(|e| e.instances.len()).sum()
    }

    /// Whether no instance is listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(id: i64, port: i32) -> Instance {
        Instance {
            id,
            host: "127.0.0.1".into(),
            port,
            weight: 100,
            zone: None,
            tags: BTreeMap::new(),
            registered_at_ms: 0,
        }
    }

    #[test]
    fn lookups_see_puts_and_removes_in_id_order() {
        let catalog = Catalog::new();
        catalog.put("image", instance(7, 9001), 10);
        catalog.put("image", instance(3, 9002), 11);
        let seen = catalog.lookup("image");
        assert_eq!(seen.version, 11);
        let ids: Vec<i64> = seen.instances.iter().map(|i| i.id).collect();
        assert_eq!(ids, [3, 7]);
        assert!(catalog.remove("image", 3, 12));
        assert!(
            !catalog.remove("image", 3, 13),
            "a second remove changes nothing"
        );
        assert_eq!(catalog.lookup("image").version, 12);
        assert_eq!(catalog.lookup("image").instances.len(), 1);
    }

    #[test]
    fn empty_services_are_forgotten_and_unlisted() {
        let catalog = Catalog::new();
        catalog.put("a", instance(1, 1), 5);
        catalog.remove("a", 1, 6);
        assert!(
            catalog.lock().is_empty(),
            "no entry kept for a service with nothing"
        );
        assert!(catalog.services().is_empty());
        assert_eq!(catalog.lookup("a").version, 0);
    }

    #[test]
    fn replace_wakes_only_services_that_changed() {
        let catalog = Catalog::new();
        catalog.put("same", instance(1, 1), 5);
        catalog.put("gone", instance(2, 2), 6);
        let mut all = HashMap::new();
        all.insert("same".to_string(), vec![instance(1, 1)]);
        all.insert("new".to_string(), vec![instance(3, 3)]);
        catalog.replace(all, 40);
        assert_eq!(catalog.lookup("same").version, 5);
        assert_eq!(catalog.lookup("new").version, 40);
        assert_eq!(catalog.lookup("gone").instances.len(), 0);
        let names: Vec<String> = catalog
            .services()
            .iter()
            .map(|s| s.service_name.clone())
            .collect();
        assert_eq!(names, ["new", "same"]);
    }

    #[tokio::test]
    async fn watch_answers_at_once_on_a_different_version() {
        let catalog = Catalog::new();
        catalog.put("image", instance(1, 1), 5);
        let answer = catalog.watch("image", 4, Duration::from_secs(30)).await;
        assert_eq!(answer.version, 5);
    }

    #[tokio::test]
    async fn watch_wakes_on_change_and_times_out_otherwise() {
        let catalog = Arc::new(Catalog::new());
        let waiting = {
            let catalog = catalog.clone();
            tokio::spawn(async move { catalog.watch("image", 0, Duration::from_secs(30)).await })
        };
        // Let the watcher subscribe, then change the service.
        tokio::time::sleep(Duration::from_millis(20)).await;
        catalog.put("image", instance(1, 1), 9);
        let answer = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("woken by the change")
            .unwrap();
        assert_eq!(answer.version, 9);

        let started = std::time::Instant::now();
        let same = catalog.watch("image", 9, Duration::from_millis(50)).await;
        assert_eq!(same.version, 9);
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(catalog.lock().len() == 1);
    }
}
