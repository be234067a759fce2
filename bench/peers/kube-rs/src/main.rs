//! kube-rs as a contender of bench/run.py, measured the way the Lua scripts
//! measure the module:
//!
//!   kube-rs-peer KUBECONFIG watch KIND NAMESPACE N   typed Api::watch: MODIFIED events/s
//!   kube-rs-peer KUBECONFIG watcher KIND NAMESPACE N runtime::watcher (list, then watch)
//!   kube-rs-peer KUBECONFIG reflector KIND NAMESPACE N  watcher feeding a reflector store
//!   kube-rs-peer KUBECONFIG list NAMESPACE           typed list of the pods, prints the count
//!   kube-rs-peer KUBECONFIG gets NAMESPACE N PODS     N sequential typed GETs of web-000001...
//!   kube-rs-peer KUBECONFIG watch_metadata KIND NAMESPACE N    Api::watch_metadata (PartialObjectMetadata)
//!   kube-rs-peer KUBECONFIG metadata_watcher KIND NAMESPACE N  runtime::watcher of
//!       Api<PartialObjectMeta<K>> (kube 5's form of the deprecated runtime::metadata_watcher)
//!   kube-rs-peer KUBECONFIG metadata_reflector KIND NAMESPACE N  that watcher feeding a reflector
//!   kube-rs-peer KUBECONFIG check_metadata NAMESPACE   referee of the stand-in's metadata-only
//!       answers: list_metadata, get_metadata, watch_metadata and metadata_watcher of pods and of
//!       a custom resource (it creates the CRD); prints one line per check, then `N passed, N failed`
//!
//! KIND is pods or configmaps. Events/s are timed from the first MODIFIED
//! event to the Nth, as bench/watch.lua does, and the last event must carry
//! the firehose's sequence number N.
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{GroupVersionKind, PartialObjectMeta};
use kube::runtime::{reflector, watcher, WatchStreamExt};
use kube::{Client, Config, Resource, ResourceExt};

type Error = Box<dyn std::error::Error>;

/// What the runtime watcher and reflector need of a watched kind (Pod, ConfigMap).
trait Kind:
    Resource<DynamicType = ()>
    + Clone
    + std::fmt::Debug
    + serde::de::DeserializeOwned
    + Send
    + Sync
    + 'static
{
}

impl Kind for Pod {}
impl Kind for ConfigMap {}
impl Kind for PartialObjectMeta<Pod> {}

fn seq_of<K: Resource>(obj: &K) -> Option<String> {
    obj.meta()
        .annotations
        .as_ref()
        .and_then(|a| a.get("kube-testserver/firehose-seq").cloned())
}

struct Counter {
    n: usize,
    seen: usize,
    first: Option<Instant>,
    last_seq: Option<String>,
}

impl Counter {
    fn new(n: usize) -> Self {
        Counter {
            n,
            seen: 0,
            first: None,
            last_seq: None,
        }
    }
    /// One MODIFIED event; true when the Nth has arrived.
    fn modified(&mut self, seq: Option<String>) -> bool {
        self.seen += 1;
        if self.seen == 1 {
            self.first = Some(Instant::now());
        }
        self.last_seq = seq;
        self.seen == self.n
    }
    fn report(&self) -> Result<(), Error> {
        let end = Instant::now();
        if self.seen != self.n {
            return Err(format!("got {} MODIFIED events of {}", self.seen, self.n).into());
        }
        if self.last_seq.as_deref() != Some(self.n.to_string().as_str()) {
            return Err(format!(
                "the last event is sequence {:?}, not {}",
                self.last_seq, self.n
            )
            .into());
        }
        let secs = (end - self.first.unwrap()).as_secs_f64();
        println!("{:.0}", (self.n - 1) as f64 / secs);
        Ok(())
    }
}

/// Counts MODIFIED events of a watch stream until the Nth (typed watch and
/// watch_metadata alike).
async fn count_modified<K: Resource>(
    stream: impl futures::Stream<Item = Result<WatchEvent<K>, kube::Error>>,
    n: usize,
) -> Result<(), Error> {
    let mut counter = Counter::new(n);
    let mut stream = std::pin::pin!(stream);
    while let Some(ev) = stream.try_next().await? {
        if let WatchEvent::Modified(obj) = ev {
            if counter.modified(seq_of(&obj)) {
                break;
            }
        }
    }
    counter.report()
}

async fn typed_watch<K: Kind>(api: Api<K>, n: usize) -> Result<(), Error> {
    let wp = WatchParams::default().timeout(290);
    count_modified(api.watch(&wp, "0").await?, n).await
}

/// Counts the Apply events that follow the initial list (InitDone) until the
/// Nth: a plain watcher's and a reflector's streams alike.
async fn count_applies<K, S, E>(mut stream: S, counter: &mut Counter) -> Result<(), Error>
where
    K: Resource,
    S: futures::Stream<Item = Result<watcher::Event<K>, E>> + Unpin,
    E: std::error::Error + 'static,
{
    let mut listed = false;
    while let Some(ev) = stream.try_next().await? {
        match ev {
            watcher::Event::InitDone => listed = true,
            watcher::Event::Apply(obj) if listed && counter.modified(seq_of(&obj)) => break,
            _ => {}
        }
    }
    Ok(())
}

async fn runtime_watch<K: Kind>(api: Api<K>, n: usize, keep: bool) -> Result<(), Error> {
    let mut counter = Counter::new(n);
    let events = watcher(api, watcher::Config::default());
    if keep {
        let (reader, writer) = reflector::store();
        count_applies(events.reflect(writer).boxed(), &mut counter).await?;
        eprintln!("reflector holds {} objects", reader.state().len());
    } else {
        count_applies(events.boxed(), &mut counter).await?;
    }
    counter.report()
}

/// One way of watching (typed watch, metadata watch, runtime watcher,
/// reflector) of one kind.
async fn watch_with<K: Kind>(api: Api<K>, how: &str, kind: &str, n: usize) -> Result<(), Error> {
    match how {
        "watch" => typed_watch(api, n).await,
        "watch_metadata" => metadata_watch(api, n).await,
        "watcher" => runtime_watch(api, n, false).await,
        "reflector" => runtime_watch(api, n, true).await,
        _ => Err(format!("unknown watch {how} of {kind}").into()),
    }
}

/// Api::watch_metadata: MODIFIED events of PartialObjectMetadata.
async fn metadata_watch<K: Kind>(api: Api<K>, n: usize) -> Result<(), Error> {
    let wp = WatchParams::default().timeout(290);
    count_modified(api.watch_metadata(&wp, "0").await?, n).await
}

async fn watch_kind(
    client: Client,
    how: &str,
    kind: &str,
    ns: &str,
    n: usize,
) -> Result<(), Error> {
    match (how, kind) {
        // The metadata watcher (list, then watch) of kube 5: a watcher of
        // PartialObjectMeta<Pod>, with or without a reflector.
        ("metadata_watcher", "pods") => {
            let api = Api::<PartialObjectMeta<Pod>>::namespaced(client, ns);
            runtime_watch(api, n, false).await
        }
        ("metadata_reflector", "pods") => {
            let api = Api::<PartialObjectMeta<Pod>>::namespaced(client, ns);
            runtime_watch(api, n, true).await
        }
        (_, "pods") => watch_with(Api::<Pod>::namespaced(client, ns), how, kind, n).await,
        (_, "configmaps") => {
            watch_with(Api::<ConfigMap>::namespaced(client, ns), how, kind, n).await
        }
        _ => Err(format!("unknown watch {how} of {kind}").into()),
    }
}

/// One referee check: prints it and counts it.
fn check(ok: &mut (u32, u32), what: &str, result: Result<(), String>) {
    match result {
        Ok(()) => {
            ok.0 += 1;
            println!("ok   {what}");
        }
        Err(e) => {
            ok.1 += 1;
            println!("FAIL {what}: {e}");
        }
    }
}

/// The metadata-only reads of `api` (whose objects include `name`): list,
/// get, a watch's first event, and the initial list of a watcher of `meta`
/// (the same resource as PartialObjectMeta: kube 5's metadata watcher).
async fn metadata_reads<K>(
    api: Api<K>,
    meta: Api<PartialObjectMeta<K>>,
    what: &str,
    name: &str,
    ok: &mut (u32, u32),
) where
    K: Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    let list = api.list_metadata(&ListParams::default()).await;
    check(
        ok,
        &format!("{what}: list_metadata"),
        match &list {
            Ok(l)
                if l.items
                    .iter()
                    .any(|o| o.metadata.name.as_deref() == Some(name)) =>
            {
                match l.items[0].types.as_ref().map(|t| t.kind.as_str()) {
                    Some("PartialObjectMetadata") => Ok(()),
                    other => Err(format!("items of kind {other:?}")),
                }
            }
            Ok(l) => Err(format!("{name} not among {} items", l.items.len())),
            Err(e) => Err(e.to_string()),
        },
    );
    let got = api.get_metadata(name).await;
    check(
        ok,
        &format!("{what}: get_metadata"),
        match got {
            Ok(o) if o.metadata.name.as_deref() == Some(name) && o.metadata.uid.is_some() => Ok(()),
            Ok(o) => Err(format!("got {:?}", o.metadata.name)),
            Err(e) => Err(e.to_string()),
        },
    );
    let first = async {
        let mut stream = api
            .watch_metadata(&WatchParams::default().timeout(10), "0")
            .await?
            .boxed();
        match stream.try_next().await? {
            Some(WatchEvent::Added(o)) => Ok::<_, kube::Error>(o.metadata.name),
            _ => Ok(None),
        }
    };
    check(
        ok,
        &format!("{what}: watch_metadata"),
        match first.await {
            Ok(Some(n)) if n == name => Ok(()),
            Ok(other) => Err(format!("first event {other:?}")),
            Err(e) => Err(e.to_string()),
        },
    );
    let initial = async {
        let mut stream = watcher(meta, watcher::Config::default()).boxed();
        let mut names = vec![];
        while let Some(ev) = stream.try_next().await? {
            match ev {
                watcher::Event::InitApply(o) => names.push(o.metadata.name.unwrap_or_default()),
                watcher::Event::InitDone => break,
                _ => {}
            }
        }
        Ok::<_, watcher::Error>(names)
    };
    check(
        ok,
        &format!("{what}: watcher of PartialObjectMeta"),
        match initial.await {
            Ok(names) if names.iter().any(|n| n == name) => Ok(()),
            Ok(names) => Err(format!("initial list {names:?}")),
            Err(e) => Err(e.to_string()),
        },
    );
}

async fn check_metadata(client: Client, ns: &str) -> Result<(), Error> {
    let mut ok = (0, 0);
    let pods = Api::<Pod>::namespaced(client.clone(), ns);
    let name = pods
        .list(&ListParams::default().limit(1))
        .await?
        .items
        .first()
        .and_then(|p| p.metadata.name.clone())
        .ok_or("no pod to check")?;
    let meta = Api::<PartialObjectMeta<Pod>>::namespaced(client.clone(), ns);
    metadata_reads(pods, meta, "pods", &name, &mut ok).await;

    let crds = Api::<CustomResourceDefinition>::all(client.clone());
    let crd: CustomResourceDefinition = serde_json::from_value(serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "referees.metadata.example.com"},
        "spec": {"group": "metadata.example.com", "scope": "Namespaced",
            "names": {"plural": "referees", "singular": "referee", "kind": "Referee"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    }))?;
    crds.create(&PostParams::default(), &crd).await?;
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(
        "metadata.example.com",
        "v1",
        "Referee",
    ));
    let referees = Api::<DynamicObject>::namespaced_with(client.clone(), ns, &ar);
    let meta = Api::<PartialObjectMeta<DynamicObject>>::namespaced_with(client, ns, &ar);
    let mut obj = DynamicObject::new("r1", &ar).within(ns);
    obj.data = serde_json::json!({"spec": {"size": 1}});
    referees.create(&PostParams::default(), &obj).await?;
    metadata_reads(referees, meta, "custom resource", "r1", &mut ok).await;
    println!("metadata-referee: {} passed, {} failed", ok.0, ok.1);
    if ok.1 > 0 {
        return Err("some checks failed".into());
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err("usage: kube-rs-peer KUBECONFIG watch|watcher|reflector|list|gets ...".into());
    }
    let kubeconfig = Kubeconfig::read_from(&args[1])?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    let client = Client::try_from(config)?;
    let arg = |i: usize| -> Result<&str, Error> {
        args.get(i)
            .map(String::as_str)
            .ok_or_else(|| "missing argument".into())
    };
    match args[2].as_str() {
        "list" => {
            let pods = Api::<Pod>::namespaced(client, arg(3)?)
                .list(&ListParams::default())
                .await?;
            assert!(!pods.items.is_empty());
            println!("{}", pods.items.len());
        }
        "check_metadata" => check_metadata(client, arg(3)?).await?,
        "gets" => {
            let api = Api::<Pod>::namespaced(client, arg(3)?);
            let n: usize = arg(4)?.parse()?;
            let pods: usize = arg(5)?.parse()?;
            for i in 0..n {
                let pod = api.get(&format!("web-{:06}", i % pods + 1)).await?;
                assert!(!pod.name_any().is_empty());
            }
        }
        how => {
            let n: usize = arg(5)?.parse()?;
            watch_kind(client, how, arg(3)?, arg(4)?, n).await?;
        }
    }
    Ok(())
}
