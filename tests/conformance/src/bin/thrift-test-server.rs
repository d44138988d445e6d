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
    let mut port = 9090;
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{key} needs a value"))
        };
        match key.as_str() {
            "--port" => {
                let v = value()?;
                port = v
                    .parse()
                    .map_err(|_| format!("--port: {v:?} is not a port number"))?;
            }
            "--protocol" => {
                let v = value()?;
                if !matches!(v.as_str(), "binary" | "compact" | "multi" | "multic") {
                    return Err(format!(
                        "--protocol={v} is not supported (binary, compact, multi, multic)"
                    ));
                }
            }
            "--transport" => {
                let v = value()?;
                if !matches!(v.as_str(), "buffered" | "framed") {
                    return Err(format!(
                        "--transport={v} is not supported (buffered, framed)"
                    ));
                }
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(port)
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
