#!/usr/bin/env python3
"""Runs the OpenResty example against kube-testserver: starts nginx with nginx.conf, asks
/pods and /endpoints, and stops. python3 examples/eventloop/openresty/run.py [--tree DIR]"""
import argparse, importlib.util, os, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
spec = importlib.util.spec_from_file_location("nginx_check", os.path.join(ROOT, "spec/hosts/nginx_check.py"))
nc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nc)

ap = argparse.ArgumentParser()
ap.add_argument("--tree", default=os.path.join(ROOT, ".luarocks/5.1"))
args = ap.parse_args()
tmp = tempfile.mkdtemp(prefix="kube-openresty-")
os.makedirs(os.path.join(tmp, "body"))
cl = nc.Cluster(tmp)
pid = None
ok = False
try:
    cl.call("POST", "/api/v1/namespaces/default/pods",
            {"metadata": {"name": "web-1"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    cl.call("POST", "/api/v1/namespaces/default/endpoints", {"metadata": {"name": "web"}})
    port = nc.free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(open(os.path.join(HERE, "nginx.conf")).read().format(
            dir=tmp, tree=os.path.abspath(args.tree), port=port, kubeconfig=cl.kubeconfig))
    subprocess.run(["nginx", "-p", tmp, "-c", conf], check=True)
    time.sleep(0.5)
    pid = int(open(os.path.join(tmp, "nginx.pid")).read())
    _, pods, _ = nc.get(port, "/pods")
    eps = ""
    for _ in range(50):
        _, eps, _ = nc.get(port, "/endpoints")
        if eps:
            break
        time.sleep(0.1)
    print("GET /pods ->", pods)
    print("GET /endpoints ->", eps)
    ok = pods == "web-1" and eps == "web"
finally:
    if pid:
        os.kill(pid, 15)
        time.sleep(0.3)
    cl.stop()
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(0 if ok else 1)
