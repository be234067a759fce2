#!/usr/bin/env python3
"""Where a busy watch spends its time: a CPU profile of bench/watch.lua under `perf`.

Starts the stand-in server with the bench's pods, posts a firehose rule of N MODIFIED
events, and runs bench/watch.lua under `perf record` (the Lua process only), then sums
the samples by what the code does: JSON parsing, the Lua core (building tables and
strings, the collector), the allocator, TLS and HTTP, the kernel. The server's CPU time in the
same interval is printed beside it, since on a 2-core machine it competes for the cores.
Also prints lua-cjson's decode-only rate for the same event line in one process: the
ceiling for any client that hands each event over as Lua tables.

  python3 bench/profile_watch.py                  # 5,000 pods, 50,000 events, lua5.4
  python3 bench/profile_watch.py --lua luajit --events 20000 --resource configmaps

Needs `perf` (Debian's linux-perf) and what bench/run.py needs.
"""
import argparse
import collections
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the harness's server and environment helpers)

# (category, substrings of an object or symbol name), first match wins.
CATEGORIES = [
    ("kernel (network, scheduling)", ["[kernel"]),
    ("JSON parsing (serde_json, UTF-8 checks)", ["serde_json", "serde::", "serde_core", "PushSeed",
                                                 "KeySeed", "from_utf8"]),
    # Debian's interpreters are stripped, so the Lua core is one category, by
    # object name (building tables and strings, the collector, the VM).
    ("Lua core (tables, strings, collector, VM)", ["lua5.", "luajit", "liblua"]),
    ("allocator (malloc, free, realloc)", ["malloc", "free", "realloc", "_int_", "memalign"]),
    ("memory copies (memcpy, memmove)", ["memcpy", "memmove", "memset"]),
    ("TLS (rustls, crypto)", ["rustls", "aws_lc", "ring::", "aes", "gcm", "chacha", "sha2", "sha256"]),
    ("HTTP and I/O (hyper, tokio, reqwest)", ["hyper", "tokio", "reqwest", "h2::", "mio", "bytes::"]),
    ("line framing, watch bookkeeping", ["streaming", "watch", "LineBuffer", "memchr", "pager",
                                         "identity", "event_parts", "Stamp"]),
]


def categorize(symbol):
    for name, needles in CATEGORIES:
        if any(n in symbol for n in needles):
            return name
    return "other"


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lua", default="lua5.4")
    ap.add_argument("--pods", type=int, default=5000)
    ap.add_argument("--events", type=int, default=50000)
    ap.add_argument("--resource", default="pods", choices=["pods", "configmaps"])
    ap.add_argument("--view", choices=["metadata", "fields"],
                    help="watch metadata only, or a projection of three paths (bench/watch.lua's VIEW)")
    ap.add_argument("--top", type=int, default=15, help="symbols to list")
    ap.add_argument("--perf-data", help="keep perf's recording here (for perf report -g)")
    a = ap.parse_args()
    namespace = "bench" if a.resource == "pods" else "small"
    workdir = tempfile.mkdtemp(prefix="kube-profile-")
    server = run.Server(workdir)
    try:
        env = run.lua_env(run.LUAS[a.lua])
        subprocess.run([a.lua, os.path.join(run.BENCH, "seed.lua"), server.kubeconfig, str(a.pods)],
                       env=env, check=True)
        path = "/api/v1/namespaces/%s/%s" % (namespace, a.resource)
        server.firehose(path, a.events)
        data = a.perf_data or os.path.join(workdir, "perf.data")
        server_cpu = cpu_seconds(server.proc.pid)
        # With --perf-data, DWARF call graphs (the module has no frame pointers).
        graph = ["--call-graph", "dwarf,16384"] if a.perf_data else ["-g"]
        out = subprocess.run(["perf", "record", "-q", "-F", "1999"] + graph + ["-o", data, "--",
                              a.lua, os.path.join(run.BENCH, "watch.lua"), server.kubeconfig,
                              str(a.events), a.resource, namespace] + ([a.view] if a.view else []),
                             env=env, check=True, capture_output=True, text=True).stdout
        server_cpu = cpu_seconds(server.proc.pid) - server_cpu
        rate = float(out.split()[-1])
        report = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio",
                                 "--sort", "dso,sym", "-g", "none", "--percent-limit", "0"],
                                check=True, capture_output=True, text=True).stdout
        ceiling = cjson_ceiling(a.lua, env, server, path)
    finally:
        server.stop()
    by_category = collections.Counter()
    symbols = []
    for line in report.splitlines():
        parts = line.split(None, 2)
        if len(parts) < 3 or not parts[0].endswith("%"):
            continue
        share = float(parts[0][:-1])
        what = parts[1] + " " + parts[2]
        by_category[categorize(what)] += share
        symbols.append((share, what.strip()))
    print("%s watch of %s%s: %.0f events/s (%.1f µs an event); the server used %.1f CPU s meanwhile"
          % (a.lua, a.resource, " (%s)" % a.view if a.view else "", rate, 1e6 / rate, server_cpu))
    print("lua-cjson decoding the same event line alone, in one process: %.0f events/s (%.1f µs)"
          % (ceiling, 1e6 / ceiling))
    print("\nclient CPU by what the code does (%% of samples, µs an event at %.0f events/s):" % rate)
    for name, share in by_category.most_common():
        print("  %5.1f%%  %6.1f µs  %s" % (share, share / 100 * 1e6 / rate, name))
    print("\ntop symbols:")
    for share, what in sorted(symbols, reverse=True)[:a.top]:
        print("  %5.1f%%  %s" % (share, what[:110]))


def cjson_ceiling(lua, env, server, path):
    """lua-cjson's decode rate of one event line of `path`, in one process."""
    item = subprocess.run(["curl", "-sf", "--cacert", server.ca, "-H", "Authorization: Bearer " + server.token,
                           server.url + path + "?limit=1"], check=True, capture_output=True).stdout
    script = r"""
      local cjson = require "cjson"
      local core = require "kube.core"
      local obj = cjson.decode(io.read("*a")).items[1]
      local line = cjson.encode({ type = "MODIFIED", object = obj })
      local n, t0 = 0, core.monotonic()
      repeat
        for _ = 1, 1000 do cjson.decode(line) end
        n = n + 1000
        collectgarbage("step")
      until core.monotonic() - t0 > 2
      print(n / (core.monotonic() - t0))
    """
    out = subprocess.run([lua, "-e", script], input=item, env=env, check=True, capture_output=True).stdout
    return float(out.split()[-1])


if __name__ == "__main__":
    main()
