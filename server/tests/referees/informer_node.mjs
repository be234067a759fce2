// Referee: @kubernetes/client-node's informers (makeInformer) follow a
// Deployment's rollout on kube-testserver's simulated cluster.
//
// Usage: node informer_node.mjs CLIENT_DIR KUBECONFIG NAMESPACE LOG
// CLIENT_DIR is where `npm install @kubernetes/client-node` put node_modules
// (build/node). One informer each for Deployments, ReplicaSets and Pods of
// NAMESPACE; one line per event in LOG, in the format
// scripts/ci.d/55-cluster-informers.sh checks (the Python referee,
// informer_python.py, writes the same). Runs until killed.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dir, kubeconfig, ns, log] = process.argv.slice(2);
const k8s = await import(
  pathToFileURL(join(dir, 'node_modules/@kubernetes/client-node/dist/index.js')).href
);

const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfig);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const core = kc.makeApiClient(k8s.CoreV1Api);

writeFileSync(log, '');
const write = (text) => appendFileSync(log, text + '\n');
const owner = (meta) => {
  const r = (meta.ownerReferences || [])[0];
  return r ? `${r.kind}/${r.name}` : '-';
};
const describe = {
  deployment: (o) => {
    const s = o.status || {};
    return `deployment ${o.metadata.name} gen=${o.metadata.generation} observed=${s.observedGeneration || 0} ` +
      `replicas=${s.replicas || 0} updated=${s.updatedReplicas || 0} ready=${s.readyReplicas || 0} ` +
      `available=${s.availableReplicas || 0}`;
  },
  replicaset: (o) => {
    const s = o.status || {};
    const labels = o.metadata.labels || {};
    return `replicaset ${o.metadata.name} owner=${owner(o.metadata)} ` +
      `hash=${labels['pod-template-hash'] || '-'} replicas=${s.replicas || 0} ready=${s.readyReplicas || 0}`;
  },
  pod: (o) => {
    const s = o.status || {};
    const ready = (s.conditions || []).find((c) => c.type === 'Ready');
    return `pod ${o.metadata.name} owner=${owner(o.metadata)} phase=${s.phase || '-'} ` +
      `node=${(o.spec && o.spec.nodeName) || '-'} ready=${ready ? ready.status : 'False'} ip=${s.podIP || '-'}`;
  },
};

const informers = {
  deployment: k8s.makeInformer(kc, `/apis/apps/v1/namespaces/${ns}/deployments`,
    () => apps.listNamespacedDeployment({ namespace: ns })),
  replicaset: k8s.makeInformer(kc, `/apis/apps/v1/namespaces/${ns}/replicasets`,
    () => apps.listNamespacedReplicaSet({ namespace: ns })),
  pod: k8s.makeInformer(kc, `/api/v1/namespaces/${ns}/pods`,
    () => core.listNamespacedPod({ namespace: ns })),
};
for (const [kind, inf] of Object.entries(informers)) {
  for (const [verb, type] of [['add', 'ADDED'], ['update', 'MODIFIED'], ['delete', 'DELETED']]) {
    inf.on(verb, (o) => write(`${type} ${describe[kind](o)}`));
  }
  // As the client's documentation says: an informer stops on an error and
  // is started again by its user.
  inf.on('error', (err) => {
    write(`error ${kind} ${err && err.message}`);
    setTimeout(() => inf.start(), 500);
  });
}
for (const [kind, inf] of Object.entries(informers)) {
  await inf.start();
  write(`synced ${kind}s`);
}
process.on('SIGTERM', () => process.exit(0));
