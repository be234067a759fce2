"""Checks an informer referee's event log (informer_python.py and
informer_node.mjs write the same format) for the whole rollout of Deployment
NAME: created with 3 replicas, then given a new image.

Usage: informer_check.py LOG NAME. Prints "ok WHAT" / "FAIL WHAT: why" per
step and exits non-zero when one failed.
"""

import sys


def parse(path):
    events = []
    for raw in open(path):
        parts = raw.split()
        if len(parts) < 3 or parts[0] in ("synced", "error"):
            events.append((parts[0] if parts else "", "", "", {}))
            continue
        fields = dict(p.split("=", 1) for p in parts[3:] if "=" in p)
        events.append((parts[0], parts[1], parts[2], fields))
    return events


def pods_roll_out(events, rs):
    """Each pod of ReplicaSet rs: first seen Pending, later Running and Ready
    with an IP on a node. Returns (pod names, problems)."""
    seen = {}
    for typ, kind, name, f in events:
        if kind == "pod" and f.get("owner") == f"ReplicaSet/{rs}" and typ != "DELETED":
            seen.setdefault(name, []).append(f)
    problems = []
    for name, states in seen.items():
        if states[0].get("phase") != "Pending":
            problems.append(f"{name} first seen {states[0].get('phase')}, not Pending")
        if not any(s.get("phase") == "Running" and s.get("ready") == "True"
                   and s.get("ip", "-") != "-" and s.get("node", "-") != "-" for s in states):
            problems.append(f"{name} never seen Running and Ready with an IP")
        order = [s.get("phase") for s in states]
        if "Running" in order and "Pending" in order[order.index("Running"):]:
            problems.append(f"{name} went back to Pending: {order}")
    return sorted(seen), problems


def main(log, name):
    events = parse(log)
    failed = []

    def check(what, ok, why=""):
        print(("ok " if ok else "FAIL ") + what + ("" if ok else f": {why}"))
        if not ok:
            failed.append(what)

    synced = {typ + " " + kind for typ, kind, _, _ in events if typ == "synced"}
    errors = [e for e in events if e[0] == "error"]
    check("lists synced before the rollout", len([e for e in events if e[0] == "synced"]) == 3,
          f"{synced}")
    rss = []
    for typ, kind, rs, f in events:
        if kind == "replicaset" and typ == "ADDED" and f.get("owner") == f"Deployment/{name}" \
                and rs not in rss:
            rss.append(rs)
    check("two ReplicaSets NAME-HASH owned by the Deployment, in order", len(rss) == 2 and all(
        rs == f"{name}-" + next(f["hash"] for _, k, n, f in events if n == rs and k == "replicaset")
        for rs in rss), f"{rss}")
    if len(rss) != 2:
        return 1
    old, new = rss
    for rs, rev in ((old, "first"), (new, "second")):
        pods, problems = pods_roll_out(events, rs)
        check(f"the {rev} ReplicaSet's 3 pods: Pending, then Running and Ready with an IP",
              len(pods) == 3 and not problems, f"{pods} {problems}")
    deleted = {n for t, k, n, f in events if k == "pod" and t == "DELETED"
               and f.get("owner") == f"ReplicaSet/{old}"}
    check("the first ReplicaSet's pods deleted", len(deleted) == 3, f"{deleted}")
    deploys = [f for _, k, n, f in events if k == "deployment" and n == name]
    check("the Deployment reached availableReplicas 3 at generation 1",
          any(f.get("observed") == "1" and f.get("available") == "3" for f in deploys),
          f"{deploys[-1:] }")
    last = deploys[-1] if deploys else {}
    check("the Deployment ends at generation 2: replicas, updated, ready, available 3",
          all(last.get(k) == v for k, v in (("gen", "2"), ("observed", "2"), ("replicas", "3"),
                                             ("updated", "3"), ("ready", "3"), ("available", "3"))),
          f"{last}")
    check("no watch errors", not errors, f"{errors}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
