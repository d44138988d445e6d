//! `thrift-test-server`: serves Apache's `ThriftTest` and `SecondService` for Apache's
//! cross-language test clients.
//!
//! Takes Apache's cross-test flags (`--port=N`, `--protocol=P`, `--transport=T`); the protocol
//! and transport are detected per connection regardless, so every client works on one port.
//! `--port=0` picks a free port. Prints `listening on 127.0.0.1:PORT` once it accepts.

use std::io::Write;
use std::process::ExitCode;

const USAGE: &str =
    "usage: thrift-test-server [--port=N] [--protocol=binary|compact|multi|multic] \
                     [--transport=buffered|framed]";

fn parse_port(args: impl Iterator<Item = String>) -> Result<u16, String> {
    let flags = mosaic_conformance::flags::parse(args, &[], &[], USAGE)?;
    if flags.host.is_some() {
        return Err(format!(
            "--host is not supported: the server listens on 127.0.0.1\n{USAGE}"
        ));
    }
    Ok(flags.port)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let port = match parse_port(std::env::args().skip(1)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("thrift-test-server: {e}");
            return ExitCode::from(2);
        }
    };
    let server = match mosaic_conformance::bind(&format!("127.0.0.1:{port}")).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("thrift-test-server: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", server.local_addr());
    let _ = std::io::stdout().flush();
    server.serve_until(shutdown_signal()).await;
    ExitCode::SUCCESS
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
