//! The mail sink over a real SMTP conversation: invitations sent with `"send": true` reach the
//! SMTP server as multipart e-mails (text and HTML, the score links), an SMTP outage loses
//! nothing (retried until the server takes them), each link's e-mail is sent once however often
//! its batch is made, and the funnel counts sent and delivered.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;

/// The messages a test SMTP server took: recipients and data.
type Mails = Arc<Mutex<Vec<(Vec<String>, String)>>>;

/// A minimal SMTP server: records each message's recipients and data; while `down`, greets
/// with `421` (service not available) and hangs up.
struct Smtp {
    port: u16,
    down: Arc<AtomicBool>,
    mails: Mails,
}

impl Smtp {
    fn start() -> Smtp {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let down = Arc::new(AtomicBool::new(true));
        let mails: Mails = Arc::new(Mutex::new(Vec::new()));
        let (d, m) = (down.clone(), mails.clone());
        std::thread::spawn(move || {
            for conn in l.incoming().flatten() {
                let (d, m) = (d.clone(), m.clone());
                std::thread::spawn(move || session(conn, &d, &m));
            }
        });
        Smtp { port, down, mails }
    }
}

fn session(mut c: TcpStream, down: &AtomicBool, mails: &Mutex<Vec<(Vec<String>, String)>>) {
    c.set_read_timeout(Some(Duration::from_secs(10))).ok();
    if down.load(Ordering::SeqCst) {
        let _ = c.write_all(b"421 test server down, try later\r\n");
        return;
    }
    let _ = c.write_all(b"220 test ESMTP\r\n");
    let mut r = BufReader::new(c.try_clone().expect("clone"));
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let cmd = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
            b"250 test\r\n"
        } else if cmd.starts_with("MAIL FROM") {
            b"250 OK\r\n"
        } else if cmd.starts_with("RCPT TO") {
            to.push(line.trim_end()[8..].trim().to_string());
            b"250 OK\r\n"
        } else if cmd == "DATA" {
            let _ = c.write_all(b"354 go on\r\n");
            let mut data = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(&line);
            }
            mails.lock().unwrap().push((std::mem::take(&mut to), data));
            b"250 queued\r\n"
        } else if cmd == "QUIT" {
            let _ = c.write_all(b"221 bye\r\n");
            return;
        } else {
            b"250 OK\r\n"
        };
        let _ = c.write_all(reply);
    }
}

fn invite(s: &Server, batch: &str) -> serde_json::Value {
    let body = format!(
        r#"{{"survey":"post-purchase","batch":"{batch}","send":true,"recipients":[
            {{"email":"lea@example.com","user":"u-1","order":"A-1","locale":"fr"}},
            {{"email":"max@example.com","user":"u-2","order":"A-2"}}]}}"#
    );
    let auth = format!("Bearer {ADMIN}");
    let r = request(
        s.addr,
        "POST",
        "/v1/sites/mail/invitations",
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
        ],
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn funnel(s: &Server) -> serde_json::Value {
    let auth = format!("Bearer {READ}");
    let r = request(
        s.addr,
        "GET",
        "/v1/sites/mail/invitations",
        &[("authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["batches"][0].clone()
}

#[test]
fn invitations_reach_the_smtp_server_through_an_outage_once_each() {
    let smtp = Smtp::start();
    let extra = format!(
        r#"
[[sites]]
id = "mail"
origins = ["https://shop.example"]
[sites.links]
secret = "env:TEST_LINK_SECRET"
base_url = "https://nps.example"
brand = "Maison Lumière"
deliver = "mail"

[[sinks]]
type = "smtp"
name = "mail"
url = "smtp://127.0.0.1:{}"
from = "Maison Lumière <avis@maison-lumiere.example>"
per_minute = 6000
timeout_ms = 2000

{}"#,
        smtp.port,
        admin_and_read_tokens()
    );
    let s = Server::start(config(&extra), scratch("mail").join("edge.sqlite"), None);
    let made = invite(&s, "order-1");
    assert_eq!(made["sent"], 2);
    let urls: Vec<String> = made["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["score_urls"][3].as_str().unwrap().to_string())
        .collect();
    // The server is down: nothing delivered yet, nothing lost.
    std::thread::sleep(Duration::from_millis(600));
    assert!(smtp.mails.lock().unwrap().is_empty());
    assert_eq!(funnel(&s)["sent"], 2);
    assert_eq!(funnel(&s)["delivered"], 0);
    smtp.down.store(false, Ordering::SeqCst);
    assert!(
        wait_for(Duration::from_secs(20), || smtp.mails.lock().unwrap().len()
            >= 2),
        "both e-mails arrive once the server is back"
    );
    assert!(wait_for(Duration::from_secs(10), || funnel(&s)
        ["delivered"]
        == 2));
    // The same batch again: the same links, no second e-mail.
    let again = invite(&s, "order-1");
    assert_eq!(again["sent"], 0);
    std::thread::sleep(Duration::from_millis(600));
    let mails = smtp.mails.lock().unwrap();
    assert_eq!(mails.len(), 2, "each link's e-mail is sent once");
    let lea = mails
        .iter()
        .find(|(to, _)| to.iter().any(|t| t.contains("lea@example.com")))
        .expect("Léa's e-mail");
    let data = &lea.1;
    assert!(data.contains("multipart/alternative"), "{data}");
    assert!(data.contains("text/plain") && data.contains("text/html"));
    assert!(data.contains("avis@maison-lumiere.example"));
    // The score link is in the message (quoted-printable may fold it: compare without folds).
    let unfolded = data.replace("=\r\n", "").replace("=3D", "=");
    assert!(
        unfolded.contains(&urls[0]),
        "the score link of Léa's e-mail"
    );
}
