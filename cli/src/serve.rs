//! `mosaic serve SERVICE`: runs one of Mosaic's services on a port, optionally registered
//! with a registry.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use mosaic_registry::idl::registry::Registration;
use mosaic_registry::{first_lease, Announcer};
use mosaic_runtime::cpu::{CpuPool, DEFAULT_QUEUE_PER_CORE};
use mosaic_runtime::{Call, CallFuture, Server, ServerBuilder, Service};
use mosaic_server::idl::image::ImageServiceService;
use mosaic_server::image::{ImageHandler, ImageLimits};

use crate::process;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ServiceName {
    /// The image service (`idl/image.thrift`).
    Image,
}

impl ServiceName {
    /// The name it registers under.
    pub fn registered_name(self) -> &'static str {
        match self {
            ServiceName::Image => "image",
        }
    }
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The service to run.
    #[arg(value_enum)]
    service: ServiceName,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The port to listen on; 0 picks a free one (printed on start).
    #[arg(long, default_value_t = 9090)]
    port: u16,
    #[command(flatten)]
    image: ImageArgs,
    #[command(flatten)]
    announce: AnnounceArgs,
    /// Wait this many milliseconds before handling each call: an injected slow instance, for
    /// testing load balancing.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
}

/// The image service's budgets.
#[derive(Args, Debug, Clone)]
pub struct ImageArgs {
    /// The most pixels one image may have, decoded or produced (decompression-bomb guard).
    #[arg(long, default_value_t = ImageLimits::default().max_pixels)]
    max_pixels: u64,
    /// The most images one transform_batch call may hold.
    #[arg(long, default_value_t = ImageLimits::default().max_batch)]
    max_batch: usize,
    /// Calls that may wait for a CPU thread, per core, before more are refused as
    /// common.Overloaded (which clients retry on another instance). Shorter queues answer
    /// sooner under bursts; longer ones refuse less.
    #[arg(long, default_value_t = DEFAULT_QUEUE_PER_CORE)]
    queue_per_core: usize,
}

/// How a server announces itself to a registry.
#[derive(Args, Debug, Clone)]
pub struct AnnounceArgs {
    /// Register with the registry at this address (`host:port`; a comma-separated list is
    /// tried in turn), heartbeat while running, deregister on shutdown.
    #[arg(long, value_delimiter = ',')]
    registry: Vec<String>,
    /// The host clients should connect to (default: --host, which must then be a concrete
    /// address rather than 0.0.0.0 or ::).
    #[arg(long)]
    advertise_host: Option<String>,
    /// This instance's relative share of calls (0 = listed but sent nothing new).
    #[arg(long, default_value_t = 100)]
    weight: i32,
    /// Where this instance runs (a rack or zone); clients may prefer their own.
    #[arg(long)]
    zone: Option<String>,
    /// A label, `key=value` (repeatable), e.g. `--tag version=1.4 --tag models=resnet50`.
    #[arg(long = "tag", value_parser = parse_tag)]
    tags: Vec<(String, String)>,
    /// The lease's TTL in milliseconds: how soon the instance leaves lookups if it dies.
    #[arg(long, default_value_t = 10_000)]
    ttl_ms: i32,
}

fn parse_tag(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected key=value, not {text:?}")),
    }
}

impl AnnounceArgs {
    /// The host clients should use, or why there is none: checked before binding, so a
    /// server that could not be registered never starts listening.
    pub fn advertised_host(&self, bound_host: &str) -> Result<String, String> {
        if let Some(host) = &self.advertise_host {
            return Ok(host.clone());
        }
        match bound_host.parse::<std::net::IpAddr>() {
            Ok(ip) if ip.is_unspecified() => Err(format!(
                "--host {bound_host} listens everywhere; say which address clients should use \
                 with --advertise-host"
            )),
            _ => Ok(bound_host.to_string()),
        }
    }

    /// The registration of `service` listening on `port`, or why it cannot be made.
    pub fn registration(
        &self,
        service: &str,
        bound_host: &str,
        port: u16,
    ) -> Result<Registration, String> {
        Ok(Registration {
            service_name: service.to_string(),
            host: self.advertised_host(bound_host)?,
            port: port.into(),
            weight: Some(self.weight),
            zone: self.zone.clone(),
            tags: Some(self.tags.iter().cloned().collect()),
            ttl_ms: Some(self.ttl_ms),
        })
    }

    /// A default announcement to `registry` (used by `mosaic up`).
    pub fn to(registry: String) -> Self {
        AnnounceArgs {
            registry: vec![registry],
            advertise_host: None,
            weight: 100,
            zone: None,
            tags: Vec::new(),
            ttl_ms: 10_000,
        }
    }
}

/// Delays every call: `--delay-ms`.
struct Delayed<S> {
    inner: S,
    delay: Duration,
}

impl<S: Service> Service for Delayed<S> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn call(&self, call: Call) -> CallFuture {
        let reply = self.inner.call(call);
        let delay = self.delay;
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            reply.await
        })
    }
}

/// The server of `service` with its handlers, before binding.
pub fn builder(service: ServiceName, image: &ImageArgs, delay: Duration) -> ServerBuilder {
    let limits = ImageLimits {
        max_pixels: image.max_pixels,
        max_batch: image.max_batch,
    };
    // One pool per process (`mosaic up` builds several servers from the same arguments; the
    // first one sets it).
    CpuPool::configure_global(image.queue_per_core);
    let builder = Server::builder();
    match service {
        ServiceName::Image => {
            let service = ImageServiceService::new(ImageHandler::new(limits));
            if delay.is_zero() {
                builder.service(service)
            } else {
                builder.service(Delayed {
                    inner: service,
                    delay,
                })
            }
        }
    }
}

/// Serves `server` until Ctrl-C or SIGTERM, registered through `announce` if it names a
/// registry; deregisters before draining, so clients stop sending new calls first.
pub async fn run_registered(
    server: Server,
    service: ServiceName,
    bound_host: &str,
    announce: &AnnounceArgs,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> ExitCode {
    let announcer = if announce.registry.is_empty() {
        None
    } else {
        let name = service.registered_name();
        match announce.registration(name, bound_host, server.local_addr().port()) {
            Ok(registration) => {
                let announcer = Announcer::start(announce.registry.clone(), registration);
                let registry = announce.registry.join(",");
                let addr = server.local_addr();
                let leases = announcer.leases();
                tokio::spawn(async move {
                    let Some(lease) = first_lease(leases).await else {
                        return;
                    };
                    process::announce_line(format_args!(
                        "registered {name} {addr} with {registry} (lease {}, ttl {} ms)",
                        lease.id, lease.ttl_ms
                    ));
                });
                Some(announcer)
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.serve_until(async move {
        let _ = stop_rx.await;
    }));
    shutdown.await;
    if let Some(announcer) = announcer {
        announcer.stop().await;
    }
    let _ = stop_tx.send(());
    let _ = serving.await;
    ExitCode::SUCCESS
}

pub fn run(args: ServeArgs) -> ExitCode {
    process::init_logging();
    process::block_on(serve(args))
}

async fn serve(args: ServeArgs) -> ExitCode {
    let delay = Duration::from_millis(args.delay_ms);
    if !args.announce.registry.is_empty() {
        if let Err(e) = args.announce.advertised_host(&args.host) {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let addr = format!("{}:{}", args.host, args.port);
    let server = match builder(args.service, &args.image, delay)
        .bind(addr.as_str())
        .await
    {
        Ok(server) => server,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    process::listening(None, server.local_addr());
    run_registered(
        server,
        args.service,
        &args.host,
        &args.announce,
        process::shutdown_signal(),
    )
    .await
}
