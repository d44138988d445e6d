//! `mosaic serve SERVICE`: runs one of Mosaic's services on a port.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use mosaic_server::idl::image::ImageServiceService;
use mosaic_server::image::{ImageHandler, ImageLimits};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ServiceName {
    /// The image service (`idl/image.thrift`).
    Image,
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
    /// The most pixels one image may have, decoded or produced (decompression-bomb guard).
    #[arg(long, default_value_t = ImageLimits::default().max_pixels)]
    max_pixels: u64,
    /// The most images one transform_batch call may hold.
    #[arg(long, default_value_t = ImageLimits::default().max_batch)]
    max_batch: usize,
}

pub fn run(args: ServeArgs) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> ExitCode {
    let limits = ImageLimits {
        max_pixels: args.max_pixels,
        max_batch: args.max_batch,
    };
    let builder = match args.service {
        ServiceName::Image => mosaic_runtime::Server::builder()
            .service(ImageServiceService::new(ImageHandler::new(limits))),
    };
    let addr = format!("{}:{}", args.host, args.port);
    let server = match builder.bind(addr.as_str()).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Tests and scripts read this line to learn the port.
    println!("listening on {}", server.local_addr());
    let _ = std::io::stdout().flush();
    server.serve_until(shutdown_signal()).await;
    ExitCode::SUCCESS
}

/// Ctrl-C or SIGTERM: stop accepting, drain in-flight calls, exit.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
