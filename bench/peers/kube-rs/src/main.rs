//! kube-rs as a contender of bench/run.py, measured the way the Lua scripts
//! measure the module:
//!
//!   kube-rs-peer KUBECONFIG watch KIND NAMESPACE N   typed Api::watch: MODIFIED events/s
//!   kube-rs-peer KUBECONFIG watcher KIND NAMESPACE N runtime::watcher (list, then watch)
//!   kube-rs-peer KUBECONFIG reflector KIND NAMESPACE N  watcher feeding a reflector store
//!   kube-rs-peer KUBECONFIG list NAMESPACE           typed list of the pods, prints the count
//!   kube-rs-peer KUBECONFIG gets NAMESPACE N PODS     N sequential typed GETs of web-000001...
//!
//! KIND is pods or configmaps. Events/s are timed from the first MODIFIED
//! event to the Nth, as bench/watch.lua does, and the last event must carry
//! the firehose's sequence number N.
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
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

async fn typed_watch<K>(api: Api<K>, n: usize) -> Result<(), Error>
where
    K: Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    let mut counter = Counter::new(n);
    let mut stream = api
        .watch(&WatchParams::default().timeout(290), "0")
        .await?
        .boxed();
    while let Some(ev) = stream.try_next().await? {
        if let WatchEvent::Modified(obj) = ev {
            if counter.modified(seq_of(&obj)) {
                break;
            }
        }
    }
    counter.report()
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

/// One way of watching (typed watch, runtime watcher, reflector) of one kind.
async fn watch_with<K: Kind>(api: Api<K>, how: &str, kind: &str, n: usize) -> Result<(), Error> {
    match how {
        "watch" => typed_watch(api, n).await,
        "watcher" => runtime_watch(api, n, false).await,
        "reflector" => runtime_watch(api, n, true).await,
        _ => Err(format!("unknown watch {how} of {kind}").into()),
    }
}

async fn watch_kind(
    client: Client,
    how: &str,
    kind: &str,
    ns: &str,
    n: usize,
) -> Result<(), Error> {
    match kind {
        "pods" => watch_with(Api::<Pod>::namespaced(client, ns), how, kind, n).await,
        "configmaps" => watch_with(Api::<ConfigMap>::namespaced(client, ns), how, kind, n).await,
        _ => Err(format!("unknown watch {how} of {kind}").into()),
    }
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
