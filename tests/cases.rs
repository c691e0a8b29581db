//! Golden cases: every `tests/cases/err/NAME.pcfg` (or `NAME/system.pcfg` for cases with
//! imports) snapshots its source and rendered diagnostics; every `tests/cases/ok/...` resolves
//! without diagnostics and snapshots the resolved JSON.

use std::path::Path;

use crate::support::{compile_file, pcfg, rendered};

fn relative(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn err_case(path: &Path) {
    let path = relative(path);
    let compilation = compile_file(Path::new(&path));
    assert!(
        compilation.has_errors() || !compilation.diagnostics.is_empty(),
        "{path} should report a diagnostic"
    );
    let source = std::fs::read(&path).expect("readable case");
    let source = String::from_utf8_lossy(&source);
    let source = if source.len() > 2000 {
        format!(
            "{}… ({} bytes)",
            &source[..source
                .char_indices()
                .nth(300)
                .map_or(source.len(), |(i, _)| i)],
            source.len()
        )
    } else {
        source.into_owned()
    };
    insta::assert_snapshot!(format!("{path}\n{source}\n---\n{}", rendered(&compilation)));
}

#[test]
fn err_cases() {
    insta::glob!("cases/err/*.pcfg", err_case);
}

#[test]
fn err_cases_with_imports() {
    insta::glob!("cases/err/*/system.pcfg", err_case);
}

#[test]
fn ok_cases() {
    insta::glob!("cases/ok/*/system.pcfg", |path| {
        let path = relative(path);
        let run = pcfg(&["eval", &path]);
        assert_eq!(run.code, 0, "{path}: {}", run.stderr);
        insta::assert_snapshot!(run.stdout);
    });
}
