#!/usr/bin/env python3
"""Benchmarks luakube-rs against the alternatives a Lua user has, side by side in one run.

Starts the stand-in API server, fills namespace "bench" with N copies of the realistic pod
(bench/fixtures/pod.json), then times each contender R times and prints medians of wall time
and peak RSS, with ratios against the floor (curl piped into lua-cjson):

  list      N pods into Lua tables / objects: this module, kubectl -o json, the Python
            client, curl | lua-cjson
  gets      sequential GETs of single pods: this module, the Python client, one curl
            process over one kept-alive connection
  codec     JSON -> Lua decode and Lua -> JSON encode of the list, kube.json vs lua-cjson
  startup   require "kube.api" through config load to the first answered request
  relist    a watch's initial list (pages of 500, decoded as they arrive, ADDED as each
            page comes in): seconds to the Nth ADDED against one plain `list()` of the same
            N pods, in one process (medians of R alternations after a warm-up)
  watch     MODIFIED events/s decoded into Lua from one watch stream of synthetic events
            (the server's /testserver/firehose), of the realistic pod and of a small
            ConfigMap, with peak RSS at N and N/10 events to show memory stays flat;
            floor: curl | a lua-cjson line loop
  views     metadata-only and projected pods (opts.metadata_only, opts.fields): watch events/s
            against kube-rs's watch_metadata and metadata_watcher, and the peak RSS of an
            informer of --informer-pods pods, whole vs metadata-only vs projected

Peers (--peers, on by default; built or installed on demand into build/, never part of
CI's pass/fail): kube-rs (bench/peers/kube-rs: typed Api::watch, runtime watcher and
reflector, typed list and GETs), the Python client both ways (raw lines + json.loads, and
Watch().stream() building models), @kubernetes/client-node 1.x (its Watch), kubectl
(`get -w -o json`). Slow peers (Python models, kubectl) watch N/10 events: a rate is a rate.

  python3 bench/run.py                 # 5,000 pods, 1,000 GETs, 100,000 watch events,
                                       # 5 runs, Lua 5.4 and LuaJIT
  python3 bench/run.py --smoke         # a tiny run that checks every contender still works

Needs the rocks built by scripts/setup.sh (.luarocks/5.4 and .luarocks/5.1), the server
(server/target/release/kube-testserver), kubectl, curl, lua-cjson, and a venv with the
Python client (build/venv, made here when missing).
"""
import argparse
import base64
import json
import os
import re
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
VENV = os.path.join(ROOT, "build", "venv")
LUAS = {"lua5.4": "5.4", "luajit": "5.1", "lua5.1": "5.1", "lua5.3": "5.3", "lua5.2": "5.2"}


def lua_env(version):
    """The environment that finds the rock built for this Lua version."""
    tree = os.path.join(ROOT, ".luarocks", version)
    out = subprocess.run(
        ["luarocks", "--lua-version=" + version, "--tree=" + tree, "path"],
        check=True, capture_output=True, text=True).stdout
    env = dict(os.environ)
    for name, value in re.findall(r"export (\w+)='([^']*)'", out):
        env[name] = value
    return env


def python_with_client():
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py) or subprocess.run([py, "-c", "import kubernetes"],
                                                 capture_output=True).returncode != 0:
        print("== making build/venv with the Python kubernetes client", flush=True)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", "kubernetes"], check=True)
    return py


SECTIONS = ["list", "gets", "codec", "startup", "relist", "watch", "views"]
PEERS = os.path.join(BENCH, "peers")


class Peers:
    """The other clients a user could pick, built or installed on demand. A peer that
    cannot be made here (no registry, no node) is left out with a note, never faked."""

    def __init__(self, python):
        self.python = python
        self.kube_rs = self._kube_rs()
        self.node_path = self._client_node()

    @staticmethod
    def _kube_rs():
        target = os.path.join(ROOT, "build", "kube-rs-peer")
        binary = os.path.join(target, "release", "kube-rs-peer")
        print("== building the kube-rs peer (bench/peers/kube-rs)", flush=True)
        r = subprocess.run(["cargo", "build", "--release", "-q", "--manifest-path",
                            os.path.join(PEERS, "kube-rs", "Cargo.toml"), "--target-dir", target],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("   kube-rs peer left out: cargo build failed: %s" % r.stderr[-600:])
            return None
        return binary

    @staticmethod
    def _client_node():
        """@kubernetes/client-node, pinned, in build/node (the referees' copy)."""
        modules = os.path.join(ROOT, "build", "node", "node_modules")
        r = subprocess.run(["bash", os.path.join(ROOT, "server", "tests", "referees", "node_client.sh")],
                           capture_output=True, text=True)
        if r.returncode != 0 or not os.path.isdir(os.path.join(modules, "@kubernetes", "client-node")):
            print("   client-node peer left out: %s" % (r.stdout + r.stderr)[-600:])
            return None
        return modules

    def watchers(self, server, kind, namespace, kubectl, env0):
        """(label, command, shell, env, slow) of every watch peer."""
        out = []
        if self.kube_rs:
            for how in ("watch", "watcher", "reflector"):
                out.append(("kube-rs %s" % how, [self.kube_rs, server.kubeconfig, how, kind, namespace, "%d"],
                            False, None, False))
        script = os.path.join(PEERS, "watch.py")
        out.append(("Python client, raw lines", [self.python, script, server.kubeconfig, "%d", kind, namespace,
                                                 "raw"], False, None, False))
        out.append(("Python client, models", [self.python, script, server.kubeconfig, "%d", kind, namespace,
                                              "models"], False, None, True))
        if self.node_path:
            out.append(("client-node Watch", ["node", os.path.join(PEERS, "watch.js"), server.kubeconfig, "%d",
                                              kind, namespace], False, dict(os.environ, NODE_PATH=self.node_path),
                        False))
        if kubectl:
            cmd = ("%s --kubeconfig %s get %s -n %s --watch-only -o json --output-watch-events | %s %s %%d"
                   % (kubectl, server.kubeconfig, kind, namespace, self.python,
                      os.path.join(PEERS, "kubectl_watch.py")))
            out.append(("kubectl get -w -o json", cmd, True, env0, True))
        return out


# Longest one contender may run; --smoke lowers it so CI never waits on a hang.
COMMAND_TIMEOUT = 900


def measure(cmd, env=None, shell=False, output=None):
    """Runs a command once: (wall seconds, peak RSS in MB of it and its children).

    GNU time reports the peak: a child forked straight from this Python process would
    inherit Python's own high-water mark in its rusage. `output`, a list, gets the
    command's standard output appended."""
    with tempfile.NamedTemporaryFile("r") as rss:
        timed = ["/usr/bin/time", "-f", "%M", "-o", rss.name]
        timed += ["bash", "-c", cmd] if shell else cmd
        t0 = time.perf_counter()
        # Its own process group, so a contender that hangs is killed with its children.
        proc = subprocess.Popen(timed, env=env, stderr=subprocess.PIPE, start_new_session=True,
                                stdout=subprocess.DEVNULL if output is None else subprocess.PIPE)
        try:
            stdout, stderr = proc.communicate(timeout=COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise RuntimeError("%s took longer than %d s" % (cmd if shell else " ".join(cmd),
                                                            COMMAND_TIMEOUT))
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError("%s exited %d: %s" % (cmd if shell else " ".join(cmd), proc.returncode,
                                                     stderr.decode(errors="replace")[-800:]))
        if output is not None:
            output.append(stdout.decode())
        return wall, int(rss.read().split()[-1]) / 1024.0


class Server:
    def __init__(self, workdir):
        binary = os.path.join(ROOT, "server", "target", "release", "kube-testserver")
        self.kubeconfig = os.path.join(workdir, "kubeconfig")
        # A static store, as envtest serves: the seeded pods carry a recorded
        # status and a node of their own, which the simulated kubelet and the
        # pod garbage collection would otherwise act on.
        self.proc = subprocess.Popen([binary, "--port", "0", "--kubeconfig", self.kubeconfig,
                                      "--controllers", "none"],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("ready "):
            raise RuntimeError("kube-testserver did not start: %r" % line)
        self.url = line.split(" ", 1)[1]
        text = open(self.kubeconfig).read()
        self.token = re.search(r"name: admin\n  user: \{token: (\w+)\}", text).group(1)
        self.ca = os.path.join(workdir, "ca.pem")
        with open(self.ca, "wb") as f:
            f.write(base64.b64decode(re.search(r"certificate-authority-data: (\S+)", text).group(1)))

    def firehose(self, path, count):
        """Posts a firehose rule: the next watch of `path` gets `count` MODIFIED events."""
        body = json.dumps({"match": path, "count": count}).encode()
        req = urllib.request.Request(self.url + "/testserver/firehose", data=body, method="POST",
                                     headers={"Authorization": "Bearer " + self.token})
        with urllib.request.urlopen(req, context=ssl.create_default_context(cafile=self.ca)) as r:
            if r.status != 200:
                raise RuntimeError("firehose rule not taken: HTTP %d" % r.status)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def runs_of(label, cmd, runs, **kw):
    walls, mems = [], []
    for _ in range(runs):
        wall, mem = measure(cmd, **kw)
        walls.append(wall)
        mems.append(mem)
    return {"name": label, "wall": statistics.median(walls), "rss": statistics.median(mems),
            "walls": walls}


def table(title, rows, floor):
    print("\n%s (median of %d runs)" % (title, len(rows[0]["walls"])))
    print("  %-34s %9s %9s %9s %9s" % ("", "wall s", "peak MB", "× floor", "mem ×"))
    for r in rows:
        print("  %-34s %9.3f %9.1f %9.2f %9.2f" % (
            r["name"], r["wall"], r["rss"], r["wall"] / floor["wall"], r["rss"] / floor["rss"]))


def watch_runs(label, cmd, runs, server, path, count, **kw):
    """Runs a watch contender: each run gets a fresh firehose rule of `count` events and
    prints its events/s. Medians of events/s and peak RSS."""
    rates, mems = [], []
    for _ in range(runs):
        server.firehose(path, count)
        out = []
        _, mem = measure(cmd, output=out, **kw)
        rates.append(float(out[0].split()[-1]))
        mems.append(mem)
    return {"name": label, "events_per_s": statistics.median(rates), "rss": statistics.median(mems),
            "rates": rates}


# What the watch section streams: the realistic pod (~6 KB an event, bound by
# decoding bytes into tables) and a small ConfigMap (~0.6 KB, bound by the
# per-event cost of the stream), both seeded by bench/seed.lua.
WATCHED = [("pods", "bench", "realistic pod, ~6 KB an event"),
           ("configmaps", "small", "small ConfigMap, ~0.6 KB an event")]


def watch_bench(server, luas, events, runs, env0, resource, namespace, what, peers=None, kubectl=None):
    """One watch section: events/s at `events`, peak RSS at `events` and `events` / 10;
    then each peer once at `events` (slow ones at `events` / 10)."""
    path = "/api/v1/namespaces/%s/%s" % (namespace, resource)
    small = max(events // 10, 1)
    rows = []
    for lua in luas:
        env = lua_env(LUAS[lua])
        script = os.path.join(BENCH, "watch.lua")
        for count in (events, small):
            row = watch_runs("luakube-rs (%s)" % lua,
                             [lua, script, server.kubeconfig, str(count), resource, namespace],
                             runs, server, path, count, env=env)
            row.update(lua=lua, events=count, object=resource)
            rows.append(row)
    floor_cmd = ("curl -sfN --cacert %s -H 'Authorization: Bearer %s' '%s%s?watch=true' | %s %s %%d"
                 % (server.ca, server.token, server.url, path, luas[0], os.path.join(BENCH, "watch_cjson.lua")))
    for count in (events, small):
        row = watch_runs("floor: curl | lua-cjson (%s)" % luas[0], floor_cmd % count, runs, server, path,
                         count, shell=True, env=env0)
        row.update(lua=luas[0], events=count, object=resource)
        rows.append(row)

    floor = rows[-2]
    print("\nwatch, %s: %d MODIFIED events decoded into Lua (median of %d runs; peak RSS at %d and %d events)"
          % (what, events, runs, events, small))
    print("  %-38s %11s %8s %9s %9s %9s" % ("", "events/s", "× floor", "peak MB", "at N/10", "flat?"))
    flat_failures = 0
    for big, little in zip(rows[::2], rows[1::2]):
        growth = big["rss"] / little["rss"]
        flat = growth <= 1.2
        flat_failures += not flat
        print("  %-38s %11.0f %8.2f %9.1f %9.1f %9s" % (
            big["name"], big["events_per_s"], big["events_per_s"] / floor["events_per_s"], big["rss"],
            little["rss"], "yes" if flat else "NO ×%.2f" % growth))
    if peers:
        peer_rows = []
        for label, cmd, shell, env, slow in peers.watchers(server, resource, namespace, kubectl, env0):
            count = small if slow else events
            cmd = cmd % count if shell else [c % count if c == "%d" else c for c in cmd]
            try:
                row = watch_runs(label, cmd, runs, server, path, count, shell=shell, env=env)
            except RuntimeError as e:
                print("  %-38s failed: %s" % (label, str(e)[-300:]))
                flat_failures += 1  # counted as a failed contender: --smoke fails on it
                continue
            row.update(events=count, object=resource, peer=True)
            peer_rows.append(row)
        typed = next((r for r in peer_rows if r["name"] == "kube-rs watch"), None)
        print("  peers (%d events, %d at N/10 for the slow ones)       × kube-rs watch" % (events, small))
        for r in peer_rows:
            print("  %-38s %11.0f %8.2f %9.1f %9s %9s" % (
                r["name"], r["events_per_s"], r["events_per_s"] / floor["events_per_s"], r["rss"], "",
                "%.2f" % (r["events_per_s"] / typed["events_per_s"]) if typed else "-"))
        if typed:
            for big in rows[::2]:
                if not big["name"].startswith("floor"):
                    print("  %-38s %11.0f  = %.2f× kube-rs watch" % (
                        big["name"], big["events_per_s"], big["events_per_s"] / typed["events_per_s"]))
        rows = rows + peer_rows
    return rows, flat_failures


def views_bench(server, luas, events, runs, informer_pods, peers, env0):
    """Metadata-only and projected pods: watch events/s of each view beside kube-rs's
    metadata watches, and an informer's peak RSS per view. Returns (rows, checks,
    failures): a contender that fails is reported and counted, the others still run."""
    path = "/api/v1/namespaces/bench/pods"
    rows = []
    for lua in luas:
        env = lua_env(LUAS[lua])
        for view in ("metadata", "fields"):
            row = watch_runs("luakube-rs %s (%s)" % (view, lua),
                             [lua, os.path.join(BENCH, "watch.lua"), server.kubeconfig, str(events), "pods",
                              "bench", view], runs, server, path, events, env=env)
            row.update(lua=lua, view=view, events=events)
            rows.append(row)
    peer_rows = []
    if peers and peers.kube_rs:
        for how in ("watch", "watch_metadata", "metadata_watcher"):
            row = watch_runs("kube-rs %s" % how, [peers.kube_rs, server.kubeconfig, how, "pods", "bench",
                                                  str(events)], runs, server, path, events)
            row.update(peer=True, events=events)
            peer_rows.append(row)
    ref = next((r for r in peer_rows if r["name"] == "kube-rs watch_metadata"), None)
    print("\nviews: pod watch, %d MODIFIED events (median of %d runs); target >= 100,000 events/s" % (events, runs))
    print("  %-38s %11s %9s %22s" % ("", "events/s", "peak MB", "× kube-rs watch_metadata"))
    for r in rows + peer_rows:
        print("  %-38s %11.0f %9.1f %22s" % (r["name"], r["events_per_s"], r["rss"],
                                             "%.2f" % (r["events_per_s"] / ref["events_per_s"]) if ref else "-"))

    t0 = time.perf_counter()
    subprocess.run([luas[0], os.path.join(BENCH, "seed.lua"), server.kubeconfig, str(informer_pods), "many"],
                   env=env0, check=True)
    print("\n== %d pods seeded into namespace many in %.1f s" % (informer_pods, time.perf_counter() - t0))
    mem_rows = []
    failures = 0
    print("informer of %d pods (median of %d runs); target: metadata-only or projected <= 1/5 of full"
          % (informer_pods, runs))
    print("  %-38s %9s %9s %9s %9s" % ("", "peak MB", "Lua MB", "wall s", "× full"))
    for lua in luas:
        env = lua_env(LUAS[lua])
        full = None
        for view in ("full", "metadata", "fields", "metafields"):
            name = "luakube-rs informer %s (%s)" % (view, lua)
            out, rss, walls = [], [], []
            try:
                for _ in range(runs):
                    wall, mem = measure([lua, os.path.join(BENCH, "informer.lua"), server.kubeconfig, "many",
                                         str(informer_pods), view], env=env, output=out)
                    rss.append(mem)
                    walls.append(wall)
            except RuntimeError as e:
                print("  %-38s failed: %s" % (name, str(e)[-300:]))
                failures += 1
                continue
            heap = statistics.median(float(o.split()[1]) for o in out)
            r = {"name": name, "lua": lua, "view": view, "rss": statistics.median(rss),
                 "wall": statistics.median(walls), "heap": heap, "pods": informer_pods}
            full = r if view == "full" else full
            mem_rows.append(r)
            print("  %-38s %9.1f %9.1f %9.2f %9s" % (r["name"], r["rss"], r["heap"], r["wall"],
                                                    "%.2f" % (r["rss"] / full["rss"]) if full else "-"), flush=True)
    return rows + peer_rows + mem_rows, len(rows) + len(peer_rows) + len(mem_rows), failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pods", type=int, default=5000)
    ap.add_argument("--gets", type=int, default=1000)
    ap.add_argument("--watch-events", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--informer-pods", type=int, default=30000,
                    help="pods the views section's informer holds")
    ap.add_argument("--lua", default="lua5.4,luajit", help="comma-separated interpreters")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, one run: checks it all works")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--no-peers", action="store_true",
                    help="leave out kube-rs, client-node and the extra Python/kubectl watch contenders")
    ap.add_argument("--only", default=",".join(SECTIONS),
                    help="comma-separated sections to run, of: " + ", ".join(SECTIONS))
    a = ap.parse_args()
    if a.smoke:
        global COMMAND_TIMEOUT
        a.pods, a.gets, a.watch_events, a.runs = 40, 20, 2000, 1
        a.informer_pods = 30
        COMMAND_TIMEOUT = 120
    luas = a.lua.split(",")
    only = set(a.only.split(","))
    if not only <= set(SECTIONS):
        ap.error("--only takes sections of: " + ", ".join(SECTIONS))
    python = python_with_client()
    kubectl = shutil.which("kubectl")
    peers = None if a.no_peers else Peers(python)
    results = {}
    checks = 0
    workdir = tempfile.mkdtemp(prefix="kube-bench-")
    server = Server(workdir)
    try:
        env0 = lua_env(LUAS[luas[0]])
        t0 = time.perf_counter()
        subprocess.run([luas[0], os.path.join(BENCH, "seed.lua"), server.kubeconfig, str(a.pods)],
                       env=env0, check=True)
        print("== %d pods seeded in %.1f s; server %s" % (a.pods, time.perf_counter() - t0, server.url))
        url = server.url + "/api/v1/namespaces/bench/pods"
        auth = "Authorization: Bearer " + server.token
        listfile = os.path.join(workdir, "list.json")
        subprocess.run(["curl", "-sf", "--cacert", server.ca, "-H", auth, "-o", listfile, url], check=True)
        print("== list body %.1f MB" % (os.path.getsize(listfile) / 1e6))
        kube_home = os.path.join(workdir, "home")
        os.makedirs(kube_home)
        kenv = dict(os.environ, HOME=kube_home)

        # 1. list
        if "list" in only:
            rows = []
            for lua in luas:
                env = lua_env(LUAS[lua])
                rows.append(runs_of("luakube-rs (%s)" % lua,
                                    [lua, os.path.join(BENCH, "list.lua"), server.kubeconfig], a.runs, env=env))
            if kubectl:
                rows.append(runs_of("kubectl get -o json", [kubectl, "--kubeconfig", server.kubeconfig,
                                    "get", "pods", "-n", "bench", "-o", "json"], a.runs, env=kenv))
            rows.append(runs_of("Python client", [python, os.path.join(BENCH, "list.py"), server.kubeconfig],
                                a.runs))
            if peers and peers.kube_rs:
                rows.append(runs_of("kube-rs typed list", [peers.kube_rs, server.kubeconfig, "list", "bench"],
                                    a.runs))
            floor_cmd = ("curl -sf --cacert %s -H '%s' %s | %s -e 'local cjson = require \"cjson\"; "
                         "assert(#cjson.decode(io.read(\"*a\")).items > 0)'" % (server.ca, auth, url, luas[0]))
            floor = runs_of("floor: curl | lua-cjson", floor_cmd, a.runs, shell=True, env=env0)
            rows.append(floor)
            table("list %d pods into Lua" % a.pods, rows, floor)
            results["list"] = rows
            checks += len(rows)

        # 2. sequential GETs
        if "gets" in only:
            rows = []
            for lua in luas:
                rows.append(runs_of("luakube-rs (%s)" % lua, [lua, os.path.join(BENCH, "gets.lua"),
                                    server.kubeconfig, str(a.gets), str(a.pods)], a.runs, env=lua_env(LUAS[lua])))
            rows.append(runs_of("Python client", [python, os.path.join(BENCH, "gets.py"), server.kubeconfig,
                                str(a.gets), str(a.pods)], a.runs))
            if peers and peers.kube_rs:
                rows.append(runs_of("kube-rs typed GETs", [peers.kube_rs, server.kubeconfig, "gets", "bench",
                                    str(a.gets), str(a.pods)], a.runs))
            curlcfg = os.path.join(workdir, "gets.curl")
            with open(curlcfg, "w") as f:
                for i in range(a.gets):
                    f.write('url = "%s/web-%06d"\noutput = "/dev/null"\n' % (url, i % a.pods + 1))
            floor = runs_of("floor: one curl, keep-alive", ["curl", "-sf", "--cacert", server.ca, "-H", auth,
                            "--config", curlcfg], a.runs)
            rows.append(floor)
            table("%d sequential GETs" % a.gets, rows, floor)
            results["gets"] = rows
            checks += len(rows)

        # 3. codec, in-process medians
        if "codec" in only:
            print("\nJSON codec on the %.1f MB list (median ms of %d runs, CPU time)" % (
                os.path.getsize(listfile) / 1e6, max(a.runs, 3)))
            for lua in luas:
                out = subprocess.run([lua, os.path.join(BENCH, "codec.lua"), listfile, str(max(a.runs, 3))],
                                     env=lua_env(LUAS[lua]), check=True, capture_output=True, text=True).stdout
                for line in out.split("\n"):
                    if line:
                        what, kube_ms, cjson_ms = line.split()
                        kube_ms, cjson_ms = float(kube_ms), float(cjson_ms)
                        print("  %-8s %-8s kube.json %8.1f   lua-cjson %8.1f   ratio %.2f" % (
                            lua, what, kube_ms, cjson_ms, kube_ms / cjson_ms))
                        results.setdefault("codec", []).append(
                            {"lua": lua, "what": what, "kube_ms": kube_ms, "cjson_ms": cjson_ms})
                        checks += 1

        # 4. start-up to the first answered request, beyond the bare interpreter
        if "startup" in only:
            print("\nstart-up: require -> config -> first answer (median of %d runs)" % max(a.runs, 5))
            for lua in luas:
                env = lua_env(LUAS[lua])
                bare = runs_of("bare", [lua, "-e", ""], max(a.runs, 5), env=env)
                full = runs_of("startup", [lua, os.path.join(BENCH, "startup.lua"), server.kubeconfig],
                               max(a.runs, 5), env=env)
                ms = (full["wall"] - bare["wall"]) * 1000
                print("  %-8s %.1f ms beyond the bare interpreter (%.1f ms in all)" % (lua, ms, full["wall"] * 1000))
                results.setdefault("startup", []).append({"lua": lua, "ms": ms})
                checks += 1

        # 5. a watch's initial list against a plain list
        if "relist" in only:
            print("\nwatch's initial list: seconds to the %dth ADDED vs one list() (median of %d alternations)"
                  % (a.pods, max(a.runs, 3)))
            for lua in luas:
                out = subprocess.run([lua, os.path.join(BENCH, "relist.lua"), server.kubeconfig, str(a.pods),
                                      str(max(a.runs, 3))], env=lua_env(LUAS[lua]), check=True,
                                     capture_output=True, text=True, timeout=COMMAND_TIMEOUT).stdout
                list_s, watch_s = (float(x) for x in out.split())
                print("  %-8s list() %7.3f s   watch to the last ADDED %7.3f s   = %.2f× list()" % (
                    lua, list_s, watch_s, watch_s / list_s))
                results.setdefault("relist", []).append({"lua": lua, "list_s": list_s, "watch_s": watch_s})
                checks += 1

        # 6. watch: events/s and flat memory
        if "watch" in only:
            flat_failures = 0
            for resource, namespace, what in WATCHED:
                rows, failures = watch_bench(server, luas, a.watch_events, a.runs, env0, resource,
                                             namespace, what, peers, kubectl)
                results.setdefault("watch", []).extend(rows)
                checks += len([r for r in rows if not r.get("peer")]) // 2 + len([r for r in rows if r.get("peer")])
                flat_failures += failures
            if flat_failures and a.smoke:
                raise RuntimeError("%d watch contender(s) failed or grew in memory with the event count"
                                   % flat_failures)
        # 6. metadata-only and projected views
        if "views" in only:
            rows, n, failures = views_bench(server, luas, a.watch_events, a.runs, a.informer_pods, peers, env0)
            results["views"] = rows
            checks += n
            if failures and a.smoke:
                raise RuntimeError("%d informer contender(s) failed" % failures)
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    if a.smoke:
        print("bench smoke: %d passed, 0 failed" % checks)


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print("bench failed: %s" % e, file=sys.stderr)
        print("bench smoke: 0 passed, 1 failed")
        sys.exit(1)
