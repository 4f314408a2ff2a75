//! `granary up` as a user runs it: it serves, the market moves time, Ctrl-C (SIGINT) stops it
//! cleanly even with an event stream open, and a second `up` on the same folder resumes exactly
//! where the first stopped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port")
}

/// Start `granary up`; return the child and a channel of its stdout lines.
fn up(store: &[String], port: u16, extra: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_granary"))
        .args(store)
        .args(["up", "--addr", &format!("127.0.0.1:{port}")])
        .args(extra)
        .env_remove("GRANARY_ADDR")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start granary up");
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

fn wait_line(rx: &mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
            seen.push(l.clone());
            if l.contains(needle) {
                return l;
            }
        }
    }
    panic!("no line containing {needle:?}; saw {seen:#?}");
}

fn get(port: u16, path: &str) -> serde_json::Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").expect("write");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
}

fn sigint(child: &Child) {
    let ok = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill").success();
    assert!(ok, "kill -INT failed");
}

#[test]
fn up_on_sqlite_serves_stops_cleanly_on_ctrl_c_and_resumes() {
    let dir = tempfile::tempdir().expect("tmp");
    serve_stop_resume(&["--data-dir".to_string(), dir.path().display().to_string()]);
}

#[test]
fn up_on_postgres_serves_stops_cleanly_on_ctrl_c_and_resumes() {
    let admin =
        std::env::var("GRANARY_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut client = match postgres::Client::connect(&admin, postgres::NoTls) {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var("CI").map_or(true, |v| v.is_empty() || v == "false"),
                "PostgreSQL is required in CI: {e}"
            );
            println!("SKIPPED: PostgreSQL `up` test: no server reachable at {admin} ({e})");
            return;
        }
    };
    let name = format!("granary_up_{}", std::process::id());
    client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).expect("drop stale db");
    client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create db");
    let url = format!("{}/{name}", &admin[..admin.rfind('/').unwrap_or(admin.len())]);
    let dir = tempfile::tempdir().expect("tmp");
    serve_stop_resume(&["--data-dir".to_string(), dir.path().display().to_string(), "--db".to_string(), url]);
    client.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)")).expect("drop db");
}

fn serve_stop_resume(store: &[String]) {
    let port = free_port();
    let (mut child, rx) = up(store, port, &["--speed", "7200", "--tick-ms", "200"]);
    let mut seen = Vec::new();
    wait_line(&rx, "seeded the demo world", &mut seen);
    wait_line(&rx, "granary is up: http://127.0.0.1:", &mut seen);
    let first = get(port, "/api/status");
    assert_eq!(first["seeded_now"], true);
    // The market moves time on its own.
    let t0 = first["now"].as_u64().expect("now");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = get(port, "/api/status")["now"].as_u64().expect("now");
        if now >= t0 + 3_600 {
            break;
        }
        assert!(Instant::now() < deadline, "chain time did not move: {t0} → {now}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // An open event stream must not keep the server from stopping.
    let mut sse = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(sse, "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").expect("write");
    sse.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let mut buf = [0u8; 4096];
    let n = sse.read(&mut buf).expect("the stream answers");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("text/event-stream"));
    sigint(&child);
    let stopped = wait_line(&rx, "stopped cleanly; snapshot at journal entry", &mut seen);
    let status = child.wait().expect("wait");
    assert!(status.success(), "exit status {status}");
    let snap: u64 = stopped.rsplit(' ').next().and_then(|s| s.parse().ok()).expect("snapshot seq");
    let after_stop = {
        // What the store holds now: the journal up to the snapshot.
        let out = Command::new(env!("CARGO_BIN_EXE_granary"))
            .args(store)
            .args(["journal", "status"])
            .output()
            .expect("journal status");
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
    };
    assert!(after_stop.contains(&format!("loaded the snapshot at entry {snap}")), "{after_stop}");

    // Second start: resumes from that snapshot, the clock paused so the state can be compared.
    let (mut child2, rx2) = up(store, port, &["--paused"]);
    let resumed = wait_line(&rx2, "resumed from", &mut seen);
    assert!(resumed.contains(&format!("loaded the snapshot at entry {snap}")), "{resumed}");
    wait_line(&rx2, "granary is up", &mut seen);
    let second = get(port, "/api/status");
    assert_eq!(second["seeded_now"], false);
    assert_eq!(second["next_seq"].as_u64(), Some(snap + 1), "nothing lost, nothing invented");
    assert!(second["now"].as_u64().expect("now") >= t0 + 3_600);
    // The rebuilt hub prices the same opportunities.
    assert_eq!(second["opportunities"], first["opportunities"]);
    sigint(&child2);
    assert!(child2.wait().expect("wait").success());
}
