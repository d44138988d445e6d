//! Smoke test: real server processes on 127.0.0.1, driven by the load generator's own driver
//! for a fraction of a second, every reply checked byte for byte. Correctness only; speed is the
//! benchmark's business.

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::Path,
    time::Duration,
};

use mosaic_bench::{
    load::{self, LoadSpec},
    server::ServerProcess,
    wire::{self, CallTemplate},
};

fn short_load(binary: &str, call: CallTemplate, connections: usize, in_flight: usize) -> u64 {
    let server =
        ServerProcess::spawn(Path::new(binary)).expect("server starts and prints its port");
    let spec = LoadSpec {
        call,
        connections,
        in_flight,
        warmup: Duration::from_millis(50),
        measure: Duration::from_millis(200),
        full_check: true,
        coalesce: in_flight > 2,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = rt
        .block_on(load::run(server.addr(), &spec, |_| {}))
        .unwrap_or_else(|e| panic!("{binary}: load run failed: {e:#}"));
    assert!(
        result.calls > 0,
        "{binary}: some calls complete in the window"
    );
    assert_eq!(
        result.latency.len(),
        result.calls,
        "{binary}: one latency per counted call"
    );
    result.checked
}

const MINIMAL: &str = env!("CARGO_BIN_EXE_minimal-bench-server");
const VOLO: &str = env!("CARGO_BIN_EXE_volo-bench-server");
const APACHE: &str = env!("CARGO_BIN_EXE_apache-bench-server");
/// Mosaic's server, once `src/bin/bench-server.rs` exists; until then it is left out.
const MOSAIC: Option<&str> = option_env!("CARGO_BIN_EXE_bench-server");

fn servers() -> impl Iterator<Item = &'static str> {
    [MINIMAL, VOLO, APACHE].into_iter().chain(MOSAIC)
}

#[test]
fn every_server_answers_ping_and_echo_correctly() {
    for binary in servers() {
        short_load(binary, CallTemplate::ping(), 2, 4);
        short_load(binary, CallTemplate::echo(&wire::payload(1024)), 2, 1);
        // A large echo exercises partial reads and writes in both directions.
        short_load(binary, CallTemplate::echo(&wire::payload(1 << 20)), 1, 2);
    }
}

/// Sends one framed call over a blocking socket and returns the reply's frame body.
fn call_once(addr: std::net::SocketAddr, call: &CallTemplate, seqid: i32) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = Vec::new();
    call.append(&mut out, seqid);
    s.write_all(&out).unwrap();
    let mut len = [0; 4];
    s.read_exact(&mut len).unwrap();
    let mut body = vec![0; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut body).unwrap();
    body
}

#[test]
fn add_is_answered_by_every_server() {
    for binary in servers() {
        let server = ServerProcess::spawn(Path::new(binary)).unwrap();
        let call = CallTemplate::add(-5, 47);
        let reply = call_once(server.addr(), &call, 9);
        assert_eq!(
            call.check_reply(&reply, true),
            Ok(9),
            "{binary}: add(-5, 47) = 42"
        );
    }
}

#[test]
fn minimal_server_answers_an_unknown_method_with_an_exception() {
    let server = ServerProcess::spawn(Path::new(MINIMAL)).unwrap();
    let mut out = Vec::new();
    let start = wire::begin_message(&mut out, b"nope", wire::CALL, 3);
    wire::stop(&mut out);
    wire::finish_frame(&mut out, start);

    let mut s = TcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(&out).unwrap();
    let mut len = [0; 4];
    s.read_exact(&mut len).unwrap();
    let mut body = vec![0; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut body).unwrap();
    let h = wire::parse_header(&body).unwrap();
    assert_eq!(
        h.kind,
        wire::EXCEPTION,
        "unknown method gets a TApplicationException"
    );
    assert_eq!(h.seqid, 3, "the exception carries the call's seqid");
}
