//! `mosaic registry`, `mosaic serve --registry`, `mosaic up` and `mosaic ls` as real processes
//! on loopback: registration, heartbeats, expiry after a kill -9, deregistration on SIGTERM,
//! re-registration after the registry restarts.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mosaic_registry::idl::registry::{Instances, RegistryClient};

/// A `mosaic` child process whose stdout lines arrive on a channel; killed when dropped.
struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Proc {
    fn start(args: &[&str]) -> Proc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mosaic"))
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("mosaic starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Proc { child, lines }
    }

    /// The next line containing `needle`, within 20 s.
    fn line_with(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(e) => panic!("no line with {needle:?} from mosaic: {e}"),
            }
        }
    }

    /// The address in the next `listening on ADDR` line.
    fn listening(&self) -> String {
        let line = self.line_with("listening on ");
        line.rsplit(' ').next().unwrap().to_string()
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "mosaic did not exit in {within:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn lookup(registry: &str, service: &str) -> Instances {
    let client = RegistryClient::new(
        mosaic_runtime::Client::builder(registry)
            .timeout(Duration::from_secs(5))
            .build(),
    );
    runtime()
        .block_on(client.lookup(service.to_string()))
        .expect("lookup")
}

fn ports(instances: &Instances) -> Vec<i32> {
    let mut ports: Vec<i32> = instances.instances.iter().map(|i| i.port).collect();
    ports.sort();
    ports
}

fn port_of(addr: &str) -> i32 {
    addr.rsplit(':').next().unwrap().parse().unwrap()
}

/// Polls lookups until `done` holds, within `within`; returns how long it took.
fn until(registry: &str, within: Duration, done: impl Fn(&Instances) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        if done(&lookup(registry, "image")) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "the registry did not get there in {within:?}: {:?}",
            lookup(registry, "image")
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn a_killed_server_leaves_lookups_within_one_ttl_and_sigterm_deregisters_at_once() {
    let registry = Proc::start(&["registry", "--port", "0"]);
    let reg = registry.listening();
    let ttl_ms = 1500;
    let ttl = ttl_ms.to_string();
    let serve = |tags: &[&str]| {
        let mut args = vec![
            "serve",
            "image",
            "--port",
            "0",
            "--registry",
            &reg,
            "--ttl-ms",
            &ttl,
        ];
        args.extend_from_slice(tags);
        let p = Proc::start(&args);
        let addr = p.listening();
        p.line_with("registered image");
        (p, addr)
    };
    let (mut doomed, doomed_addr) = serve(&["--tag", "role=doomed", "--weight", "7"]);
    let (mut polite, polite_addr) = serve(&["--zone", "a"]);

    let listed = lookup(&reg, "image");
    let mut want = vec![port_of(&doomed_addr), port_of(&polite_addr)];
    want.sort();
    assert_eq!(ports(&listed), want);
    let doomed_entry = listed
        .instances
        .iter()
        .find(|i| i.port == port_of(&doomed_addr))
        .unwrap();
    assert_eq!(doomed_entry.weight, 7);
    assert_eq!(
        doomed_entry.tags.get("role").map(String::as_str),
        Some("doomed")
    );

    // Heartbeats keep a lease alive well past its TTL.
    std::thread::sleep(Duration::from_millis(ttl_ms * 2));
    assert_eq!(lookup(&reg, "image").instances.len(), 2);

    // kill -9: no goodbye; the lease lapses.
    doomed.child.kill().unwrap();
    doomed.child.wait().unwrap();
    let gone = until(&reg, Duration::from_millis(ttl_ms + 2000), |s| {
        s.instances.len() == 1
    });
    eprintln!("a kill -9'd server left lookups after {gone:?} (TTL {ttl_ms} ms)");
    // One TTL after the last heartbeat, plus room for a loaded machine's polling (each
    // lookup here is a new client on a new runtime).
    assert!(gone <= Duration::from_millis(ttl_ms + 750), "{gone:?}");

    // SIGTERM: the server deregisters before it exits.
    polite.signal("TERM");
    let took = until(&reg, Duration::from_millis(ttl_ms / 2), |s| {
        s.instances.is_empty()
    });
    eprintln!("a SIGTERM'd server left lookups after {took:?}");
    assert!(polite.wait_exit(Duration::from_secs(10)).success());
}

#[test]
fn servers_register_again_after_the_registry_restarts() {
    let registry = Proc::start(&["registry", "--port", "0"]);
    let reg = registry.listening();
    let server = Proc::start(&[
        "serve",
        "image",
        "--port",
        "0",
        "--registry",
        &reg,
        "--ttl-ms",
        "1200",
    ]);
    let addr = server.listening();
    server.line_with("registered image");
    drop(registry); // kill -9: the memory store's leases are gone with it

    let again = Proc::start(&["registry", "--port", &port_of(&reg).to_string()]);
    assert_eq!(again.listening(), reg);
    let took = until(&reg, Duration::from_secs(8), |s| {
        ports(s) == [port_of(&addr)]
    });
    eprintln!("re-registered {took:?} after the registry came back");
}

#[test]
fn up_runs_a_registry_and_servers_that_ls_lists_as_healthy() {
    let mut up = Proc::start(&[
        "up",
        "--registry-port",
        "0",
        "--image-port",
        "0",
        "--images",
        "2",
    ]);
    let reg = up.line_with("registry listening on ");
    let reg = reg.rsplit(' ').next().unwrap().to_string();
    up.line_with("registered image");
    up.line_with("registered image");

    let ls = Command::new(env!("CARGO_BIN_EXE_mosaic"))
        .args(["ls", "--registry", &reg])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&ls.stdout);
    assert!(ls.status.success(), "{text}");
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("image ")).collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(rows.iter().all(|r| r.contains(" ok ")), "{text}");

    up.signal("INT");
    assert!(up.wait_exit(Duration::from_secs(10)).success());
}

#[test]
fn ls_explains_an_unreachable_registry_and_serve_refuses_an_unusable_address() {
    let ls = Command::new(env!("CARGO_BIN_EXE_mosaic"))
        .args(["ls", "--registry", "127.0.0.1:1", "--timeout-ms", "500"])
        .output()
        .unwrap();
    assert!(!ls.status.success());
    let err = String::from_utf8_lossy(&ls.stderr);
    assert!(err.contains("cannot list services at 127.0.0.1:1"), "{err}");

    let serve = Command::new(env!("CARGO_BIN_EXE_mosaic"))
        .args([
            "serve",
            "image",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--registry",
            "127.0.0.1:1",
        ])
        .output()
        .unwrap();
    assert!(!serve.status.success());
    let err = String::from_utf8_lossy(&serve.stderr);
    assert!(err.contains("--advertise-host"), "{err}");
}

/// An etcd on free loopback ports (Debian's `etcd-server`; MOSAIC_SKIP_ETCD=1 skips).
struct Etcd {
    child: Child,
    url: String,
    dir: std::path::PathBuf,
}

impl Etcd {
    fn start() -> Option<Etcd> {
        if std::env::var("MOSAIC_SKIP_ETCD").as_deref() == Ok("1") {
            return None;
        }
        let port = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let (client, peer) = (port(), port());
        let url = format!("http://127.0.0.1:{client}");
        let peer = format!("http://127.0.0.1:{peer}");
        let dir = std::env::temp_dir().join(format!("mosaic-cli-etcd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let child = Command::new("etcd")
            .args([
                "--name=cli",
                &format!("--data-dir={}", dir.display()),
                &format!("--listen-client-urls={url}"),
                &format!("--advertise-client-urls={url}"),
                &format!("--listen-peer-urls={peer}"),
                &format!("--initial-advertise-peer-urls={peer}"),
                &format!("--initial-cluster=cli={peer}"),
                "--log-level=error",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("etcd runs (scripts/setup installs etcd-server; MOSAIC_SKIP_ETCD=1 skips)");
        Some(Etcd { child, url, dir })
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn registries_sharing_etcd_survive_the_death_of_one() {
    let Some(etcd) = Etcd::start() else { return };
    let store = [
        "--store",
        "etcd",
        "--etcd",
        &etcd.url,
        "--etcd-prefix",
        "/cli-test",
    ];
    let start_registry = || {
        // etcd may still be starting: a registry that cannot reach it exits, so retry.
        for _ in 0..100 {
            let mut args = vec!["registry", "--port", "0"];
            args.extend_from_slice(&store);
            let p = Proc::start(&args);
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Ok(line) = p.lines.recv_timeout(Duration::from_millis(100)) {
                    if let Some(addr) = line.strip_prefix("listening on ") {
                        return (p, addr.to_string());
                    }
                }
                if Instant::now() > deadline {
                    break;
                }
            }
        }
        panic!("mosaic registry --store etcd did not start");
    };
    let (mut a, a_addr) = start_registry();
    let (_b, b_addr) = start_registry();
    let both = format!("{a_addr},{b_addr}");
    let server = Proc::start(&[
        "serve",
        "image",
        "--port",
        "0",
        "--registry",
        &both,
        "--ttl-ms",
        "2000",
    ]);
    let addr = server.listening();
    server.line_with("registered image");
    until(&b_addr, Duration::from_secs(5), |s| {
        ports(s) == [port_of(&addr)]
    });

    // Registry A dies; the server's heartbeats move to B and keep the same etcd lease.
    let lease = lookup(&b_addr, "image").instances[0].id;
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    std::thread::sleep(Duration::from_secs(5));
    let listed = lookup(&b_addr, "image");
    assert_eq!(
        ports(&listed),
        [port_of(&addr)],
        "still listed after 2.5 TTLs"
    );
    assert_eq!(
        listed.instances[0].id, lease,
        "the same lease, renewed through B"
    );
}
