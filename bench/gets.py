"""GETs single pods one after another with the official Python client.  python gets.py KUBECONFIG COUNT PODS"""
import sys

from kubernetes import client, config

config.load_kube_config(sys.argv[1])
api = client.CoreV1Api()
count, pods = int(sys.argv[2]), int(sys.argv[3])
for i in range(count):
    pod = api.read_namespaced_pod("web-%06d" % (i % pods + 1), "bench")
    assert pod.metadata.name
