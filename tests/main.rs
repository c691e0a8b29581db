//! The integration tests: one binary (style.md T4), one module per concern.

mod bad_input;
mod book;
mod build;
mod cases;
mod catalogue;
mod ci;
mod cli;
mod corpus;
mod diff;
mod editors;
mod effects;
mod examples;
mod extensions;
mod flatpak;
mod fmt;
mod hostile;
mod json_contract;
mod lock;
mod model;
mod plan;
mod remix;
mod sarif;
mod support;
mod sysext;
mod tools;
mod tutorial;
