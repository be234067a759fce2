//! The simulated nodes, registered at start (`--nodes N`): Ready, with
//! capacity, addresses and a pod CIDR each (`10.244.0.0/24` for node-1,
//! `10.244.1.0/24` for node-2, ... as kube-controller-manager's IPAM hands
//! them out of 10.244.0.0/14 here).

use crate::store::Store;
use serde_json::{json, Value};

/// Pods a node takes (the kubelet's default `maxPods`).
pub const MAX_PODS: u32 = 110;

/// The /24 of the n-th node (0-based): `10.(244 + n/256).(n%256).0/24`.
pub fn pod_cidr(n: u32) -> String {
    format!("10.{}.{}.0/24", 244 + (n / 256) % 12, n % 256)
}

fn node(n: u32) -> Value {
    let name = format!("node-{}", n + 1);
    let now = crate::store::now_rfc3339();
    let ip = format!("172.18.{}.{}", (n + 2) / 256, (n + 2) % 256);
    let cond = |t: &str, s: &str, reason: &str, msg: &str| {
        json!({"type": t, "status": s, "lastHeartbeatTime": now, "lastTransitionTime": now,
               "reason": reason, "message": msg})
    };
    let resources = json!({"cpu": "4", "memory": "16331164Ki", "pods": MAX_PODS.to_string(),
                           "ephemeral-storage": "102626232Ki", "hugepages-2Mi": "0"});
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": "amd64",
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                            "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
        },
        "spec": {"podCIDR": pod_cidr(n), "podCIDRs": [pod_cidr(n)]},
        "status": {
            "capacity": resources, "allocatable": resources,
            "conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": format!("{:032x}", n as u128 + 1), "systemUUID": format!("{:032x}", n as u128 + 1),
                "bootID": format!("{:032x}", n as u128 + 7), "kernelVersion": "6.1.0-kube-testserver",
                "osImage": "Debian GNU/Linux 12 (bookworm)", "containerRuntimeVersion": "containerd://1.7.24",
                "kubeletVersion": "v1.32.0", "kubeProxyVersion": "v1.32.0",
                "operatingSystem": "linux", "architecture": "amd64",
            },
        },
    })
}

/// Registers node-1..node-N (those not stored already).
pub fn register(st: &mut Store, count: u32) -> Result<(), String> {
    let res = super::util::res("", "nodes");
    for n in 0..count {
        let obj = node(n);
        let name = super::util::name(&obj).to_string();
        if st.objects.contains_key(&Store::key(res, "", &name)) {
            continue;
        }
        let opts = crate::rest::CreateOptions {
            dry_run: false,
            keep_status: true,
        };
        crate::rest::create(st, res, "", obj, opts)
            .map_err(|e| format!("registering {name}: {}", e.message))?;
    }
    Ok(())
}
