//! `bench.thrift` served by Apache Thrift's Rust library (crates.io `thrift`), with code from the
//! Apache compiler (`thrift --gen rs`, run by `build.rs`).
//!
//! Transport and protocol are the library's own: `TFramedTransport` and strict
//! `TBinaryProtocol`. The library is synchronous; its `TServer` runs each connection on a fixed
//! pool of worker threads and does not set `TCP_NODELAY`. This server keeps the same model, one
//! blocking thread per connection driving the generated processor, but accepts connections
//! itself so it can set `TCP_NODELAY`; without it, Nagle's algorithm holds small replies back and
//! the comparison would measure that instead of the library.
//!
//! Usage: `apache-bench-server --port N` (0 picks a port); prints `listening on 127.0.0.1:PORT`.

use std::{
    io::Write,
    net::{SocketAddr, TcpListener},
    sync::Arc,
    thread,
};

use anyhow::{Context, Result};
use thrift::{
    protocol::{TBinaryInputProtocol, TBinaryOutputProtocol},
    server::TProcessor,
    transport::{TFramedReadTransport, TFramedWriteTransport, TIoChannel, TTcpChannel},
};

#[allow(
    dead_code,
    unused_imports,
    unused_extern_crates,
    clippy::all,
    clippy::pedantic,
    non_camel_case_types
)]
#[rustfmt::skip]
mod apache_gen {
    include!(concat!(env!("OUT_DIR"), "/apache_bench.rs"));
}

use apache_gen::{BenchSyncHandler, BenchSyncProcessor};

struct Handler;

impl BenchSyncHandler for Handler {
    fn handle_ping(&self) -> thrift::Result<()> {
        Ok(())
    }

    fn handle_echo(&self, data: Vec<u8>) -> thrift::Result<Vec<u8>> {
        Ok(data)
    }

    fn handle_add(&self, a: i64, b: i64) -> thrift::Result<i64> {
        Ok(a.wrapping_add(b))
    }
}

fn parse_port() -> Result<u16> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, port] if flag == "--port" => port.parse().context("--port takes a number"),
        _ => anyhow::bail!("usage: apache-bench-server --port N"),
    }
}

fn main() -> Result<()> {
    let port = parse_port()?;
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    println!("listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let processor = Arc::new(BenchSyncProcessor::new(Handler));
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                eprintln!("apache-bench-server: accept failed: {e}");
                continue;
            }
        };
        stream.set_nodelay(true)?;
        let (r, w) = TTcpChannel::with_stream(stream).split()?;
        let mut i_prot = TBinaryInputProtocol::new(TFramedReadTransport::new(r), true);
        let mut o_prot = TBinaryOutputProtocol::new(TFramedWriteTransport::new(w), true);
        let processor = Arc::clone(&processor);
        // As the library's own server loop: process until the peer hangs up or sends garbage.
        thread::spawn(move || while processor.process(&mut i_prot, &mut o_prot).is_ok() {});
    }
    Ok(())
}
