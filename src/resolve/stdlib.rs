//! The standard library: the modules under `lang/std/`, embedded in the binary and imported
//! as `import "std/NAME"`.

/// `(NAME, source)` for every module, sorted by name.
pub const MODULES: &[(&str, &str)] =
    &[("particleos", include_str!("../../lang/std/particleos.pcfg"))];

/// The prefix that marks an import as a standard library module.
pub const PREFIX: &str = "std/";

/// The source of module `name`.
#[must_use]
pub fn module(name: &str) -> Option<&'static str> {
    MODULES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, src)| *src)
}

/// The module an import names, when it names one of the standard library: `std/NAME`, or,
/// written in a module of the standard library (`in_std`), a sibling as a relative path
/// (`NAME.pcfg`). The name may still be unknown: [`module`] says.
#[must_use]
pub fn imported_name(import: &str, in_std: bool) -> Option<&str> {
    import
        .strip_prefix(PREFIX)
        .or_else(|| in_std.then(|| import.strip_suffix(".pcfg").unwrap_or(import)))
}

/// The names of all modules.
pub fn names() -> impl Iterator<Item = &'static str> {
    MODULES.iter().map(|(n, _)| *n)
}
