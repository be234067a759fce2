// @kubernetes/client-node (1.x) as a watch contender of bench/run.py.
//   node watch.js KUBECONFIG N KIND NAMESPACE
// Uses the client's Watch (each line decoded by the client into a plain
// object), prints MODIFIED events/s timed from the first MODIFIED event to the
// Nth, as bench/watch.lua does; the last event must carry the firehose
// sequence N. NODE_PATH names the node_modules holding the client.
const k8s = require('@kubernetes/client-node');

const [kubeconfig, nText, kind, namespace] = process.argv.slice(2);
const n = Number(nText);
const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfig);
let seen = 0, first = 0, lastSeq = null, request = null;

function finish(err) {
  const end = process.hrtime.bigint();
  if (seen !== n) {
    console.error(`got ${seen} MODIFIED events of ${n}` + (err ? `: ${err}` : ''));
    process.exit(1);
  }
  if (lastSeq !== String(n)) {
    console.error(`the last event is sequence ${lastSeq}, not ${n}`);
    process.exit(1);
  }
  console.log(((n - 1) / (Number(end - first) / 1e9)).toFixed(0));
  process.exit(0);
}

new k8s.Watch(kc).watch(`/api/v1/namespaces/${namespace}/${kind}`, { timeoutSeconds: 290 },
  (type, obj) => {
    if (type !== 'MODIFIED') return;
    seen += 1;
    if (seen === 1) first = process.hrtime.bigint();
    lastSeq = (obj.metadata.annotations || {})['kube-testserver/firehose-seq'];
    if (seen === n) finish();
  },
  (err) => finish(err)).then((r) => { request = r; }, (err) => finish(err));
