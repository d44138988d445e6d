//! Starts a server binary as a child process and learns its address.
//!
//! The contract every server here follows (Mosaic's `bench-server` too): run as
//! `BINARY --port 0`, bind 127.0.0.1 on a port the OS picks, and print
//! `listening on 127.0.0.1:PORT` as a line on stdout once it accepts connections.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    os::unix::process::CommandExt,
    path::Path,
    process::{Child, Command, Stdio},
    sync::mpsc,
    thread,
    time::Duration,
};

use anyhow::{bail, Context, Result};

/// How long a server may take to print its address (Volo's and Apache's start in milliseconds;
/// this only bounds a server that hangs).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running server; it is killed when this value is dropped.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    addr: SocketAddr,
}

impl ServerProcess {
    /// Starts `binary --port 0` and waits for its `listening on` line.
    ///
    /// # Errors
    ///
    /// The binary cannot be started, exits, or prints no address within 30 s.
    pub fn spawn(binary: &Path) -> Result<Self> {
        Self::spawn_args(binary, &["--port", "0"])
    }

    /// Starts `binary ARGS...` (which must make it pick a port and print it, as `--port 0`
    /// does) and waits for its `listening on` line.
    ///
    /// # Errors
    ///
    /// As [`ServerProcess::spawn`].
    pub fn spawn_args(binary: &Path, args: &[&str]) -> Result<Self> {
        let mut command = Command::new(binary);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        // If the load generator is killed before it can drop this value, the kernel kills the
        // server too instead of leaving it running. (The signal follows the spawning thread;
        // servers are spawned from threads that outlive them.)
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("child stdout is piped")?;

        // A thread reads the line so the wait can time out; it keeps draining stdout afterwards
        // so a chatty server never blocks on a full pipe, and ends when the child exits.
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent {
                    if let Some(addr) = line.trim().strip_prefix("listening on ") {
                        sent = true;
                        let _ = tx.send(addr.to_owned());
                    }
                }
            }
        });

        let mut server = ServerProcess {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let addr = match rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(addr) => addr,
            Err(_) => {
                let status = server.child.try_wait().ok().flatten();
                bail!(
                    "{} printed no `listening on ADDR` line within {STARTUP_TIMEOUT:?} (exit \
                     status: {status:?})",
                    binary.display()
                );
            }
        };
        server.addr = addr
            .parse()
            .with_context(|| format!("{} printed a bad address {addr:?}", binary.display()))?;
        if !server.addr.ip().is_loopback() {
            bail!("{} listens on {addr}, not on loopback", binary.display());
        }
        Ok(server)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's process id, for `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL (no chance to say goodbye) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
