"""Client benchmark: Mosaic's generated Python and Java stubs against Apache-generated ones.

`bench/clients/run` builds everything and calls this script; see bench/README.md ("Client
stubs"). One Mosaic `bench-server` (framed, binary or compact, detected per connection) serves
every run. Calls per second are measured in interleaved rounds: in each round every scenario
runs each client once, in an order that rotates by one per round, so drift on the machine hits
all clients alike. The figure of a scenario is the median over rounds.

Python: Mosaic's stubs (`mosaic gen --lang python`, package `bench`) and Apache's (`thrift
--gen py`, package `apache_bench`), both on Apache's runtime with the C-accelerated protocols
over `TFramedTransport`; N threads, each with its own connection, call in a loop in this
process.

Java: `ClientBench` (bench/clients/java) in two long-lived JVMs fed one run per line: one on
libthrift 0.17.0 with both stub sets (Apache's 0.17 output needs that runtime), one on
libthrift 0.25.0 (what Mosaic's stubs are written for) with Mosaic's clients only.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import os
import platform
import select
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any

HOST = "127.0.0.1"
PAYLOAD = bytes((i * 31 + 7) & 0xFF for i in range(1024))
HZ = os.sysconf("SC_CLK_TCK")
START_TIMEOUT_S = 20.0
FINISH_TIMEOUT_S = 10.0
QUIET_WAIT_S = 20.0


# ---- CPU accounting ---------------------------------------------------------------------


def machine_busy_ticks() -> int:
    """Ticks all CPUs spent in any state but idle and iowait (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    values = [int(v) for v in fields[:8]]
    return sum(values) - values[3] - values[4]


def process_ticks(pid: int) -> int:
    """utime + stime of a process, all threads (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    rest = text[text.rindex(")") + 2 :].split()
    return int(rest[11]) + int(rest[12])


@dataclass
class Sample:
    at: float
    busy: int
    procs: int
    last: int  # ticks of the last pid given: the client's process


def sample(pids: Sequence[int]) -> Sample:
    ticks = [process_ticks(p) for p in pids]
    return Sample(time.monotonic(), machine_busy_ticks(), sum(ticks), ticks[-1])


def others_cores(a: Sample, b: Sample) -> float:
    """Cores kept busy by everything but `pids` between two samples."""
    seconds = max(b.at - a.at, 1e-9)
    return max(0, (b.busy - a.busy) - (b.procs - a.procs)) / HZ / seconds


def wait_quiet(limit: float | None, pids: Sequence[int]) -> float:
    """Waits (at most QUIET_WAIT_S) for half a second in which others use <= limit cores."""
    if limit is None:
        return 0.0
    deadline = time.monotonic() + QUIET_WAIT_S
    best = float("inf")
    while time.monotonic() < deadline:
        a = sample(pids)
        time.sleep(0.5)
        cores = others_cores(a, sample(pids))
        best = min(best, cores)
        if cores <= limit:
            break
    return best


# ---- the server ----------------------------------------------------------------------------


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int


def start_server(binary: Path) -> Server:
    proc = subprocess.Popen(
        [str(binary), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert proc.stdout is not None
    line = read_line(proc.stdout.fileno(), time.monotonic() + START_TIMEOUT_S, bytearray())
    prefix = f"listening on {HOST}:"
    if line is None or not line.startswith(prefix):
        proc.kill()
        proc.wait()
        raise RuntimeError(f"{binary} did not print '{prefix}PORT' (got {line!r})")
    return Server(proc, int(line[len(prefix) :]))


def read_line(fd: int, deadline: float, buf: bytearray) -> str | None:
    """One line from a pipe, or None at EOF or when the deadline passes."""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 65536)
        if not chunk:
            return None
        buf.extend(chunk)
    line, _, rest = bytes(buf).partition(b"\n")
    buf[:] = rest
    return line.decode().strip()


# ---- results -----------------------------------------------------------------------------


@dataclass
class Result:
    rate: float
    others: float
    client_us: float  # the client process's CPU per call, µs


def window_result(calls: int, a: Sample, b: Sample) -> Result:
    """A window from two samples whose pids were [server, client]."""
    rate = calls / max(b.at - a.at, 1e-9)
    client_us = (b.last - a.last) / HZ * 1e6 / calls if calls else float("nan")
    return Result(rate, others_cores(a, b), client_us)


@dataclass
class Table:
    """Runs per (scenario, client), in the order scenarios were first seen."""

    runs: dict[tuple[str, str], list[Result]] = field(default_factory=dict)
    scenarios: list[str] = field(default_factory=list)

    def add(self, scenario: str, client: str, result: Result) -> None:
        if scenario not in self.scenarios:
            self.scenarios.append(scenario)
        self.runs.setdefault((scenario, client), []).append(result)

    def median(self, scenario: str, client: str) -> float | None:
        results = self.runs.get((scenario, client))
        return statistics.median(r.rate for r in results) if results else None

    def render(self, clients: Sequence[str], ratios: Sequence[tuple[str, str]]) -> str:
        head = ["scenario"] + [f"{c} calls/s (range)" for c in clients]
        head += [f"{a} / {b}" for a, b in ratios]
        head += [f"{c} client CPU µs/call" for c in clients] + ["others' cores (max)"]
        lines = ["| " + " | ".join(head) + " |", "|---" + "|--:" * (len(head) - 1) + "|"]
        for scenario in self.scenarios:
            row = [scenario]
            worst = 0.0
            for client in clients:
                results = self.runs.get((scenario, client), [])
                if not results:
                    row.append("n/a")
                    continue
                rates = [r.rate for r in results]
                worst = max([worst] + [r.others for r in results])
                row.append(f"{fmt(statistics.median(rates))} ({fmt(min(rates))}-{fmt(max(rates))})")
            for a, b in ratios:
                ma, mb = self.median(scenario, a), self.median(scenario, b)
                row.append(f"{ma / mb:.2f}x" if ma is not None and mb else "n/a")
            for client in clients:
                cpu = [r.client_us for r in self.runs.get((scenario, client), [])]
                row.append(f"{statistics.median(cpu):.1f}" if cpu else "n/a")
            row.append(f"{worst:.2f}")
            lines.append("| " + " | ".join(row) + " |")
        return "\n".join(lines)


def fmt(rate: float) -> str:
    return f"{rate / 1000:.1f}k" if rate >= 10_000 else f"{rate:.0f}"


def rotations(items: Sequence[str], round_no: int) -> list[str]:
    k = round_no % len(items)
    return list(items[k:]) + list(items[:k])


def measured(
    run_once: Callable[[], Result], limit: float | None, tries: int, pids: Sequence[int]
) -> Result:
    """Runs once after a quiet moment; with a limit, repeats a noisy run and keeps the quietest."""
    best: Result | None = None
    for _ in range(max(1, tries if limit is not None else 1)):
        wait_quiet(limit, pids)
        result = run_once()
        if best is None or result.others < best.others:
            best = result
        if limit is None or result.others <= limit:
            break
    assert best is not None
    return best


# ---- Python clients ------------------------------------------------------------------------


def load_stubs(root: Path) -> dict[str, ModuleType]:
    """Mosaic's `bench.Bench` (root/mosaic) and Apache's `apache_bench.Bench` (root/apache)."""
    sys.path[:0] = [str(root / "mosaic"), str(root / "apache")]
    mosaic = importlib.import_module("bench.Bench")
    apache = importlib.import_module("apache_bench.Bench")
    for module, pkg in ((mosaic, root / "mosaic"), (apache, root / "apache")):
        if not Path(module.__file__ or "").resolve().is_relative_to(pkg.resolve()):
            raise RuntimeError(f"{module.__name__} was imported from {module.__file__}, not {pkg}")
    return {"mosaic": mosaic, "apache": apache}


def python_protocol(name: str, transport: Any) -> Any:
    from thrift.protocol import TBinaryProtocol, TCompactProtocol

    proto: Any
    if name == "binary":
        proto = TBinaryProtocol.TBinaryProtocolAccelerated(transport)
    else:
        proto = TCompactProtocol.TCompactProtocolAccelerated(transport)
    if proto._fast_encode is None or proto._fast_decode is None:
        raise RuntimeError("thrift's C extension (fastbinary) is not available: not accelerated")
    return proto


def run_python(
    stubs: ModuleType, proto: str, call: str, threads: int, port: int, args: Any, server_pid: int
) -> Result:
    from thrift.transport import TSocket, TTransport

    transports = []
    clients = []
    try:
        for _ in range(threads):
            sock = TSocket.TSocket(HOST, port)
            sock.setTimeout(FINISH_TIMEOUT_S * 1000)
            transport = TTransport.TFramedTransport(sock)
            transport.open()
            transports.append(transport)
            clients.append(stubs.Client(python_protocol(proto, transport)))
        counts = [0] * threads
        errors: list[BaseException] = []
        stop = threading.Event()
        echo = call == "echo1k"

        def caller(i: int) -> None:
            client = clients[i]
            try:
                if echo:
                    while not stop.is_set():
                        if client.echo(PAYLOAD) != PAYLOAD:
                            raise RuntimeError("echo returned different bytes")
                        counts[i] += 1
                else:
                    while not stop.is_set():
                        client.ping()
                        counts[i] += 1
            except BaseException as e:
                errors.append(e)
                stop.set()

        workers = [threading.Thread(target=caller, args=(i,), daemon=True) for i in range(threads)]
        pids = [server_pid, os.getpid()]
        for w in workers:
            w.start()
        try:
            stop.wait(args.warmup)
            c0, s0 = sum(counts), sample(pids)
            stop.wait(args.seconds)
            c1, s1 = sum(counts), sample(pids)
        finally:
            stop.set()
            deadline = time.monotonic() + FINISH_TIMEOUT_S
            for w in workers:
                w.join(max(0.0, deadline - time.monotonic()))
        if any(w.is_alive() for w in workers):
            raise RuntimeError("python callers did not finish within 10 s of the window's end")
        if errors:
            raise RuntimeError(f"python {call} failed: {errors[0]!r}")
        return window_result(c1 - c0, s0, s1)
    finally:
        for t in transports:
            t.close()


def python_section(args: Any, server: Server) -> str:
    stubs = load_stubs(args.py_stubs)
    table = Table()
    clients = ["mosaic", "apache"]
    scenarios = [
        (proto, call, threads)
        for proto in args.py_protocols
        for call in args.calls
        for threads in args.py_threads
    ]
    pids = [server.proc.pid, os.getpid()]
    for round_no in range(args.rounds):
        for proto, call, threads in scenarios:
            name = f"{proto}, {call}, {threads} thread{'s' if threads > 1 else ''}"
            for client in rotations(clients, round_no):
                result = measured(
                    functools.partial(
                        run_python,
                        stubs[client],
                        proto,
                        call,
                        threads,
                        server.port,
                        args,
                        server.proc.pid,
                    ),
                    args.max_others,
                    args.tries,
                    pids,
                )
                table.add(name, client, result)
                log(f"python round {round_no + 1}: {name}: {client} {fmt(result.rate)}/s")
    return table.render(clients, [("mosaic", "apache")])


# ---- Java clients --------------------------------------------------------------------------


class Jvm:
    """One ClientBench process, fed one run per line."""

    def __init__(self, java_dir: Path, lib: str, port: int) -> None:
        classpath = f"{java_dir / 'classes'}:{java_dir / ('lib-' + lib)}/*"
        self.lib = lib
        self.proc = subprocess.Popen(
            ["java", "-cp", classpath, "org.mosaic.benchclients.ClientBench", str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.buf = bytearray()
        line = self.line(START_TIMEOUT_S)
        if line is None or not line.startswith("ready "):
            self.close()
            raise RuntimeError(f"ClientBench on libthrift {lib} did not start (got {line!r})")
        self.java_version = line.split()[1]

    def line(self, timeout: float) -> str | None:
        assert self.proc.stdout is not None
        return read_line(self.proc.stdout.fileno(), time.monotonic() + timeout, self.buf)

    def run(
        self, kind: str, call: str, conc: int, proto: str, args: Any, server_pid: int
    ) -> Result:
        assert self.proc.stdin is not None
        command = (
            f"run {kind} {call} {conc} {proto} {int(args.warmup * 1000)} {int(args.seconds * 1000)}"
        )
        self.proc.stdin.write(command.encode() + b"\n")
        self.proc.stdin.flush()
        pids = [server_pid, self.proc.pid]
        first = self.line(args.warmup + START_TIMEOUT_S)
        if first != "start":
            raise RuntimeError(f"java `{command}`: {first!r}")
        s0 = sample(pids)
        done = self.line(args.seconds + FINISH_TIMEOUT_S + START_TIMEOUT_S)
        s1 = sample(pids)
        if done is None or not done.startswith("done "):
            raise RuntimeError(f"java `{command}` on libthrift {self.lib}: {done!r}")
        _, calls, nanos = done.split()
        window = window_result(int(calls), s0, s1)
        # The JVM's own clock bounds its window exactly; the samples only bracket it.
        window.rate = int(calls) / (int(nanos) / 1e9)
        return window

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=FINISH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# (label, JVM's libthrift, ClientBench kind)
JAVA_SYNC = [
    ("mosaic", "0.17", "mosaic-sync"),
    ("apache", "0.17", "apache-sync"),
    ("mosaic@0.25", "0.25", "mosaic-sync"),
]
JAVA_ASYNC = [
    ("mosaic async", "0.17", "mosaic-async"),
    ("apache async", "0.17", "apache-async"),
    ("mosaic async@0.25", "0.25", "mosaic-async"),
]


def java_section(args: Any, server: Server) -> tuple[str, str, str]:
    jvms = {lib: Jvm(args.java_dir, lib, server.port) for lib in ("0.17", "0.25")}
    try:
        # JIT warm-up of every client and call, not recorded.
        for _, lib, kind in JAVA_SYNC + JAVA_ASYNC:
            for call in args.calls:
                conc = 8 if kind.endswith("sync") else 64
                jvms[lib].run(kind, call, conc, "binary", args, server.proc.pid)
        sync, asyn = Table(), Table()
        scenarios: list[tuple[Table, list[tuple[str, str, str]], str, str, int]] = []
        for proto in args.java_protocols:
            for call in args.calls:
                for threads in args.java_threads:
                    name = f"{proto}, {call}, {threads} thread{'s' if threads > 1 else ''}"
                    scenarios.append((sync, JAVA_SYNC, name, call, threads))
                for flight in args.java_in_flight:
                    name = f"{proto}, {call}, {flight} in flight"
                    scenarios.append((asyn, JAVA_ASYNC, name, call, flight))
        for round_no in range(args.rounds):
            for table, kinds, name, call, conc in scenarios:
                proto = name.split(",")[0]
                for label in rotations([k[0] for k in kinds], round_no):
                    _, lib, kind = next(k for k in kinds if k[0] == label)
                    jvm = jvms[lib]
                    result = measured(
                        functools.partial(jvm.run, kind, call, conc, proto, args, server.proc.pid),
                        args.max_others,
                        args.tries,
                        [server.proc.pid, jvm.proc.pid],
                    )
                    table.add(name, label, result)
                    log(f"java round {round_no + 1}: {name}: {label} {fmt(result.rate)}/s")
        sync_md = sync.render(
            [k[0] for k in JAVA_SYNC], [("mosaic", "apache"), ("mosaic@0.25", "apache")]
        )
        async_md = asyn.render(
            [k[0] for k in JAVA_ASYNC],
            [("mosaic async", "apache async"), ("mosaic async@0.25", "apache async")],
        )
        return sync_md, async_md, jvms["0.17"].java_version
    finally:
        for jvm in jvms.values():
            jvm.close()


# ---- main ----------------------------------------------------------------------------------


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def csv(kind: Callable[[str], Any]) -> Callable[[str], list[Any]]:
    return lambda text: [kind(x) for x in text.split(",") if x]


def machine_note() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({model}), Linux {platform.release()}"


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def parse_args(argv: Sequence[str]) -> Any:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--server", type=Path, required=True, help="Mosaic's bench-server binary")
    p.add_argument("--py-stubs", type=Path, required=True, help="dir with mosaic/ and apache/")
    p.add_argument("--java-dir", type=Path, required=True, help="bench/target/clients/java")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=float, default=1.0, help="seconds before each window")
    p.add_argument("--seconds", type=float, default=2.0, help="measured window of each run")
    p.add_argument("--quick", action="store_true", help="1 round, 0.2 s warm-up, 0.5 s window")
    p.add_argument("--only", choices=["python", "java"], help="one language only")
    p.add_argument("--calls", type=csv(str), default=["ping", "echo1k"])
    p.add_argument("--py-protocols", type=csv(str), default=["binary", "compact"])
    p.add_argument("--py-threads", type=csv(int), default=[1, 8])
    p.add_argument("--java-protocols", type=csv(str), default=["binary"])
    p.add_argument("--java-threads", type=csv(int), default=[1, 8])
    p.add_argument("--java-in-flight", type=csv(int), default=[1, 64])
    p.add_argument(
        "--max-others",
        type=float,
        help="wait (up to 20 s) for others to use at most this many cores before each run, "
        "and repeat a run whose window saw more (up to --tries), keeping the quietest",
    )
    p.add_argument("--tries", type=int, default=3)
    p.add_argument("--out", type=Path, help="also write the Markdown report here")
    p.add_argument("--source", default="unknown", help="what the binaries were built from")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.warmup, args.seconds = 1, 0.2, 0.5
    checks = [
        (1 <= args.rounds <= 50, "--rounds: 1..50"),
        (0 <= args.warmup <= 60 and 0.1 <= args.seconds <= 120, "--warmup/--seconds out of range"),
        (set(args.calls) <= {"ping", "echo1k"}, "--calls: ping, echo1k"),
        (set(args.py_protocols + args.java_protocols) <= {"binary", "compact"}, "protocols"),
        (all(1 <= n <= 256 for n in args.py_threads + args.java_threads), "threads: 1..256"),
        (all(1 <= n <= 1024 for n in args.java_in_flight), "--java-in-flight: 1..1024"),
        (1 <= args.tries <= 10, "--tries: 1..10"),
    ]
    for ok, message in checks:
        if not ok:
            p.error(message)
    return args


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    if shutil.which("java") is None and args.only != "python":
        raise SystemExit("java is not on PATH")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_before = loadavg()
    server = start_server(args.server)
    log(f"bench-server on {HOST}:{server.port} (pid {server.proc.pid})")
    sections: list[str] = []
    java_version = "(not run)"
    try:
        if args.only != "java":
            sections += ["### Python (calls/s, median of rounds)", python_section(args, server)]
        if args.only != "python":
            sync_md, async_md, java_version = java_section(args, server)
            sections += ["### Java, blocking clients (calls/s, median of rounds)", sync_md]
            sections += ["### Java, async clients (calls/s, median of rounds)", async_md]
    finally:
        server.proc.kill()
        server.proc.wait()
    header = [
        f"#### Client run of {started}",
        "",
        f"- machine: {machine_note()}; server and clients share the cores, nothing pinned",
        f"- built from: {args.source}",
        f"- load average before / after: {load_before} / {loadavg()}",
        f"- {args.rounds} round(s), {args.warmup:g} s warm-up + {args.seconds:g} s window per run,"
        " client order rotating per round; one Mosaic bench-server for every run",
        f"- Python {platform.python_version()}, PyPI thrift {version('thrift')} (C-accelerated);"
        f" Java {java_version}, libthrift 0.17.0 (both stub sets) and 0.25.0 (Mosaic's);"
        " Apache's stubs from Debian's thrift 0.17",
        "- quiet-moment gate: "
        + (
            f"others ≤ {args.max_others:g} cores, up to {args.tries} tries per run"
            if args.max_others is not None
            else "off"
        ),
        "",
    ]
    report = "\n".join(header) + "\n" + "\n\n".join(sections) + "\n"
    print(report)
    if args.out is not None:
        args.out.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
