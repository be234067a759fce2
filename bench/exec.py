#!/usr/bin/env python3
"""Exec and port-forward: this module against kubectl, same stand-in server, same run.

  exec        round trip of `echo hi` on one kept client (pods:exec, N times in one Lua
              process) against `kubectl exec web -- echo hi` (a process per call, as a
              user runs it); also one Lua process per call for the like-for-like figure
  portforward a 100 MB download through pods:portforward_listen and through
              `kubectl port-forward` (both to the same pod port: a local server that
              sends SIZE bytes and closes), MB/s and the forwarder's peak RSS (VmHWM),
              with the RSS after 10 % of the transfer to show it stays flat

  python3 bench/exec.py            # 30 execs, 100 MB, 3 runs each
  python3 bench/exec.py --smoke    # a tiny run that checks every contender works

Prints medians and ratios (targets from issue 13: exec <= 1.5x kubectl's time,
port-forward >= 80 % of kubectl's throughput). Not a CI pass/fail.
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from run import lua_env  # noqa: E402  (the rock built for a Lua version)

SERVER = os.path.join(ROOT, "server", "target", "release", "kube-testserver")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def source_server(size):
    """A TCP server that sends `size` bytes to each connection, then closes it."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    block = os.urandom(1 << 16)

    def serve(conn):
        left = size
        try:
            while left > 0:
                n = min(left, len(block))
                conn.sendall(block[:n])
                left -= n
        except OSError:
            pass
        conn.close()

    def loop():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(c,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return srv.getsockname()[1]


def download(port, size, timeout=120):
    """Reads everything from 127.0.0.1:port; seconds taken, bytes read."""
    deadline = time.time() + 10
    while True:
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=timeout)
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)
    t0 = time.perf_counter()
    got = 0
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        got += len(b)
    c.close()
    return time.perf_counter() - t0, got


def hwm(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def rss(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def measured_download(pid, port, size):
    """A download while sampling the forwarder's RSS every 20 ms: seconds, bytes, the
    RSS a tenth of the way through, peak RSS (VmHWM)."""
    samples = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            samples.append(rss(pid))
            time.sleep(0.02)

    threading.Thread(target=sample, daemon=True).start()
    secs, got = download(port, size)
    done.set()
    early = samples[len(samples) // 10] if samples else float("nan")
    return secs, got, early, hwm(pid)


LUA_EXEC = r"""
local api, config = require "kube.api", require "kube.config"
local core = require "kube.core"
local pods = api.Client:new(config.from_kube_config(arg[1])):corev1():pods("default")
local n = tonumber(arg[2])
assert(select(3, pods:exec("web", {"echo", "hi"})) == 0)  -- connection warm
for _ = 1, n do
  local t0 = core.monotonic()
  local out, _, code = pods:exec("web", {"echo", "hi"})
  assert(out == "hi\n" and code == 0, tostring(out))
  print(("%.6f"):format(core.monotonic() - t0))
end
"""

LUA_ONE = r"""
local api, config = require "kube.api", require "kube.config"
local pods = api.Client:new(config.from_kube_config(arg[1])):corev1():pods("default")
local out, _, code = pods:exec("web", {"echo", "hi"})
assert(out == "hi\n" and code == 0)
"""

LUA_LISTEN = r"""
local api, config = require "kube.api", require "kube.config"
local pods = api.Client:new(config.from_kube_config(arg[1])):corev1():pods("default")
local fw = pods:portforward_listen("web", 9000)
print(fw:port())
io.stdout:flush()
io.read("*l")   -- until the bench closes stdin
local errs = fw:errors()
if #errs > 0 then io.stderr:write(table.concat(errs, "\n"), "\n") end
fw:close()
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--execs", type=int, default=30)
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    if a.smoke:
        a.execs, a.mb, a.runs = 3, 2, 1
    size = a.mb * 1024 * 1024
    env = lua_env("5.4")
    tmp = tempfile.mkdtemp(prefix="bench-exec-")
    src = source_server(size)
    seed = os.path.join(tmp, "seed.yaml")
    with open(seed, "w") as f:
        f.write(f"""apiVersion: v1
kind: Pod
metadata: {{name: web, namespace: default, annotations: {{"kube-testserver/port.9000": "127.0.0.1:{src}"}}}}
spec:
  nodeName: node-1
  containers:
  - {{name: app, image: busybox}}
status: {{phase: Running}}
""")
    kc = os.path.join(tmp, "kubeconfig")
    srv = subprocess.Popen([SERVER, "--port", "0", "--kubeconfig", kc, "--seed", seed,
                            "--controllers", "none", "--exec-dir", os.path.join(tmp, "exec")],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    procs = []
    try:
        line = srv.stdout.readline()
        if not line.startswith("ready"):
            sys.exit("the server did not start: " + line)
        kenv = dict(os.environ, KUBECONFIG=kc, HOME=tmp)
        script = os.path.join(tmp, "exec.lua")
        with open(script, "w") as f:
            f.write(LUA_EXEC)
        one = os.path.join(tmp, "one.lua")
        with open(one, "w") as f:
            f.write(LUA_ONE)
        listen = os.path.join(tmp, "listen.lua")
        with open(listen, "w") as f:
            f.write(LUA_LISTEN)

        # exec
        out = subprocess.run(["lua5.4", script, kc, str(a.execs)], env=env, check=True,
                             capture_output=True, text=True).stdout
        kept = [float(x) for x in out.split()]
        per_process, kubectl = [], []
        for _ in range(a.execs):
            t0 = time.perf_counter()
            subprocess.run(["lua5.4", one, kc], env=env, check=True)
            per_process.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            r = subprocess.run(["kubectl", "--cache-dir", os.path.join(tmp, "cache"), "exec", "web",
                                "--", "echo", "hi"], env=kenv, capture_output=True, text=True)
            kubectl.append(time.perf_counter() - t0)
            assert r.returncode == 0 and r.stdout == "hi\n", r.stderr
        mk, mp, mc = (statistics.median(x) * 1000 for x in (kept, per_process, kubectl))
        print(f"exec echo, median of {a.execs}:")
        print(f"  pods:exec on a kept client      {mk:8.2f} ms   {mk / mc:5.2f}x kubectl")
        print(f"  lua5.4 process per exec         {mp:8.2f} ms   {mp / mc:5.2f}x kubectl")
        print(f"  kubectl exec (process per exec) {mc:8.2f} ms   1.00x")

        # port-forward
        ours, theirs = [], []
        for _ in range(a.runs):
            lp = subprocess.Popen(["lua5.4", listen, kc], env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
            procs.append(lp)
            port = int(lp.stdout.readline())
            secs, got, early, peak = measured_download(lp.pid, port, size)
            assert got == size, f"module: {got} of {size} bytes"
            ours.append((secs, early, peak))
            lp.stdin.close()
            lp.wait(timeout=10)

            port = free_port()
            kp = subprocess.Popen(["kubectl", "--cache-dir", os.path.join(tmp, "cache"), "port-forward",
                                   "pod/web", f"{port}:9000"], env=kenv, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
            procs.append(kp)
            first = kp.stdout.readline()
            assert first.startswith("Forwarding"), first
            secs, got, early, peak = measured_download(kp.pid, port, size)
            assert got == size, f"kubectl: {got} of {size} bytes"
            theirs.append((secs, early, peak))
            kp.terminate()
            kp.wait(timeout=10)
        so = statistics.median(x[0] for x in ours)
        st = statistics.median(x[0] for x in theirs)
        print(f"port-forward {a.mb} MB download, median of {a.runs}:")
        print(f"  portforward_listen   {a.mb / so:8.1f} MB/s  {st / so * 100:5.0f} % of kubectl"
              f"   RSS early {statistics.median(x[1] for x in ours):6.1f} MB, peak {max(x[2] for x in ours):6.1f} MB")
        print(f"  kubectl port-forward {a.mb / st:8.1f} MB/s    100 %"
              f"   RSS early {statistics.median(x[1] for x in theirs):6.1f} MB, peak {max(x[2] for x in theirs):6.1f} MB")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        srv.terminate()
        srv.wait(timeout=10)
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
