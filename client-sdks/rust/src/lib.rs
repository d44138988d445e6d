//! `mosaic-client`: typed async Rust clients for Mosaic's services.
//!
//! The clients are generated from `idl/` at build time (never committed), on
//! `mosaic-runtime`'s client: calls balanced across the servers of a service, a pool of
//! pipelined connections to each, a deadline per call, retries of calls that certainly never
//! reached a handler (on another server), and typed errors (each method's declared exceptions
//! are variants of its error enum).
//!
//! A client reaches its servers in one of two ways:
//!
//! - [`connect`]`("host:port")`: one server at a fixed address;
//! - [`discover`]`("image").registry("host:port")`: every live instance of a service, as the
//!   registry (`idl/registry.thrift`) lists them. A background task looks the service up, then
//!   long-polls the registry's `watch`, so instances that register start getting calls and
//!   instances that leave (or whose lease expires) stop, within one round trip. While no
//!   registry answers, the client keeps calling the instances it knew; the task retries with
//!   backoff, going round the registries it was given. It ends when the last clone of the
//!   client is dropped.
//!
//! Both give a [`Connect`] with the same options and the same typed clients. Calls are spread
//! by [power of two choices](Balancer::PowerOfTwoChoices) (the less busy of two instances
//! drawn by weight) unless [`Connect::balancer`] says otherwise; with
//! [`Balancer::ConsistentHash`], [`Client::with_key`](mosaic_runtime::Client::with_key) keeps
//! calls about one key (a model, a tenant) on one instance; [`Connect::zone`] keeps calls in
//! one zone while any instance there is healthy, and [`Connect::tag`] to the instances
//! registered with a tag (a GPU model, a loaded model).
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use mosaic_client::image::{Image, EncodedImage, Op, Resize};
//!
//! let image = mosaic_client::connect("127.0.0.1:9090")
//!     .timeout(Duration::from_secs(10))
//!     .image();
//! image.ping().await?;
//! let photo = Image::Encoded(EncodedImage {
//!     data: std::fs::read("photo.jpg")?.into(),
//!     format: None,
//! });
//! let small = image
//!     .transform(
//!         Some(photo),
//!         vec![Op::Resize(Resize { width: 320, height: 0, ..Default::default() })],
//!         None,
//!     )
//!     .await?;
//! # let _ = small;
//! # Ok(()) }
//! ```
//!
//! Through the registry, with calls about one model sticking to one instance:
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use mosaic_client::{image::ImageServiceClient, Balancer};
//!
//! let client = mosaic_client::discover("image")
//!     .registries(["10.0.0.1:7070", "10.0.0.2:7070"])
//!     .balancer(Balancer::ConsistentHash)
//!     .client();
//! let resnet = ImageServiceClient::new(client.with_key("resnet50"));
//! resnet.ping().await?;
//! for s in client.stats() {
//!     println!("{} calls={} errors={} ejected={}", s.endpoint.addr(), s.calls, s.errors, s.ejected);
//! }
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use mosaic_runtime::ClientBuilder;
pub use mosaic_runtime::{Balancer, Client, Endpoint, EndpointStats, Error, Protocol};
use tokio::sync::watch;

mod idl {
    #![allow(clippy::all, missing_docs)]
    include!(concat!(env!("OUT_DIR"), "/mosaic.rs"));
}

/// The image service's types, exceptions and client (`idl/image.thrift`).
pub mod image {
    pub use crate::idl::image::*;
}

/// Types and exceptions every service shares (`idl/common.thrift`).
pub mod common {
    pub use crate::idl::common::*;
}

/// The registry's types, exceptions and client (`idl/registry.thrift`).
pub mod registry {
    pub use crate::idl::registry::*;
}

/// How a client reaches its servers; the typed clients come from it.
#[derive(Clone, Debug)]
pub struct Connect {
    target: Target,
    timeout: Duration,
    connect_timeout: Duration,
    max_connections: usize,
    retries: u32,
    protocol: Protocol,
    balancer: Balancer,
    zone: Option<String>,
    tags: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
enum Target {
    Address(String),
    Registry(Discovery),
}

/// Starts configuring clients of the server at `addr` (`host:port`).
pub fn connect(addr: impl Into<String>) -> Connect {
    Connect::new(Target::Address(addr.into()))
}

/// Starts configuring clients of every live instance of `service` (e.g. `"image"`), as a
/// registry lists them; name the registry next: `discover("image").registry("host:7070")`.
pub fn discover(service: impl Into<String>) -> Discover {
    Discover {
        service: service.into(),
    }
}

/// A service to find through the registry: [`Discover::registry`] names where the registry is.
#[derive(Clone, Debug)]
pub struct Discover {
    service: String,
}

impl Discover {
    /// Finds the service through the registry at `addr` (`host:port`).
    pub fn registry(self, addr: impl Into<String>) -> Connect {
        self.registries([addr])
    }

    /// Finds the service through any of these registries (processes sharing one store):
    /// the first that answers is watched; when it fails, the next one is tried.
    pub fn registries<A: Into<String>>(self, addrs: impl IntoIterator<Item = A>) -> Connect {
        Connect::new(Target::Registry(Discovery {
            service: self.service,
            registries: addrs.into_iter().map(Into::into).collect(),
            poll: DEFAULT_WATCH,
        }))
    }
}

impl Connect {
    fn new(target: Target) -> Connect {
        Connect {
            target,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            max_connections: 4,
            retries: 2,
            protocol: Protocol::Binary,
            balancer: Balancer::default(),
            zone: None,
            tags: Vec::new(),
        }
    }

    /// The deadline of each call, from start to reply. Default: 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long opening a connection may take. Default: 5 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The most connections to open to each server; calls are pipelined on each. Default: 4.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }

    /// Retries of calls that failed before any handler saw them, on another server when
    /// there is one. Default: 2.
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// The wire protocol. Default: binary (the server detects either).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// How calls spread across the servers. Default: [`Balancer::PowerOfTwoChoices`].
    pub fn balancer(mut self, balancer: Balancer) -> Self {
        self.balancer = balancer;
        self
    }

    /// Prefers the instances the registry lists in `zone` (`mosaic serve --zone`) while any
    /// of them takes calls; the others get calls only when none of those can. Default: none.
    pub fn zone(mut self, zone: impl Into<String>) -> Self {
        self.zone = Some(zone.into());
        self
    }

    /// Calls only the instances the registry lists with tag `key` = `value`
    /// (`mosaic serve image --tag gpu=a100`); the others are ignored. Several tags must all
    /// match. Default: none.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    /// How long one long poll of the registry waits for a change before asking again; it
    /// must be within the registry's limit (5 min unless configured). Only for clients made
    /// by [`discover`]. Default: 30 s.
    pub fn watch_timeout(mut self, timeout: Duration) -> Self {
        if let Target::Registry(d) = &mut self.target {
            d.poll = timeout;
        }
        self
    }

    /// The shared client (connection pools and balancing); any generated client (your own
    /// IDL's too) wraps it: `MyServiceClient::new(connect(addr).client())`. Through the
    /// registry, this starts the discovery task, so it must run inside a Tokio runtime; each
    /// call starts its own task, which ends when the client and all its clones are dropped.
    pub fn client(self) -> Client {
        let builder = match &self.target {
            Target::Address(addr) => Client::builder(addr.clone()),
            Target::Registry(discovery) => {
                let endpoints = discovery.start(self.connect_timeout);
                Client::builder_watch(endpoints)
            }
        };
        self.configure(builder).build()
    }

    fn configure(&self, builder: ClientBuilder) -> ClientBuilder {
        let builder = builder
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .max_connections(self.max_connections)
            .retries(self.retries)
            .protocol(self.protocol)
            .balancer(self.balancer);
        let builder = self
            .tags
            .iter()
            .fold(builder, |b, (key, value)| b.tag(key.clone(), value.clone()));
        match &self.zone {
            Some(zone) => builder.zone(zone.clone()),
            None => builder,
        }
    }

    /// A client of the image service.
    pub fn image(self) -> image::ImageServiceClient {
        image::ImageServiceClient::new(self.client())
    }

    /// A client of the health probe every Mosaic service answers.
    pub fn health(self) -> common::HealthClient {
        common::HealthClient::new(self.client())
    }
}

/// How long one `watch` long poll waits for a change, by default.
const DEFAULT_WATCH: Duration = Duration::from_secs(30);
/// The first pause after a registry failed to answer; it doubles up to `MAX_RETRY_PAUSE`.
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(100);
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(5);

/// Where to find a service's instances.
#[derive(Clone, Debug)]
struct Discovery {
    service: String,
    registries: Vec<String>,
    poll: Duration,
}

impl Discovery {
    /// Spawns the task that keeps the returned list current.
    fn start(&self, connect_timeout: Duration) -> watch::Receiver<Arc<[Endpoint]>> {
        let (tx, rx) = watch::channel(Arc::from([]));
        let registries = self
            .registries
            .iter()
            .map(|addr| {
                registry::RegistryClient::new(
                    Client::builder(addr.clone())
                        .timeout(self.poll + Duration::from_secs(5))
                        .connect_timeout(connect_timeout)
                        .max_connections(1)
                        .retries(0)
                        .build(),
                )
            })
            .collect();
        let poll_ms = self.poll.as_millis().min(i32::MAX as u128) as i32;
        tokio::spawn(watch_registry(
            self.service.clone(),
            registries,
            poll_ms,
            tx,
        ));
        rx
    }
}

/// Looks the service up, then long-polls for changes, sending each new list. On a failure it
/// moves to the next registry after a pause (100 ms doubling to 5 s), keeping the last list.
/// Returns when every receiver (every clone of the client) is gone.
async fn watch_registry(
    service: String,
    registries: Vec<registry::RegistryClient>,
    poll_ms: i32,
    tx: watch::Sender<Arc<[Endpoint]>>,
) {
    if registries.is_empty() {
        return tx.closed().await;
    }
    let mut at = 0;
    let mut version = None;
    let mut failures = 0;
    loop {
        let registry = &registries[at];
        let ask = async {
            match version {
                None => registry
                    .lookup(service.clone())
                    .await
                    .map_err(|e| format!("{e:?}")),
                Some(v) => registry
                    .watch(service.clone(), v, poll_ms)
                    .await
                    .map_err(|e| format!("{e:?}")),
            }
        };
        let answer = tokio::select! {
            _ = tx.closed() => return,
            answer = ask => answer,
        };
        match answer {
            Ok(instances) => {
                failures = 0;
                version = Some(instances.version);
                let list: Arc<[Endpoint]> =
                    instances.instances.iter().filter_map(endpoint_of).collect();
                tx.send_if_modified(|current| {
                    let changed = **current != *list;
                    if changed {
                        *current = list;
                    }
                    changed
                });
            }
            Err(_) => {
                // Keep the list; ask the next registry afresh (its versions are its own).
                failures += 1;
                version = None;
                at = (at + 1) % registries.len();
                let pause = FIRST_RETRY_PAUSE
                    .saturating_mul(1 << (failures - 1).min(6))
                    .min(MAX_RETRY_PAUSE);
                tokio::select! {
                    _ = tx.closed() => return,
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        }
    }
}

/// The endpoint of a registered instance (none for a port out of range).
fn endpoint_of(instance: &registry::Instance) -> Option<Endpoint> {
    let port = u16::try_from(instance.port).ok().filter(|&p| p != 0)?;
    let mut endpoint =
        Endpoint::new(instance.host.clone(), port).with_weight(instance.weight.max(0) as u32);
    endpoint.zone.clone_from(&instance.zone);
    endpoint.tags.clone_from(&instance.tags);
    Some(endpoint)
}
