//! Any bytes, as an entry file and as the file it imports: the whole pipeline (parse, resolve,
//! validate, lower, check, emit, plan, render) must never panic, and every span must fall on
//! character boundaries; formatting is idempotent and keeps the tree and the comments.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use pcfg::diag::render::{render, RenderOptions};
use pcfg::vfs::MemoryFs;

fuzz_target!(|data: &[u8]| {
    let mut fs = MemoryFs::new();
    fs.insert("system.pcfg", data.to_vec());
    fs.insert("base.pcfg", data.to_vec());
    // Formatting what parses never fails its own checks (same tree, same comments) and is
    // idempotent.
    if let Ok(text) = std::str::from_utf8(data) {
        use pcfg::syntax::format::{format, FormatError};
        match format(pcfg::source::FileId(0), text) {
            Ok(once) => assert_eq!(format(pcfg::source::FileId(0), &once).ok().as_deref(), Some(once.as_str())),
            Err(FormatError::Syntax(_)) => {}
            Err(FormatError::Unstable(why)) => panic!("{why}"),
        }
    }
    let Ok(compilation) = pcfg::compile::check(&fs, Path::new("system.pcfg")) else {
        return;
    };
    // What compiles also emits and plans without panicking.
    if let Some(model) = &compilation.model {
        let source = pcfg::emit::Source { entry_name: "system.pcfg", entry_dir: Path::new(""), entry_from_output: Path::new(""), lock: None };
        let inputs = pcfg::plan::Inputs::read(model, &fs, Path::new(""));
        let _ = pcfg::emit::emit(model, &compilation.sources, &source, &inputs);
    }
    for diagnostic in &compilation.diagnostics {
        let text = &compilation.sources.get(diagnostic.primary.span.file).text;
        assert!(text.is_char_boundary(diagnostic.primary.span.start as usize));
        assert!(text.is_char_boundary(diagnostic.primary.span.end as usize));
        let _ = render(diagnostic, &compilation.sources, RenderOptions::plain(80));
    }
});
