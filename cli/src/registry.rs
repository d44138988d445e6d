//! `mosaic registry`: runs the registry service (`idl/registry.thrift`).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use mosaic_registry::idl::registry::RegistryService;
use mosaic_registry::{
    EtcdOptions, EtcdStore, MemoryStore, RegistryHandler, RegistryLimits, Store,
};
use mosaic_runtime::Server;

use crate::process;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// Leases in this process's memory (lost when it exits; servers register again).
    Memory,
    /// Leases in etcd, shared by every registry process pointed at it.
    Etcd,
}

#[derive(Args, Debug)]
pub struct RegistryArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The port to listen on; 0 picks a free one (printed on start).
    #[arg(long, default_value_t = 7070)]
    port: u16,
    /// Where leases are kept.
    #[arg(long, value_enum, default_value_t = StoreKind::Memory)]
    store: StoreKind,
    /// etcd's client URLs (comma-separated), with `--store etcd`.
    #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:2379")]
    etcd: Vec<String>,
    /// The key prefix under which this registry keeps its data in etcd.
    #[arg(long, default_value = "/mosaic")]
    etcd_prefix: String,
    #[command(flatten)]
    limits: LimitArgs,
}

/// What the registry accepts.
#[derive(Args, Debug, Clone)]
pub struct LimitArgs {
    /// The lease TTL of registrations that ask for none, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    default_ttl_ms: u64,
    /// The most instances listed at once, across services.
    #[arg(long, default_value_t = RegistryLimits::default().max_instances)]
    max_instances: usize,
}

impl LimitArgs {
    pub fn limits(&self) -> RegistryLimits {
        let defaults = RegistryLimits::default();
        RegistryLimits {
            default_ttl: Duration::from_millis(self.default_ttl_ms)
                .clamp(defaults.min_ttl, defaults.max_ttl),
            max_instances: self.max_instances,
            ..defaults
        }
    }
}

/// The registry's server over `store`, bound to `addr`.
pub async fn bind<S: Store>(
    store: S,
    limits: RegistryLimits,
    addr: &str,
) -> std::io::Result<Server> {
    Server::builder()
        .service(RegistryService::new(RegistryHandler::new(
            Arc::new(store),
            limits,
        )))
        .bind(addr)
        .await
}

pub fn run(args: RegistryArgs) -> ExitCode {
    process::init_logging();
    process::block_on(serve(args))
}

async fn serve(args: RegistryArgs) -> ExitCode {
    let addr = format!("{}:{}", args.host, args.port);
    let limits = args.limits.limits();
    let bound = match args.store {
        StoreKind::Memory => bind(MemoryStore::new(), limits, &addr).await,
        StoreKind::Etcd => {
            let options = EtcdOptions {
                prefix: args.etcd_prefix.clone(),
                ..EtcdOptions::default()
            };
            match EtcdStore::connect(&args.etcd, options).await {
                Ok(store) => bind(store, limits, &addr).await,
                Err(e) => {
                    eprintln!("error: cannot use etcd at {}: {e}", args.etcd.join(","));
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    let server = match bound {
        Ok(server) => server,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    process::listening(None, server.local_addr());
    server.serve_until(process::shutdown_signal()).await;
    ExitCode::SUCCESS
}
