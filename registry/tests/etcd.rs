//! The registry on a real etcd (Debian's `etcd-server`, which scripts/setup installs), started
//! per test on loopback ports chosen at run time: registry processes sharing one etcd, lease
//! expiry, an etcd restart mid-run, a registry process dying while another answers.
//!
//! Set MOSAIC_SKIP_ETCD=1 to skip these where etcd cannot be installed; otherwise a missing
//! etcd fails them, so CI cannot pass without running them.
#![cfg(feature = "etcd")]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mosaic_registry::idl::registry::{
    HeartbeatError, Instances, RegisterInstanceError, Registration, RegistryClient, RegistryService,
};
use mosaic_registry::{EtcdOptions, EtcdStore, RegistryHandler, RegistryLimits};
use tokio::task::JoinHandle;

/// An etcd process on two free loopback ports with its own data directory.
struct Etcd {
    child: Option<Child>,
    client_port: u16,
    peer_port: u16,
    dir: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Etcd {
    /// Starts etcd, or `None` when MOSAIC_SKIP_ETCD=1.
    async fn start(name: &str) -> Option<Etcd> {
        if std::env::var("MOSAIC_SKIP_ETCD").as_deref() == Ok("1") {
            eprintln!("MOSAIC_SKIP_ETCD=1: skipping the etcd store test");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("mosaic-etcd-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut etcd = Etcd {
            child: None,
            client_port: free_port(),
            peer_port: free_port(),
            dir,
        };
        etcd.run().await;
        Some(etcd)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    async fn run(&mut self) {
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let child = Command::new("etcd")
            .args([
                "--name=mosaic-test",
                &format!("--data-dir={}", self.dir.display()),
                &format!("--listen-client-urls={}", self.url()),
                &format!("--advertise-client-urls={}", self.url()),
                &format!("--listen-peer-urls={peer}"),
                &format!("--initial-advertise-peer-urls={peer}"),
                &format!("--initial-cluster=mosaic-test={peer}"),
                "--log-level=error",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start etcd ({e}): install Debian's etcd-server (scripts/setup does), \
                     or set MOSAIC_SKIP_ETCD=1"
                )
            });
        self.child = Some(child);
        // Ready when a store can read from it.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if EtcdStore::connect(&[self.url()], quick()).await.is_ok() {
                return;
            }
            assert!(Instant::now() < deadline, "etcd did not start within 20 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn quick() -> EtcdOptions {
    EtcdOptions {
        prefix: "/mosaic-test".into(),
        timeout: Duration::from_secs(2),
    }
}

/// A registry server on `etcd`, on a free loopback port; aborting the task kills it.
async fn registry(etcd: &Etcd) -> (String, JoinHandle<()>) {
    let store = EtcdStore::connect(&[etcd.url()], quick()).await.unwrap();
    let server = mosaic_runtime::Server::builder()
        .service(RegistryService::new(RegistryHandler::new(
            Arc::new(store),
            RegistryLimits::default(),
        )))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = server.local_addr().to_string();
    let task = tokio::spawn(server.serve_until(std::future::pending()));
    (addr, task)
}

fn client(addr: &str) -> RegistryClient {
    RegistryClient::new(
        mosaic_runtime::Client::builder(addr)
            .timeout(Duration::from_secs(10))
            .retries(0)
            .build(),
    )
}

fn registration(port: i32, ttl_ms: i32) -> Registration {
    Registration {
        service_name: "image".into(),
        host: "127.0.0.1".into(),
        port,
        weight: Some(50),
        zone: Some("z1".into()),
        tags: Some([("models".to_string(), "resnet50".to_string())].into()),
        ttl_ms: Some(ttl_ms),
    }
}

fn ports(instances: &Instances) -> Vec<i32> {
    instances.instances.iter().map(|i| i.port).collect()
}

/// Long-polls `registry` until `done` holds, within `within`; returns the set and the time.
async fn until(
    registry: &RegistryClient,
    within: Duration,
    done: impl Fn(&Instances) -> bool,
) -> (Instances, Duration) {
    let started = Instant::now();
    let mut seen = registry.lookup("image".into()).await.unwrap();
    while !done(&seen) {
        let left = within.saturating_sub(started.elapsed());
        assert!(!left.is_zero(), "not reached within {within:?}: {seen:?}");
        let poll = left.as_millis().min(1000) as i32;
        seen = registry
            .watch("image".into(), seen.version, poll)
            .await
            .unwrap();
    }
    (seen, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registries_on_one_etcd_share_instances_watchers_and_versions() {
    let Some(etcd) = Etcd::start("share").await else {
        return;
    };
    let (a_addr, a_task) = registry(&etcd).await;
    let (b_addr, _b_task) = registry(&etcd).await;
    let (a, b) = (client(&a_addr), client(&b_addr));

    // A watcher on B wakes when A registers.
    let before = b.lookup("image".into()).await.unwrap();
    let watching = {
        let b = b.clone();
        tokio::spawn(async move { b.watch("image".into(), before.version, 10_000).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let lease = a
        .register_instance(registration(9001, 10_000))
        .await
        .unwrap();
    let woke = tokio::time::timeout(Duration::from_secs(5), watching)
        .await
        .expect("B's watcher woke")
        .unwrap()
        .unwrap();
    assert_eq!(ports(&woke), [9001]);
    let listed = &woke.instances[0];
    assert_eq!(listed.id, lease.id);
    assert_eq!(listed.weight, 50);
    assert_eq!(listed.zone.as_deref(), Some("z1"));
    assert_eq!(
        listed.tags.get("models").map(String::as_str),
        Some("resnet50")
    );

    // Both report the same version (etcd's revision).
    let (from_a, _) = until(&a, Duration::from_secs(5), |s| ports(s) == [9001]).await;
    assert_eq!(from_a.version, woke.version);

    // A dies; B renews A's lease and lists what A registered.
    a_task.abort();
    let renewed = b.heartbeat(lease.id).await.unwrap();
    assert_eq!(renewed.id, lease.id);
    assert_eq!(ports(&b.lookup("image".into()).await.unwrap()), [9001]);
    b.deregister_instance(lease.id).await.unwrap();
    let (_, took) = until(&b, Duration::from_secs(5), |s| s.instances.is_empty()).await;
    eprintln!("deregistered instance left lookups after {took:?}");
    // Deregistering again is not an error.
    b.deregister_instance(lease.id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_lapse_without_heartbeats_and_live_with_them() {
    let Some(etcd) = Etcd::start("lapse").await else {
        return;
    };
    let (addr, _task) = registry(&etcd).await;
    let registry = client(&addr);
    let kept = registry
        .register_instance(registration(9001, 2000))
        .await
        .unwrap();
    let dropped = registry
        .register_instance(registration(9002, 2000))
        .await
        .unwrap();
    let ttl = Duration::from_millis(kept.ttl_ms as u64);

    // Renew one for three TTLs; leave the other.
    let started = Instant::now();
    let mut gone_after = None;
    while started.elapsed() < ttl * 3 {
        registry.heartbeat(kept.id).await.unwrap();
        let now = ports(&registry.lookup("image".into()).await.unwrap());
        if gone_after.is_none() && now == [9001] {
            gone_after = Some(started.elapsed());
        }
        tokio::time::sleep(ttl / 4).await;
    }
    let gone_after = gone_after.expect("the unrenewed instance left lookups");
    eprintln!("an unrenewed etcd lease of {ttl:?} left lookups after {gone_after:?}");
    // etcd checks for expired leases every 500 ms.
    assert!(
        gone_after <= ttl + Duration::from_millis(1500),
        "{gone_after:?}"
    );
    assert_eq!(
        ports(&registry.lookup("image".into()).await.unwrap()),
        [9001]
    );
    match registry.heartbeat(dropped.id).await {
        Err(HeartbeatError::Expired(e)) => assert_eq!(e.lease, Some(dropped.id)),
        other => panic!("expected LeaseExpired, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_survive_an_etcd_restart() {
    let Some(mut etcd) = Etcd::start("restart").await else {
        return;
    };
    let (addr, _task) = registry(&etcd).await;
    let registry = client(&addr);
    let lease = registry
        .register_instance(registration(9001, 10_000))
        .await
        .unwrap();
    until(&registry, Duration::from_secs(5), |s| ports(s) == [9001]).await;

    etcd.kill();
    // Writes fail with the declared error in bounded time; reads answer from the catalog.
    let started = Instant::now();
    match registry.register_instance(registration(9002, 10_000)).await {
        Err(RegisterInstanceError::Unavailable(e)) => {
            eprintln!("while etcd is down: {}", e.message)
        }
        other => panic!("expected StoreUnavailable, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(
        registry.heartbeat(lease.id).await,
        Err(HeartbeatError::Unavailable(_))
    ));
    assert_eq!(
        ports(&registry.lookup("image".into()).await.unwrap()),
        [9001]
    );

    // The same etcd comes back on its data: the lease and the instance are still there.
    etcd.run().await;
    let renewed = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match registry.heartbeat(lease.id).await {
                Ok(renewed) => return renewed,
                Err(HeartbeatError::Unavailable(_)) => {
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
                Err(other) => panic!("the lease did not survive the restart: {other:?}"),
            }
        }
    })
    .await
    .expect("etcd answered again");
    assert_eq!(renewed.id, lease.id);
    // The registry follows etcd again: a new registration shows up through its watch.
    registry
        .register_instance(registration(9003, 10_000))
        .await
        .unwrap();
    let (seen, took) = until(&registry, Duration::from_secs(15), |s| {
        let mut p = ports(s);
        p.sort();
        p == [9001, 9003]
    })
    .await;
    eprintln!(
        "after the restart the catalog caught up in {took:?} (version {})",
        seen.version
    );
}
