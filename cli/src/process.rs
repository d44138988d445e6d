//! What every long-running `mosaic` command shares: logging, the runtime, the shutdown
//! signal, and the `listening on` line scripts and tests read.

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

/// Logs to stderr at `info` unless `RUST_LOG` says otherwise.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
}

/// Runs `main` on a multi-threaded tokio runtime.
pub fn block_on<F: Future<Output = ExitCode>>(main: F) -> ExitCode {
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(main),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints one line to stdout at once (tests and scripts wait for these lines).
pub fn announce_line(line: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// `listening on ADDR`: how tests and scripts learn a port chosen at run time.
pub fn listening(what: Option<&str>, addr: SocketAddr) {
    match what {
        Some(what) => announce_line(format_args!("{what} listening on {addr}")),
        None => announce_line(format_args!("listening on {addr}")),
    }
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
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
