//! Editor support in `lang/editors/`: the Vim syntax file and the `TextMate` grammar give every
//! token of every example and standard-library file a group or scope, as Vim and VS Code's own
//! tokenizer (vscode-textmate with Oniguruma, under Node) report it; and `pcfg lsp` in
//! Neovim's built-in client.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.pcfg` file of the examples and the standard library.
fn sources() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ["examples", "lang/std"]
        .iter()
        .flat_map(|dir| walkdir::WalkDir::new(root().join(dir)))
        .map(|e| e.expect("entry").into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcfg"))
        .collect();
    files.sort();
    files
}

/// `(line, column) -> group` for every non-blank character of `file`, from Vim.
fn vim_groups(file: &Path) -> BTreeMap<(usize, usize), String> {
    let vim = crate::support::test_tool_on_path("vim");
    let out = tempfile::NamedTempFile::new().expect("temp file");
    let status = std::process::Command::new(vim)
        .args(["-N", "-u", "NONE", "-i", "NONE", "-es", "--cmd"])
        .arg(format!(
            "set rtp^={}",
            root().join("lang/editors/vim").display()
        ))
        .args(["--cmd", "filetype plugin on", "--cmd", "syntax on", "-c"])
        .arg(format!(
            "source {}",
            root().join("tests/editors/dump.vim").display()
        ))
        .args(["-c", "qa!"])
        .arg(file)
        .env("PCFG_SYNTAX_OUT", out.path())
        .stdin(std::process::Stdio::null())
        .status()
        .expect("vim runs");
    assert!(status.success(), "vim failed on {}", file.display());
    std::fs::read_to_string(out.path())
        .expect("vim's report")
        .lines()
        .map(|row| {
            let mut parts = row.splitn(3, ':');
            let mut number = || parts.next().and_then(|n| n.parse().ok()).expect("a number");
            let (line, column) = (number(), number());
            ((line, column), parts.next().unwrap_or("").to_owned())
        })
        .collect()
}

#[test]
fn vim_gives_every_token_of_every_example_a_group() {
    let files = sources();
    assert!(files.len() >= 8, "files: {files:?}");
    for file in &files {
        let groups = vim_groups(file);
        let text = std::fs::read_to_string(file).expect("source");
        // Vim reports every byte that is not blank: all of them must be there.
        let tokens_bytes = text.bytes().filter(|b| !b.is_ascii_whitespace()).count();
        assert_eq!(groups.len(), tokens_bytes, "{}", file.display());
        let missing: Vec<_> = groups.iter().filter(|(_, g)| g.is_empty()).collect();
        assert!(
            missing.is_empty(),
            "{}: no group at {missing:?}",
            file.display()
        );
    }
}

/// The sample every highlighter must tell apart, and where to look in it.
const SAMPLE: &str = "import \"std/particleos\"\nremove partition.swap\npartition.usr.size-max = 30G # note\nextension tools { kind = sysext, signed = true, requires = [libs] }\ntrust { tpm2 { pcrs = [7, 0x0b] } }\nsystem.cmdline += [\"a\\\"b\"]\npartition.root.size = default 1.5G\nextension 1password { requires = [7zip], x = 42 }\n";

#[test]
fn vim_tells_the_parts_of_a_configuration_apart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("system.pcfg");
    std::fs::write(&file, SAMPLE).expect("write");
    let groups = vim_groups(&file);
    let text = std::fs::read_to_string(&file).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    // The group of the `nth` occurrence of `needle` on `line` (1-based), at its first character.
    let at = |line: usize, needle: &str, nth: usize| -> &str {
        let column = lines[line - 1]
            .match_indices(needle)
            .nth(nth)
            .unwrap_or_else(|| panic!("`{needle}` on line {line}"))
            .0;
        groups[&(line, column + 1)].as_str()
    };
    assert_eq!(at(1, "import", 0), "pcfgInclude");
    assert_eq!(at(1, "\"", 0), "pcfgString");
    assert_eq!(at(2, "remove", 0), "pcfgStatement");
    assert_eq!(
        at(2, "partition", 0),
        "pcfgIdent",
        "a removed path is not being set"
    );
    assert_eq!(at(3, "partition", 0), "pcfgKey");
    assert_eq!(at(3, ".", 0), "pcfgDelimiter");
    assert_eq!(at(3, "size-max", 0), "pcfgKey");
    assert_eq!(at(3, "=", 0), "pcfgOperator");
    assert_eq!(at(3, "30G", 0), "pcfgSize");
    assert_eq!(at(3, "# note", 0), "pcfgComment");
    assert_eq!(at(4, "extension", 0), "pcfgBlock");
    assert_eq!(at(4, "tools", 0), "pcfgLabel");
    assert_eq!(at(4, "kind", 0), "pcfgKey");
    assert_eq!(at(4, "sysext", 0), "pcfgIdent");
    assert_eq!(at(4, "true", 0), "pcfgBoolean");
    assert_eq!(at(4, "libs", 0), "pcfgIdent");
    assert_eq!(at(5, "trust", 0), "pcfgBlock");
    assert_eq!(at(5, "tpm2", 0), "pcfgBlock");
    assert_eq!(at(5, "7", 0), "pcfgNumber");
    assert_eq!(at(5, "0x0b", 0), "pcfgNumber");
    assert_eq!(at(6, "+=", 0), "pcfgOperator");
    assert_eq!(at(6, "\\", 0), "pcfgEscape");
    assert_eq!(at(7, "default", 0), "pcfgDefault");
    assert_eq!(at(7, "1.5G", 0), "pcfgSize");
    assert_eq!(at(8, "1password", 0), "pcfgLabel");
    assert_eq!(at(8, "7zip", 0), "pcfgIdent");
    assert_eq!(at(8, "42", 0), "pcfgNumber");
}

/// One token as vscode-textmate reports it.
#[derive(serde::Deserialize)]
struct Token {
    file: String,
    line: usize,
    text: String,
    scopes: Vec<String>,
}

/// Tokenizes `files` with the `TextMate` grammar, as VS Code does.
fn textmate_tokens(files: &[PathBuf]) -> Vec<Token> {
    let tools = std::env::var_os("PCFG_TEST_TOOLS")
        .map_or_else(|| root().join("target/test-tools"), PathBuf::from);
    let modules = tools.join("node_modules");
    assert!(
        modules.join("vscode-textmate").is_dir(),
        "vscode-textmate is missing: run `scripts/test-tools` first (README.md)"
    );
    let node = crate::support::test_tool_on_path("node");
    let out = std::process::Command::new(node)
        .arg(root().join("tests/editors/tokenize.js"))
        .arg(root().join("lang/editors/textmate/pcfg.tmLanguage.json"))
        .args(files)
        .env("NODE_PATH", &modules)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "tokenize.js: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a token"))
        .collect()
}

#[test]
fn textmate_gives_every_token_of_every_example_a_scope() {
    let files = sources();
    let tokens = textmate_tokens(&files);
    for file in &files {
        let text = std::fs::read_to_string(file).expect("source");
        let ours: Vec<&Token> = tokens
            .iter()
            .filter(|t| Path::new(&t.file) == file)
            .collect();
        let covered: String = ours
            .iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join("");
        assert_eq!(
            covered.split_whitespace().collect::<String>(),
            text.split_whitespace().collect::<String>(),
            "{}: the tokens are the text",
            file.display()
        );
        for token in ours.iter().filter(|t| !t.text.trim().is_empty()) {
            assert!(
                token.scopes.len() > 1,
                "{}:{}: `{}` has no scope beyond source.pcfg",
                file.display(),
                token.line,
                token.text
            );
        }
    }
}

#[test]
fn textmate_tells_the_parts_of_a_configuration_apart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("system.pcfg");
    std::fs::write(&file, SAMPLE).expect("write");
    let tokens = textmate_tokens(std::slice::from_ref(&file));
    // The innermost scope of the `nth` token reading `text` on `line`.
    let scope = |line: usize, text: &str, nth: usize| -> &str {
        tokens
            .iter()
            .filter(|t| t.line == line && t.text.trim() == text)
            .nth(nth)
            .and_then(|t| t.scopes.last())
            .unwrap_or_else(|| panic!("no token `{text}` on line {line}"))
    };
    assert_eq!(scope(1, "import", 0), "keyword.control.import.pcfg");
    assert_eq!(scope(1, "std/particleos", 0), "string.quoted.double.pcfg");
    assert_eq!(scope(2, "remove", 0), "keyword.other.remove.pcfg");
    assert_eq!(scope(2, "partition", 0), "constant.other.symbol.pcfg");
    assert_eq!(scope(3, "partition", 0), "variable.other.property.pcfg");
    assert_eq!(scope(3, ".", 0), "punctuation.accessor.dot.pcfg");
    assert_eq!(scope(3, "size-max", 0), "variable.other.property.pcfg");
    assert_eq!(scope(3, "=", 0), "keyword.operator.assignment.pcfg");
    assert_eq!(scope(3, "30G", 0), "constant.numeric.size.pcfg");
    assert_eq!(scope(3, "# note", 0), "comment.line.number-sign.pcfg");
    assert_eq!(scope(4, "extension", 0), "entity.name.type.block.pcfg");
    assert_eq!(scope(4, "tools", 0), "entity.name.label.pcfg");
    assert_eq!(scope(4, "kind", 0), "variable.other.property.pcfg");
    assert_eq!(scope(4, "sysext", 0), "constant.other.symbol.pcfg");
    assert_eq!(scope(4, "true", 0), "constant.language.pcfg");
    assert_eq!(scope(4, "libs", 0), "constant.other.symbol.pcfg");
    assert_eq!(scope(5, "trust", 0), "entity.name.type.block.pcfg");
    assert_eq!(scope(5, "tpm2", 0), "entity.name.type.block.pcfg");
    assert_eq!(scope(5, "7", 0), "constant.numeric.integer.pcfg");
    assert_eq!(scope(5, "0x0b", 0), "constant.numeric.integer.pcfg");
    assert_eq!(scope(6, "+=", 0), "keyword.operator.assignment.pcfg");
    assert_eq!(scope(6, "\\\"", 0), "constant.character.escape.pcfg");
    assert_eq!(scope(7, "default", 0), "storage.modifier.default.pcfg");
    assert_eq!(scope(7, "1.5G", 0), "constant.numeric.size.pcfg");
    assert_eq!(scope(8, "1password", 0), "entity.name.label.pcfg");
    assert_eq!(scope(8, "7zip", 0), "constant.other.symbol.pcfg");
    assert_eq!(scope(8, "42", 0), "constant.numeric.integer.pcfg");
}

/// `pcfg lsp` in a real client: Neovim's built-in one (Debian's `neovim`), run headless by
/// `tests/editors/lsp.lua`. The unsaved-buffer case and every request are in `tests/lsp.rs`;
/// this shows the client understands the server: the diagnostic lands on the misspelt field,
/// hover shows the resolved value and the definition it overrode, formatting applies.
#[test]
fn neovim_shows_the_diagnostics_and_hover_of_pcfg_lsp() {
    let nvim = crate::support::test_tool_on_path("nvim");
    let dir = tempfile::tempdir().expect("tempdir");
    let work = std::fs::canonicalize(dir.path()).expect("canonical");
    std::fs::write(
        work.join("base.pcfg"),
        "system { name = \"lspos\", version = \"1\" }\npartition esp { type = esp, size = 512M }\npartition root { type = root, size-min = 2G, format = ext4 }\n",
    )
    .expect("write");
    let file = work.join("system.pcfg");
    std::fs::write(
        &file,
        "import \"base.pcfg\"\npartition.root.size-min = 4G\npartition.root.sise   =   4G\n",
    )
    .expect("write");
    let out = work.join("out.txt");
    let status = std::process::Command::new(nvim)
        .args(["--headless", "--clean", "-c"])
        .arg(format!(
            "luafile {}",
            root().join("tests/editors/lsp.lua").display()
        ))
        .env("PCFG", env!("CARGO_BIN_EXE_pcfg"))
        .env("RUNTIME", root().join("lang/editors/vim"))
        .env("FILE", &file)
        .env("OUT", &out)
        .stdin(std::process::Stdio::null())
        .status()
        .expect("nvim runs");
    assert!(status.success(), "{status}");
    let report = std::fs::read_to_string(&out).expect("the script's report");
    let lines: Vec<&str> = report.lines().collect();
    // The shipped runtime directory detected the file type and started the server.
    assert_eq!(lines[0], "filetype pcfg", "{report}");
    let lines = &lines[1..];
    assert!(
        lines[0].starts_with("diagnostic 2:15 unknown field `sise` in `partition.root`")
            && lines[0].contains("help: did you mean `size`?"),
        "{report}"
    );
    let hover = lines
        .iter()
        .find(|l| l.starts_with("hover "))
        .unwrap_or_else(|| panic!("{report}"));
    assert!(
        hover.contains("partition.root.size-min = 4G")
            && hover.contains("overrides")
            && hover.contains("base.pcfg:3"),
        "{report}"
    );
    assert!(
        lines.contains(
            &"formatted import \"base.pcfg\"|partition.root.size-min = 4G|partition.root.sise = 4G"
        ),
        "{report}"
    );
}
