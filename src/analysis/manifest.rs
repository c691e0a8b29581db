//! pcfg's base manifest: what the extension analysis needs of a built base, for CI that does not
//! have the base tree — every regular file with its size and SHA-256, every symbolic link with
//! its target, and of each ELF file the facts the dynamic loader reads (machine, class, soname,
//! needed libraries, needed and defined symbol versions). `pcfg base-manifest DIR` writes it; the
//! build plan writes one for the base it builds; `system.base-tree` and `pcfg extensions --base`
//! read it as they read the tree itself.
//!
//! ```json
//! {"pcfg-base-manifest":1,"entries":[
//!  {"path":"usr/bin/compositor","size":16000,"sha256":"…","elf":{"machine":62,"class":64,
//!   "soname":null,"needed":["libfoo.so.0"],"needs":[["libfoo.so.0",["V_1.1"]]],"defines":[]}},
//!  {"path":"usr/lib/x86_64-linux-gnu/libfoo.so.0","link":"libfoo.so.0.2.0"}]}
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::elf::{self, ElfFacts};
use crate::vfs::{decode_name, EntryKind, Vfs};

/// The manifest's format version.
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Manifest {
    #[serde(rename = "pcfg-base-manifest")]
    pub version: u32,
    pub entries: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Entry {
    /// Relative to the base's root, as tree entries name files ([`crate::vfs::encode_name`]).
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// A symbolic link's target, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elf: Option<Elf>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Elf {
    pub machine: u16,
    pub class: u8,
    pub soname: Option<String>,
    pub needed: Vec<String>,
    pub needs: Vec<(String, Vec<String>)>,
    pub defines: Vec<String>,
}

impl From<&ElfFacts> for Elf {
    fn from(facts: &ElfFacts) -> Elf {
        Elf {
            machine: facts.machine,
            class: if facts.class64 { 64 } else { 32 },
            soname: facts.soname.clone(),
            needed: facts.needed.clone(),
            needs: facts.needs_versions.clone(),
            defines: facts.defines.clone(),
        }
    }
}

impl From<Elf> for ElfFacts {
    fn from(elf: Elf) -> ElfFacts {
        ElfFacts {
            machine: elf.machine,
            class64: elf.class == 64,
            soname: elf.soname,
            needed: elf.needed,
            needs_versions: elf.needs,
            defines: elf.defines,
        }
    }
}

/// The manifest of the tree at `dir`, as one line of JSON per entry (a manifest of a whole
/// `/usr` diffs well and streams).
///
/// # Errors
/// When the tree cannot be read whole, or a file of it cannot be hashed.
pub fn write(vfs: &dyn Vfs, dir: &Path) -> Result<String, String> {
    let entries = vfs.walk(dir)?;
    let mut out = format!("{{\"pcfg-base-manifest\":{VERSION},\"entries\":[\n");
    let mut first = true;
    for entry in entries {
        let file = dir.join(decode_name(&entry.path));
        let record = match &entry.kind {
            EntryKind::File => {
                let sha256 = vfs
                    .sha256(&file)
                    .map_err(|e| format!("cannot hash `{}`: {e:?}", entry.path))?;
                let is_elf = entry.size >= 64
                    && vfs
                        .read_prefix(&file, 4)
                        .is_some_and(|h| h.starts_with(b"\x7fELF"));
                let facts = if is_elf {
                    elf::facts(&|offset, len| vfs.read_range(&file, offset, len))
                } else {
                    None
                };
                Entry {
                    path: entry.path.into_string(),
                    size: Some(entry.size),
                    sha256: Some(crate::digest::hex(&sha256)),
                    link: None,
                    elf: facts.as_ref().map(Elf::from),
                }
            }
            EntryKind::Symlink { target } => Entry {
                path: entry.path.into_string(),
                size: None,
                sha256: None,
                link: Some(String::clone(target)),
                elf: None,
            },
            EntryKind::Dir | EntryKind::Special => continue,
        };
        if !first {
            out.push_str(",\n");
        }
        first = false;
        out.push_str(&serde_json::to_string(&record).map_err(|e| e.to_string())?);
    }
    out.push_str("\n]}\n");
    Ok(out)
}

/// Reads a manifest; `None` when the text is not one (it may be a `sha256sum` manifest).
///
/// # Errors
/// A manifest of pcfg's that cannot be read (with serde's reason), or of another version.
pub(super) fn read(text: &[u8]) -> Option<Result<Manifest, String>> {
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    if text[start] != b'{' {
        return None;
    }
    Some(
        serde_json::from_slice::<Manifest>(text)
            .map_err(|e| e.to_string())
            .and_then(|m| {
                if m.version == VERSION {
                    Ok(m)
                } else {
                    Err(format!(
                        "it is a base manifest of version {}, and this pcfg reads version {VERSION}",
                        m.version
                    ))
                }
            }),
    )
}
