//! The server's limits and timeouts: what keeps one slow, idle or hostile peer from holding
//! resources the others need.

use std::time::Duration;

/// Limits and timeouts of a [`Server`](super::Server), set with
/// [`Server::limits`](super::Server::limits).
///
/// Every field has a production default (see [`ServerLimits::default`] and each setter); a
/// server built with `Server::new` uses them unchanged. The timeouts are per connection:
/// each one closes only the connection that overstayed, never the server.
///
/// ```
/// use std::time::Duration;
/// use connect_plugin::transport::ServerLimits;
///
/// let limits = ServerLimits::default()
///     .max_connections(64)
///     .max_connection_age(Some(Duration::from_secs(30 * 60)));
/// assert!(limits.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLimits {
    pub(crate) header_read_timeout: Duration,
    pub(crate) tls_handshake_timeout: Duration,
    pub(crate) http2_keepalive_interval: Option<Duration>,
    pub(crate) http2_keepalive_timeout: Duration,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) max_connection_age: Option<Duration>,
    pub(crate) close_grace: Duration,
    pub(crate) max_concurrent_streams: u32,
    pub(crate) max_connections: usize,
}

/// Default of [`ServerLimits::header_read_timeout`]: 30 s.
pub(crate) const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of [`ServerLimits::tls_handshake_timeout`]: 10 s.
pub(crate) const DEFAULT_TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default of [`ServerLimits::http2_keepalive_interval`]: 60 s.
pub(crate) const DEFAULT_HTTP2_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(60);
/// Default of [`ServerLimits::http2_keepalive_timeout`]: 20 s.
pub(crate) const DEFAULT_HTTP2_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);
/// Default of [`ServerLimits::idle_timeout`]: 5 minutes.
pub(crate) const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Default of [`ServerLimits::close_grace`]: 30 s.
pub(crate) const DEFAULT_CLOSE_GRACE: Duration = Duration::from_secs(30);
/// Default of [`ServerLimits::max_concurrent_streams`]: 1000.
pub(crate) const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 1000;
/// Default of [`ServerLimits::max_connections`]: 512.
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 512;

impl Default for ServerLimits {
    /// The production defaults:
    ///
    /// | limit | default |
    /// |---|---|
    /// | [`header_read_timeout`](Self::header_read_timeout) | 30 s |
    /// | [`tls_handshake_timeout`](Self::tls_handshake_timeout) | 10 s |
    /// | [`http2_keepalive_interval`](Self::http2_keepalive_interval) | 60 s |
    /// | [`http2_keepalive_timeout`](Self::http2_keepalive_timeout) | 20 s |
    /// | [`idle_timeout`](Self::idle_timeout) | 5 min |
    /// | [`max_connection_age`](Self::max_connection_age) | none |
    /// | [`close_grace`](Self::close_grace) | 30 s |
    /// | [`max_concurrent_streams`](Self::max_concurrent_streams) | 1000 |
    /// | [`max_connections`](Self::max_connections) | 512 |
    ///
    /// Each setter says why its default was chosen.
    fn default() -> Self {
        ServerLimits {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            tls_handshake_timeout: DEFAULT_TLS_HANDSHAKE_TIMEOUT,
            http2_keepalive_interval: Some(DEFAULT_HTTP2_KEEPALIVE_INTERVAL),
            http2_keepalive_timeout: DEFAULT_HTTP2_KEEPALIVE_TIMEOUT,
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            max_connection_age: None,
            close_grace: DEFAULT_CLOSE_GRACE,
            max_concurrent_streams: DEFAULT_MAX_CONCURRENT_STREAMS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl ServerLimits {
    /// The defaults (the same as [`ServerLimits::default`]).
    pub fn new() -> Self {
        ServerLimits::default()
    }

    /// How long a peer may take to send what identifies its first request, measured from
    /// the moment the connection is accepted (after TLS): for HTTP/1.1 the complete head of
    /// the first request, for HTTP/2 the client connection preface (the magic string and
    /// the first SETTINGS frame). A connection that has not managed that is closed at once,
    /// with nothing to drain. On HTTP/1.1 every later request head must also arrive within
    /// this time, counted from when the server starts waiting for it (hyper's header read
    /// timeout), so a keep-alive connection waiting for its next request is closed after
    /// it too. After the preface, an HTTP/2 connection is watched by the keep-alive pings
    /// and the idle timeout instead.
    ///
    /// Default 30 s: hyper's own default for HTTP/1.1, enough for a slow link to send a few
    /// KiB of headers, while a slowloris peer (one that sends a request a byte at a time, or
    /// connects and says nothing) holds its connection slot for at most this long.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How long a TLS handshake may take before the connection is dropped (TLS servers
    /// only; it runs before [`header_read_timeout`](Self::header_read_timeout) starts).
    ///
    /// Default 10 s: a handshake is a few round trips, which take milliseconds even across
    /// continents; ten seconds leaves room for a loaded peer without letting a stalled one
    /// keep its slot.
    pub fn tls_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.tls_handshake_timeout = timeout;
        self
    }

    /// How often an HTTP/2 connection from which nothing has been received is probed with a
    /// PING frame; a peer that does not answer within
    /// [`http2_keepalive_timeout`](Self::http2_keepalive_timeout) is disconnected. `None`
    /// turns the pings off. (HTTP/1.1 has no ping; an idle HTTP/1.1 connection is closed by
    /// the header read timeout instead.)
    ///
    /// Default 60 s: a peer that vanished without closing its socket (crashed host, dropped
    /// NAT entry, network partition) is found within 80 s and its connection and streams
    /// are freed, for one 17-byte frame a minute on a quiet connection. Every HTTP/2 client
    /// answers pings on its own, so no client configuration is needed.
    pub fn http2_keepalive_interval(mut self, interval: Option<Duration>) -> Self {
        self.http2_keepalive_interval = interval;
        self
    }

    /// How long to wait for the answer to a keep-alive PING before closing the connection.
    ///
    /// Default 20 s: gRPC's default keep-alive timeout, long enough for a busy peer's event
    /// loop and a congested link.
    pub fn http2_keepalive_timeout(mut self, timeout: Duration) -> Self {
        self.http2_keepalive_timeout = timeout;
        self
    }

    /// How long a connection may go without an open request (an HTTP/2 stream, or an
    /// HTTP/1.1 request being answered) before the server closes it gracefully: HTTP/2
    /// sends GOAWAY, so a client that raced a new request in gets it served or knows it was
    /// not processed and can retry it safely. `None` keeps idle connections open for as long
    /// as they answer keep-alive pings.
    ///
    /// Default 5 minutes: clients reconnect on demand, so closing a connection nobody uses
    /// costs one handshake later, while a client that opens connections and forgets them
    /// cannot pin [`max_connections`](Self::max_connections) slots forever. It is above the
    /// 90 s after which this crate's own HTTP/1.1 client pool drops idle connections, so
    /// that the client, not the server, normally closes first.
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The age after which a connection is closed gracefully (GOAWAY for HTTP/2; HTTP/1.1
    /// closes after the response in flight), its calls then given
    /// [`close_grace`](Self::close_grace) to finish. A random jitter of ±10 % is applied per
    /// connection so that connections opened together do not all reconnect together.
    ///
    /// Default none: capping the age only pays off behind a layer-4 load balancer, where it
    /// makes long-lived clients spread over new server instances; a plugin's connection to
    /// its host gains nothing from being cut. Set it (minutes to hours) in such deployments.
    pub fn max_connection_age(mut self, age: Option<Duration>) -> Self {
        self.max_connection_age = age;
        self
    }

    /// Once the server has decided to close a connection gracefully (the
    /// [`idle_timeout`](Self::idle_timeout) or [`max_connection_age`](Self::max_connection_age)
    /// passed), how long its calls in flight, and a peer slow to acknowledge the GOAWAY, may
    /// take before the connection is dropped and the remaining calls cancelled. (A server
    /// shutting down uses the grace passed to
    /// [`RunningServer::shutdown`](super::RunningServer::shutdown) instead.)
    ///
    /// Default 30 s: ordinary calls finish well within it; a longer stream is cut, which its
    /// client sees as an `unavailable` error and can resume on a new connection.
    pub fn close_grace(mut self, grace: Duration) -> Self {
        self.close_grace = grace;
        self
    }

    /// The most streams (calls) one HTTP/2 connection may have open at once, announced to
    /// the client as `SETTINGS_MAX_CONCURRENT_STREAMS`. Conforming clients queue calls
    /// beyond it; a client that opens more anyway has the excess refused with
    /// `RST_STREAM(REFUSED_STREAM)`, which tells it the stream was not processed and is safe
    /// to retry. (HTTP/1.1 has one request at a time per connection by construction.)
    ///
    /// Default 1000: a host sends every call and every open stream to a plugin over one
    /// HTTP/2 connection, long-lived streams included, so the cap must sit well above a
    /// busy host's concurrency or it would turn into a queue; it still bounds the tasks one
    /// connection can start (Go's HTTP/2 server uses 250, hyper 200, gRPC none).
    pub fn max_concurrent_streams(mut self, max: u32) -> Self {
        self.max_concurrent_streams = max;
        self
    }

    /// The most connections served at once. When the server is at the cap it stops
    /// accepting: new connections wait in the operating system's accept backlog (their
    /// TCP handshake completes, nothing is read) and are served, oldest first, as soon as a
    /// served connection closes; once the backlog is full the kernel refuses further
    /// connection attempts. This is what HAProxy (`maxconn`), Tomcat (`maxConnections`) and
    /// Go's `netutil.LimitListener` do: the waiting client is delayed rather than failed,
    /// and the server never spends a descriptor or a task on a connection it cannot serve.
    /// A warning is logged when the cap is reached (at most once a minute).
    ///
    /// Default 512: half the usual default soft limit on open files (1024), so the cap is
    /// reached before the process runs out of descriptors and the rest of the plugin
    /// (files, its own client connections) keeps working; far above what a plugin's hosts
    /// need, since a host multiplexes all its calls over one connection. Raise it together
    /// with `RLIMIT_NOFILE` for a server with many clients; `usize::MAX` removes the cap.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// Checks that every limit can work: counts are at least 1 and timeouts are not zero.
    pub fn validate(&self) -> Result<(), InvalidLimit> {
        let bad = |name, why| Err(InvalidLimit { name, why });
        let zero = |d: Duration| d.is_zero();
        if zero(self.header_read_timeout) {
            return bad("header_read_timeout", "must be more than zero");
        }
        if zero(self.tls_handshake_timeout) {
            return bad("tls_handshake_timeout", "must be more than zero");
        }
        if self.http2_keepalive_interval.is_some_and(zero) {
            return bad(
                "http2_keepalive_interval",
                "must be more than zero (None turns the pings off)",
            );
        }
        if zero(self.http2_keepalive_timeout) {
            return bad("http2_keepalive_timeout", "must be more than zero");
        }
        if self.idle_timeout.is_some_and(zero) {
            return bad("idle_timeout", "must be more than zero (None turns it off)");
        }
        if self.max_connection_age.is_some_and(zero) {
            return bad(
                "max_connection_age",
                "must be more than zero (None turns it off)",
            );
        }
        if self.max_concurrent_streams == 0 {
            return bad("max_concurrent_streams", "must be at least 1");
        }
        if self.max_connections == 0 {
            return bad("max_connections", "must be at least 1");
        }
        Ok(())
    }
}

/// A [`ServerLimits`] value that cannot work (a zero count or timeout).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid server limit {name}: {why}")]
pub struct InvalidLimit {
    name: &'static str,
    why: &'static str,
}

impl InvalidLimit {
    /// The name of the offending limit (its setter's name).
    pub fn limit(&self) -> &'static str {
        self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(ServerLimits::default().validate(), Ok(()));
        assert_eq!(ServerLimits::new(), ServerLimits::default());
    }

    #[test]
    fn zero_counts_and_timeouts_are_refused_by_name() {
        let cases = [
            (
                ServerLimits::default().header_read_timeout(Duration::ZERO),
                "header_read_timeout",
            ),
            (
                ServerLimits::default().tls_handshake_timeout(Duration::ZERO),
                "tls_handshake_timeout",
            ),
            (
                ServerLimits::default().http2_keepalive_interval(Some(Duration::ZERO)),
                "http2_keepalive_interval",
            ),
            (
                ServerLimits::default().http2_keepalive_timeout(Duration::ZERO),
                "http2_keepalive_timeout",
            ),
            (
                ServerLimits::default().idle_timeout(Some(Duration::ZERO)),
                "idle_timeout",
            ),
            (
                ServerLimits::default().max_connection_age(Some(Duration::ZERO)),
                "max_connection_age",
            ),
            (
                ServerLimits::default().max_concurrent_streams(0),
                "max_concurrent_streams",
            ),
            (
                ServerLimits::default().max_connections(0),
                "max_connections",
            ),
        ];
        for (limits, name) in cases {
            let err = limits.validate().expect_err(name);
            assert_eq!(err.limit(), name);
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn off_switches_are_valid() {
        let limits = ServerLimits::default()
            .http2_keepalive_interval(None)
            .idle_timeout(None)
            .max_connection_age(None)
            .close_grace(Duration::ZERO);
        assert_eq!(limits.validate(), Ok(()));
    }
}
