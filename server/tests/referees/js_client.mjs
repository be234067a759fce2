// @kubernetes/client-node (1.x) as referee of kube-testserver: a battery of its
// API calls against a fresh server (CRUD on core/apps/batch, selectors, watch,
// the patch types, logs, errors as ApiException codes, an informer, the generic
// KubernetesObjectApi). Run by scripts/ci.d/40-js-client.sh with KUBECONFIG set
// and K8S_CLIENT pointing at the package's dist/index.js. Prints "ok NAME" /
// "FAIL NAME" per check and "js-client: N passed, N failed".
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';

const k8s = await import(pathToFileURL(process.env.K8S_CLIENT).href);
const kc = new k8s.KubeConfig();
kc.loadFromDefault();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const batch = kc.makeApiClient(k8s.BatchV1Api);
const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
const version = kc.makeApiClient(k8s.VersionApi);
const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
const NS = 'js-referee';

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok ${name}`);
    passed++;
  } catch (e) {
    console.log(`FAIL ${name}`);
    const text = e && e.stack ? e.stack : String(e);
    const body = e && e.body ? `\n${typeof e.body === 'string' ? e.body : JSON.stringify(e.body)}` : '';
    for (const line of (text + body).split('\n').slice(0, 12)) console.log(`    | ${line}`);
    failed++;
  }
}
// Objects compare with sorted keys: a map's order is not part of the answer.
const canon = (v) =>
  Array.isArray(v) ? v.map(canon) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])])) : v;
function eq(got, want, what = 'value') {
  const g = JSON.stringify(canon(got));
  const w = JSON.stringify(canon(want));
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}
function ok(cond, what) {
  if (!cond) throw new Error(what);
}
// The ApiException code a call fails with.
async function failsWith(code, fn) {
  try {
    await fn();
  } catch (e) {
    if (e instanceof k8s.ApiException) {
      eq(e.code, code, 'ApiException code');
      return typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
    }
    throw e;
  }
  throw new Error(`expected ApiException ${code}, the call succeeded`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function eventually(ms, fn) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > until) throw e;
      await sleep(100);
    }
  }
}
const patchAs = (type) => k8s.setHeaderOptions('Content-Type', type);
const cm = (name, data, labels = {}) => ({ metadata: { name, labels }, data });

await check('version', async () => {
  const v = await version.getCode();
  ok(/^v1\.32\./.test(v.gitVersion), `gitVersion ${v.gitVersion}`);
});
await check('create namespace', async () => {
  const ns = await core.createNamespace({ body: { metadata: { name: NS } } });
  eq(ns.metadata.name, NS);
  eq(ns.metadata.labels['kubernetes.io/metadata.name'], NS, 'name label');
  eq(ns.status.phase, 'Active', 'phase');
});
await check('read namespace and list namespaces', async () => {
  eq((await core.readNamespace({ name: NS })).metadata.name, NS);
  const names = (await core.listNamespace()).items.map((n) => n.metadata.name);
  ok(names.includes(NS) && names.includes('default') && names.includes('kube-system'), `names ${names}`);
});
await check('default ServiceAccount appears in the new namespace', async () => {
  await eventually(5000, () => core.readNamespacedServiceAccount({ name: 'default', namespace: NS }));
});

// --- ConfigMaps: CRUD, selectors, paging ---------------------------------------------
await check('create configmaps', async () => {
  for (let i = 0; i < 5; i++) {
    const c = await core.createNamespacedConfigMap({
      namespace: NS,
      body: cm(`c${i}`, { n: String(i) }, { tier: i % 2 ? 'odd' : 'even', app: 'js' }),
    });
    eq(c.metadata.namespace, NS);
    ok(c.metadata.uid && c.metadata.resourceVersion && c.metadata.creationTimestamp, 'metadata filled');
  }
});
await check('create of an existing name is 409 AlreadyExists', async () => {
  const st = await failsWith(409, () => core.createNamespacedConfigMap({ namespace: NS, body: cm('c0', {}) }));
  eq(st.reason, 'AlreadyExists');
  eq(st.details, { name: 'c0', kind: 'configmaps' }, 'details');
});
await check('read of a missing object is 404 NotFound', async () => {
  const st = await failsWith(404, () => core.readNamespacedConfigMap({ name: 'nope', namespace: NS }));
  eq([st.kind, st.status, st.reason, st.message], ['Status', 'Failure', 'NotFound', 'configmaps "nope" not found']);
});
await check('list with a label selector', async () => {
  const l = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'tier=odd' });
  eq(l.items.map((c) => c.metadata.name).sort(), ['c1', 'c3']);
});
await check('list with a set-based selector', async () => {
  const l = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'tier in (even),app' });
  eq(l.items.map((c) => c.metadata.name).sort(), ['c0', 'c2', 'c4']);
});
await check('list with a field selector', async () => {
  const l = await core.listNamespacedConfigMap({ namespace: NS, fieldSelector: 'metadata.name=c2' });
  eq(l.items.map((c) => c.metadata.name), ['c2']);
});
await check('list in pages with limit and continue', async () => {
  const p1 = await core.listNamespacedConfigMap({ namespace: NS, limit: 2, labelSelector: 'app=js' });
  eq(p1.items.length, 2, 'page 1');
  ok(p1.metadata._continue, 'continue token');
  const p2 = await core.listNamespacedConfigMap({ namespace: NS, limit: 10, labelSelector: 'app=js', _continue: p1.metadata._continue });
  eq(p2.items.length, 3, 'page 2');
});
await check('list across namespaces', async () => {
  const l = await core.listConfigMapForAllNamespaces({ labelSelector: 'app=js' });
  eq(l.items.length, 5);
});
await check('an invalid label selector is 400 BadRequest', async () => {
  const st = await failsWith(400, () => core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'a in (' }));
  eq(st.reason, 'BadRequest');
});
await check('replace with the current resourceVersion', async () => {
  const c = await core.readNamespacedConfigMap({ name: 'c0', namespace: NS });
  c.data = { n: 'replaced' };
  const r = await core.replaceNamespacedConfigMap({ name: 'c0', namespace: NS, body: c });
  eq(r.data, { n: 'replaced' });
  ok(r.metadata.resourceVersion !== c.metadata.resourceVersion, 'resourceVersion moved');
});
await check('replace with a stale resourceVersion is 409 Conflict', async () => {
  const c = await core.readNamespacedConfigMap({ name: 'c1', namespace: NS });
  await core.replaceNamespacedConfigMap({ name: 'c1', namespace: NS, body: { ...c, data: { n: 'x' } } });
  const st = await failsWith(409, () => core.replaceNamespacedConfigMap({ name: 'c1', namespace: NS, body: { ...c, data: { n: 'y' } } }));
  eq(st.reason, 'Conflict');
});
await check('merge patch', async () => {
  const r = await core.patchNamespacedConfigMap({ name: 'c2', namespace: NS, body: { data: { extra: 'm' } } }, patchAs(k8s.PatchStrategy.MergePatch));
  eq(r.data, { extra: 'm', n: '2' });
});
await check('strategic merge patch', async () => {
  const r = await core.patchNamespacedConfigMap({ name: 'c2', namespace: NS, body: { metadata: { labels: { s: 'y' } } } }, patchAs(k8s.PatchStrategy.StrategicMergePatch));
  eq(r.metadata.labels.s, 'y');
});
await check('JSON patch', async () => {
  const r = await core.patchNamespacedConfigMap(
    { name: 'c2', namespace: NS, body: [{ op: 'replace', path: '/data/n', value: 'j' }, { op: 'remove', path: '/data/extra' }] },
    patchAs(k8s.PatchStrategy.JsonPatch),
  );
  eq(r.data, { n: 'j' });
});
await check('a failed JSON patch test op is 422', async () => {
  await failsWith(422, () =>
    core.patchNamespacedConfigMap({ name: 'c2', namespace: NS, body: [{ op: 'test', path: '/data/n', value: 'nope' }] }, patchAs(k8s.PatchStrategy.JsonPatch)),
  );
});
await check('server-side apply with a field manager, then a conflict', async () => {
  const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied', namespace: NS }, data: { owner: 'one' } };
  const r = await core.patchNamespacedConfigMap({ name: 'applied', namespace: NS, body, fieldManager: 'one' }, patchAs(k8s.PatchStrategy.ServerSideApply));
  eq(r.data, { owner: 'one' });
  eq(r.metadata.managedFields.map((m) => [m.manager, m.operation]), [['one', 'Apply']]);
  const st = await failsWith(409, () =>
    core.patchNamespacedConfigMap({ name: 'applied', namespace: NS, body: { ...body, data: { owner: 'two' } }, fieldManager: 'two' }, patchAs(k8s.PatchStrategy.ServerSideApply)),
  );
  eq(st.reason, 'Conflict');
  const forced = await core.patchNamespacedConfigMap(
    { name: 'applied', namespace: NS, body: { ...body, data: { owner: 'two' } }, fieldManager: 'two', force: true },
    patchAs(k8s.PatchStrategy.ServerSideApply),
  );
  eq(forced.data, { owner: 'two' });
});
await check('dry-run create stores nothing', async () => {
  const r = await core.createNamespacedConfigMap({ namespace: NS, body: cm('dry', { a: '1' }), dryRun: 'All' });
  eq(r.metadata.name, 'dry');
  await failsWith(404, () => core.readNamespacedConfigMap({ name: 'dry', namespace: NS }));
});
await check('delete answers the object, then 404', async () => {
  await core.deleteNamespacedConfigMap({ name: 'c4', namespace: NS });
  await failsWith(404, () => core.deleteNamespacedConfigMap({ name: 'c4', namespace: NS }));
});
await check('deletecollection with a selector', async () => {
  await core.deleteCollectionNamespacedConfigMap({ namespace: NS, labelSelector: 'tier=odd' });
  const l = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'app=js' });
  eq(l.items.map((c) => c.metadata.name).sort(), ['c0', 'c2']);
});

// --- Secrets, Services, Pods --------------------------------------------------------
await check('secret stringData goes into data', async () => {
  const s = await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 's' }, stringData: { pw: 'hunter2' } } });
  eq(s.type, 'Opaque');
  eq(s.data, { pw: Buffer.from('hunter2').toString('base64') });
  ok(s.stringData === undefined, 'stringData not returned');
});
await check('service gets a cluster IP and defaults', async () => {
  const s = await core.createNamespacedService({
    namespace: NS,
    body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
  });
  ok(/^10\./.test(s.spec.clusterIP), `clusterIP ${s.spec.clusterIP}`);
  eq([s.spec.type, s.spec.sessionAffinity, s.spec.ports[0].protocol, s.spec.ports[0].targetPort], ['ClusterIP', 'None', 'TCP', 80]);
});
await check('pod is created Pending with defaults', async () => {
  const p = await core.createNamespacedPod({
    namespace: NS,
    body: { metadata: { name: 'p', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
  });
  eq([p.spec.restartPolicy, p.spec.dnsPolicy, p.spec.serviceAccountName, p.status.phase], ['Always', 'ClusterFirst', 'default', 'Pending']);
});
await check('pod becomes Running on a node', async () => {
  await eventually(10000, async () => {
    const p = await core.readNamespacedPodStatus({ name: 'p', namespace: NS });
    eq(p.status.phase, 'Running', 'phase');
    ok(p.spec.nodeName, 'nodeName');
  });
});
await check('pod log', async () => {
  const text = await core.readNamespacedPodLog({ name: 'p', namespace: NS, container: 'c' });
  eq(typeof text, 'string', 'log type');
});
await check('Log streams a pod log', async () => {
  const chunks = [];
  const sink = new Writable({ write(c, _e, cb) { chunks.push(c); cb(); } });
  const finished = new Promise((resolve) => sink.on('finish', resolve));
  await new k8s.Log(kc).log(NS, 'p', 'c', sink, { follow: false, tailLines: 10 });
  await Promise.race([finished, sleep(5000).then(() => Promise.reject(new Error('log stream did not end')))]);
});
await check('pod creation without containers is 422 Invalid', async () => {
  const st = await failsWith(422, () => core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'bad' }, spec: { containers: [] } } }));
  eq(st.reason, 'Invalid');
  ok(st.details.causes.some((c) => c.field === 'spec.containers'), 'cause names spec.containers');
});
await check('an invalid name is 422 Invalid', async () => {
  const st = await failsWith(422, () => core.createNamespacedConfigMap({ namespace: NS, body: cm('Bad_Name', {}) }));
  eq(st.details.causes[0].field, 'metadata.name');
});

// --- apps and batch -----------------------------------------------------------------
const deployment = {
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
  },
};
await check('create deployment with defaults', async () => {
  const d = await apps.createNamespacedDeployment({ namespace: NS, body: deployment });
  eq([d.spec.strategy.type, d.spec.revisionHistoryLimit, d.spec.progressDeadlineSeconds], ['RollingUpdate', 10, 600]);
});
await check('deployment becomes available', async () => {
  await eventually(20000, async () => {
    const d = await apps.readNamespacedDeploymentStatus({ name: 'web', namespace: NS });
    eq(d.status.availableReplicas, 2, 'availableReplicas');
  });
});
await check('scale subresource', async () => {
  const s = await apps.readNamespacedDeploymentScale({ name: 'web', namespace: NS });
  eq(s.spec.replicas, 2);
  const r = await apps.patchNamespacedDeploymentScale({ name: 'web', namespace: NS, body: { spec: { replicas: 3 } } }, patchAs(k8s.PatchStrategy.MergePatch));
  eq(r.spec.replicas, 3);
  await eventually(20000, async () => eq((await apps.readNamespacedDeployment({ name: 'web', namespace: NS })).status.readyReplicas, 3));
});
await check('a deployment selector change is 422', async () => {
  await failsWith(422, () =>
    apps.patchNamespacedDeployment(
      { name: 'web', namespace: NS, body: { spec: { selector: { matchLabels: { app: 'other' } }, template: { metadata: { labels: { app: 'other' } } } } } },
      patchAs(k8s.PatchStrategy.StrategicMergePatch),
    ),
  );
});
await check('list ReplicaSets of the deployment', async () => {
  const l = await apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=web' });
  eq(l.items.length, 1);
  eq(l.items[0].metadata.ownerReferences[0].kind, 'Deployment');
});
await check('job runs to completion', async () => {
  const j = await batch.createNamespacedJob({
    namespace: NS,
    body: { metadata: { name: 'once' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } },
  });
  eq([j.spec.backoffLimit, j.spec.completions, j.spec.parallelism, j.spec.completionMode], [6, 1, 1, 'NonIndexed']);
  ok(j.spec.selector.matchLabels['batch.kubernetes.io/controller-uid'], 'generated selector');
  await eventually(20000, async () => eq((await batch.readNamespacedJobStatus({ name: 'once', namespace: NS })).status.succeeded, 1));
});
await check('cronjob with defaults', async () => {
  const c = await batch.createNamespacedCronJob({
    namespace: NS,
    body: {
      metadata: { name: 'tick' },
      spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } } },
    },
  });
  eq([c.spec.concurrencyPolicy, c.spec.suspend, c.spec.successfulJobsHistoryLimit, c.spec.failedJobsHistoryLimit], ['Allow', false, 3, 1]);
});
await check('delete a deployment with foreground propagation removes its pods', async () => {
  await apps.deleteNamespacedDeployment({ name: 'web', namespace: NS, propagationPolicy: 'Foreground' });
  await eventually(20000, async () => {
    await failsWith(404, () => apps.readNamespacedDeployment({ name: 'web', namespace: NS }));
    eq((await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=web,pod-template-hash' })).items.length, 0, 'pods left');
  });
});
await check('rbac role and binding', async () => {
  await rbac.createNamespacedRole({ namespace: NS, body: { metadata: { name: 'reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] } });
  const b = await rbac.createNamespacedRoleBinding({
    namespace: NS,
    body: { metadata: { name: 'reader' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: NS }] },
  });
  eq(b.roleRef.name, 'reader');
});

// --- watch and informer -----------------------------------------------------------
await check('watch sees ADDED, MODIFIED, DELETED', async () => {
  const seen = [];
  const list = await core.listNamespacedConfigMap({ namespace: NS });
  let done;
  const finished = new Promise((r) => (done = r));
  const ctl = await new k8s.Watch(kc).watch(
    `/api/v1/namespaces/${NS}/configmaps`,
    { resourceVersion: list.metadata.resourceVersion, fieldSelector: 'metadata.name=w' },
    (type, obj) => {
      seen.push(`${type} ${obj.metadata.name}`);
      if (type === 'DELETED') done();
    },
    () => done(),
  );
  await core.createNamespacedConfigMap({ namespace: NS, body: cm('w', { a: '1' }) });
  await core.patchNamespacedConfigMap({ name: 'w', namespace: NS, body: { data: { a: '2' } } }, patchAs(k8s.PatchStrategy.MergePatch));
  await core.deleteNamespacedConfigMap({ name: 'w', namespace: NS });
  await Promise.race([finished, sleep(5000)]);
  ctl.abort();
  eq(seen, ['ADDED w', 'MODIFIED w', 'DELETED w']);
});
await check('watch from a resourceVersion older than the history ends with 410 Expired', async () => {
  let status;
  let done;
  const finished = new Promise((r) => (done = r));
  const ctl = await new k8s.Watch(kc).watch(
    `/api/v1/namespaces/${NS}/configmaps`,
    { resourceVersion: '1' },
    (type, obj) => {
      if (type === 'ERROR') status = obj;
    },
    () => done(),
  );
  await Promise.race([finished, sleep(3000)]);
  ctl.abort();
  ok(status, 'an ERROR event');
  eq([status.code, status.reason], [410, 'Expired']);
});
await check('informer caches, sees add/update/delete', async () => {
  const path = `/api/v1/namespaces/${NS}/configmaps`;
  const informer = k8s.makeInformer(kc, path, () => core.listNamespacedConfigMap({ namespace: NS }));
  const events = [];
  informer.on(k8s.ADD, (o) => o.metadata.name === 'inf' && events.push('add'));
  informer.on(k8s.UPDATE, (o) => o.metadata.name === 'inf' && events.push('update'));
  informer.on(k8s.DELETE, (o) => o.metadata.name === 'inf' && events.push('delete'));
  informer.on(k8s.ERROR, () => {});
  await informer.start();
  try {
    ok(informer.get('c0', NS), 'cached c0');
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('inf', { a: '1' }) });
    await eventually(5000, async () => ok(informer.get('inf', NS), 'cached inf'));
    await core.patchNamespacedConfigMap({ name: 'inf', namespace: NS, body: { data: { a: '2' } } }, patchAs(k8s.PatchStrategy.MergePatch));
    await eventually(5000, async () => eq(informer.get('inf', NS).data.a, '2'));
    await core.deleteNamespacedConfigMap({ name: 'inf', namespace: NS });
    await eventually(5000, async () => ok(!informer.get('inf', NS), 'gone'));
    eq(events, ['add', 'update', 'delete']);
  } finally {
    await informer.stop();
  }
});

// --- the generic object API -----------------------------------------------------------
await check('KubernetesObjectApi create/read/patch/list/delete', async () => {
  const spec = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'generic', namespace: NS }, data: { a: '1' } };
  await objects.create(spec);
  eq((await objects.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'generic', namespace: NS } })).data, { a: '1' });
  await objects.patch({ ...spec, data: { a: '2' } }, undefined, undefined, 'js-referee', true, k8s.PatchStrategy.ServerSideApply);
  const l = await objects.list('v1', 'ConfigMap', NS, undefined, undefined, undefined, 'metadata.name=generic');
  eq(l.items.map((i) => i.data.a), ['2']);
  await objects.delete(spec);
});
await check('KubernetesObjectApi apps/v1 Deployment', async () => {
  const spec = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'gen', namespace: NS }, spec: deployment.spec };
  const d = await objects.create(spec);
  eq(d.kind, 'Deployment');
  await objects.delete(spec);
});

await check('delete namespace', async () => {
  await core.deleteNamespace({ name: NS });
  await eventually(20000, () => failsWith(404, () => core.readNamespace({ name: NS })));
});

console.log(`js-client: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
