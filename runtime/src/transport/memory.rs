//! An in-memory link: a listener and a connector joined by a channel, each connection a
//! `tokio::io::duplex` pipe. Full HTTP and protocol semantics, no sockets.

use std::io;

use tokio::sync::mpsc;

use super::io::Io;

/// Buffer size of each direction of an in-memory connection.
const PIPE_BUFFER: usize = 256 * 1024;

/// Accepts in-memory connections.
#[derive(Debug)]
pub struct MemoryListener {
    rx: mpsc::UnboundedReceiver<tokio::io::DuplexStream>,
}

/// Opens in-memory connections to one [`MemoryListener`].
#[derive(Debug, Clone)]
pub struct MemoryConnector {
    tx: mpsc::UnboundedSender<tokio::io::DuplexStream>,
}

/// A connected listener and connector.
pub fn memory_link() -> (MemoryConnector, MemoryListener) {
    let (tx, rx) = mpsc::unbounded_channel();
    (MemoryConnector { tx }, MemoryListener { rx })
}

impl MemoryListener {
    /// The next connection, or `None` once every connector is gone.
    pub async fn accept(&mut self) -> Option<Io> {
        self.rx.recv().await.map(Io::Memory)
    }
}

impl MemoryConnector {
    /// Opens a connection; fails when the listener is gone.
    pub fn connect(&self) -> io::Result<Io> {
        let (a, b) = tokio::io::duplex(PIPE_BUFFER);
        self.tx.send(b).map_err(|_| {
            io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "in-memory listener is closed",
            )
        })?;
        Ok(Io::Memory(a))
    }
}
