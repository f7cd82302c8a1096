//! `testkit-echo [ADDR]`: a TCP echo server for tests (std only). Listens on ADDR (default
//! `127.0.0.1:0`), prints the bound address as one line on stdout, then echoes every
//! connection's bytes back until the peer closes, one thread per connection. Runs until
//! killed.

use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};

fn echo(mut stream: TcpStream) {
    let mut reader = match stream.try_clone() {
        Ok(r) => r,
        Err(_) => return,
    };
    let _ = io::copy(&mut reader, &mut stream);
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = TcpListener::bind(&addr)?;
    let mut out = io::stdout().lock();
    writeln!(out, "{}", listener.local_addr()?)?;
    out.flush()?;
    drop(out);
    for stream in listener.incoming() {
        match stream {
            Ok(s) => {
                std::thread::spawn(move || echo(s));
            }
            Err(e) => eprintln!("testkit-echo: accept: {e}"),
        }
    }
    Ok(())
}
