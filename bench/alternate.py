#!/usr/bin/python3
"""Two (or more) adoptiond servers on the same data, the same commands run
on each in turn: A B A B ..., so both see the same machine load.

Each server is a build directory (its own adoptiond, plugins and adoptctl:
an older build may lack newer flags) with optional extra adoptiond
arguments. Each gets a temporary SQLite file and a free port, and loads the
same CSV files with its own adoptctl. Then, REPS times, every command runs
once on each server in turn. Per run:

  wall      seconds of the adoptctl call, from the client;
  cpu       CPU seconds the run cost the server and its child processes
            (the fitter hosts of --plugin-isolation=process): utime + stime
            from /proc, live children included;
  vmhwm_kb  the server's peak RSS during the run: VmHWM, reset before the run
            (echo 5 > /proc/PID/clear_refs, Linux >= 4.0; when that is not
            allowed the peak since start, and "hwm_reset" says so);
  fits      fits + cross-validation fits, from the server's last
            event=compare log line (when it writes one).

Outputs are compared across servers: each command's JSON output (first run)
with the fields that time the call removed (elapsedSeconds) must be
identical; the differing paths are listed when not. Runs of one server are
compared too (the fits are deterministic).

    alternate.py --server NAME=BUILD [--server NAME=BUILD ...]
                 [--server-args NAME=ARGS] --command LABEL=ADOPTCTL-ARGS ...
                 [--reps N] [--json OUT] CSV...

Prints a table; --json writes everything. Standard library only.
"""
import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TIMING_FIELDS = {"elapsedSeconds"}
HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of pid and its reaped children, plus its live children."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is the state (field 3): utime is field 14 -> fields[11].
        if int(entry) == pid:
            total += sum(int(v) for v in fields[11:15])
        elif int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / HZ


def vmhwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def reset_hwm(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def strip_timing(v):
    if isinstance(v, dict):
        return {k: strip_timing(x) for k, x in v.items() if k not in TIMING_FIELDS}
    if isinstance(v, list):
        return [strip_timing(x) for x in v]
    return v


def diff_paths(a, b, path="", out=None, most=10):
    """Where two JSON values differ (at most `most` paths)."""
    out = [] if out is None else out
    if len(out) >= most:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'the second' if k in b else 'the first'}")
            else:
                diff_paths(a[k], b[k], f"{path}.{k}", out, most)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} vs {len(b)} items")
        for i, (x, y) in enumerate(zip(a, b)):
            diff_paths(x, y, f"{path}[{i}]", out, most)
    elif a != b:
        out.append(f"{path}: {a!r} vs {b!r}")
    return out[:most]


class Server:
    def __init__(self, name, build, args, tmp):
        self.name, self.build, self.args = name, build, args
        self.adoptctl = os.path.join(build, "clients", "cli", "adoptctl")
        self.log_path = os.path.join(tmp, f"{name}.log")
        ready = os.path.join(tmp, f"{name}.ready")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [os.path.join(build, "engine", "adoptiond"), "--listen", "127.0.0.1:0", "--db",
             os.path.join(tmp, f"{name}.db"), "--plugins", os.path.join(build, "plugins"),
             "--ready-file", ready, *args], stdout=self.log, stderr=self.log)
        for _ in range(300):
            if os.path.exists(ready) and os.path.getsize(ready) > 0:
                break
            if self.proc.poll() is not None:
                raise SystemExit(f"alternate: adoptiond {name} exited; log {self.log_path}:\n"
                                 + open(self.log_path).read()[-2000:])
            time.sleep(0.1)
        else:
            raise SystemExit(f"alternate: adoptiond {name} not ready after 30 s")
        self.address = open(ready).read().split()[0]

    def ctl(self, args, timeout=900):
        return subprocess.run([self.adoptctl, "--server", self.address, "--timeout", "600",
                               *args], capture_output=True, text=True, timeout=timeout)

    def last_fits(self):
        """fits + cv_fits of the last event=compare line, or None."""
        found = None
        with open(self.log_path) as f:
            for line in f:
                if "event=compare " in line:
                    kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
                    if "fits" in kv:
                        found = int(kv["fits"]) + int(kv.get("cv_fits", 0))
        return found

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def parse_pairs(values, what):
    out = {}
    for v in values or []:
        name, sep, rest = v.partition("=")
        if not sep or not name:
            raise SystemExit(f"alternate: {what} wants NAME=VALUE, got {v!r}")
        out[name] = rest
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", action="append", required=True, help="NAME=BUILD_DIR")
    ap.add_argument("--server-args", action="append", help="NAME=extra adoptiond arguments")
    ap.add_argument("--command", action="append", required=True,
                    help="LABEL=adoptctl arguments, e.g. compare --all --summary-only "
                    "--format json")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json", help="write the runs and the output checks here")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    servers_spec = parse_pairs(args.server, "--server")
    extra = {k: shlex.split(v) for k, v in parse_pairs(args.server_args, "--server-args").items()}
    commands = {k: shlex.split(v) for k, v in parse_pairs(args.command, "--command").items()}

    tmp = tempfile.mkdtemp(prefix="adoption-alternate.")
    servers = []
    try:
        load_start = open("/proc/loadavg").read().split()[:3]
        for name, build in servers_spec.items():
            s = Server(name, os.path.abspath(build), extra.get(name, []), tmp)
            servers.append(s)
            t0 = time.time()
            r = s.ctl(["load-csv", *args.files])
            if r.returncode != 0:
                raise SystemExit(f"alternate: load-csv on {name} failed: {r.stderr.strip()}")
            s.load_seconds = time.time() - t0
            s.load_vmhwm_kb = vmhwm_kb(s.proc.pid)
        runs = {label: {s.name: [] for s in servers} for label in commands}
        outputs = {label: {} for label in commands}
        hwm_reset = True
        for rep in range(args.reps):
            for label, cmd in commands.items():
                for s in servers:
                    hwm_reset = reset_hwm(s.proc.pid) and hwm_reset
                    c0 = cpu_seconds(s.proc.pid)
                    t0 = time.time()
                    r = s.ctl(cmd)
                    t1 = time.time()
                    c1 = cpu_seconds(s.proc.pid)
                    if r.returncode != 0:
                        raise SystemExit(f"alternate: {label} on {s.name} failed "
                                         f"(exit {r.returncode}): {r.stderr.strip()[:500]}")
                    run = {"wall": t1 - t0, "cpu": c1 - c0, "vmhwm_kb": vmhwm_kb(s.proc.pid),
                           "fits": s.last_fits()}
                    try:
                        out = strip_timing(json.loads(r.stdout))
                    except ValueError:
                        out = r.stdout
                    first = outputs[label].setdefault(s.name, out)
                    run["same_as_first_run"] = out == first
                    runs[label][s.name].append(run)
                    print(f"[alternate] {label} {s.name} run {rep + 1}: {run['wall']:.2f} s wall, "
                          f"{run['cpu']:.2f} s CPU, {run['vmhwm_kb'] / 1024:.0f} MiB peak",
                          file=sys.stderr)
        load_end = open("/proc/loadavg").read().split()[:3]
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    names = [s.name for s in servers]
    checks = {}
    for label in commands:
        ref = outputs[label][names[0]]
        checks[label] = {
            other: {"identical": outputs[label][other] == ref,
                    "diffs": diff_paths(ref, outputs[label][other])}
            for other in names[1:]}
    result = {
        "servers": {s.name: {"build": s.build, "args": s.args, "load_seconds": s.load_seconds,
                             "load_vmhwm_kb": s.load_vmhwm_kb} for s in servers},
        "commands": {label: " ".join(cmd) for label, cmd in commands.items()},
        "runs": runs, "output_checks": checks, "hwm_reset": hwm_reset, "reps": args.reps,
        "load": {"start": " ".join(load_start), "end": " ".join(load_end)},
    }
    print(f"{'command':<12} {'server':<12} {'median wall s':>13} {'median CPU s':>12} "
          f"{'peak RSS MiB':>12} {'fits':>8} {'fits/CPU s':>10}  walls")
    for label in commands:
        for name in names:
            rs = runs[label][name]
            cpu = statistics.median(r["cpu"] for r in rs)
            fits = rs[-1]["fits"]
            print(f"{label:<12} {name:<12} {statistics.median(r['wall'] for r in rs):>13.2f} "
                  f"{cpu:>12.2f} {max(r['vmhwm_kb'] for r in rs) / 1024:>12.0f} "
                  f"{fits if fits is not None else 'n/a':>8} "
                  f"{f'{fits / cpu:.0f}' if fits and cpu else 'n/a':>10}  "
                  + ", ".join(f"{r['wall']:.2f}" for r in rs))
        for other, c in checks[label].items():
            print(f"{label}: {names[0]} and {other} outputs "
                  + ("identical (timing fields aside)" if c["identical"]
                     else "DIFFER: " + "; ".join(c["diffs"])))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
