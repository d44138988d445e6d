//! The floor: a hand-written tokio server for `bench.thrift` that only parses framed
//! strict-binary calls and writes correct replies. No framework, no generated code, no dispatch
//! beyond a match on the method name; what it costs is roughly what the kernel and tokio cost.
//!
//! Each connection is one task: read what the socket has, answer every complete call in it, and
//! write all the replies with one write. Echo payloads over 64 KiB are written straight from the
//! input buffer instead of being copied.
//!
//! Usage: `minimal-bench-server --port N` (0 picks a port); prints `listening on 127.0.0.1:PORT`.

use std::{io::IoSlice, net::SocketAddr};

use anyhow::{Context, Result};
use bytes::{Buf, BytesMut};
use mosaic_bench::wire::{self, Args};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

const COPY_LIMIT: usize = 64 * 1024;

fn parse_port() -> Result<u16> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, port] if flag == "--port" => port.parse().context("--port takes a number"),
        _ => anyhow::bail!("usage: minimal-bench-server --port N"),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let port = parse_port()?;
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            if let Err(e) = serve(stream).await {
                eprintln!("minimal-bench-server: connection closed: {e:#}");
            }
        });
    }
}

async fn serve(mut stream: TcpStream) -> Result<()> {
    stream.set_nodelay(true)?;
    let mut input = BytesMut::with_capacity(64 * 1024);
    let mut out = Vec::with_capacity(4096);
    loop {
        let mut used = 0;
        while let Some(len) = wire::frame_len(&input[used..])? {
            let frame = &input[used + 4..used + 4 + len];
            answer(frame, &mut out, &mut stream).await?;
            used += 4 + len;
        }
        input.advance(used);
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }

        // Reserve a whole frame once its length is known, so a large call is read in place.
        let want = match input.get(..4) {
            Some(h) => 4 + u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize,
            None => 4,
        };
        input.reserve(want.saturating_sub(input.len()).max(4096));
        if stream.read_buf(&mut input).await? == 0 {
            return Ok(());
        }
    }
}

/// Appends the reply to one call to `out`, or, for a large echo, writes it straight out.
async fn answer(frame: &[u8], out: &mut Vec<u8>, stream: &mut TcpStream) -> Result<()> {
    let h = wire::parse_header(frame)?;
    if h.kind != wire::CALL {
        anyhow::bail!("message type {} where a call was expected", h.kind);
    }
    let start = wire::begin_message(out, h.name, wire::REPLY, h.seqid);
    match wire::parse_args(h.name, h.body)? {
        Args::Ping => {}
        Args::Add(a, b) => wire::i64_field(out, 0, a.wrapping_add(b)),
        Args::Echo(data) if data.len() > COPY_LIMIT => {
            wire::binary_field_header(out, 0, data.len());
            // Frame length counts the payload and the stop byte that follow.
            let len = out.len() - start - 4 + data.len() + 1;
            out[start..start + 4].copy_from_slice(&(len as u32).to_be_bytes());
            write_all_vectored(
                stream,
                &mut [IoSlice::new(out), IoSlice::new(data), IoSlice::new(&[0])],
            )
            .await?;
            out.clear();
            return Ok(());
        }
        Args::Echo(data) => {
            wire::binary_field_header(out, 0, data.len());
            out.extend_from_slice(data);
        }
        Args::Unknown => {
            out.truncate(start);
            let msg = format!("unknown method {}", String::from_utf8_lossy(h.name));
            wire::application_exception(out, h.name, h.seqid, wire::UNKNOWN_METHOD, &msg);
            return Ok(());
        }
    }
    wire::stop(out);
    wire::finish_frame(out, start);
    Ok(())
}

/// Writes all of `bufs` with `writev`, so header, payload and trailer leave in one call.
async fn write_all_vectored(stream: &mut TcpStream, mut bufs: &mut [IoSlice<'_>]) -> Result<()> {
    // Each turn writes at least one byte or fails, so the loop ends.
    while !bufs.is_empty() {
        let n = stream.write_vectored(bufs).await?;
        if n == 0 {
            anyhow::bail!("peer stopped reading");
        }
        IoSlice::advance_slices(&mut bufs, n);
    }
    Ok(())
}
