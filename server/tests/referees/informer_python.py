"""Referee: the official Python client's watch (kubernetes.watch.Watch) follows
a Deployment's rollout on kube-testserver's simulated cluster.

Usage: informer_python.py KUBECONFIG NAMESPACE LOG. Lists and then watches
Deployments, ReplicaSets and Pods of NAMESPACE (one thread each, as an
informer would), writing one line per event to LOG in the format
scripts/ci.d/55-cluster-informers.sh checks (the same one the JavaScript
referee writes):

    synced deployments|replicasets|pods      (after the initial list)
    TYPE deployment NAME gen=G observed=O replicas=R updated=U ready=Y available=A
    TYPE replicaset NAME owner=KIND/NAME hash=H replicas=R ready=Y
    TYPE pod NAME owner=KIND/NAME phase=P node=N ready=True|False ip=IP

Runs until killed (SIGTERM); every line is flushed as it is written.
"""

import signal
import sys
import threading

from kubernetes import client, config, watch

LOCK = threading.Lock()


def owner(meta):
    refs = meta.owner_references or []
    return f"{refs[0].kind}/{refs[0].name}" if refs else "-"


def line(kind, event, obj):
    meta = obj.metadata
    if kind == "deployment":
        s = obj.status
        return (f"{event} deployment {meta.name} gen={meta.generation} "
                f"observed={s.observed_generation or 0} replicas={s.replicas or 0} "
                f"updated={s.updated_replicas or 0} ready={s.ready_replicas or 0} "
                f"available={s.available_replicas or 0}")
    if kind == "replicaset":
        labels = meta.labels or {}
        s = obj.status
        return (f"{event} replicaset {meta.name} owner={owner(meta)} "
                f"hash={labels.get('pod-template-hash', '-')} "
                f"replicas={s.replicas or 0} ready={s.ready_replicas or 0}")
    s = obj.status
    ready = "False"
    for c in (s.conditions or []) if s else []:
        if c.type == "Ready":
            ready = c.status
    return (f"{event} pod {meta.name} owner={owner(meta)} "
            f"phase={(s.phase if s else None) or '-'} node={obj.spec.node_name or '-'} "
            f"ready={ready} ip={(s.pod_ip if s else None) or '-'}")


def follow(out, kind, lister, namespace):
    """List, then watch from the list's resourceVersion, as an informer does."""
    first = lister(namespace)
    with LOCK:
        for item in first.items:
            out.write(line(kind, "LISTED", item) + "\n")
        out.write(f"synced {kind}s\n")
        out.flush()
    w = watch.Watch()
    rv = first.metadata.resource_version
    while True:
        for ev in w.stream(lister, namespace, resource_version=rv, timeout_seconds=300):
            obj = ev["object"]
            rv = obj.metadata.resource_version
            with LOCK:
                out.write(line(kind, ev["type"], obj) + "\n")
                out.flush()


def main(kubeconfig, namespace, log):
    config.load_kube_config(config_file=kubeconfig)
    apps = client.AppsV1Api()
    core = client.CoreV1Api()
    out = open(log, "w", buffering=1)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threads = [
        threading.Thread(target=follow, args=(out, kind, lister, namespace), daemon=True)
        for kind, lister in (
            ("deployment", apps.list_namespaced_deployment),
            ("replicaset", apps.list_namespaced_replica_set),
            ("pod", core.list_namespaced_pod),
        )
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main(*sys.argv[1:4])
