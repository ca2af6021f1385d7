//! A TCP proxy on 127.0.0.1 between the bot and a server (PostgreSQL) that injects
//! the faults of a server going away: [`FaultProxy::cut`] closes every connection open
//! through it, as a server that stops does; [`FaultProxy::refuse`] makes it accept new
//! connections and close them at once, as a server still starting does;
//! [`FaultProxy::stall`] holds every byte, both ways, on every connection, as a server
//! (or a network) that stops answering without closing anything;
//! [`FaultProxy::lose_next_commit`] lets the next `COMMIT` reach the server but closes
//! that connection before its answer comes back; and [`FaultProxy::pass`] lets traffic
//! through again. Each connection is two copies (bot → server, server → bot) in one
//! task, which ends when either side closes or at the next cut: nothing outlives the
//! proxy.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
}

struct Shared {
    upstream: SocketAddr,
    refusing: AtomicBool,
    /// While true, bytes read from either side are held, not written on.
    stalled: watch::Sender<bool>,
    /// Armed by [`FaultProxy::lose_next_commit`].
    commit_trap: AtomicBool,
    /// Bumped by every cut: each connection ends when it changes.
    cuts: watch::Sender<u64>,
    /// Connections taken through to the server, in all.
    passed: AtomicUsize,
    /// Connections accepted and closed at once while refusing.
    refused: AtomicUsize,
}

impl FaultProxy {
    /// A proxy to `upstream` (a loopback address), passing traffic.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        assert!(
            upstream.ip().is_loopback(),
            "the tests talk to loopback only"
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            upstream,
            refusing: AtomicBool::new(false),
            stalled: watch::channel(false).0,
            commit_trap: AtomicBool::new(false),
            cuts: watch::channel(0).0,
            passed: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
        });
        let accepting = Arc::clone(&shared);
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                if accepting.refusing.load(Ordering::SeqCst) {
                    accepting.refused.fetch_add(1, Ordering::SeqCst);
                    drop(client);
                    continue;
                }
                tokio::spawn(relay(client, Arc::clone(&accepting)));
            }
        });
        FaultProxy {
            addr,
            shared,
            accept,
        }
    }

    /// Where the bot connects instead of the server.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every connection open through the proxy.
    pub fn cut(&self) {
        self.shared.cuts.send_modify(|n| *n += 1);
    }

    /// The server is down: every open connection is cut, and new ones are accepted and
    /// closed at once until [`FaultProxy::pass`].
    pub fn refuse(&self) {
        self.shared.refusing.store(true, Ordering::SeqCst);
        self.cut();
    }

    /// The server stops answering: every byte is held, on the connections open and on
    /// new ones, until [`FaultProxy::pass`]; nothing is closed.
    pub fn stall(&self) {
        self.shared.stalled.send_replace(true);
    }

    /// The next `COMMIT` a bot sends reaches the server, which commits it, but its
    /// answer never reaches the bot: the connection is closed 300 ms after, as when a
    /// server (or the network) goes away just as it commits.
    pub fn lose_next_commit(&self) {
        self.shared.commit_trap.store(true, Ordering::SeqCst);
    }

    /// The server is back: new connections go through, and bytes held are passed on.
    pub fn pass(&self) {
        self.shared.refusing.store(false, Ordering::SeqCst);
        self.shared.stalled.send_replace(false);
    }

    /// Connections taken through to the server so far.
    pub fn passed(&self) -> usize {
        self.shared.passed.load(Ordering::SeqCst)
    }

    /// Connections refused so far.
    pub fn refused(&self) -> usize {
        self.shared.refused.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// One connection: copied both ways until either side closes or the next cut.
async fn relay(client: TcpStream, shared: Arc<Shared>) {
    let mut cuts = shared.cuts.subscribe();
    cuts.mark_unchanged();
    // Refused (and cut) between its accept and here: closed as the others.
    if shared.refusing.load(Ordering::SeqCst) {
        return;
    }
    let Ok(server) = TcpStream::connect(shared.upstream).await else {
        return;
    };
    shared.passed.fetch_add(1, Ordering::SeqCst);
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let trapped = tokio::select! {
        trapped = copy(
            &mut from_client,
            &mut to_server,
            shared.stalled.subscribe(),
            Some(&shared.commit_trap),
        ) => trapped,
        _ = copy(&mut from_server, &mut to_client, shared.stalled.subscribe(), None) => false,
        _ = cuts.changed() => false,
    };
    if trapped {
        // The server has the COMMIT and commits it; its answer is never read, and
        // both connections close once it has had the time to.
        tokio::time::sleep(COMMIT_TIME).await;
    }
}

/// What the server is given to commit before a trapped connection is closed.
const COMMIT_TIME: Duration = Duration::from_millis(300);

/// Copies `from` to `to` until either closes (`false`), holding what it read while
/// `stalled`; with an armed `commit_trap`, until it has passed on a `COMMIT` (`true`,
/// the trap disarmed).
async fn copy(
    from: &mut OwnedReadHalf,
    to: &mut OwnedWriteHalf,
    mut stalled: watch::Receiver<bool>,
    commit_trap: Option<&AtomicBool>,
) -> bool {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        if stalled.wait_for(|s| !*s).await.is_err() || to.write_all(&buffer[..n]).await.is_err() {
            return false;
        }
        // A simple query `COMMIT` (how sqlx ends a transaction): 'Q', its length, the text.
        let commit = buffer[..n].windows(7).any(|w| w == b"COMMIT\0");
        if commit && commit_trap.is_some_and(|t| t.swap(false, Ordering::SeqCst)) {
            return true;
        }
    }
}
