//! `mosaic up`: the registry and the services in one process, each service registered with
//! the registry as a separate server would be. What the README's first command runs.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use mosaic_registry::MemoryStore;
use tokio::sync::watch;

use crate::process;
use crate::registry::{self, LimitArgs};
use crate::serve::{self, AnnounceArgs, ImageArgs, ServiceName};

#[derive(Args, Debug)]
pub struct UpArgs {
    /// The address everything listens on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The registry's port; 0 picks a free one.
    #[arg(long, default_value_t = 7070)]
    registry_port: u16,
    /// The first image server's port; the others take the next ones (0: free ports).
    #[arg(long, default_value_t = 9090)]
    image_port: u16,
    /// How many image servers to run.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    images: u16,
    #[command(flatten)]
    image: ImageArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

pub fn run(args: UpArgs) -> ExitCode {
    process::init_logging();
    process::block_on(up(args))
}

async fn up(args: UpArgs) -> ExitCode {
    let registry_addr = format!("{}:{}", args.host, args.registry_port);
    let registry =
        match registry::bind(MemoryStore::new(), args.limits.limits(), &registry_addr).await {
            Ok(server) => server,
            Err(e) => {
                eprintln!("error: cannot listen on {registry_addr} for the registry: {e}");
                return ExitCode::FAILURE;
            }
        };
    let registry_at = registry.local_addr();
    process::listening(Some("registry"), registry_at);

    let (stop, stopped) = watch::channel(false);
    let mut services = Vec::new();
    for i in 0..args.images {
        let port = match args.image_port {
            0 => 0,
            first => match first.checked_add(i) {
                Some(port) => port,
                None => {
                    eprintln!("error: --image-port {first} + {i} is past port 65535");
                    return ExitCode::FAILURE;
                }
            },
        };
        let addr = format!("{}:{port}", args.host);
        let server = match serve::builder(ServiceName::Image, &args.image, Duration::ZERO)
            .bind(addr.as_str())
            .await
        {
            Ok(server) => server,
            Err(e) => {
                eprintln!("error: cannot listen on {addr} for the image service: {e}");
                return ExitCode::FAILURE;
            }
        };
        process::listening(Some("image"), server.local_addr());
        let announce = AnnounceArgs::to(registry_at.to_string());
        let host = args.host.clone();
        let mut stopped = stopped.clone();
        services.push(tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            };
            serve::run_registered(server, ServiceName::Image, &host, &announce, shutdown).await
        }));
    }
    process::announce_line(format_args!(
        "Mosaic is up: registry {registry_at}; `mosaic ls --registry {registry_at}` lists the \
         services; Ctrl-C stops"
    ));

    let (registry_stop, registry_stopped) = tokio::sync::oneshot::channel::<()>();
    let registry = tokio::spawn(registry.serve_until(async move {
        let _ = registry_stopped.await;
    }));
    process::shutdown_signal().await;
    // Services first (they deregister), then the registry they deregister with.
    let _ = stop.send(true);
    for service in services {
        let _ = service.await;
    }
    let _ = registry_stop.send(());
    let _ = registry.await;
    ExitCode::SUCCESS
}
