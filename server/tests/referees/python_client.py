"""Referee: the official Python Kubernetes client against kube-testserver.

Usage: python_client.py KUBECONFIG. Prints "ok NAME" or "FAIL NAME: why" per
check; run_referees.sh counts them.
"""

import sys
import threading
import time
import traceback

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

NS = "default"


def expect_status(code, call, *args):
    """Calls call(*args) and expects it to fail with HTTP status code."""
    try:
        call(*args)
    except ApiException as e:
        assert e.status == code, (e.status, e.body)
        return e
    raise AssertionError(f"{call.__name__} succeeded, expected {code}")


def configmap(name, labels=None, data=None):
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name, labels=labels or {}),
        data=data or {},
    )


def main(kubeconfig):
    config.load_kube_config(config_file=kubeconfig)
    core = client.CoreV1Api()
    apps = client.AppsV1Api()
    checks = []

    def check(fn):
        checks.append(fn)
        return fn

    @check
    def version_is_1_32():
        info = client.VersionApi().get_code()
        assert (info.major, info.minor) == ("1", "32"), info

    @check
    def create_and_read_configmap():
        made = core.create_namespaced_config_map(NS, configmap("py-a", {"app": "py"}, {"k": "v"}))
        assert made.metadata.uid and made.metadata.resource_version, made.metadata
        got = core.read_namespaced_config_map("py-a", NS)
        assert got.data == {"k": "v"}, got.data
        assert got.metadata.labels == {"app": "py"}, got.metadata.labels

    @check
    def create_duplicate_is_conflict():
        e = expect_status(409, core.create_namespaced_config_map, NS, configmap("py-a"))
        assert "AlreadyExists" in e.body, e.body

    @check
    def replace_configmap():
        cur = core.read_namespaced_config_map("py-a", NS)
        cur.data["k"] = "v2"
        new = core.replace_namespaced_config_map("py-a", NS, cur)
        assert new.data == {"k": "v2"}, new.data
        assert new.metadata.resource_version != cur.metadata.resource_version

    @check
    def replace_with_stale_resource_version_conflicts():
        stale = core.read_namespaced_config_map("py-a", NS)
        core.patch_namespaced_config_map("py-a", NS, {"data": {"bump": "1"}})
        stale.data["k"] = "lost update"
        expect_status(409, core.replace_namespaced_config_map, "py-a", NS, stale)

    @check
    def patch_configmap():
        patched = core.patch_namespaced_config_map("py-a", NS, {"metadata": {"labels": {"tier": "x"}}})
        assert patched.metadata.labels == {"app": "py", "tier": "x"}, patched.metadata.labels

    @check
    def list_with_label_selectors():
        core.create_namespaced_config_map(NS, configmap("py-b", {"app": "py", "tier": "y"}))
        core.create_namespaced_config_map(NS, configmap("py-c", {"app": "other"}))

        def names(selector):
            items = core.list_namespaced_config_map(NS, label_selector=selector).items
            return sorted(i.metadata.name for i in items)

        assert names("app=py") == ["py-a", "py-b"], names("app=py")
        assert names("app=py,tier=y") == ["py-b"], names("app=py,tier=y")
        # != also matches objects without the label (other tests' configmaps).
        unlike = names("app!=py")
        assert "py-c" in unlike and "py-a" not in unlike and "py-b" not in unlike, unlike
        assert names("tier in (x,y)") == ["py-a", "py-b"], names("tier in (x,y)")
        assert names("app,!tier") == ["py-c"], names("app,!tier")

    @check
    def list_in_pages():
        for i in range(5):
            core.create_namespaced_config_map(NS, configmap(f"py-page-{i}", {"page": "me"}))
        names, token, pages = [], None, 0
        while True:
            page = core.list_namespaced_config_map(NS, label_selector="page=me", limit=2, _continue=token)
            names += [i.metadata.name for i in page.items]
            pages += 1
            token = page.metadata._continue
            if not token:
                break
        assert names == [f"py-page-{i}" for i in range(5)], names
        assert pages == 3, pages

    @check
    def delete_collection_by_label():
        core.delete_collection_namespaced_config_map(NS, label_selector="page=me")
        left = core.list_namespaced_config_map(NS, label_selector="page=me").items
        assert left == [], [i.metadata.name for i in left]

    @check
    def list_across_namespaces():
        names = [p.metadata.name for p in core.list_pod_for_all_namespaces().items]
        assert "logger" in names, names

    @check
    def deployment_round_trip():
        body = client.V1Deployment(
            metadata=client.V1ObjectMeta(name="py-web", labels={"app": "py-web"}),
            spec=client.V1DeploymentSpec(
                replicas=1,
                selector=client.V1LabelSelector(match_labels={"app": "py-web"}),
                template=client.V1PodTemplateSpec(
                    metadata=client.V1ObjectMeta(labels={"app": "py-web"}),
                    spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx:1.27")]),
                ),
            ),
        )
        made = apps.create_namespaced_deployment(NS, body)
        assert made.spec.template.spec.containers[0].image == "nginx:1.27"
        listed = apps.list_namespaced_deployment(NS, label_selector="app=py-web").items
        assert [d.metadata.name for d in listed] == ["py-web"], listed

    @check
    def deployment_scale_subresource():
        scale = apps.read_namespaced_deployment_scale("py-web", NS)
        assert scale.spec.replicas == 1, scale
        apps.patch_namespaced_deployment_scale("py-web", NS, {"spec": {"replicas": 4}})
        assert apps.read_namespaced_deployment("py-web", NS).spec.replicas == 4
        apps.delete_namespaced_deployment("py-web", NS)

    @check
    def read_pod_log():
        text = core.read_namespaced_pod_log("logger", NS, container="main")
        assert text.startswith("starting logger\nfirst line\nsecond line\n"), repr(text)
        last = core.read_namespaced_pod_log("logger", NS, container="main", tail_lines=1)
        assert last == text.splitlines(keepends=True)[-1], repr(last)

    @check
    def delete_and_404():
        core.delete_namespaced_config_map("py-a", NS)
        expect_status(404, core.read_namespaced_config_map, "py-a", NS)

    @check
    def watch_sees_changes():
        seen = []
        w = watch.Watch()

        def writer():
            time.sleep(1)
            core.create_namespaced_config_map(NS, configmap("py-watched", {"watch": "me"}))
            core.patch_namespaced_config_map("py-watched", NS, {"data": {"a": "1"}})
            core.delete_namespaced_config_map("py-watched", NS)

        t = threading.Thread(target=writer)
        t.start()
        for event in w.stream(core.list_namespaced_config_map, NS, label_selector="watch=me", timeout_seconds=5):
            seen.append((event["type"], event["object"].metadata.name))
            if event["type"] == "DELETED":
                w.stop()
        t.join()
        types = [t for t, _ in seen]
        assert types == ["ADDED", "MODIFIED", "DELETED"], seen

    for fn in checks:
        name = fn.__name__.replace("_", " ")
        try:
            fn()
            print(f"ok python: {name}")
        except Exception as e:  # report every failure and keep going
            detail = str(e).splitlines()[0] if str(e) else type(e).__name__
            print(f"FAIL python: {name}: {detail}")
            traceback.print_exc(limit=2, file=sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
