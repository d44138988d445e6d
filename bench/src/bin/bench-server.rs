//! Mosaic's server for `bench.thrift`: the generated `BenchService` on `mosaic-runtime`, written
//! the way a user would write it.
//!
//! Usage: `bench-server --port N` (0 picks a port); prints `listening on 127.0.0.1:PORT`.

use anyhow::{Context, Result};
use mosaic_runtime::__private::Bytes;
use mosaic_runtime::{Error, Server};

mod idl {
    include!(concat!(env!("OUT_DIR"), "/mosaic/mosaic.rs"));
}
use idl::bench::{Bench, BenchService};

struct Handler;

impl Bench for Handler {
    async fn ping(&self) -> Result<(), Error> {
        Ok(())
    }

    async fn echo(&self, data: Bytes) -> Result<Bytes, Error> {
        Ok(data)
    }

    async fn add(&self, a: i64, b: i64) -> Result<i64, Error> {
        Ok(a.wrapping_add(b))
    }
}

fn parse_port() -> Result<u16> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, port] if flag == "--port" => port.parse().context("--port takes a number"),
        _ => anyhow::bail!("usage: bench-server --port N"),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let port = parse_port()?;
    let server = Server::builder()
        .service(BenchService::new(Handler))
        .bind(("127.0.0.1", port))
        .await?;
    println!("listening on {}", server.local_addr());
    server.serve().await;
    Ok(())
}
