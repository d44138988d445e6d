//! `mosaic-registry`: Mosaic's service registry (`idl/registry.thrift`).
//!
//! Servers register with a lease and keep it alive with heartbeats ([`Announcer`] does it for
//! them); clients look services up and long-poll for changes. The handler validates requests
//! and answers reads from a [`Catalog`] that a [`Store`] keeps current: [`MemoryStore`] (the
//! embedded default) or, with the `etcd` feature, an etcd cluster shared by several registry
//! processes.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use std::sync::Arc;
//! use mosaic_registry::idl::registry::RegistryService;
//! use mosaic_registry::{MemoryStore, RegistryHandler, RegistryLimits};
//!
//! let store = Arc::new(MemoryStore::new());
//! let server = mosaic_runtime::Server::builder()
//!     .service(RegistryService::new(RegistryHandler::new(store, RegistryLimits::default())))
//!     .bind("127.0.0.1:7070")
//!     .await?;
//! server.serve_until(std::future::pending()).await;
//! # Ok(()) }
//! ```

/// The generated code for `idl/registry.thrift` and `idl/common.thrift`.
pub mod idl {
    #![allow(clippy::all, missing_docs)]
    include!(concat!(env!("OUT_DIR"), "/mosaic.rs"));
}

mod announce;
mod catalog;
mod handler;
pub mod store;

pub use announce::{first_lease, Announcer};
pub use catalog::Catalog;
pub use handler::{RegistryHandler, RegistryLimits};
#[cfg(feature = "etcd")]
pub use store::{EtcdOptions, EtcdStore};
pub use store::{MemoryStore, NewInstance, Store, StoreError};
