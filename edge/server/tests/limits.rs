//! The native server's connection limits, on the real binary: a connection cap (more connections
//! are closed unread), a deadline for each request's head (a slowloris client, and an idle
//! keep-alive connection, are closed), a deadline for the body.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(extra: &[&str]) -> (Proc, std::net::SocketAddr) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_nps-edge"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args([
            "--db",
            &scratch(&format!("limits-{port}"))
                .join("s.sqlite")
                .to_string_lossy(),
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn nps-edge");
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || request_ok(addr)),
        "nps-edge did not start"
    );
    (Proc(child), addr)
}

fn request_ok(addr: std::net::SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.starts_with("HTTP/1.1 200")
}

/// True when the server closes `s` within `within` (EOF or reset on read).
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut b = [0u8; 64];
    match s.read(&mut b) {
        Ok(0) => true,
        Ok(_) => false,
        // A timeout is an error too: only a reset counts as closed.
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

#[test]
fn connections_beyond_the_cap_are_closed_and_served_again_once_room_is_back() {
    let (_p, addr) = start(&["--max-connections", "2", "--header-timeout-ms", "60000"]);
    // The start-up probe's connection may still hold its slot for a moment.
    std::thread::sleep(Duration::from_millis(300));
    let a = TcpStream::connect(addr).unwrap();
    let b = TcpStream::connect(addr).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut c = TcpStream::connect(addr).unwrap();
    assert!(
        closed_within(&mut c, Duration::from_secs(3)),
        "the third connection is closed"
    );
    assert!(!request_ok(addr), "no room while two are held");
    drop((a, b));
    assert!(
        wait_for(Duration::from_secs(5), || request_ok(addr)),
        "served again"
    );
}

#[test]
fn a_slow_head_and_an_idle_keep_alive_are_cut_at_the_deadline() {
    let (_p, addr) = start(&["--header-timeout-ms", "700"]);
    // Slowloris: a head that never ends.
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .unwrap();
    let t = Instant::now();
    assert!(closed_within(&mut slow, Duration::from_secs(5)));
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    // A keep-alive connection that answered once, then stays idle.
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    let mut b = [0u8; 512];
    assert!(idle.read(&mut b).unwrap() > 0);
    assert!(
        closed_within(&mut idle, Duration::from_secs(5)),
        "idle keep-alive closed"
    );
}

#[test]
fn a_body_that_never_arrives_is_refused_without_holding_the_request() {
    let (_p, addr) = start(&[]);
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"POST /v1/responses HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\norigin: http://localhost:3000\r\ncontent-length: 100\r\n\r\n{\"id\":").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let t = Instant::now();
    let mut out = Vec::new();
    let mut b = [0u8; 1024];
    while let Ok(n) = s.read(&mut b) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&b[..n]);
        if out.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let head = String::from_utf8_lossy(&out);
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    assert!(t.elapsed() < Duration::from_secs(14), "{:?}", t.elapsed());
}
