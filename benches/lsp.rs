//! `cargo bench --bench lsp`: how long after a keystroke `pcfg lsp` publishes diagnostics, in a
//! configuration of 10,000 items over 100 files (the resolve bench's generated one, written to
//! a temporary directory, with its 5,000 extension trees). The release binary is driven over
//! stdio as an editor drives it: each keystroke is a `didChange` of the entry file that makes a
//! field unknown or known again, so that every one is answered by a `publishDiagnostics`; the
//! time is from sending the change to reading the diagnostics. `PCFG_BENCH_ITEMS` sets the size.
#![allow(clippy::print_stdout)]

mod generate;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

struct Server {
    stdin: std::process::ChildStdin,
    stdout: BufReader<std::process::ChildStdout>,
    child: std::process::Child,
}

impl Server {
    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn receive(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).expect("read") > 0,
                "server closed"
            );
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.parse().expect("length");
            }
        }
        let mut body = vec![0; length];
        self.stdout.read_exact(&mut body).expect("body");
        serde_json::from_slice(&body).expect("JSON")
    }

    /// Reads until a message for which `wanted` holds.
    fn until(&mut self, wanted: &dyn Fn(&Value) -> bool) -> Value {
        loop {
            let message = self.receive();
            if wanted(&message) {
                return message;
            }
        }
    }
}

fn main() {
    let items: usize = std::env::var("PCFG_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, text) in generate::generated_files(items, 100) {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let entry = dir.path().join("system.pcfg");
    let text = std::fs::read_to_string(&entry).expect("entry");
    let broken = text.replace("system.cmdline +=", "system.cmdlin +=");
    let uri = format!("file://{}", entry.display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_pcfg"))
        .arg("lsp")
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("pcfg lsp");
    let mut server = Server {
        stdin: child.stdin.take().expect("stdin"),
        stdout: BufReader::new(child.stdout.take().expect("stdout")),
        child,
    };
    server.send(&json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "processId": null, "capabilities": {} } }));
    server.until(&|m| m["id"] == 1);
    server.send(&json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }));
    let published = |m: &Value| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri.as_str()
    };
    let start = Instant::now();
    server.send(&json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen", "params": { "textDocument": { "uri": uri, "languageId": "pcfg", "version": 1, "text": broken } } }));
    server.until(&published);
    let opened = start.elapsed();
    // Keystrokes that fix the field (the whole check runs: model, checks, extension trees) and
    // that break it (validation stops at the unknown field).
    let (mut fixing, mut breaking): (Vec<Duration>, Vec<Duration>) = (Vec::new(), Vec::new());
    for version in 2..42 {
        let text = if version % 2 == 0 { &text } else { &broken };
        let start = Instant::now();
        server.send(&json!({ "jsonrpc": "2.0", "method": "textDocument/didChange", "params": { "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] } }));
        let message = server.until(&published);
        if version % 2 == 0 {
            &mut fixing
        } else {
            &mut breaking
        }
        .push(start.elapsed());
        let count = message["params"]["diagnostics"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(count, usize::from(version % 2 == 1), "{message}");
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{:<52} {:>10.3} ms",
        format!("pcfg lsp: open, {items} items in 100 files"),
        ms(opened)
    );
    for (label, times) in [
        (
            "pcfg lsp: keystroke that fixes, to diagnostics",
            &mut fixing,
        ),
        (
            "pcfg lsp: keystroke that breaks, to diagnostics",
            &mut breaking,
        ),
    ] {
        times.sort();
        println!(
            "{label:<52} {:>10.3} ms  (median of {}; fastest {:.3}, slowest {:.3})",
            ms(times[times.len() / 2]),
            times.len(),
            ms(times[0]),
            ms(times[times.len() - 1])
        );
    }
    server.send(&json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null }));
    server.until(&|m| m["id"] == 2);
    server.send(&json!({ "jsonrpc": "2.0", "method": "exit", "params": null }));
    let _ = server.child.wait();
}
