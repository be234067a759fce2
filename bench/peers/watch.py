"""The official Python client as a watch contender of bench/run.py.

  python watch.py KUBECONFIG N KIND NAMESPACE raw|models

raw: the watch response read line by line with _preload_content=False and each
line decoded with json.loads (what a user who wants speed writes); models:
kubernetes.watch.Watch().stream(), which builds the client's model objects.
Prints MODIFIED events/s, timed from the first MODIFIED event to the Nth, as
bench/watch.lua does; the last event must carry the firehose sequence N."""
import json
import sys
import time

from kubernetes import client, config, watch

kubeconfig, n, kind, namespace, how = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
config.load_kube_config(kubeconfig)
api = client.CoreV1Api()
lister = {"pods": api.list_namespaced_pod, "configmaps": api.list_namespaced_config_map}[kind]
seen, first, last_seq = 0, None, None


def modified(annotations):
    global seen, first, last_seq
    seen += 1
    if seen == 1:
        first = time.perf_counter()
    last_seq = (annotations or {}).get("kube-testserver/firehose-seq")
    return seen == n


if how == "raw":
    resp = lister(namespace, watch=True, _preload_content=False, timeout_seconds=290)
    buf = b""
    done = False
    for chunk in resp.stream(65536):
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            if not line:
                continue
            ev = json.loads(line)
            if ev["type"] == "MODIFIED" and modified(ev["object"]["metadata"].get("annotations")):
                done = True
                break
        if done:
            break
    resp.release_conn()
else:
    w = watch.Watch()
    for ev in w.stream(lister, namespace, timeout_seconds=290):
        if ev["type"] == "MODIFIED" and modified(ev["object"].metadata.annotations):
            w.stop()
            break
end = time.perf_counter()
assert seen == n, "got %d MODIFIED events of %d" % (seen, n)
assert last_seq == str(n), "the last event is sequence %s, not %d" % (last_seq, n)
print("%.0f" % ((n - 1) / (end - first)))
