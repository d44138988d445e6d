//! `mosaic-client`: typed async Rust clients for Mosaic's services.
//!
//! The clients are generated from `idl/` at build time (never committed), on
//! `mosaic-runtime`'s client: a pool of pipelined connections, a deadline per call,
//! retries of calls that certainly never reached a handler, and typed errors (each method's
//! declared exceptions are variants of its error enum).
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

use std::time::Duration;

use mosaic_runtime::ClientBuilder;
pub use mosaic_runtime::{Error, Protocol};

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

/// How the connection to a server is made; the typed clients come from it.
///
/// Where the server is comes from one address today; discovery through the registry will
/// add another way to build a `Connect`, and the clients it makes stay the same.
#[derive(Clone, Debug)]
pub struct Connect {
    builder: ClientBuilder,
}

/// Starts configuring clients of the server at `addr` (`host:port`).
pub fn connect(addr: impl Into<String>) -> Connect {
    Connect {
        builder: mosaic_runtime::Client::builder(addr).timeout(Duration::from_secs(30)),
    }
}

impl Connect {
    /// The deadline of each call, from start to reply. Default: 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.builder = self.builder.timeout(timeout);
        self
    }

    /// How long opening a connection may take. Default: 5 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.builder = self.builder.connect_timeout(timeout);
        self
    }

    /// The most connections to open; calls are pipelined on each. Default: 4.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.builder = self.builder.max_connections(n);
        self
    }

    /// Retries of calls that failed before any handler saw them. Default: 2.
    pub fn retries(mut self, n: u32) -> Self {
        self.builder = self.builder.retries(n);
        self
    }

    /// The wire protocol. Default: binary (the server detects either).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.builder = self.builder.protocol(protocol);
        self
    }

    /// The shared connection pool; any generated client (your own IDL's too) wraps it:
    /// `MyServiceClient::new(connect(addr).client())`.
    pub fn client(self) -> mosaic_runtime::Client {
        self.builder.build()
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
