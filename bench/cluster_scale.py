#!/usr/bin/env python3
"""The simulated cluster at scale: kube-testserver with N nodes, P pods
created over HTTPS by a few client threads, one watch of all pods.

Prints the create-to-Running latency percentiles (from the moment a pod's
POST was sent to the watch event that shows it Running), the server's CPU
time per 1,000 pods (user+system from /proc, over the whole run), its peak
memory, and whether the watch kept up (no ERROR/410, every pod seen Running).

  python3 bench/cluster_scale.py [--nodes 1000] [--pods 30000] [--speed 0]
      [--clients 8] [--controllers all] [--server PATH]

Standard library only; nothing here decides CI's pass/fail.
"""
import argparse
import base64
import http.client
import json
import multiprocessing
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--nodes", type=int, default=1000)
ap.add_argument("--pods", type=int, default=30000)
ap.add_argument("--speed", default="0")
ap.add_argument("--clients", type=int, default=8)
ap.add_argument("--controllers", default="all")
ap.add_argument("--server", default=os.path.join(os.path.dirname(__file__), "..", "server", "target", "release", "kube-testserver"))
args = ap.parse_args()

tmp = tempfile.mkdtemp()
kc = os.path.join(tmp, "kubeconfig")
proc = subprocess.Popen(
    [args.server, "--kubeconfig", kc, "--nodes", str(args.nodes), "--speed", args.speed,
     "--controllers", args.controllers, "--watch-history", "50000"],
    stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
ready = proc.stdout.readline().strip()
if not ready.startswith("ready "):
    sys.exit("server did not start: " + ready)
port = int(ready.rsplit(":", 1)[1])
text = open(kc).read()
ca = base64.b64decode(re.search(r"certificate-authority-data: (\S+)", text).group(1))
token = re.search(r"name: admin\n  user: \{token: (\w+)\}", text).group(1)
ctx = ssl.create_default_context(cadata=ca.decode())
ctx.check_hostname = False
HEADERS = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}


class Conn(http.client.HTTPSConnection):
    def connect(self):
        # Headers and body go in separate writes: without TCP_NODELAY each
        # request waits for the server's delayed ACK (~40 ms).
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def conn():
    return Conn("127.0.0.1", port, context=ctx, timeout=600)


def cpu_seconds(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


sent = {}


def watcher(rv, out):
    """In its own process, so the creating threads do not hold it up (GIL):
    the time each pod is first seen Running."""
    running = {}
    events = 0
    error = None
    c = conn()
    c.request("GET", f"/api/v1/pods?watch=true&resourceVersion={rv}", headers=HEADERS)
    r = c.getresponse()
    buf = b""
    deadline = time.monotonic() + 900
    while len(running) < args.pods and time.monotonic() < deadline:
        chunk = r.read1(1 << 16)
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(b"\n")
        now = time.monotonic()
        for line in lines:
            if not line:
                continue
            # Only Running pods are decoded (the rest is a substring test).
            events += 1
            if b'"ERROR"' in line[:20]:
                error = json.loads(line)["object"].get("message")
                break
            if b'"phase":"Running"' not in line:
                continue
            name = json.loads(line)["object"]["metadata"]["name"]
            running.setdefault(name, now)
        if error:
            break
    out.put((running, events, error))


def creator(i, n):
    c = conn()
    for k in range(i, args.pods, n):
        name = f"bench-{k:05d}"
        body = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "bench"}},
                           "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}})
        sent[name] = time.monotonic()
        c.request("POST", "/api/v1/namespaces/default/pods", body=body, headers=HEADERS)
        r = c.getresponse()
        r.read()
        if r.status != 201:
            print("create failed:", r.status, file=sys.stderr)


c = conn()
c.request("GET", "/api/v1/pods?limit=1", headers=HEADERS)
rv = json.loads(c.getresponse().read())["metadata"]["resourceVersion"]
cpu0 = cpu_seconds(proc.pid)
t0 = time.monotonic()
q = multiprocessing.get_context("fork").Queue()
w = multiprocessing.get_context("fork").Process(target=watcher, args=(rv, q), daemon=True)
w.start()
threads = [threading.Thread(target=creator, args=(i, args.clients)) for i in range(args.clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
created = time.monotonic() - t0
running, events, error = q.get(timeout=900)
total = max(running.values()) - t0 if running else float("nan")
cpu = cpu_seconds(proc.pid) - cpu0
watch_state = {"events": events, "error": error}
lat = sorted((running[n] - sent[n]) * 1000 for n in running if n in sent)


def pct(p):
    return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] if lat else float("nan")


print(f"nodes {args.nodes}, pods {args.pods}, speed {args.speed}, controllers {args.controllers}, {args.clients} creating clients")
print(f"created in {created:.1f} s ({args.pods / created:.0f} pods/s); all Running after {total:.1f} s")
print(f"Running seen by the watch: {len(running)}/{args.pods}; watch events {watch_state['events']}; watch error: {watch_state['error']}")
print(f"create-to-Running latency ms: p50 {pct(50):.0f}  p90 {pct(90):.0f}  p99 {pct(99):.0f}  max {lat[-1] if lat else float('nan'):.0f}")
print(f"server CPU {cpu:.1f} s = {cpu / (args.pods / 1000):.2f} CPU-s per 1,000 pods; peak RSS {rss_mb(proc.pid):.0f} MB")
proc.terminate()
proc.wait()
