//! `pcfg trust FILE`: the trust chain, link by link, with each link's state and the line that
//! establishes it.

use std::fmt::Write as _;
use std::io::Write;

use serde_json::json;

use super::args::{Format, TrustArgs};
use super::eval::resolved_or_report;
use super::model_json::chain_json;
use super::output::Output;
use super::{Failure, EXIT_INPUT, EXIT_OK};
use crate::compile;
use crate::vfs::RealFs;

pub(super) fn run(args: &TrustArgs, output: &Output, out: &mut dyn Write) -> Result<u8, Failure> {
    let compilation = compile::check(&RealFs, &args.file)?;
    if resolved_or_report(&compilation, output, out)?.is_none() {
        return Ok(EXIT_INPUT);
    }
    let Some(model) = &compilation.model else {
        return Ok(EXIT_INPUT);
    };
    let sources = &compilation.sources;
    let require = model.trust.require.value.name();
    if output.format == Format::Json {
        let json =
            json!({ "version": 1, "require": require, "chain": chain_json(&model.chain, sources) });
        serde_json::to_writer_pretty(&mut *out, &json)?;
        writeln!(out)?;
        return Ok(EXIT_OK);
    }
    let mut text = format!(
        "trust chain of {} (require: {require})\n\n",
        model.system.name.value
    );
    let width = model.chain.iter().map(|l| l.name.len()).max().unwrap_or(0);
    for link in &model.chain {
        let _ = writeln!(
            text,
            "  {:<width$}  {:<11}  {}",
            link.name,
            link.state.name(),
            link.reason
        );
        if let Some(at) = link.at {
            let file = sources.get(at.file);
            let line_col = file.line_col(at.start as usize);
            let line = file.line_text(line_col.line).trim();
            let _ = writeln!(
                text,
                "  {:<width$}  {:<11}  └─ {}:{line_col}: {line}",
                "", "", file.name
            );
        }
    }
    out.write_all(text.as_bytes())?;
    Ok(EXIT_OK)
}
