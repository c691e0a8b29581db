//! `pcfg lsp` as an editor drives it: a scripted exchange over stdio (initialize, didOpen and
//! didChange with unsaved text, diagnostics across an import, hover with provenance,
//! completion, the outline, go to an import, formatting, an unknown request, shutdown and
//! exit). Every read waits at most ten
//! seconds: a server that stops answering fails the test, never hangs it.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: u64,
}

impl Client {
    fn start(dir: &Path) -> Client {
        Client::start_with(dir, &["lsp"])
    }

    /// The server started in `root` and initialized, with the answer to `initialize`.
    fn initialized(root: &Path) -> (Client, Value) {
        let mut client = Client::start(root);
        let init = client.request(
            "initialize",
            json!({ "processId": null, "rootUri": uri(root), "capabilities": {} }),
            &mut Vec::new(),
        );
        client.notify("initialized", json!({}));
        (client, init)
    }

    /// The server started with these arguments of the binary under test.
    fn start_with(dir: &Path, args: &[&str]) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pcfg"))
            .args(args)
            .current_dir(dir)
            // Copies of the standard library go into the test's directory.
            .env("XDG_CACHE_HOME", dir.join(".cache"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("pcfg lsp starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let value = serde_json::from_slice(&body).expect("JSON from the server");
                if sender.send(value).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            messages,
            next_id: 1,
        }
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        let mut message = json!({ "jsonrpc": "2.0", "method": method });
        message["params"] = params;
        self.send(&message);
    }

    /// Sends a request and returns its response (the notifications before it are kept).
    fn request(&mut self, method: &str, params: Value, kept: &mut Vec<Value>) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({ "jsonrpc": "2.0", "id": id, "method": method });
        message["params"] = params;
        self.send(&message);
        loop {
            let message = self.next();
            if message["id"] == id {
                return message;
            }
            kept.push(message);
        }
    }

    fn next(&self) -> Value {
        self.messages
            .recv_timeout(Duration::from_secs(10))
            .expect("the server answers within ten seconds")
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics_for(&self, uri: &str) -> Vec<Value> {
        loop {
            let message = self.next();
            if message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
            {
                return message["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
        }
    }
}

impl Drop for Client {
    /// A test that fails midway leaves no server behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The position of the first `needle` in `text`, as the protocol counts (ASCII text here).
fn position_of(text: &str, needle: &str) -> Value {
    position_at(text, text.find(needle).expect("needle in text"))
}

/// The position of byte `offset` of `text`, as the protocol counts (ASCII text here).
fn position_at(text: &str, offset: usize) -> Value {
    let line = text[..offset].matches('\n').count();
    let character = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1);
    json!({ "line": line, "character": character })
}

#[test]
fn an_editor_session_over_stdio() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = std::fs::canonicalize(dir.path()).expect("canonical");
    let base = "system { name = \"lspos\", version = \"1\" }\npartition esp { type = esp, size = 512M }\npartition root { type = root, size-min = 2G, format = ext4 }\nextension libs { kind = sysext }\nextension app { kind = sysext, requires = [libs] }\n";
    let on_disk = "import \"base.pcfg\"\n";
    std::fs::write(root.join("base.pcfg"), base).expect("write");
    std::fs::write(root.join("system.pcfg"), on_disk).expect("write");
    let (system, base_path) = (root.join("system.pcfg"), root.join("base.pcfg"));
    let (system_uri, base_uri) = (uri(&system), uri(&base_path));

    let (mut client, init) = Client::initialized(&root);
    let mut kept = Vec::new();
    let capabilities = &init["result"]["capabilities"];
    assert_eq!(capabilities["hoverProvider"], true, "{init}");
    assert_eq!(capabilities["definitionProvider"], true);
    assert_eq!(capabilities["documentFormattingProvider"], true);
    assert_eq!(capabilities["documentSymbolProvider"], true);
    assert!(capabilities["completionProvider"].is_object(), "{init}");
    assert_eq!(capabilities["codeActionProvider"], true);

    // An unsaved buffer is what is checked, not the file on disk.
    let unsaved = "import \"base.pcfg\"\npartition.root.sise = 4G\n";
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": system_uri, "languageId": "pcfg", "version": 1, "text": unsaved } }),
    );
    let found = client.diagnostics_for(&system_uri);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["code"], "pcfg::unknown-field");
    assert_eq!(found[0]["severity"], 1);
    assert_eq!(found[0]["range"]["start"], position_of(unsaved, "sise"));
    assert!(
        found[0]["codeDescription"]["href"]
            .as_str()
            .is_some_and(|h| h.ends_with("diagnostics.html#pcfgunknown-field")),
        "{found:?}"
    );
    assert!(
        found[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("did you mean `size`?")),
        "{found:?}"
    );

    // The did-you-mean is a quick fix.
    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": system_uri }, "range": found[0]["range"], "context": { "diagnostics": [found[0]] } }),
        &mut kept,
    );
    let action = &actions["result"][0];
    assert_eq!(action["title"], "Replace with `size`", "{actions}");
    assert_eq!(action["kind"], "quickfix");
    assert_eq!(
        action["edit"]["changes"][system_uri.as_str()][0],
        json!({ "range": found[0]["range"], "newText": "size" }),
        "{actions}"
    );

    // Fixed, still unsaved: the diagnostics are cleared.
    let fixed = "import \"base.pcfg\"\npartition.root.size-min = 4G\n";
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": system_uri, "version": 2 }, "contentChanges": [{ "text": fixed }] }),
    );
    assert_eq!(client.diagnostics_for(&system_uri), Vec::<Value>::new());

    // An unsaved edit of the imported base is checked through the file that imports it, and
    // the diagnostic points into the base.
    let broken_base = base.replace("format = ext4", "format = ext5");
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": base_uri, "languageId": "pcfg", "version": 1, "text": broken_base } }),
    );
    let found = client.diagnostics_for(&base_uri);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0]["range"]["start"],
        position_of(&broken_base, "ext5")
    );
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": base_uri, "version": 2 }, "contentChanges": [{ "text": base }] }),
    );
    assert_eq!(client.diagnostics_for(&base_uri), Vec::<Value>::new());

    // Hover: the resolved value, the definition that set it, the one it overrode, the schema.
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": system_uri }, "position": position_of(fixed, "size-min") }),
        &mut kept,
    );
    let text = hover["result"]["contents"]["value"].as_str().unwrap_or("");
    assert!(text.contains("partition.root.size-min = 4G"), "{text}");
    assert!(
        text.contains("set at") && text.contains("system.pcfg:2"),
        "{text}"
    );
    assert!(
        text.contains("overrides") && text.contains("base.pcfg:3"),
        "{text}"
    );
    assert!(text.contains("partition.root.size-min: "), "{text}");

    // Completion inside a block offers the fields the schema allows there.
    // Hover on a block: what pcfg derives for the fields it does not write, with the rule.
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": base_uri }, "position": position_of(base, "partition root") }),
        &mut kept,
    );
    let shown = hover["result"]["contents"]["value"].as_str().unwrap_or("");
    assert!(
        shown.contains("label = \"lspos-root\"  # `<name>-<partition>`"),
        "{shown}"
    );
    let in_block = "import \"base.pcfg\"\npartition root {\n  \n}\n";
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": system_uri, "version": 3 }, "contentChanges": [{ "text": in_block }] }),
    );
    let completion = client.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": system_uri }, "position": { "line": 2, "character": 2 } }),
        &mut kept,
    );
    let labels: Vec<&str> = completion["result"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert!(
        labels.contains(&"size-min") && labels.contains(&"format") && !labels.contains(&"system"),
        "{labels:?}"
    );
    // Half-typed text, as completion sees it: a name begun in a block, then values of a symbol
    // field and of a reference to extensions (declared in the imported file).
    let mut complete = |text: &str, version: u64| -> Vec<(String, String)> {
        client.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": system_uri, "version": version }, "contentChanges": [{ "text": text }] }),
        );
        let lines: Vec<&str> = text.split('\n').collect();
        let position =
            json!({ "line": lines.len() - 1, "character": lines[lines.len() - 1].len() });
        let completion = client.request(
            "textDocument/completion",
            json!({ "textDocument": { "uri": system_uri }, "position": position }),
            &mut kept,
        );
        completion["result"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| {
                let label = i["label"].as_str().unwrap_or_default().to_owned();
                let insert = i["insertText"]
                    .as_str()
                    .map_or_else(|| label.clone(), str::to_owned);
                (label, insert)
            })
            .collect()
    };
    let names = complete("import \"base.pcfg\"\npartition root {\n  fo", 31);
    assert!(names.iter().any(|(l, _)| l == "format"), "{names:?}");
    let formats = complete("import \"base.pcfg\"\npartition root {\n  format = e", 32);
    assert!(
        formats.iter().any(|(l, _)| l == "erofs") && !formats.iter().any(|(l, _)| l == "format"),
        "{formats:?}"
    );
    let requires = complete(
        "import \"base.pcfg\"\nextension more { kind = sysext, requires = [",
        33,
    );
    assert_eq!(
        requires,
        [
            ("libs".to_owned(), "libs".to_owned()),
            ("app".to_owned(), "app".to_owned())
        ]
    );
    let overrides = complete("import \"base.pcfg\"\nextension app {\n  overrides = ", 34);
    assert_eq!(overrides, [("libs".to_owned(), "[libs]".to_owned())]);
    // The outline: the block and, nested, what is set in it.
    let outline = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": base_uri } }),
        &mut kept,
    );
    let names: Vec<&str> = outline["result"]
        .as_array()
        .expect("symbols")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "system",
            "partition esp",
            "partition root",
            "extension libs",
            "extension app"
        ],
        "{outline}"
    );
    assert_eq!(outline["result"][2]["children"][2]["name"], "format");
    // Semantic tokens: `partition` a block kind, `root` a label, `root` a symbol (the type).
    let legend: Vec<&str> = capabilities["semanticTokensProvider"]["legend"]["tokenTypes"]
        .as_array()
        .expect("legend")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let tokens = client.request(
        "textDocument/semanticTokens/full",
        json!({ "textDocument": { "uri": base_uri } }),
        &mut kept,
    );
    let data: Vec<u64> = tokens["result"]["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    let (mut line, mut column) = (0, 0);
    let mut words: Vec<(String, &str)> = Vec::new();
    let lines: Vec<&str> = base.lines().collect();
    for t in data.chunks(5) {
        line += t[0];
        column = if t[0] == 0 { column + t[1] } else { t[1] };
        let (l, c, n) = (
            usize::try_from(line).expect("line"),
            usize::try_from(column).expect("column"),
            usize::try_from(t[2]).expect("length"),
        );
        let kind = legend[usize::try_from(t[3]).expect("type")];
        words.push((lines[l][c..c + n].to_owned(), kind));
    }
    let root_kinds: Vec<&str> = words
        .iter()
        .filter(|(word, _)| word == "root")
        .map(|(_, kind)| *kind)
        .collect();
    assert_eq!(root_kinds, ["variable", "enumMember"], "{words:?}");
    assert!(
        words.contains(&("partition".to_owned(), "namespace")),
        "{words:?}"
    );
    assert!(
        words.contains(&("libs".to_owned(), "variable")),
        "{words:?}"
    );
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": system_uri, "version": 4 }, "contentChanges": [{ "text": fixed }] }),
    );

    // Go to definition on the import.
    let definition = client.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": system_uri }, "position": position_of(fixed, "base.pcfg") }),
        &mut kept,
    );
    assert_eq!(
        definition["result"]["uri"],
        base_uri.as_str(),
        "{definition}"
    );

    // From the base, the field's definition is the one that decides it, in the file that
    // imports the base; references are every definition; a name in `requires` leads to the
    // extension's declaration.
    let in_base = |needle: &str| json!({ "textDocument": { "uri": base_uri }, "position": position_of(base, needle) });
    let decided = client.request("textDocument/definition", in_base("size-min"), &mut kept);
    assert_eq!(decided["result"]["uri"], system_uri.as_str(), "{decided}");
    assert_eq!(decided["result"]["range"]["start"]["line"], 1, "{decided}");
    let mut params = in_base("size-min");
    params["context"] = json!({ "includeDeclaration": true });
    let references = client.request("textDocument/references", params, &mut kept);
    let mut found: Vec<(String, u64)> = references["result"]
        .as_array()
        .expect("locations")
        .iter()
        .map(|l| {
            (
                l["uri"].as_str().unwrap_or("").to_owned(),
                l["range"]["start"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    found.sort();
    let mut expected = vec![(base_uri.clone(), 2), (system_uri.clone(), 1)];
    expected.sort();
    assert_eq!(found, expected, "{references}");
    let declaration = client.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": base_uri }, "position": position_of(base, "libs]") }),
        &mut kept,
    );
    assert_eq!(
        declaration["result"]["uri"],
        base_uri.as_str(),
        "{declaration}"
    );
    assert_eq!(
        declaration["result"]["range"]["start"],
        position_of(base, "libs {"),
        "{declaration}"
    );

    // Rename a label: its declaration and every reference change; a name that is not one, or
    // is taken, is refused with the reason.
    let rename = |new_name: &str| json!({ "textDocument": { "uri": base_uri }, "position": position_of(base, "libs]"), "newName": new_name });
    let renamed = client.request("textDocument/rename", rename("base-libs"), &mut kept);
    let mut edits: Vec<(u64, u64, String)> = renamed["result"]["changes"][base_uri.as_str()]
        .as_array()
        .expect("edits of base.pcfg")
        .iter()
        .map(|e| {
            (
                e["range"]["start"]["line"].as_u64().unwrap_or(0),
                e["range"]["start"]["character"].as_u64().unwrap_or(0),
                e["newText"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    edits.sort();
    let at = |needle: &str| {
        let p = position_of(base, needle);
        (
            p["line"].as_u64().unwrap_or(0),
            p["character"].as_u64().unwrap_or(0),
            "base-libs".to_owned(),
        )
    };
    assert_eq!(edits, [at("libs {"), at("libs]")], "{renamed}");
    assert_eq!(
        renamed["result"]["changes"]
            .as_object()
            .map(serde_json::Map::len),
        Some(1)
    );
    for refused in ["two words", "app"] {
        let answer = client.request("textDocument/rename", rename(refused), &mut kept);
        assert_eq!(answer["error"]["code"], -32803, "{answer}");
    }

    // Formatting gives `pcfg fmt`'s text.
    let messy = "import   \"base.pcfg\"\npartition.root.size-min=4G\n";
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": system_uri, "version": 5 }, "contentChanges": [{ "text": messy }] }),
    );
    let formatting = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": system_uri }, "options": { "tabSize": 2, "insertSpaces": true } }),
        &mut kept,
    );
    let expected =
        pcfg::syntax::format::format(pcfg::source::FileId::FIRST, messy).expect("formats");
    assert_eq!(
        formatting["result"][0]["newText"],
        expected.as_str(),
        "{formatting}"
    );
    assert_ne!(expected, messy);

    // A request the server does not know is an error, not silence.
    let unknown = client.request("textDocument/codeLens", json!({}), &mut kept);
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");

    let shutdown = client.request("shutdown", Value::Null, &mut kept);
    assert_eq!(shutdown["result"], Value::Null, "{shutdown}");
    client.notify("exit", Value::Null);
    let status = client.child.wait().expect("exits");
    assert!(status.success(), "{status}");
}

/// The editor configurations shipped in `lang/editors/` start this server: Helix's
/// `languages.toml` (its command and arguments, run here, answer `initialize`), and the VS Code
/// extension's language client (its entry point parses under Node and is what `package.json`
/// activates for pcfg files). Neovim's `ftplugin/pcfg.lua` is run for real in `tests/editors.rs`.
#[test]
fn the_shipped_editor_configurations_start_the_server() {
    let editors = Path::new(env!("CARGO_MANIFEST_DIR")).join("lang/editors");
    let helix: toml::Table = std::fs::read_to_string(editors.join("helix/languages.toml"))
        .expect("languages.toml")
        .parse()
        .expect("TOML");
    let server = &helix["language-server"]["pcfg"];
    assert_eq!(server["command"].as_str(), Some("pcfg"));
    let args: Vec<&str> = server["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(toml::Value::as_str)
        .collect();
    let language = &helix["language"].as_array().expect("[[language]]")[0];
    assert_eq!(language["file-types"][0].as_str(), Some("pcfg"));
    assert_eq!(language["comment-token"].as_str(), Some("#"));
    assert_eq!(language["language-servers"][0].as_str(), Some("pcfg"));
    let package: Value = serde_json::from_str(
        &std::fs::read_to_string(editors.join("textmate/package.json")).expect("package.json"),
    )
    .expect("JSON");
    // One scope for the language in both editors.
    assert_eq!(
        language["scope"].as_str(),
        package["contributes"]["grammars"][0]["scopeName"].as_str()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let mut client = Client::start_with(dir.path(), &args);
    let mut kept = Vec::new();
    let init = client.request(
        "initialize",
        json!({ "processId": null, "rootUri": uri(dir.path()), "capabilities": {} }),
        &mut kept,
    );
    assert_eq!(
        init["result"]["capabilities"]["hoverProvider"], true,
        "{init}"
    );
    client.notify("initialized", json!({}));
    client.request("shutdown", json!(null), &mut kept);
    client.notify("exit", json!(null));

    assert_eq!(package["activationEvents"], json!(["onLanguage:pcfg"]));
    assert!(package["dependencies"]["vscode-languageclient"].is_string());
    let main = editors
        .join("textmate")
        .join(package["main"].as_str().expect("main"));
    let node = crate::support::test_tool_on_path("node");
    let checked = Command::new(node)
        .arg("--check")
        .arg(&main)
        .status()
        .expect("node runs");
    assert!(checked.success(), "{}", main.display());
    let script = std::fs::read_to_string(&main).expect("extension.js");
    assert!(
        script.contains("args: [\"lsp\"]") && script.contains("language: \"pcfg\""),
        "{script}"
    );
}

/// `text` with the one edit of a code action's workspace edit for `uri` applied (ASCII text:
/// the protocol's UTF-16 columns are bytes).
fn apply_action(text: &str, action: &Value, uri: &str) -> String {
    let edits = action["edit"]["changes"][uri].as_array().expect("edits");
    assert_eq!(edits.len(), 1, "{action}");
    let offset = |p: &Value| -> usize {
        let line = usize::try_from(p["line"].as_u64().expect("line")).expect("line");
        let character = usize::try_from(p["character"].as_u64().expect("column")).expect("col");
        text.split_inclusive('\n')
            .take(line)
            .map(str::len)
            .sum::<usize>()
            + character
    };
    let (from, to) = (
        offset(&edits[0]["range"]["start"]),
        offset(&edits[0]["range"]["end"]),
    );
    format!(
        "{}{}{}",
        &text[..from],
        edits[0]["newText"].as_str().expect("text"),
        &text[to..]
    )
}

/// Quick fixes beyond the did-you-mean, each applied and checked again: a second definition in
/// one file is removed with its line, a package listed twice loses its entry, and a library
/// another extension provides adds that extension to `requires` (a program and a library built
/// with gcc; the fix is offered on the diagnostic, in the extension's declaration); a key file
/// at first boot becomes `tpm2`.
#[test]
fn quick_fixes_remove_duplicates_and_add_requires() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = std::fs::canonicalize(dir.path()).expect("canonical");
    crate::extensions::library_and_program(&root);
    let system = root.join("system.pcfg");
    std::fs::write(&system, "").expect("write");
    let system_uri = uri(&system);
    let (mut client, _) = Client::initialized(&root);
    let mut kept = Vec::new();
    let mut version = 0;
    let mut fix = |client: &mut Client, text: &str, code: &str| -> String {
        version += 1;
        let method = if version == 1 {
            "textDocument/didOpen"
        } else {
            "textDocument/didChange"
        };
        let params = if version == 1 {
            json!({ "textDocument": { "uri": system_uri, "languageId": "pcfg", "version": version, "text": text } })
        } else {
            json!({ "textDocument": { "uri": system_uri, "version": version }, "contentChanges": [{ "text": text }] })
        };
        client.notify(method, params);
        let found = client.diagnostics_for(&system_uri);
        let diagnostic = found
            .iter()
            .find(|d| d["code"] == code)
            .unwrap_or_else(|| panic!("{code} in {found:?}"));
        let actions = client.request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": system_uri }, "range": diagnostic["range"], "context": { "diagnostics": [diagnostic] } }),
            &mut kept,
        );
        let action = &actions["result"][0];
        assert_eq!(action["kind"], "quickfix", "{actions}");
        apply_action(text, action, &system_uri)
    };
    let head = "system { name = \"fixos\", version = \"1\", packages = [\"vim\", \"less\", \"vim\"] }\npartition root { type = root, size = 2G }\n";
    let tools = "extension libs { kind = sysext, source = \"ext/libs\" }\nextension tools {\n  kind = sysext\n  source = \"ext/tools\"\n}\n";
    let twice = format!("{head}partition.root.size = 3G\n{tools}");
    let once = fix(&mut client, &twice, "pcfg::duplicate-definition");
    assert_eq!(once, format!("{head}{tools}"));
    let listed = fix(&mut client, &once, "pcfg::duplicate-package");
    let head = head.replace(", \"vim\"]", "]");
    assert_eq!(listed, format!("{head}{tools}"));
    let required = fix(&mut client, &listed, "pcfg::missing-library");
    assert_eq!(
        required,
        format!(
            "{head}{}",
            tools.replace("tools {\n", "tools {\n  requires = [libs]\n")
        )
    );
    // A key file at first boot would be an empty key: the fix seals to the TPM instead.
    let sealed = required.replace(
        "partition root { type = root, size = 2G }",
        "partition root { type = root, size = 2G, encrypt = key-file+tpm2 }\ntrust { tpm2 { pcrs = [7], signed-policy = false } }",
    );
    let tpm2 = fix(&mut client, &sealed, "pcfg::empty-key-file");
    assert_eq!(tpm2, sealed.replace("key-file+tpm2", "tpm2"));
    // Each fix took its problem away; the last leaves none.
    version += 1;
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": system_uri, "version": version }, "contentChanges": [{ "text": tpm2 }] }),
    );
    assert_eq!(client.diagnostics_for(&system_uri), Vec::<Value>::new());
    client.request("shutdown", json!(null), &mut kept);
    client.notify("exit", json!(null));
}

/// The standard library opens as read-only files: going to `import "std/particleos"` opens a
/// copy of the module (mode 0444, the embedded text), a field it decides goes to its line
/// there, and in the copy, hover works and nothing is checked on its own.
#[test]
fn the_standard_library_opens_read_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = std::fs::canonicalize(dir.path()).expect("canonical");
    let text =
        "import \"std/particleos\"\nsystem.name = \"StdOS\"\npartition.esp.size = default 2G\n";
    let system = root.join("system.pcfg");
    std::fs::write(&system, text).expect("write");
    let system_uri = uri(&system);
    let (mut client, _) = Client::initialized(&root);
    let mut kept = Vec::new();
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": system_uri, "languageId": "pcfg", "version": 1, "text": text } }),
    );
    let definition = client.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": system_uri }, "position": position_of(text, "std/") }),
        &mut kept,
    );
    let std_uri = definition["result"]["uri"]
        .as_str()
        .expect("a location")
        .to_owned();
    let std_path = std::path::PathBuf::from(std_uri.strip_prefix("file://").expect("a file"));
    assert!(
        std_path.starts_with(root.join(".cache/pcfg/std")),
        "{std_uri}"
    );
    let module = include_str!("../lang/std/particleos.pcfg");
    assert_eq!(
        std::fs::read_to_string(&std_path).expect("the copy"),
        module
    );
    let mode = std::fs::metadata(&std_path)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o444, "read-only");
    // The strong `size = 1G` of the module wins over the weak default: its line.
    let decided = client.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": system_uri }, "position": position_of(text, "size") }),
        &mut kept,
    );
    assert_eq!(decided["result"]["uri"], std_uri.as_str(), "{decided}");
    let line = module[..module.find("partition esp").expect("esp")]
        .matches('\n')
        .count()
        + 2;
    assert_eq!(
        decided["result"]["range"]["start"]["line"], line,
        "{decided}"
    );
    // In the copy: hover through the configuration that imports it.
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": std_uri, "languageId": "pcfg", "version": 1, "text": module } }),
    );
    let at = module.find("partition esp").expect("esp");
    let size = at + module[at..].find("size").expect("size");
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": std_uri }, "position": position_at(module, size) }),
        &mut kept,
    );
    let shown = hover["result"]["contents"]["value"].as_str().unwrap_or("");
    assert!(
        shown.contains("partition.esp.size = 1G") && shown.contains("system.pcfg:3"),
        "{hover}"
    );
    client.request("shutdown", json!(null), &mut kept);
    client.notify("exit", json!(null));
    // Nothing was published for the copy.
    assert!(
        !kept.iter().any(|m| m["params"]["uri"] == std_uri.as_str()),
        "{kept:?}"
    );
}
