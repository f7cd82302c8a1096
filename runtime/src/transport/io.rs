//! One byte-stream type over every link the runtime supports.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

/// A connected byte stream: TCP, TLS over TCP (either side), Unix socket or in-memory.
pub enum Io {
    /// Plain TCP.
    Tcp(TcpStream),
    /// TLS, client side.
    TlsClient(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// TLS, server side.
    TlsServer(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    /// Unix domain socket.
    Unix(UnixStream),
    /// In-memory duplex link.
    Memory(DuplexStream),
}

impl std::fmt::Debug for Io {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Io::Tcp(_) => "Io::Tcp",
            Io::TlsClient(_) => "Io::TlsClient",
            Io::TlsServer(_) => "Io::TlsServer",
            Io::Unix(_) => "Io::Unix",
            Io::Memory(_) => "Io::Memory",
        })
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Io::Tcp($s) => {
                let $s = Pin::new($s);
                $e
            }
            Io::TlsClient($s) => {
                let $s = Pin::new(&mut **$s);
                $e
            }
            Io::TlsServer($s) => {
                let $s = Pin::new(&mut **$s);
                $e
            }
            Io::Unix($s) => {
                let $s = Pin::new($s);
                $e
            }
            Io::Memory($s) => {
                let $s = Pin::new($s);
                $e
            }
        }
    };
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Io::Tcp(s) => s.is_write_vectored(),
            Io::TlsClient(s) => s.is_write_vectored(),
            Io::TlsServer(s) => s.is_write_vectored(),
            Io::Unix(s) => s.is_write_vectored(),
            Io::Memory(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_shutdown(cx))
    }
}

impl hyper_util::client::legacy::connect::Connection for Io {
    fn connected(&self) -> hyper_util::client::legacy::connect::Connected {
        let c = hyper_util::client::legacy::connect::Connected::new();
        match self {
            Io::TlsClient(s) if s.get_ref().1.alpn_protocol() == Some(b"h2") => c.negotiated_h2(),
            _ => c,
        }
    }
}
