//! Background I/O: the one tokio runtime the module owns, and the pieces the
//! Lua thread uses to wait for it, poll it, or be woken by it.
//!
//! - [`spawn`] runs a future on the runtime (one worker thread, made on first
//!   use and made again when the process id changes: a runtime made before
//!   `fork()` has no threads in the child). Nothing here ever runs Lua.
//! - A [`Signal`] is the identity of one handle (a pending call, a watch, a
//!   followed log, a page): a number (`id`), a sequence the I/O side bumps
//!   with [`Signal::notify`] and the Lua side marks as seen when it drains.
//!   "Has news" is `seq != seen`. A notify wakes, at once: threads blocked in
//!   [`Signal::wait`], the handle's own eventfd (cqueues' `pollfd`), and the
//!   process-wide readiness eventfd with the id added to the ready set (luv,
//!   Neovim: [`take_ready`]). Other OS threads and other Lua states of the
//!   process (OpenResty's thread pool) wait on a handle by id ([`wait_id`]).
//! - A [`Mailbox`] carries a task's results to the Lua thread: a queue whose
//!   pushes notify a signal, bounded in bytes for streams (the task waits for
//!   room: backpressure, not unbounded memory), cancelled (task aborted)
//!   when the receiver is dropped.
//!
//! Everything here is callable from any thread, at any time, including
//! process exit: no `Runtime::enter`, no thread-local state, no panics.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};
use tokio::runtime::{Handle, Runtime};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// Writing to a connection the server has reset raises SIGPIPE (hyper
/// writes with `writev`, which cannot ask for no signal), and a Lua host
/// keeps the default action: the whole process dies. Ignore it, unless the
/// host installed its own handler, so the write fails with EPIPE instead and
/// becomes a normal error (or a retry). Done once per process.
fn ignore_sigpipe() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: sigaction with a null new action only reads the disposition
    // into a zeroed struct we own; signal() installs SIG_IGN, which is
    // async-signal-safe and has no handler code.
    ONCE.call_once(|| unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut current) == 0
            && current.sa_sigaction == libc::SIG_DFL
        {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
    });
}

/// The runtime of this process, created on first use and after a fork.
pub(crate) fn handle() -> Result<Handle, String> {
    ignore_sigpipe();
    let pid = std::process::id();
    let mut slot = lock(&RUNTIME);
    if let Some((owner, rt)) = slot.as_ref() {
        if *owner == pid {
            return Ok(rt.handle().clone());
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(8)
        .thread_name("luakube-io")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the I/O runtime: {e}"))?;
    let rt = Arc::new(rt);
    // The parent's runtime is unusable here (its threads do not exist in the
    // child) and dropping it would wait for them: leak it. The runtime of the
    // process itself lives in this static and is never dropped, so nothing
    // shuts it down at exit while another thread still uses it.
    if let Some(old) = slot.replace((pid, rt.clone())) {
        std::mem::forget(old);
    }
    Ok(rt.handle().clone())
}

/// Runs `fut` on the background runtime; the handle aborts it.
pub(crate) fn spawn<F>(fut: F) -> Result<tokio::task::AbortHandle, String>
where
    F: Future<Output = ()> + Send + 'static,
{
    let h = handle()?;
    Ok(h.spawn(fut).abort_handle())
}

/// Drops `value` on the runtime's thread (hyper bodies and connection pools
/// like to be dropped inside the runtime), or leaks it when that is not
/// possible (another process's objects, no runtime, a panic at exit).
pub(crate) fn drop_in_background<T: Send + 'static>(value: T, pid: u32) {
    if pid != std::process::id() {
        std::mem::forget(value);
        return;
    }
    let slot = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let h = lock(&RUNTIME)
            .as_ref()
            .filter(|(owner, _)| *owner == pid)
            .map(|(_, rt)| rt.handle().clone());
        match h {
            Some(h) => {
                h.spawn(async move { drop(value) });
            }
            None => std::mem::forget(value),
        }
    }));
    // A panic here (at process exit) is swallowed: never across the boundary.
    let _ = slot;
}

// ---------------------------------------------------------------- signals

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Set once something asked for the readiness descriptor (an adapter):
/// until then notifies do not collect ids nobody would drain.
static LISTENING: AtomicBool = AtomicBool::new(false);

/// Live signals by id, for [`wait_id`] from other threads and Lua states.
static REGISTRY: Mutex<Option<HashMap<u64, Weak<Signal>>>> = Mutex::new(None);

/// The process-wide readiness eventfd and the ids that have news.
struct Ready {
    pid: u32,
    fd: Option<OwnedFd>,
    ids: Vec<u64>,
}

static READY: Mutex<Option<Ready>> = Mutex::new(None);
/// Signalled when an id enters the ready set ([`wait_ready`]).
static READY_COND: Condvar = Condvar::new();

fn new_eventfd() -> Option<OwnedFd> {
    // SAFETY: eventfd returns a new descriptor we own (or -1).
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    // SAFETY: fd is a fresh, valid descriptor owned by nobody else.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

fn eventfd_write(fd: RawFd) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a live u64 to a descriptor; errors (EAGAIN
    // when the counter is saturated) are fine: it is readable then anyway.
    unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
}

fn eventfd_reset(fd: RawFd) {
    let mut n: u64 = 0;
    // SAFETY: reads at most 8 bytes into a live u64; a non-blocking eventfd
    // that is not readable answers EAGAIN, which is the reset state.
    unsafe { libc::read(fd, (&mut n as *mut u64).cast(), 8) };
}

fn ready_slot(r: &mut Option<Ready>) -> &mut Ready {
    let pid = std::process::id();
    if r.as_ref().is_some_and(|r| r.pid != pid) {
        // The parent's eventfd is shared with it: make our own.
        if let Some(old) = r.take() {
            std::mem::forget(old.fd);
        }
    }
    r.get_or_insert_with(|| Ready {
        pid,
        fd: new_eventfd(),
        ids: Vec::new(),
    })
}

/// The process-wide readiness descriptor: readable when some handle has news.
pub(crate) fn ready_fd() -> Result<RawFd, String> {
    LISTENING.store(true, Ordering::Release);
    let mut r = lock(&READY);
    ready_slot(&mut r)
        .fd
        .as_ref()
        .map(|f| f.as_raw_fd())
        .ok_or_else(|| "cannot make an eventfd".to_string())
}

/// The ids that had news since the last call (the descriptor is reset).
pub(crate) fn take_ready() -> Vec<u64> {
    let mut r = lock(&READY);
    let slot = ready_slot(&mut r);
    if let Some(fd) = &slot.fd {
        eventfd_reset(fd.as_raw_fd());
    }
    std::mem::take(&mut slot.ids)
}

/// Blocks (any thread) until some handle has news or `timeout` passes, and
/// takes the ready ids (OpenResty: one pool thread per worker waits for all).
pub(crate) fn wait_ready(timeout: Duration) -> Vec<u64> {
    LISTENING.store(true, Ordering::Release);
    let deadline = Instant::now() + timeout;
    let mut r = lock(&READY);
    loop {
        let slot = ready_slot(&mut r);
        if !slot.ids.is_empty() {
            if let Some(fd) = &slot.fd {
                eventfd_reset(fd.as_raw_fd());
            }
            return std::mem::take(&mut slot.ids);
        }
        let now = Instant::now();
        if now >= deadline {
            return Vec::new();
        }
        r = READY_COND
            .wait_timeout(r, deadline - now)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}

#[derive(Default)]
struct SignalState {
    seq: u64,
    seen: u64,
    /// The handle's own eventfd and the process it belongs to.
    fd: Option<(u32, OwnedFd)>,
}

/// The identity and wake-up of one handle (see the module text).
pub(crate) struct Signal {
    id: u64,
    /// Lua asked for the id or readiness: only such handles enter the
    /// ready set (blocking calls never do, so it stays small).
    exposed: AtomicBool,
    state: Mutex<SignalState>,
    cond: Condvar,
}

impl Signal {
    pub(crate) fn new() -> Arc<Signal> {
        let s = Arc::new(Signal {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            exposed: AtomicBool::new(false),
            state: Mutex::new(SignalState::default()),
            cond: Condvar::new(),
        });
        lock(&REGISTRY)
            .get_or_insert_with(HashMap::new)
            .insert(s.id, Arc::downgrade(&s));
        s
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Lua may wait for this handle by id from now on: its notifies enter the
    /// ready set. Called by `id()`, `ready()`, `pollfd()` on the Lua side,
    /// before an adapter waits (so no notify after its check is missed).
    pub(crate) fn expose(&self) {
        self.exposed.store(true, Ordering::Release);
    }

    /// Something happened: wake whoever waits for this handle.
    pub(crate) fn notify(&self) {
        {
            let mut st = lock(&self.state);
            st.seq += 1;
            if let Some((pid, fd)) = &st.fd {
                if *pid == std::process::id() {
                    eventfd_write(fd.as_raw_fd());
                }
            }
        }
        self.cond.notify_all();
        if !LISTENING.load(Ordering::Acquire) || !self.exposed.load(Ordering::Acquire) {
            return;
        }
        let mut r = lock(&READY);
        let slot = ready_slot(&mut r);
        if !slot.ids.contains(&self.id) {
            slot.ids.push(self.id);
        }
        if let Some(fd) = &slot.fd {
            eventfd_write(fd.as_raw_fd());
        }
        drop(r);
        READY_COND.notify_all();
    }

    /// News since the last [`Signal::mark_seen`]?
    pub(crate) fn has_news(&self) -> bool {
        self.expose();
        let st = lock(&self.state);
        st.seq != st.seen
    }

    /// The consumer is about to drain everything that arrived: later
    /// notifies are news again (and make the pollfd readable again).
    pub(crate) fn mark_seen(&self) {
        let mut st = lock(&self.state);
        st.seen = st.seq;
        if let Some((pid, fd)) = &st.fd {
            if *pid == std::process::id() {
                eventfd_reset(fd.as_raw_fd());
            }
        }
    }

    /// Blocks until there is news or `deadline` passes; true when there is.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> bool {
        let mut st = lock(&self.state);
        loop {
            if st.seq != st.seen {
                return true;
            }
            match deadline {
                None => st = self.cond.wait(st).unwrap_or_else(|p| p.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    st = self
                        .cond
                        .wait_timeout(st, d - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
            }
        }
    }

    /// The handle's own descriptor, readable while it has news (cqueues).
    pub(crate) fn pollfd(&self) -> Result<RawFd, String> {
        self.expose();
        let pid = std::process::id();
        let mut st = lock(&self.state);
        if st.fd.as_ref().is_some_and(|(p, _)| *p != pid) {
            if let Some((_, old)) = st.fd.take() {
                std::mem::forget(old);
            }
        }
        if st.fd.is_none() {
            let fd = new_eventfd().ok_or("cannot make an eventfd")?;
            if st.seq != st.seen {
                eventfd_write(fd.as_raw_fd());
            }
            st.fd = Some((pid, fd));
        }
        Ok(st.fd.as_ref().map(|(_, f)| f.as_raw_fd()).unwrap_or(-1))
    }

    /// Notifies this signal at `when` (a backoff ends), from the runtime.
    pub(crate) fn notify_at(self: &Arc<Self>, when: Instant) {
        let weak = Arc::downgrade(self);
        let _ = spawn(async move {
            tokio::time::sleep_until(when.into()).await;
            if let Some(s) = weak.upgrade() {
                s.notify();
            }
        });
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        if let Ok(mut reg) = REGISTRY.try_lock() {
            if let Some(map) = reg.as_mut() {
                map.remove(&self.id);
            }
        }
        // A descriptor inherited from the parent is the parent's to close.
        if let Some((pid, fd)) = self
            .state
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .fd
            .take()
        {
            if pid != std::process::id() {
                std::mem::forget(fd);
            }
        }
    }
}

/// Waits (from any thread, any Lua state) until handle `id` has news or
/// `timeout` passes. True when it has news or is gone (nothing to wait for).
pub(crate) fn wait_id(id: u64, timeout: Duration) -> bool {
    let signal = lock(&REGISTRY)
        .as_ref()
        .and_then(|m| m.get(&id))
        .and_then(Weak::upgrade);
    match signal {
        Some(s) => s.wait(Some(Instant::now() + timeout)),
        None => true,
    }
}

// --------------------------------------------------------------- mailboxes

struct Queue<T> {
    items: VecDeque<(T, usize)>,
    bytes: usize,
    /// The receiver is gone: the task should stop.
    closed: bool,
}

struct MailboxShared<T> {
    queue: Mutex<Queue<T>>,
    signal: Arc<Signal>,
    /// Room in a bounded mailbox (the task waits on it).
    room: tokio::sync::Notify,
    limit: usize,
}

/// The task's end of a mailbox.
pub(crate) struct Sender<T> {
    shared: Arc<MailboxShared<T>>,
}

/// The Lua thread's end: items in order; dropping it cancels the task.
pub(crate) struct Mailbox<T> {
    shared: Arc<MailboxShared<T>>,
    task: Option<tokio::task::AbortHandle>,
    pid: u32,
}

/// A mailbox whose pushes notify `signal`; a bounded one (`limit` bytes) makes
/// [`Sender::push_bounded`] wait while the receiver is behind.
pub(crate) fn mailbox<T>(signal: Arc<Signal>, limit: usize) -> (Sender<T>, Mailbox<T>) {
    let shared = Arc::new(MailboxShared {
        queue: Mutex::new(Queue {
            items: VecDeque::new(),
            bytes: 0,
            closed: false,
        }),
        signal,
        room: tokio::sync::Notify::new(),
        limit,
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Mailbox {
            shared,
            task: None,
            pid: std::process::id(),
        },
    )
}

impl<T> Sender<T> {
    /// Queues `item` (of `size` bytes) and wakes the receiver; false when
    /// the receiver is gone.
    pub(crate) fn push(&self, item: T, size: usize) -> bool {
        {
            let mut q = lock(&self.shared.queue);
            if q.closed {
                return false;
            }
            q.items.push_back((item, size));
            q.bytes += size;
        }
        self.shared.signal.notify();
        true
    }

    /// As `push`, waiting first while the mailbox holds more than its limit.
    pub(crate) async fn push_bounded(&self, item: T, size: usize) -> bool {
        loop {
            let room = self.shared.room.notified();
            {
                let q = lock(&self.shared.queue);
                if q.closed {
                    return false;
                }
                if q.bytes < self.shared.limit || q.items.is_empty() {
                    break;
                }
            }
            room.await;
        }
        self.push(item, size)
    }

    /// The receiver is gone (for tasks that do not push often).
    #[allow(dead_code)] // for session tasks (issue 13)
    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.shared.queue).closed
    }
}

impl<T> Mailbox<T> {
    pub(crate) fn set_task(&mut self, task: tokio::task::AbortHandle) {
        self.task = Some(task);
    }

    pub(crate) fn signal(&self) -> &Arc<Signal> {
        &self.shared.signal
    }

    /// Made by another process (before a fork): its task does not exist here.
    pub(crate) fn orphaned(&self) -> bool {
        self.pid != std::process::id()
    }

    /// The next item if one has arrived (never waits).
    pub(crate) fn try_pop(&mut self) -> Option<T> {
        if self.orphaned() {
            return None;
        }
        let (item, size) = {
            let mut q = lock(&self.shared.queue);
            let (item, size) = q.items.pop_front()?;
            q.bytes -= size;
            (item, size)
        };
        if size > 0 {
            self.shared.room.notify_one();
        }
        Some(item)
    }

    /// The next item, waiting until `deadline` (forever when `None`).
    pub(crate) fn pop(&mut self, deadline: Option<Instant>) -> Option<T> {
        loop {
            if self.orphaned() {
                return None;
            }
            // Seen before looking, so a push after the look is news.
            self.shared.signal.mark_seen();
            if let Some(item) = self.try_pop() {
                return Some(item);
            }
            if !self.shared.signal.wait(deadline) {
                return None;
            }
        }
    }

    /// Stops the task and discards what it sent.
    pub(crate) fn cancel(&mut self) {
        if let Some(t) = self.task.take() {
            if !self.orphaned() {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t.abort()));
            }
        }
        let mut q = lock(&self.shared.queue);
        q.closed = true;
        q.items.clear();
        q.bytes = 0;
        drop(q);
        self.shared.room.notify_one();
    }
}

impl<T> Drop for Mailbox<T> {
    fn drop(&mut self) {
        if self.orphaned() {
            // The parent's task and locks: do not touch them.
            self.task.take();
            return;
        }
        self.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_result_reaches_a_waiting_thread_and_the_ready_set() {
        ready_fd().unwrap();
        let signal = Signal::new();
        signal.expose();
        let id = signal.id();
        let (tx, mut rx) = mailbox::<u32>(signal.clone(), 0);
        let task = spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            tx.push(7, 0);
        })
        .unwrap();
        rx.set_task(task);
        assert!(!signal.has_news());
        assert_eq!(rx.try_pop(), None);
        assert!(wait_id(id, Duration::from_secs(5)));
        assert!(take_ready().contains(&id));
        assert_eq!(
            rx.pop(Some(Instant::now() + Duration::from_secs(5))),
            Some(7)
        );
        assert_eq!(rx.pop(Some(Instant::now())), None);
    }

    #[test]
    fn the_pollfd_is_readable_while_there_is_news() {
        let signal = Signal::new();
        let fd = signal.pollfd().unwrap();
        let readable = |fd: RawFd| {
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one pollfd struct we own, zero timeout.
            unsafe { libc::poll(&mut p, 1, 0) == 1 }
        };
        assert!(!readable(fd));
        signal.notify();
        assert!(readable(fd) && signal.has_news());
        signal.mark_seen();
        assert!(!readable(fd) && !signal.has_news());
        let at = Instant::now() + Duration::from_millis(30);
        signal.notify_at(at);
        assert!(signal.wait(Some(Instant::now() + Duration::from_secs(5))));
        assert!(Instant::now() >= at);
    }

    #[test]
    fn a_bounded_mailbox_makes_the_task_wait_and_drop_cancels_it() {
        let signal = Signal::new();
        let (tx, mut rx) = mailbox::<Vec<u8>>(signal, 10);
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let task = spawn(async move {
            let mut sent = 0;
            while tx.push_bounded(vec![0; 6], 6).await {
                sent += 1;
            }
            let _ = done_tx.send(sent);
        })
        .unwrap();
        rx.set_task(task);
        std::thread::sleep(Duration::from_millis(50));
        assert!(lock(&rx.shared.queue).items.len() <= 2, "bounded");
        assert!(rx.pop(None).is_some());
        drop(rx);
        // Aborted: the task never reports.
        assert!(done_rx.recv_timeout(Duration::from_millis(200)).is_err());
    }
}
