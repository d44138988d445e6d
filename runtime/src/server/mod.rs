//! The async server.
//!
//! One listener, one task per connection. Each connection's protocol and framing are detected
//! from its first bytes. Calls on one connection run concurrently and are answered as they
//! finish (Thrift matches replies by sequence id), with replies that are ready together sent
//! in one write. Everything a peer controls is limited (see [`Limits`]); a peer that breaks the
//! protocol loses its own connection and nobody else notices.
//!
//! ```no_run
//! # async fn example(service: impl mosaic_runtime::Service) -> std::io::Result<()> {
//! let server = mosaic_runtime::Server::builder()
//!     .service(service)
//!     .bind("127.0.0.1:9090")
//!     .await?;
//! println!("listening on {}", server.local_addr());
//! server.serve_until(async { tokio::signal::ctrl_c().await.ok(); }).await;
//! # Ok(()) }
//! ```

mod connection;
mod service;

pub use service::{Call, CallFuture, Reply, Service};

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::protocol::DecodeLimits;
use crate::transport::MemoryBudget;

/// Limits on what peers can make the server do.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest message (framed or not), in bytes. The default, 96 MiB, carries a 64 MiB image
    /// with room to spare.
    pub max_message_size: usize,
    /// Limits applied while decoding values.
    pub decode: DecodeLimits,
    /// Most open connections; further ones are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Most calls running at once on one connection; the server stops reading from a connection
    /// that has this many, until one finishes.
    pub max_in_flight_per_connection: usize,
    /// Most bytes all connections together may hold in read buffers beyond a small allowance
    /// each ([`FREE_PER_CONNECTION`](crate::transport::FREE_PER_CONNECTION)). A connection that
    /// needs more while the budget is spent is closed; small calls keep being served.
    pub max_buffered_bytes: usize,
    /// How long a peer has to finish sending a message it has started; a connection that holds
    /// an unfinished message longer is closed (slow senders cannot hold buffers forever).
    pub message_timeout: Duration,
    /// How long graceful shutdown waits for running calls before closing anyway.
    pub drain_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: 96 * 1024 * 1024,
            decode: DecodeLimits {
                max_string_len: 96 * 1024 * 1024,
                ..DecodeLimits::default()
            },
            max_connections: 4096,
            max_in_flight_per_connection: 256,
            max_buffered_bytes: 1024 * 1024 * 1024,
            message_timeout: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// Configures and starts a [`Server`].
#[derive(Default)]
pub struct ServerBuilder {
    services: Vec<Arc<dyn Service>>,
    limits: Limits,
}

impl ServerBuilder {
    /// Adds a service. The first one also answers method names without a `Service:` prefix.
    pub fn service(mut self, service: impl Service) -> Self {
        self.services.push(Arc::new(service));
        self
    }

    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Binds the listener. Use port 0 to let the system choose; see [`Server::local_addr`].
    pub async fn bind(self, addr: impl ToSocketAddrs) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        self.listen(listener)
    }

    /// Serves on a listener that is already bound.
    pub fn listen(self, listener: TcpListener) -> std::io::Result<Server> {
        if self.services.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a server needs at least one service",
            ));
        }
        let mut by_name = BTreeMap::new();
        for s in &self.services {
            if by_name.insert(s.name(), s.clone()).is_some() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("service {} was added twice", s.name()),
                ));
            }
        }
        let local_addr = listener.local_addr()?;
        let router = Router {
            default: self.services[0].clone(),
            by_name,
        };
        Ok(Server {
            listener,
            local_addr,
            shared: Arc::new(Shared {
                router,
                budget: MemoryBudget::new(self.limits.max_buffered_bytes),
                limits: self.limits,
            }),
        })
    }
}

/// Routes a method name to a service: `Service:method` by prefix, a bare name to the default.
pub(crate) struct Router {
    default: Arc<dyn Service>,
    by_name: BTreeMap<&'static str, Arc<dyn Service>>,
}

impl Router {
    /// The service and the bare method name, or `None` for an unknown service prefix.
    pub(crate) fn route<'n>(&self, name: &'n str) -> Option<(&Arc<dyn Service>, &'n str)> {
        match name.split_once(':') {
            Some((service, method)) => self.by_name.get(service).map(|s| (s, method)),
            None => Some((&self.default, name)),
        }
    }
}

pub(crate) struct Shared {
    pub(crate) router: Router,
    pub(crate) budget: Arc<MemoryBudget>,
    pub(crate) limits: Limits,
}

/// A bound server; call [`Server::serve`] or [`Server::serve_until`] to run it.
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Server {
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// The bound address (with the port the system chose, if port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves forever.
    pub async fn serve(self) {
        self.serve_until(std::future::pending::<()>()).await
    }

    /// Serves until `shutdown` completes, then stops accepting, lets running calls finish
    /// (up to [`Limits::drain_timeout`]), sends their replies and closes every connection.
    pub async fn serve_until(self, shutdown: impl Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let permits = Arc::new(Semaphore::new(self.shared.limits.max_connections));
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = self.listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // Out of file descriptors and the like: back off instead of spinning.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let Ok(permit) = permits.clone().try_acquire_owned() else {
                        tracing::warn!(%peer, limit = self.shared.limits.max_connections,
                            "connection limit reached; closing the new connection");
                        continue;
                    };
                    let shared = self.shared.clone();
                    let stop = stop_rx.clone();
                    connections.spawn(async move {
                        connection::serve(stream, peer, shared, stop).await;
                        drop(permit);
                    });
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        drop(self.listener);
        let _ = stop_tx.send(true);
        let drained = tokio::time::timeout(self.shared.limits.drain_timeout, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                remaining = connections.len(),
                "drain timeout passed; closing connections with calls still running"
            );
            connections.shutdown().await;
        }
    }
}
