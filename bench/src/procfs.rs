//! Server CPU time and peak memory, read from `/proc` (Linux only).
//!
//! CPU comes from `utime` and `stime` in `/proc/PID/stat`, which cover all of the process's
//! threads, in clock ticks (usually 10 ms): over a window of seconds at hundreds of percent of a
//! core that is a resolution well under 1%. Peak memory is `VmHWM` in `/proc/PID/status`, the
//! high-water mark of resident memory since the process started.

use std::{fs, io, time::Duration};

/// CPU time a process has used so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    /// Time in user space.
    pub user: Duration,
    /// Time in the kernel on the process's behalf (syscalls, TCP, page faults).
    pub system: Duration,
}

impl CpuTimes {
    /// User plus system time.
    pub fn total(&self) -> Duration {
        self.user + self.system
    }

    /// The CPU used between `earlier` and `self`.
    pub fn since(&self, earlier: &CpuTimes) -> CpuTimes {
        CpuTimes {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

fn ticks_per_second() -> u64 {
    // SAFETY: sysconf has no preconditions; it returns -1 for an unknown name.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(hz).ok().filter(|&hz| hz > 0).unwrap_or(100)
}

/// Reads the CPU time of process `pid`.
///
/// # Errors
///
/// The process is gone, or its `stat` file has an unexpected shape.
pub fn cpu_times(pid: u32) -> io::Result<CpuTimes> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_stat(&stat, ticks_per_second())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("bad /proc/{pid}/stat")))
}

fn parse_stat(stat: &str, hz: u64) -> Option<CpuTimes> {
    // The command name (field 2) may hold spaces and parentheses; fields after the last ')' are
    // plain numbers, starting with field 3 (state). utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let ticks = |t: u64| Duration::from_nanos(t.saturating_mul(1_000_000_000) / hz);
    Some(CpuTimes {
        user: ticks(utime),
        system: ticks(stime),
    })
}

/// Reads the CPU time all cores have spent busy since boot: every state of the `cpu` line of
/// `/proc/stat` except idle and iowait. Interrupt and softirq time is included; on loopback part
/// of the TCP work of the server and the load generator is charged there and not to either
/// process, so "busy minus both processes" is never quite zero on an otherwise idle machine.
///
/// # Errors
///
/// `/proc/stat` is unreadable or has no `cpu` line.
pub fn machine_busy() -> io::Result<Duration> {
    let stat = fs::read_to_string("/proc/stat")?;
    parse_machine_busy(&stat, ticks_per_second())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no cpu line in /proc/stat"))
}

fn parse_machine_busy(stat: &str, hz: u64) -> Option<Duration> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    let busy: u64 = [0, 1, 2, 5, 6, 7].iter().filter_map(|&i| v.get(i)).sum();
    Some(Duration::from_nanos(
        busy.saturating_mul(1_000_000_000) / hz,
    ))
}

/// Reads the peak resident memory (`VmHWM`) of process `pid`, in bytes.
///
/// # Errors
///
/// The process is gone, or its `status` file has no `VmHWM` line.
pub fn peak_rss(pid: u32) -> io::Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_hwm(&status)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("no VmHWM for {pid}")))
}

fn parse_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_spaces_in_the_name_parses() {
        let stat = "1234 (a (weird) name) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 3 0";
        let t = parse_stat(stat, 100).expect("parses");
        assert_eq!(t.user, Duration::from_millis(2500), "utime is field 14");
        assert_eq!(t.system, Duration::from_millis(500), "stime is field 15");
    }

    #[test]
    fn own_process_is_readable() {
        let pid = std::process::id();
        assert!(peak_rss(pid).unwrap() > 0, "a live process has a peak RSS");
        cpu_times(pid).unwrap();
    }

    #[test]
    fn machine_busy_skips_idle_and_iowait() {
        let stat = "cpu  100 1 20 5000 70 3 4 2 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n";
        assert_eq!(
            parse_machine_busy(stat, 100),
            Some(Duration::from_millis(1300)),
            "user+nice+system+irq+softirq+steal = 130 ticks"
        );
    }

    #[test]
    fn hwm_is_in_kib() {
        assert_eq!(parse_hwm("Name:\tx\nVmHWM:\t    2048 kB\n"), Some(2 << 20));
    }
}
