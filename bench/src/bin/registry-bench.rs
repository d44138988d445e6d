//! The registry under load, and how fast it notices a dead server.
//!
//! 1. Throughput: `lookup` and `heartbeat` calls per second against one `mosaic registry`
//!    process holding 1000 instances of 10 services, next to `ping` on the same process and
//!    connections (the floor: a call that does nothing), with the ratio to it.
//! 2. Removal: `mosaic serve image --registry R --ttl-ms T` is killed with SIGKILL; a long
//!    poll (`watch`) on the registry measures the time from the kill until the instance is
//!    gone, as a fraction of the TTL.
//!
//! Everything runs on 127.0.0.1 with ports chosen at run time; each phase is bounded in time.
//!
//! ```sh
//! cargo build --release -p mosaic-cli
//! cargo build --release --manifest-path bench/Cargo.toml --bin registry-bench
//! bench/target/release/registry-bench --mosaic target/release/mosaic
//! ```

use std::{
    path::PathBuf,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use mosaic_bench::server::ServerProcess;
use mosaic_registry::idl::registry::{Registration, RegistryClient};

const USAGE: &str = "\
usage: registry-bench [--mosaic PATH] [--seconds F] [--rounds N] [--kills N] [--ttl-ms N]
  --mosaic PATH  the mosaic binary (default: target/release/mosaic)
  --seconds F    measured window per throughput run (default 3)
  --rounds N     throughput rounds, interleaved (default 3)
  --kills N      servers killed to time removal (default 5)
  --ttl-ms N     their lease TTL (default 2000)";

struct Options {
    mosaic: PathBuf,
    seconds: f64,
    rounds: usize,
    kills: usize,
    ttl_ms: i32,
}

fn options() -> Result<Options> {
    let mut o = Options {
        mosaic: PathBuf::from("target/release/mosaic"),
        seconds: 3.0,
        rounds: 3,
        kills: 5,
        ttl_ms: 2000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--mosaic" => o.mosaic = PathBuf::from(value()?),
            "--seconds" => o.seconds = value()?.parse()?,
            "--rounds" => o.rounds = value()?.parse()?,
            "--kills" => o.kills = value()?.parse()?,
            "--ttl-ms" => o.ttl_ms = value()?.parse()?,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown option {other}\n{USAGE}"),
        }
    }
    if !o.mosaic.exists() {
        bail!(
            "{} not found: build it with `cargo build --release -p mosaic-cli`",
            o.mosaic.display()
        );
    }
    Ok(o)
}

fn client(addr: &str, connections: usize) -> RegistryClient {
    RegistryClient::new(
        mosaic_runtime::Client::builder(addr)
            .timeout(Duration::from_secs(10))
            .max_connections(connections)
            .build(),
    )
}

fn registration(service: usize, port: i32) -> Registration {
    Registration {
        service_name: format!("svc-{service}"),
        host: "127.0.0.1".into(),
        port,
        weight: Some(100),
        zone: None,
        tags: Some([("version".to_string(), "1.0".to_string())].into()),
        ttl_ms: Some(60_000),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Call {
    Ping,
    Lookup,
    Heartbeat,
}

/// Calls per second of `call` from `tasks` concurrent callers for `window`.
async fn throughput(
    registry: &RegistryClient,
    call: Call,
    leases: &Arc<Vec<i64>>,
    tasks: usize,
    window: Duration,
) -> Result<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + window;
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (registry, done, leases) = (registry.clone(), done.clone(), leases.clone());
        handles.push(tokio::spawn(async move {
            let mut i = t;
            while Instant::now() < end {
                match call {
                    Call::Ping => registry.ping().await.map_err(anyhow::Error::from)?,
                    Call::Lookup => {
                        let found = registry.lookup(format!("svc-{}", i % 10)).await?;
                        anyhow::ensure!(found.instances.len() == 100, "lookup lost instances");
                    }
                    Call::Heartbeat => {
                        registry.heartbeat(leases[i % leases.len()]).await?;
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
                i += tasks;
            }
            anyhow::Ok(())
        }));
    }
    for h in handles {
        h.await??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / window.as_secs_f64())
}

async fn throughput_phase(o: &Options) -> Result<()> {
    let server = ServerProcess::spawn_args(&o.mosaic, &["registry", "--port", "0"])?;
    let addr = server.addr().to_string();
    let registry = client(&addr, 4);
    let mut leases = Vec::new();
    for i in 0..1000 {
        leases.push(
            registry
                .register_instance(registration(i % 10, 20_000 + i as i32))
                .await?
                .id,
        );
    }
    let leases = Arc::new(leases);
    let window = Duration::from_secs_f64(o.seconds);
    let calls = [Call::Ping, Call::Lookup, Call::Heartbeat];
    let mut results: Vec<Vec<f64>> = vec![Vec::new(); calls.len()];
    // Warm up, then interleave rounds so drift on the machine hits every call alike.
    throughput(
        &registry,
        Call::Ping,
        &leases,
        64,
        Duration::from_millis(500),
    )
    .await?;
    for round in 0..o.rounds {
        for k in 0..calls.len() {
            let k = (k + round) % calls.len();
            results[k].push(throughput(&registry, calls[k], &leases, 64, window).await?);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let medians: Vec<f64> = results.iter_mut().map(median).collect();
    println!("\n### Registry throughput (64 callers on 4 connections, medians of {} rounds of {:.1} s)\n", o.rounds, o.seconds);
    println!("| call | calls/s | vs ping |");
    println!("| --- | ---: | ---: |");
    for (call, qps) in calls.iter().zip(&medians) {
        println!("| {call:?} | {qps:.0} | {:.2}x |", qps / medians[0]);
    }
    println!("\n(lookup answers 100 instances of one of 10 services; 1000 leases are listed)");
    Ok(())
}

async fn removal_phase(o: &Options) -> Result<()> {
    let registry_process = ServerProcess::spawn_args(&o.mosaic, &["registry", "--port", "0"])?;
    let addr = registry_process.addr().to_string();
    let registry = client(&addr, 2);
    let ttl = o.ttl_ms.to_string();
    let mut gone_after = Vec::new();
    for _ in 0..o.kills {
        let mut server = ServerProcess::spawn_args(
            &o.mosaic,
            &[
                "serve",
                "image",
                "--port",
                "0",
                "--registry",
                &addr,
                "--ttl-ms",
                &ttl,
            ],
        )?;
        let port = i32::from(server.addr().port());
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = registry.lookup("image".into()).await?;
        while !seen.instances.iter().any(|i| i.port == port) {
            if Instant::now() > deadline {
                bail!("the server never registered");
            }
            seen = registry.watch("image".into(), seen.version, 1000).await?;
        }
        // Kill at points spread over the heartbeat period, as crashes would fall.
        let period = o.ttl_ms as u64 / 3;
        let k = gone_after.len() as u64;
        tokio::time::sleep(Duration::from_millis(period * k / o.kills as u64)).await;
        let killed = Instant::now();
        server.kill();
        let limit = killed + Duration::from_millis(o.ttl_ms as u64 * 3);
        while seen.instances.iter().any(|i| i.port == port) {
            if Instant::now() > limit {
                bail!("the killed server was still listed after 3 TTLs");
            }
            seen = registry
                .watch("image".into(), seen.version, o.ttl_ms * 2)
                .await?;
        }
        gone_after.push(killed.elapsed());
    }
    gone_after.sort();
    let ttl = Duration::from_millis(o.ttl_ms as u64);
    let median = gone_after[gone_after.len() / 2];
    let max = *gone_after.last().unwrap();
    println!(
        "\n### From kill -9 to removal ({} kills, TTL {} ms, heartbeats every TTL/3)\n",
        o.kills, o.ttl_ms
    );
    println!("| | time | of the TTL |");
    println!("| --- | ---: | ---: |");
    for (name, d) in [("median", median), ("max", max)] {
        println!(
            "| {name} | {:.0} ms | {:.2} |",
            d.as_secs_f64() * 1e3,
            d.as_secs_f64() / ttl.as_secs_f64()
        );
    }
    println!("\n(a lease lapses one TTL after its last heartbeat, so removal takes between 2/3 of a TTL and one TTL after a kill)");
    Ok(())
}

fn main() -> Result<()> {
    let o = options()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        throughput_phase(&o).await?;
        removal_phase(&o).await
    })
}
