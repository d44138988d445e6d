//! Round robin against power-of-two-choices with one slow instance among three.
//!
//! Three `mosaic serve image` processes on 127.0.0.1, one started with `--delay-ms D` (every
//! call waits D ms first: a server that is overloaded, swapping or on a noisy host). One Rust
//! client (`mosaic_runtime::Client` over the three addresses) keeps `--callers` `ping` calls
//! in flight for `--seconds`, once per balancer, in interleaved rounds; latency is measured per
//! call. Prints p50, p99, mean, throughput and the slow server's share of calls for each, and
//! the ratios round robin / power of two choices.
//!
//! ```sh
//! cargo build --release -p mosaic-cli
//! cargo build --release --manifest-path bench/Cargo.toml --bin balance-bench
//! bench/target/release/balance-bench --mosaic target/release/mosaic
//! ```

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use hdrhistogram::Histogram;
use mosaic_bench::server::ServerProcess;
use mosaic_registry::idl::common::HealthClient;
use mosaic_runtime::client::Balancer;

const USAGE: &str = "\
usage: balance-bench [--mosaic PATH] [--delay-ms N] [--callers N] [--seconds F] [--rounds N]
  --mosaic PATH   the mosaic binary (default: target/release/mosaic)
  --delay-ms N    the slow server's delay per call (default 20)
  --callers N     calls kept in flight (default 32)
  --seconds F     measured window per run (default 3)
  --rounds N      rounds; each runs both balancers (default 3)";

struct Options {
    mosaic: PathBuf,
    delay_ms: u64,
    callers: usize,
    seconds: f64,
    rounds: usize,
}

fn options() -> Result<Options> {
    let mut o = Options {
        mosaic: PathBuf::from("target/release/mosaic"),
        delay_ms: 20,
        callers: 32,
        seconds: 3.0,
        rounds: 3,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--mosaic" => o.mosaic = PathBuf::from(value()?),
            "--delay-ms" => o.delay_ms = value()?.parse()?,
            "--callers" => o.callers = value()?.parse()?,
            "--seconds" => o.seconds = value()?.parse()?,
            "--rounds" => o.rounds = value()?.parse()?,
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

struct Run {
    latency: Histogram<u64>,
    calls: u64,
    slow_calls: u64,
    window: Duration,
}

async fn run(o: &Options, addrs: &[String], slow: &str, balancer: Balancer) -> Result<Run> {
    let client = mosaic_runtime::Client::builder_static(addrs.iter().map(String::as_str))
        .balancer(balancer)
        .timeout(Duration::from_secs(10))
        .build();
    let health = HealthClient::new(client.clone());
    // Open connections everywhere before measuring.
    for _ in 0..addrs.len() * 8 {
        health.ping().await?;
    }
    let before: u64 = slow_calls(&client, slow);
    let total_before: u64 = client.stats().iter().map(|s| s.calls).sum();
    let latency = Arc::new(Mutex::new(Histogram::<u64>::new(3)?));
    let window = Duration::from_secs_f64(o.seconds);
    let end = Instant::now() + window;
    let mut tasks = Vec::new();
    for _ in 0..o.callers {
        let (health, latency) = (health.clone(), latency.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine = Histogram::<u64>::new(3)?;
            while Instant::now() < end {
                let started = Instant::now();
                health.ping().await?;
                mine.record(started.elapsed().as_micros() as u64)?;
            }
            latency.lock().unwrap().add(&mine)?;
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let total: u64 = client.stats().iter().map(|s| s.calls).sum::<u64>() - total_before;
    let latency = Arc::try_unwrap(latency)
        .map_err(|_| anyhow::anyhow!("callers still running"))?
        .into_inner()
        .unwrap();
    Ok(Run {
        latency,
        calls: total,
        slow_calls: slow_calls(&client, slow) - before,
        window,
    })
}

fn slow_calls(client: &mosaic_runtime::Client, slow: &str) -> u64 {
    client
        .stats()
        .iter()
        .filter(|s| s.endpoint.addr() == slow)
        .map(|s| s.calls)
        .sum()
}

fn main() -> Result<()> {
    let o = options()?;
    let delay = o.delay_ms.to_string();
    let mut servers = vec![
        ServerProcess::spawn_args(&o.mosaic, &["serve", "image", "--port", "0"])?,
        ServerProcess::spawn_args(&o.mosaic, &["serve", "image", "--port", "0"])?,
    ];
    servers.push(ServerProcess::spawn_args(
        &o.mosaic,
        &["serve", "image", "--port", "0", "--delay-ms", &delay],
    )?);
    let addrs: Vec<String> = servers.iter().map(|s| s.addr().to_string()).collect();
    let slow = addrs[2].clone();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let balancers = [Balancer::RoundRobin, Balancer::PowerOfTwoChoices];
    let mut runs: [Vec<Run>; 2] = [Vec::new(), Vec::new()];
    runtime.block_on(async {
        for round in 0..o.rounds {
            for k in 0..2 {
                let k = (k + round) % 2;
                runs[k].push(run(&o, &addrs, &slow, balancers[k]).await?);
            }
        }
        anyhow::Ok(())
    })?;

    // The median run of each balancer by p99.
    let pick = |runs: &mut Vec<Run>| {
        runs.sort_by_key(|r| r.latency.value_at_quantile(0.99));
        runs.remove(runs.len() / 2)
    };
    let [mut rr, mut p2c] = runs;
    let (rr, p2c) = (pick(&mut rr), pick(&mut p2c));
    println!(
        "\n### One slow instance among three ({} ms per call), {} calls in flight, median of {} rounds of {:.1} s\n",
        o.delay_ms, o.callers, o.rounds, o.seconds
    );
    println!("| balancer | p50 | p99 | mean | calls/s | slow server's share |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (name, r) in [("round robin", &rr), ("power of two choices", &p2c)] {
        println!(
            "| {name} | {:.2} ms | {:.2} ms | {:.2} ms | {:.0} | {:.1}% |",
            r.latency.value_at_quantile(0.5) as f64 / 1e3,
            r.latency.value_at_quantile(0.99) as f64 / 1e3,
            r.latency.mean() / 1e3,
            r.calls as f64 / r.window.as_secs_f64(),
            100.0 * r.slow_calls as f64 / r.calls.max(1) as f64
        );
    }
    let ratio = |a: f64, b: f64| a / b.max(1.0);
    println!(
        "\nround robin / power of two choices: p50 {:.2}x, p99 {:.2}x, mean {:.2}x; throughput p2c/rr {:.2}x",
        ratio(
            rr.latency.value_at_quantile(0.5) as f64,
            p2c.latency.value_at_quantile(0.5) as f64
        ),
        ratio(
            rr.latency.value_at_quantile(0.99) as f64,
            p2c.latency.value_at_quantile(0.99) as f64
        ),
        ratio(rr.latency.mean(), p2c.latency.mean()),
        p2c.calls as f64 / rr.calls.max(1) as f64
    );
    drop(servers);
    Ok(())
}
