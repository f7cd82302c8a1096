//! Network namespace pairs: reachability across the link, link down/up, partition/heal,
//! and clean-up. Skipped (with a printed reason) where namespaces are unavailable.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use connect_plugin_testkit::netns::{self, ADDR_A, ADDR_B, NetnsPair, NsChild};

/// Starts `testkit-echo` inside namespace `b` and returns it with the address it bound.
fn echo_in_b(pair: &NetnsPair) -> (NsChild, SocketAddr) {
    let mut child = pair
        .b()
        .spawn(env!("CARGO_BIN_EXE_testkit-echo"), [format!("{ADDR_B}:0")])
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{line:?}: {e}"));
    (child, addr)
}

/// Connects from namespace `a`, with a connect timeout.
fn connect_from_a(pair: &NetnsPair, addr: SocketAddr, limit: Duration) -> io::Result<TcpStream> {
    pair.a()
        .enter(move || TcpStream::connect_timeout(&addr, limit))
        .unwrap()
}

/// Writes `msg` and reads it back; reads wait at most `limit`.
fn ping(stream: &mut TcpStream, msg: &[u8], limit: Duration) -> io::Result<Vec<u8>> {
    stream.set_read_timeout(Some(limit))?;
    stream.write_all(msg)?;
    let mut back = vec![0u8; msg.len()];
    stream.read_exact(&mut back)?;
    Ok(back)
}

/// A bound for things that must happen: generous, so only a real failure trips it.
const SURELY: Duration = Duration::from_secs(30);
/// How long a test waits to see that something does *not* get through.
const BRIEFLY: Duration = Duration::from_millis(500);

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

#[test]
fn echo_across_the_link() {
    if !netns::available() {
        return;
    }
    let pair = NetnsPair::new().unwrap();
    assert_eq!((pair.a().addr(), pair.b().addr()), (ADDR_A, ADDR_B));
    let (_echo, addr) = echo_in_b(&pair);
    let mut s = connect_from_a(&pair, addr, SURELY).unwrap();
    assert_eq!(s.local_addr().unwrap().ip(), ADDR_A);
    assert_eq!(ping(&mut s, b"across", SURELY).unwrap(), b"across");

    // Commands run inside too.
    let links = pair.a().run("ip", ["-o", "addr", "show"]).unwrap();
    assert!(links.contains(&format!("{ADDR_A}/30")), "{links}");
}

#[test]
fn link_down_cuts_and_link_up_restores() {
    if !netns::available() {
        return;
    }
    let pair = NetnsPair::new().unwrap();
    let (_echo, addr) = echo_in_b(&pair);
    let mut open = connect_from_a(&pair, addr, SURELY).unwrap();
    assert_eq!(ping(&mut open, b"1", SURELY).unwrap(), b"1");

    pair.link_down().unwrap();
    // No route: a new connection fails (at once, with ENETUNREACH).
    let err = connect_from_a(&pair, addr, BRIEFLY).unwrap_err();
    assert!(
        err.kind() == io::ErrorKind::NetworkUnreachable || is_timeout(&err),
        "{err}"
    );
    // The open connection gets no answer.
    let err = ping(&mut open, b"2", BRIEFLY).unwrap_err();
    assert!(is_timeout(&err), "{err}");

    pair.link_up().unwrap();
    let mut s = connect_from_a(&pair, addr, SURELY).unwrap();
    assert_eq!(ping(&mut s, b"3", SURELY).unwrap(), b"3");
    // The open connection survives: its "2" is retransmitted and echoed.
    open.set_read_timeout(Some(SURELY)).unwrap();
    let mut back = [0u8; 1];
    open.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"2");
}

#[test]
fn partition_silently_drops_and_heal_restores() {
    if !netns::available() {
        return;
    }
    let pair = NetnsPair::new().unwrap();
    let (_echo, addr) = echo_in_b(&pair);
    let mut open = connect_from_a(&pair, addr, SURELY).unwrap();
    assert_eq!(ping(&mut open, b"1", SURELY).unwrap(), b"1");

    pair.partition().unwrap();
    // Connecting gets no answer at all: it times out, in both directions.
    let err = connect_from_a(&pair, addr, BRIEFLY).unwrap_err();
    assert!(is_timeout(&err), "{err}");
    let back_to_a = SocketAddr::from((ADDR_A, 9));
    let err = pair
        .b()
        .enter(move || TcpStream::connect_timeout(&back_to_a, BRIEFLY))
        .unwrap()
        .unwrap_err();
    assert!(is_timeout(&err), "b -> a: {err}");
    let err = ping(&mut open, b"2", BRIEFLY).unwrap_err();
    assert!(is_timeout(&err), "{err}");

    pair.heal().unwrap();
    pair.heal().unwrap(); // a no-op once healed
    let mut s = connect_from_a(&pair, addr, SURELY).unwrap();
    assert_eq!(ping(&mut s, b"3", SURELY).unwrap(), b"3");
    open.set_read_timeout(Some(SURELY)).unwrap();
    let mut back = [0u8; 1];
    open.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"2");
}

fn exists(name: &str) -> bool {
    let list = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&list.stdout)
        .lines()
        .any(|l| l.split_whitespace().next() == Some(name))
}

#[test]
fn dropping_deletes_namespaces_and_processes_even_on_panic() {
    if !netns::available() {
        return;
    }
    let mut names = Vec::new();
    let mut kept = None;
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let pair = NetnsPair::new().unwrap();
        names = vec![pair.a().name().to_owned(), pair.b().name().to_owned()];
        assert!(names.iter().all(|n| exists(n)));
        // A process that outlives the pair's scope: deleting the namespace kills it.
        kept = Some(pair.b().spawn("sleep", ["3600"]).unwrap());
        panic!("a failing test");
    }));
    assert!(panicked.is_err());
    assert!(names.iter().all(|n| !exists(n)), "{names:?} left behind");
    let status = kept.unwrap().wait().unwrap();
    const SIGKILL: i32 = 9;
    assert_eq!(status.signal(), Some(SIGKILL), "{status:?}");
}

#[test]
fn pairs_are_independent() {
    if !netns::available() {
        return;
    }
    let one = NetnsPair::new().unwrap();
    let two = NetnsPair::new().unwrap();
    assert_ne!(one.a().name(), two.a().name());
    let (_e1, addr1) = echo_in_b(&one);
    let (_e2, addr2) = echo_in_b(&two);
    one.partition().unwrap();
    // Cutting one pair leaves the other, with the same addresses, working.
    let mut s = connect_from_a(&two, addr2, SURELY).unwrap();
    assert_eq!(ping(&mut s, b"two", SURELY).unwrap(), b"two");
    let err = connect_from_a(&one, addr1, BRIEFLY).unwrap_err();
    assert!(is_timeout(&err), "{err}");
}
