//! Discovery through a real registry (`mosaic-registry` on its in-memory store) and real image
//! servers, all on loopback sockets: instances come and go through `watch`, calls go on while
//! the registry is down, and the discovery task ends with its client.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mosaic_client::common::HealthClient;
use mosaic_client::registry::{Registration, RegistryClient};
use mosaic_client::{Balancer, Client};
use mosaic_runtime::server::Limits;

/// Serves the image service on a port the system picks; returns its port.
async fn image_server() -> u16 {
    use mosaic_server::idl::image::ImageServiceService;
    use mosaic_server::image::{ImageHandler, ImageLimits};
    let server = mosaic_runtime::Server::builder()
        .service(ImageServiceService::new(ImageHandler::new(
            ImageLimits::default(),
        )))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let port = server.local_addr().port();
    tokio::spawn(server.serve());
    port
}

/// Serves a registry on `addr` (with at most `max_connections`) until the task is aborted.
async fn registry_on(addr: &str, max_connections: usize) -> (String, tokio::task::JoinHandle<()>) {
    use mosaic_registry::idl::registry::RegistryService;
    use mosaic_registry::{MemoryStore, RegistryHandler, RegistryLimits};
    let server = mosaic_runtime::Server::builder()
        .limits(Limits {
            max_connections,
            ..Limits::default()
        })
        .service(RegistryService::new(RegistryHandler::new(
            Arc::new(MemoryStore::new()),
            RegistryLimits::default(),
        )))
        .bind(addr)
        .await
        .unwrap();
    let addr = server.local_addr().to_string();
    (addr, tokio::spawn(server.serve()))
}

/// Registers an image instance on `port` with a long lease; returns the lease.
async fn register(registry: &str, port: u16) -> i64 {
    register_in(registry, port, None).await
}

/// Registers an image instance on `port` in `zone`, with a long lease; returns the lease.
async fn register_in(registry: &str, port: u16, zone: Option<&str>) -> i64 {
    register_as(registry, port, zone, &[]).await
}

/// Registers an image instance on `port` in `zone` with `tags`, with a long lease; returns
/// the lease.
async fn register_as(registry: &str, port: u16, zone: Option<&str>, tags: &[(&str, &str)]) -> i64 {
    let client = RegistryClient::new(Client::builder(registry).build());
    let tags = tags
        .iter()
        .map(|&(k, v)| (k.to_string(), v.to_string()))
        .collect();
    client
        .register_instance(Registration {
            service_name: "image".into(),
            host: "127.0.0.1".into(),
            port: port.into(),
            ttl_ms: Some(300_000),
            zone: zone.map(Into::into),
            tags: Some(tags),
            ..Default::default()
        })
        .await
        .unwrap()
        .id
}

async fn deregister(registry: &str, lease: i64) {
    let client = RegistryClient::new(Client::builder(registry).build());
    client.deregister_instance(lease).await.unwrap();
}

/// The ports of the client's current endpoints, sorted.
fn ports(client: &Client) -> Vec<u16> {
    let mut ports: Vec<u16> = client.stats().iter().map(|s| s.endpoint.port).collect();
    ports.sort_unstable();
    ports
}

/// Waits (at most 5 s) until the client's endpoints are `want`.
async fn wait_for(client: &Client, mut want: Vec<u16>) {
    want.sort_unstable();
    let until = Instant::now() + Duration::from_secs(5);
    while ports(client) != want {
        assert!(
            Instant::now() < until,
            "endpoints {:?}, want {want:?}",
            ports(client)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_appear_and_leave_through_the_registry() {
    let (registry, _serving) = registry_on("127.0.0.1:0", 64).await;
    let (a, b) = (image_server().await, image_server().await);
    let lease_a = register(&registry, a).await;

    let client = mosaic_client::discover("image")
        .registry(registry.clone())
        .balancer(Balancer::RoundRobin)
        .timeout(Duration::from_secs(5))
        .client();
    let health = HealthClient::new(client.clone());
    // The first call waits for the first lookup.
    health.ping().await.unwrap();
    assert_eq!(ports(&client), [a]);
    assert_eq!(health.status().await.unwrap().name, "image");

    // b registers: the watch brings it, and calls spread over both.
    let lease_b = register(&registry, b).await;
    wait_for(&client, vec![a, b]).await;
    for _ in 0..10 {
        health.ping().await.unwrap();
    }
    for s in client.stats() {
        assert!(s.calls >= 5, "{s:?}");
    }

    // a leaves: calls go to b only.
    deregister(&registry, lease_a).await;
    wait_for(&client, vec![b]).await;
    let before = client.stats()[0].calls;
    for _ in 0..5 {
        health.ping().await.unwrap();
    }
    assert_eq!(client.stats()[0].calls, before + 5);

    // b leaves too: no instance, so a call fails (within its deadline).
    deregister(&registry, lease_b).await;
    wait_for(&client, vec![]).await;
    let quick = HealthClient::new(
        mosaic_client::discover("image")
            .registry(registry)
            .timeout(Duration::from_millis(300))
            .retries(0)
            .client(),
    );
    assert!(quick.ping().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_go_on_with_the_last_list_while_the_registry_is_down() {
    let (registry, serving) = registry_on("127.0.0.1:0", 64).await;
    let (a, b) = (image_server().await, image_server().await);
    register(&registry, a).await;
    register(&registry, b).await;
    let client = mosaic_client::discover("image")
        .registries([registry.clone()])
        .timeout(Duration::from_secs(5))
        .client();
    let health = HealthClient::new(client.clone());
    health.ping().await.unwrap();
    wait_for(&client, vec![a, b]).await;

    // The registry dies (its listener and every connection close).
    serving.abort();
    let _ = serving.await;
    for _ in 0..20 {
        health.ping().await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(ports(&client), [a.min(b), a.max(b)]);

    // A new registry comes up at the same address, knowing only b: the client follows it.
    let (_, _serving) = registry_on(&registry, 64).await;
    register(&registry, b).await;
    wait_for(&client, vec![b]).await;
    health.ping().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_registry_is_skipped_for_the_next_one() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let (live, _serving) = registry_on("127.0.0.1:0", 64).await;
    let a = image_server().await;
    register(&live, a).await;
    let client = mosaic_client::discover("image")
        .registries([dead, live])
        .timeout(Duration::from_secs(5))
        .client();
    HealthClient::new(client.clone()).ping().await.unwrap();
    assert_eq!(ports(&client), [a]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_ends_when_the_last_clone_of_its_client_is_dropped() {
    // A registry that serves one connection at a time: a second watcher is refused until the
    // first one's connection closes. Watches are short, so the registry answers the one in
    // flight soon after the client is gone and closes that connection.
    let (registry, _serving) = registry_on("127.0.0.1:0", 1).await;
    let a = image_server().await;
    register(&registry, a).await;

    let first = mosaic_client::discover("image")
        .registry(registry.clone())
        .watch_timeout(Duration::from_millis(200))
        .timeout(Duration::from_secs(5))
        .client();
    let clone = first.clone();
    HealthClient::new(first.clone()).ping().await.unwrap();
    drop(first);
    // A clone still holds the client: its discovery goes on.
    tokio::time::sleep(Duration::from_millis(500)).await;
    HealthClient::new(clone.clone()).ping().await.unwrap();
    drop(clone);

    // The task ended and closed its connection, so another client's discovery gets in.
    let second = HealthClient::new(
        mosaic_client::discover("image")
            .registry(registry)
            .timeout(Duration::from_secs(5))
            .client(),
    );
    second.ping().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_client_sticks_to_one_instance_while_others_come_and_go() {
    let (registry, _serving) = registry_on("127.0.0.1:0", 64).await;
    let mut ports_and_leases = Vec::new();
    for _ in 0..3 {
        let port = image_server().await;
        ports_and_leases.push((port, register(&registry, port).await));
    }
    let client = mosaic_client::discover("image")
        .registry(registry.clone())
        .balancer(Balancer::ConsistentHash)
        .timeout(Duration::from_secs(5))
        .client();
    wait_for(&client, ports_and_leases.iter().map(|p| p.0).collect()).await;
    // A generated client wraps the keyed clone as it is.
    let resnet = mosaic_client::image::ImageServiceClient::new(client.with_key("resnet50"));
    let busy = |client: &Client| -> Vec<u16> {
        client
            .stats()
            .iter()
            .filter(|s| s.calls > 0)
            .map(|s| s.endpoint.port)
            .collect()
    };
    for _ in 0..10 {
        resnet.ping().await.unwrap();
    }
    let home = busy(&client);
    assert_eq!(home.len(), 1, "{:?}", client.stats());
    let home = home[0];

    // Another instance leaves: the key stays where it was.
    let (other, lease) = *ports_and_leases.iter().find(|p| p.0 != home).unwrap();
    deregister(&registry, lease).await;
    let remaining: Vec<u16> = ports_and_leases
        .iter()
        .map(|p| p.0)
        .filter(|&p| p != other)
        .collect();
    wait_for(&client, remaining).await;
    for _ in 0..10 {
        resnet.ping().await.unwrap();
    }
    assert_eq!(busy(&client), [home]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_stay_in_the_clients_zone_while_an_instance_there_is_up() {
    let (registry, _serving) = registry_on("127.0.0.1:0", 64).await;
    let (near, far) = (image_server().await, image_server().await);
    // A third instance in the zone that is registered but not listening.
    let gone = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let near_lease = register_in(&registry, near, Some("eu-1")).await;
    register_in(&registry, far, Some("us-1")).await;
    register_in(&registry, gone, Some("eu-1")).await;
    let client = mosaic_client::discover("image")
        .registry(registry.clone())
        .zone("eu-1")
        .timeout(Duration::from_secs(5))
        .client();
    wait_for(&client, vec![near, far, gone]).await;
    let health = HealthClient::new(client.clone());
    let calls = |port: u16| -> u64 {
        let stats = client.stats();
        stats
            .iter()
            .find(|s| s.endpoint.port == port)
            .map_or(0, |s| s.calls)
    };
    // The zone's dead instance is ejected on its first refusal (and the call retried in the
    // zone); after that every call goes to the zone's live one.
    for _ in 0..20 {
        health.ping().await.unwrap();
    }
    assert_eq!(calls(far), 0, "{:?}", client.stats());
    assert!(calls(near) >= 20, "{:?}", client.stats());
    assert!(calls(gone) <= 1, "{:?}", client.stats());

    // The zone's live instance leaves: calls go to the other zone.
    deregister(&registry, near_lease).await;
    wait_for(&client, vec![far, gone]).await;
    for _ in 0..5 {
        health.ping().await.unwrap();
    }
    assert_eq!(calls(far), 5, "{:?}", client.stats());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tagged_client_calls_only_the_instances_with_its_tags() {
    let (registry, _serving) = registry_on("127.0.0.1:0", 64).await;
    let (gpu, cpu) = (image_server().await, image_server().await);
    register_as(&registry, gpu, None, &[("gpu", "a100")]).await;
    register_as(&registry, cpu, None, &[]).await;
    let client = mosaic_client::discover("image")
        .registry(registry.clone())
        .tag("gpu", "a100")
        .timeout(Duration::from_secs(5))
        .client();
    wait_for(&client, vec![gpu]).await;
    let health = HealthClient::new(client.clone());
    for _ in 0..10 {
        health.ping().await.unwrap();
    }
    assert_eq!(client.stats()[0].calls, 10);
    // Another instance with the tag registers: it joins the set.
    let second = image_server().await;
    register_as(&registry, second, None, &[("gpu", "a100"), ("rack", "7")]).await;
    wait_for(&client, vec![gpu, second]).await;
}
