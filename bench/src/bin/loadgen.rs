//! Drives Volo, Apache Thrift, the minimal server and (when built) Mosaic's `bench-server` with
//! the same calls, in interleaved rounds, and prints Markdown tables with ratios.
//!
//! For each scenario (call × connections × calls in flight), each round runs every server once,
//! in an order that rotates from round to round, so drift on the machine (other builds, thermal
//! state) hits all servers alike. Every run starts a fresh server process, so its peak RSS
//! belongs to that scenario alone.
//!
//! The load generator runs on one thread (a `current_thread` tokio runtime): the machine has two
//! cores shared with the server, and one thread caps the load generator at about one core, the
//! same for every server. Its own CPU per call is printed so it can be checked.
//!
//! See `bench/README.md` for the options and what each column means.

use std::{
    env,
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use mosaic_bench::{
    load::{self, Edge, LoadSpec},
    procfs::{self, CpuTimes},
    report::{self, Aggregate, Sample},
    server::ServerProcess,
    wire::{self, CallTemplate},
};

const USAGE: &str = "\
usage: loadgen [options]
  --seconds F      measured window per run (default 3)
  --warmup F       warm-up per run, under the same load (default 1)
  --rounds N       rounds per scenario (default 3)
  --quick          smoke run: 1 round, 0.2 s warm-up, 0.5 s window
  --calls LIST     ping,1k,1m (default all)
  --conns LIST     connections (default 1,16,64)
  --in-flight LIST calls in flight per connection (default 1,4)
  --servers LIST   volo,apache,minimal,mosaic (default all found)
  --mosaic PATH    Mosaic's bench-server (default: bench-server next to loadgen)
  --coalesce       send the calls freed by one read in one write (default: a write per call)
  --max-others F   start each run in a quiet moment (waiting up to 20 s for one), and repeat
                   it (up to --tries times, keeping the quietest) when other processes kept
                   more than F cores busy during its window (default: off)
  --tries N        runs allowed per server, round and scenario with --max-others (default 3)
  --full-check     compare every byte of 1 MiB echoes (default: sampled, see README)
  --out FILE       also write the Markdown report to FILE";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Ping,
    Echo(usize),
}

impl Call {
    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "ping" => Call::Ping,
            "1k" => Call::Echo(1024),
            "1m" => Call::Echo(1024 * 1024),
            _ => bail!("unknown call {s:?} (ping, 1k, 1m)"),
        })
    }

    fn name(self) -> String {
        match self {
            Call::Ping => "ping".to_owned(),
            Call::Echo(n) if n >= 1 << 20 => format!("echo {} MiB", n >> 20),
            Call::Echo(n) => format!("echo {} KiB", n >> 10),
        }
    }

    fn template(self) -> CallTemplate {
        match self {
            Call::Ping => CallTemplate::ping(),
            Call::Echo(n) => CallTemplate::echo(&wire::payload(n)),
        }
    }
}

#[derive(Debug)]
struct Options {
    seconds: f64,
    warmup: f64,
    rounds: usize,
    calls: Vec<Call>,
    conns: Vec<usize>,
    in_flight: Vec<usize>,
    servers: Option<Vec<String>>,
    mosaic: Option<PathBuf>,
    full_check: bool,
    coalesce: bool,
    max_others: Option<f64>,
    tries: usize,
    out: Option<PathBuf>,
}

fn list<T>(s: &str, f: impl Fn(&str) -> Result<T>) -> Result<Vec<T>> {
    s.split(',').map(|x| f(x.trim())).collect()
}

fn parse_options() -> Result<Options> {
    let mut o = Options {
        seconds: 3.0,
        warmup: 1.0,
        rounds: 3,
        calls: vec![Call::Ping, Call::Echo(1024), Call::Echo(1 << 20)],
        conns: vec![1, 16, 64],
        in_flight: vec![1, 4],
        servers: None,
        mosaic: None,
        full_check: false,
        coalesce: false,
        max_others: None,
        tries: 3,
        out: None,
    };
    let mut args = env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--seconds" => o.seconds = value()?.parse()?,
            "--warmup" => o.warmup = value()?.parse()?,
            "--rounds" => o.rounds = value()?.parse()?,
            "--quick" => {
                o.rounds = 1;
                o.warmup = 0.2;
                o.seconds = 0.5;
            }
            "--calls" => o.calls = list(&value()?, Call::parse)?,
            "--conns" => o.conns = list(&value()?, |s| Ok(s.parse()?))?,
            "--in-flight" => o.in_flight = list(&value()?, |s| Ok(s.parse()?))?,
            "--servers" => o.servers = Some(list(&value()?, |s| Ok(s.to_owned()))?),
            "--mosaic" => o.mosaic = Some(value()?.into()),
            "--full-check" => o.full_check = true,
            "--coalesce" => o.coalesce = true,
            "--max-others" => o.max_others = Some(value()?.parse()?),
            "--tries" => o.tries = value()?.parse()?,
            "--out" => o.out = Some(value()?.into()),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => bail!("unknown option {flag:?}\n{USAGE}"),
        }
    }
    // Bounds keep every run finite and every connection count sane for one machine.
    if !(0.1..=600.0).contains(&o.seconds) || !(0.0..=600.0).contains(&o.warmup) {
        bail!("--seconds must be in 0.1..=600 and --warmup in 0..=600");
    }
    if !(1..=100).contains(&o.rounds) || !(1..=10).contains(&o.tries) {
        bail!("--rounds must be in 1..=100 and --tries in 1..=10");
    }
    if o.conns
        .iter()
        .chain(&o.in_flight)
        .any(|&n| !(1..=1024).contains(&n))
    {
        bail!("connections and calls in flight must be in 1..=1024");
    }
    Ok(o)
}

/// Finds the server binaries: siblings of this executable in the same target directory.
fn find_servers(o: &Options) -> Result<Vec<(String, PathBuf)>> {
    let exe = env::current_exe()?;
    let dir = exe.parent().context("loadgen has a parent directory")?;
    let wanted = |name: &str| {
        o.servers
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| x == name))
    };
    let mut found = Vec::new();
    for name in ["volo", "apache", "minimal"] {
        if !wanted(name) {
            continue;
        }
        let path = dir.join(format!("{name}-bench-server"));
        if !path.exists() {
            bail!(
                "{} is missing: build every binary first with \
                 `cargo build --release --manifest-path bench/Cargo.toml --bins`",
                path.display()
            );
        }
        warn_if_stale(&path, &exe);
        found.push((name.to_owned(), path));
    }
    if wanted("mosaic") {
        let path = o.mosaic.clone().unwrap_or_else(|| dir.join("bench-server"));
        if path.exists() {
            warn_if_stale(&path, &exe);
            found.push(("mosaic".to_owned(), path));
        } else {
            eprintln!(
                "mosaic: skipped, no bench-server at {} (build it, or pass --mosaic PATH)",
                path.display()
            );
        }
    }
    if found.is_empty() {
        bail!("no servers to run");
    }
    Ok(found)
}

/// `cargo run --bin loadgen` rebuilds only loadgen; say so when a server is older than it.
fn warn_if_stale(server: &Path, loadgen: &Path) {
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(s), Some(l)) = (modified(server), modified(loadgen)) {
        if s < l {
            eprintln!(
                "note: {} is older than loadgen; rebuild with `cargo build --release --bins` \
                 if its source changed",
                server.display()
            );
        }
    }
}

/// CPU counters read at one edge of the window.
#[derive(Debug, Clone, Copy)]
struct Probe {
    server: CpuTimes,
    client: CpuTimes,
    machine: Duration,
}

/// Runs `binary` once, or with `--max-others` until a run's window was quiet enough (at most
/// `--tries` runs), and keeps the quietest run.
fn run_quiet(
    rt: &tokio::runtime::Runtime,
    o: &Options,
    binary: &Path,
    spec: &LoadSpec,
    label: &str,
) -> Result<Sample> {
    let tries = if o.max_others.is_some() { o.tries } else { 1 };
    let mut best: Option<Sample> = None;
    for attempt in 1..=tries {
        if let Some(max) = o.max_others {
            wait_for_quiet(max, QUIET_WAIT)?;
        }
        let sample = run_once(rt, binary, spec)?;
        let others = sample.others_cores();
        if best.as_ref().is_none_or(|b| others < b.others_cores()) {
            best = Some(sample);
        }
        match o.max_others {
            Some(max) if others > max && attempt < tries => eprintln!(
                "{label}: other processes kept {others:.2} cores busy (over {max}); running again"
            ),
            _ => break,
        }
    }
    best.context("at least one try runs")
}

/// The longest `wait_for_quiet` waits before running anyway.
const QUIET_WAIT: Duration = Duration::from_secs(20);

/// Waits, at most `limit`, for a half second in which other processes keep at most `max` cores
/// busy, so a run starts in a gap of other work instead of being repeated blindly.
fn wait_for_quiet(max: f64, limit: Duration) -> Result<()> {
    const SLICE: Duration = Duration::from_millis(500);
    let me = std::process::id();
    let deadline = Instant::now() + limit;
    loop {
        let (m0, c0) = (procfs::machine_busy()?, procfs::cpu_times(me)?);
        std::thread::sleep(SLICE);
        let (m1, c1) = (procfs::machine_busy()?, procfs::cpu_times(me)?);
        let others = m1
            .saturating_sub(m0)
            .saturating_sub(c1.since(&c0).total())
            .as_secs_f64()
            / SLICE.as_secs_f64();
        if others <= max || Instant::now() >= deadline {
            return Ok(());
        }
    }
}

/// Starts `binary`, runs `spec` against it, and returns what the window measured.
fn run_once(rt: &tokio::runtime::Runtime, binary: &Path, spec: &LoadSpec) -> Result<Sample> {
    let mut server = ServerProcess::spawn(binary)?;
    let pid = server.pid();
    let me = std::process::id();
    let edges = Arc::new(Mutex::new(Vec::with_capacity(2)));
    let sink = Arc::clone(&edges);
    let result = rt.block_on(load::run(server.addr(), spec, move |_: Edge| {
        let sample = procfs::cpu_times(pid).and_then(|s| {
            Ok(Probe {
                server: s,
                client: procfs::cpu_times(me)?,
                machine: procfs::machine_busy()?,
            })
        });
        sink.lock()
            .expect("sampler lock is never poisoned")
            .push(sample);
    }))?;
    let edges = std::mem::take(&mut *edges.lock().expect("sampler lock is never poisoned"));
    let edges: Vec<Probe> = edges
        .into_iter()
        .collect::<std::io::Result<_>>()
        .context("reading CPU times")?;
    let peak_rss = procfs::peak_rss(pid).context("reading peak RSS")?;
    if !server.is_running() {
        bail!("{} exited during the run", binary.display());
    }
    let [start, end] = edges[..] else {
        bail!("the load driver did not report both window edges");
    };
    let server_cpu = end.server.since(&start.server);
    let client_cpu = end.client.since(&start.client);
    let others_cpu = end
        .machine
        .saturating_sub(start.machine)
        .saturating_sub(server_cpu.total() + client_cpu.total());
    Ok(Sample {
        calls: result.calls,
        window: result.window,
        latency: result.latency,
        server_cpu,
        client_cpu,
        others_cpu,
        peak_rss,
    })
}

fn machine() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cores} cores ({cpu}), Linux {}", kernel.trim())
}

fn main() -> Result<()> {
    let o = parse_options()?;
    let servers = find_servers(&o)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;

    let mut report = String::new();
    let command: Vec<String> = env::args().skip(1).collect();
    let _ = writeln!(report, "## Run of {}\n", report::utc_date());
    let _ = writeln!(report, "- command: `loadgen {}`", command.join(" "));
    let _ = writeln!(report, "- machine: {}", machine());
    let _ = writeln!(
        report,
        "- per run: fresh server, {} s warm-up, {} s measured; {} round(s), server order rotating; \
         {}",
        o.warmup,
        o.seconds,
        o.rounds,
        if o.coalesce {
            "calls freed by one read go out in one write"
        } else {
            "one write per call"
        }
    );
    if let Some(max) = o.max_others {
        let _ = writeln!(
            report,
            "- a run whose window saw other processes keep more than {max} cores busy was \
             repeated, up to {} runs, keeping the quietest",
            o.tries
        );
    }
    let _ = writeln!(
        report,
        "- servers: {}\n",
        servers
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    print!("{report}");

    let mut scenarios = Vec::new();
    for &call in &o.calls {
        for &conns in &o.conns {
            for &in_flight in &o.in_flight {
                let title = format!("{}, {conns} conn x {in_flight} in flight", call.name());
                let spec = LoadSpec {
                    call: call.template(),
                    connections: conns,
                    in_flight,
                    warmup: Duration::from_secs_f64(o.warmup),
                    measure: Duration::from_secs_f64(o.seconds),
                    full_check: o.full_check,
                    coalesce: o.coalesce,
                };
                let mut rows: Vec<Aggregate> = servers
                    .iter()
                    .map(|(name, _)| Aggregate {
                        server: name.clone(),
                        samples: Vec::new(),
                    })
                    .collect();
                for round in 0..o.rounds {
                    for k in 0..servers.len() {
                        let i = (k + round) % servers.len();
                        let (name, path) = &servers[i];
                        let label = format!("{title} | round {} | {name}", round + 1);
                        let sample = run_quiet(&rt, &o, path, &spec, &label)
                            .with_context(|| label.clone())?;
                        eprintln!(
                            "{label}: {:.0} calls/s, others {:.2} cores",
                            sample.calls as f64 / sample.window.as_secs_f64(),
                            sample.others_cores()
                        );
                        rows[i].samples.push(sample);
                    }
                }
                let table = report::scenario_table(&title, &rows);
                println!("{table}");
                report.push_str(&table);
                report.push('\n');
                scenarios.push((title, rows));
            }
        }
    }

    let names: Vec<String> = servers.iter().map(|(n, _)| n.clone()).collect();
    let summary = format!(
        "### Summary: median QPS\n\n{}",
        report::summary_table(&names, &scenarios)
    );
    println!("{summary}");
    report.push_str(&summary);
    if let Some(path) = &o.out {
        fs::write(path, &report).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("report written to {}", path.display());
    }
    Ok(())
}
