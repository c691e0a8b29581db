//! `pcfg init [DIR] [--from EXAMPLE]`: starts a configuration — by default a five-line remix of
//! `std/particleos` with the most common changes as comments — and never overwrites one.

use std::io::Write;
use std::path::Path;

use super::args::InitArgs;
use super::{Failure, EXIT_OK};

/// The remix `pcfg init` writes without `--from`.
const REMIX: &str = r#"# My system: ParticleOS, changed where it says so. `pcfg check system.pcfg`
# checks it, `pcfg build system.pcfg -o out` writes what mkosi and systemd need.
import "std/particleos"

system.name = "MyOS"                 # the image id: labels, artifact names, filters
update.channel.obs.source = "https://updates.example.org/myos/"  # where MyOS is published: replace this placeholder
# system.packages += ["vim"]         # more packages in the image
# system.cmdline += ["quiet"]        # more kernel command line
# partition.usr.size-max = 30G       # room for a bigger /usr (slot B follows)
# remove partition.swap              # no swap: its repart files and policy entry go
# trust.require = measured-boot      # accept a measured boot; then `remove trust.secure-boot` drops the keys
# update.tries = 5                   # boots a new version may try before falling back
"#;

/// The examples `--from` takes: self-contained configurations (no files beside them).
const EXAMPLES: &[(&str, &str)] = &[
    ("minimal", include_str!("../../examples/minimal.pcfg")),
    ("particleos", include_str!("../../examples/particleos.pcfg")),
    (
        "particleos-desktop",
        include_str!("../../examples/particleos-desktop/system.pcfg"),
    ),
    ("server", include_str!("../../examples/server/system.pcfg")),
    (
        "no-secure-boot",
        include_str!("../../examples/no-secure-boot/system.pcfg"),
    ),
    (
        "arm64-board",
        include_str!("../../examples/arm64-board/system.pcfg"),
    ),
];

pub(super) fn run(args: &InitArgs, out: &mut dyn Write) -> Result<u8, Failure> {
    let text = match &args.from {
        None => REMIX,
        Some(name) => EXAMPLES
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, text)| *text)
            .ok_or_else(|| {
                let names: Vec<&str> = EXAMPLES.iter().map(|(n, _)| *n).collect();
                Failure::usage(format!("no example `{name}`: one of {}", names.join(", ")))
            })?,
    };
    let dir = args.dir.as_deref().unwrap_or(Path::new("."));
    let path = dir.join("system.pcfg");
    if path.exists() {
        return Err(Failure::usage(format!(
            "`{}` exists: pcfg init never overwrites a configuration; choose another directory",
            path.display()
        )));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::usage(format!("cannot create `{}`: {e}", dir.display())))?;
    // `create_new` keeps the promise even if the file appears in between.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| Failure::usage(format!("cannot write `{}`: {e}", path.display())))?;
    file.write_all(text.as_bytes())
        .map_err(|e| Failure::usage(format!("cannot write `{}`: {e}", path.display())))?;
    writeln!(
        out,
        "wrote {}; next: pcfg check {}",
        path.display(),
        path.display()
    )?;
    Ok(EXIT_OK)
}
