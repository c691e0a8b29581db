//! pcfg: a compiler for declarations of immutable, verified Linux systems.
//!
//! The pipeline (see ARCHITECTURE.md): [`resolve`] loads and layers the files, [`schema`]
//! validates the result, and later phases lower it to the OS model and emit files.

#![forbid(unsafe_code)]

pub mod analysis;
pub mod check;
pub mod cli;
pub mod compile;
pub mod diag;
pub mod digest;
pub mod emit;
pub mod graph;
pub mod lock;
pub mod model;
pub mod openpgp;
pub mod plan;
pub mod products;
pub mod resolve;
pub mod schema;
pub mod source;
pub mod syntax;
pub mod vfs;

pub use compile::{check, Compilation};
