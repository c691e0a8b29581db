//! The surface syntax: the AST and the nom parser that builds it.
//!
//! This module knows nothing of imports, layers or the schema, and does no IO (invariant A1):
//! it turns one file's text into an [`ast::File`] or one [`SyntaxError`] (with [`parse_prefix`],
//! the items before that error too).

pub mod ast;
mod error;
pub mod format;
mod parser;

pub use error::{SyntaxError, SyntaxErrorKind};
pub use parser::{is_name, number_error, parse, parse_prefix, KEYWORDS, MAX_NESTING};
