"""Lists every pod of namespace "bench" with the official Python client.  python list.py KUBECONFIG"""
import sys

from kubernetes import client, config

config.load_kube_config(sys.argv[1])
pods = client.CoreV1Api().list_namespaced_pod("bench")
assert pods.items, "no pods listed"
