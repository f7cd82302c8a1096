//! The two directions of one proxied connection. Each is a delay line: a reader stamps
//! every chunk with the time it arrived and queues it; a writer forwards the chunks in
//! order, each no earlier than its arrival plus the direction's latency, not while the
//! direction is stalled, and paced to the direction's bandwidth. Reading goes on while the
//! writer waits, so latency delays bytes without limiting throughput (up to
//! [`BUFFER_LIMIT`] bytes in flight per direction).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::time::{Instant, sleep_until};

use super::faults::{Direction, FaultState};
use super::stats::Counters;

/// The most bytes one read takes.
pub(crate) const CHUNK: usize = 16 * 1024;

/// The most bytes one direction of one connection holds (read, not yet forwarded). When a
/// stalled or slow direction has this many, the proxy stops reading and the sender's TCP
/// window fills, as on a real congested path.
pub(crate) const BUFFER_LIMIT: usize = 2 << 20;

/// Bytes read at one moment, or the end of the stream (`data: None`).
struct Chunk {
    data: Option<Vec<u8>>,
    read_at: Instant,
    /// The chunk's share of [`BUFFER_LIMIT`], given back once it is forwarded.
    _permit: Option<OwnedSemaphorePermit>,
}

/// Forwards both directions between a client and a target until both have ended (a clean
/// end of stream forwarded each way), or until the first I/O error on any side.
pub(crate) async fn pump<CR, CW, TR, TW>(
    client: (CR, CW),
    target: (TR, TW),
    faults: &watch::Sender<FaultState>,
    counters: &Counters,
) -> io::Result<()>
where
    CR: AsyncRead + Unpin,
    CW: AsyncWrite + Unpin,
    TR: AsyncRead + Unpin,
    TW: AsyncWrite + Unpin,
{
    let (client_r, client_w) = client;
    let (target_r, target_w) = target;
    let up = direction(
        client_r,
        target_w,
        Direction::Upstream,
        faults.subscribe(),
        counters,
    );
    let down = direction(
        target_r,
        client_w,
        Direction::Downstream,
        faults.subscribe(),
        counters,
    );
    tokio::try_join!(up, down).map(|_| ())
}

async fn direction<R, W>(
    r: R,
    w: W,
    dir: Direction,
    faults: watch::Receiver<FaultState>,
    counters: &Counters,
) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (tx, rx) = mpsc::unbounded_channel();
    let budget = Arc::new(Semaphore::new(BUFFER_LIMIT));
    tokio::try_join!(
        read_side(r, tx, budget, dir, counters),
        write_side(w, rx, dir, faults, counters)
    )
    .map(|_| ())
}

async fn read_side<R: AsyncRead + Unpin>(
    mut r: R,
    tx: mpsc::UnboundedSender<Chunk>,
    budget: Arc<Semaphore>,
    dir: Direction,
    counters: &Counters,
) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = r.read(&mut buf).await?;
        let read_at = Instant::now();
        if n == 0 {
            let _ = tx.send(Chunk {
                data: None,
                read_at,
                _permit: None,
            });
            return Ok(());
        }
        counters.received(dir, n);
        let permit = Arc::clone(&budget)
            .acquire_many_owned(n as u32)
            .await
            .expect("the budget semaphore is never closed");
        let chunk = Chunk {
            data: Some(buf[..n].to_vec()),
            read_at,
            _permit: Some(permit),
        };
        if tx.send(chunk).is_err() {
            // The writer has stopped, which it does only on an error that ends the pump.
            return Ok(());
        }
    }
}

async fn write_side<W: AsyncWrite + Unpin>(
    mut w: W,
    mut rx: mpsc::UnboundedReceiver<Chunk>,
    dir: Direction,
    mut faults: watch::Receiver<FaultState>,
    counters: &Counters,
) -> io::Result<()> {
    let mut pacer = Pacer::default();
    while let Some(chunk) = rx.recv().await {
        delay(&mut faults, dir, chunk.read_at).await;
        let Some(data) = chunk.data else {
            tracing::trace!(?dir, "forwarding end of stream");
            return w.shutdown().await;
        };
        let mut sent = 0;
        while sent < data.len() {
            let n = pacer.admit(&mut faults, dir, data.len() - sent).await;
            w.write_all(&data[sent..sent + n]).await?;
            counters.forwarded(dir, n);
            sent += n;
        }
    }
    Ok(())
}

/// Waits for the next change of the faults (forever once the proxy is gone: they will not
/// change again).
async fn changed(faults: &mut watch::Receiver<FaultState>) {
    if faults.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Waits until a chunk read at `read_at` may go: its latency has passed and the direction
/// is not stalled. Follows changes of both while waiting.
async fn delay(faults: &mut watch::Receiver<FaultState>, dir: Direction, read_at: Instant) {
    loop {
        let f = *faults.borrow_and_update().get(dir);
        if f.stalled {
            changed(faults).await;
            continue;
        }
        let due = read_at + f.latency;
        if due <= Instant::now() {
            return;
        }
        tokio::select! {
            _ = sleep_until(due) => return,
            _ = changed(faults) => {}
        }
    }
}

/// Paces writes to a bandwidth: a piece of `n` bytes is written only once the link would
/// have carried it, `n / rate` after the previous piece finished (or after now, if the link
/// was idle). So `N` bytes take at least `N / rate` seconds, with no initial burst.
#[derive(Debug, Default)]
struct Pacer {
    /// When the last admitted piece finished "transmitting".
    free_at: Option<Instant>,
}

impl Pacer {
    /// Waits until some of `want` bytes may be written; returns how many.
    async fn admit(
        &mut self,
        faults: &mut watch::Receiver<FaultState>,
        dir: Direction,
        want: usize,
    ) -> usize {
        loop {
            let f = *faults.borrow_and_update().get(dir);
            if f.stalled || f.bandwidth == Some(0) {
                changed(faults).await;
                continue;
            }
            let Some(rate) = f.bandwidth else {
                self.free_at = None;
                return want;
            };
            // Pieces of about 20 ms of transmission, so output is smooth.
            let piece = want.min((rate / 50).clamp(1, CHUNK as u64) as usize);
            let now = Instant::now();
            let start = self.free_at.map_or(now, |t| t.max(now));
            // Rounded up, so that the pieces of `N` bytes never add up to less than `N / rate`.
            let nanos = (piece as u128 * 1_000_000_000).div_ceil(u128::from(rate));
            let done = start + Duration::from_nanos(nanos as u64);
            tokio::select! {
                _ = sleep_until(done) => {
                    self.free_at = Some(done);
                    return piece;
                }
                _ = changed(faults) => {}
            }
        }
    }
}
