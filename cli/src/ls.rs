//! `mosaic ls`: the services a registry lists, their instances, and whether each answers.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use mosaic_registry::idl::common::HealthClient;
use mosaic_registry::idl::registry::{Instance, RegistryClient};
use mosaic_runtime::Client;

use crate::process;

#[derive(Args, Debug)]
pub struct LsArgs {
    /// The registry to ask.
    #[arg(long, default_value = "127.0.0.1:7070")]
    registry: String,
    /// How long each probe (and the registry) may take, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    timeout_ms: u64,
}

pub fn run(args: LsArgs) -> ExitCode {
    process::block_on(ls(args))
}

fn client(addr: String, timeout: Duration) -> Client {
    Client::builder(addr)
        .timeout(timeout)
        .connect_timeout(timeout)
        .retries(0)
        .build()
}

async fn ls(args: LsArgs) -> ExitCode {
    let timeout = Duration::from_millis(args.timeout_ms);
    let registry = RegistryClient::new(client(args.registry.clone(), timeout));
    let services = match registry.services().await {
        Ok(services) => services,
        Err(e) => {
            eprintln!("error: cannot list services at {}: {e}", args.registry);
            return ExitCode::FAILURE;
        }
    };
    if services.is_empty() {
        println!("no services registered at {}", args.registry);
        return ExitCode::SUCCESS;
    }
    let mut rows = vec![[
        "SERVICE", "ADDRESS", "WEIGHT", "ZONE", "TAGS", "LEASE", "HEALTH",
    ]
    .map(String::from)];
    for service in &services {
        let probes = service
            .instances
            .iter()
            .map(|instance| probe(instance, timeout));
        let health = futures_util::future::join_all(probes).await;
        for (instance, health) in service.instances.iter().zip(health) {
            rows.push([
                service.service_name.clone(),
                address(instance),
                instance.weight.to_string(),
                instance.zone.clone().unwrap_or_else(|| "-".into()),
                tags(instance),
                instance.id.to_string(),
                health,
            ]);
        }
    }
    print_table(&rows);
    ExitCode::SUCCESS
}

fn address(instance: &Instance) -> String {
    if instance.host.contains(':') {
        format!("[{}]:{}", instance.host, instance.port)
    } else {
        format!("{}:{}", instance.host, instance.port)
    }
}

fn tags(instance: &Instance) -> String {
    if instance.tags.is_empty() {
        return "-".into();
    }
    let all: Vec<String> = instance
        .tags
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    all.join(",")
}

/// `ok 0.4 ms, 2 in flight, 1200 served, up 3m` or why the instance did not answer.
async fn probe(instance: &Instance, timeout: Duration) -> String {
    let health = HealthClient::new(client(address(instance), timeout));
    let started = Instant::now();
    match health.status().await {
        Ok(status) => format!(
            "ok {:.1} ms, {} in flight, {} served, up {}",
            started.elapsed().as_secs_f64() * 1e3,
            status.in_flight,
            status.served,
            uptime(status.uptime_ms)
        ),
        Err(e) => format!("DOWN: {e}"),
    }
}

fn uptime(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{}s", s / 60, s % 60),
        _ => format!("{}h{}m", s / 3600, s % 3600 / 60),
    }
}

fn print_table(rows: &[[String; 7]]) {
    let mut widths = [0usize; 7];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  "));
            }
        }
        println!("{}", line.trim_end());
    }
}
