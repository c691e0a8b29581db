//! The base `/usr` that extensions are merged onto (`system.base-tree`): a directory holding the
//! base's root (`usr/...`), pcfg's base manifest of it (`manifest.rs`: files, links and ELF
//! facts), or a manifest in the format `sha256sum` prints, one `SHA256  PATH` line per regular
//! file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::elf::{self, ElfFacts};
use super::libraries;
use super::manifest;
use super::overlap::Digest;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::Model;
use crate::vfs::{EntryKind, Vfs};

/// What the analysis knows of the base.
pub(super) struct Base {
    /// Regular files: path, size when known (a manifest does not give it).
    pub(super) files: BTreeMap<String, Option<u64>>,
    /// Symbolic links: path, target as written.
    pub(super) links: BTreeMap<String, String>,
    /// Library file names and sonames the base provides.
    pub(super) libraries: BTreeSet<String>,
    /// The facts of the base's ELF files (from the tree or pcfg's manifest; a `sha256sum`
    /// manifest records none).
    pub(super) elves: BTreeMap<String, ElfFacts>,
    content: Content,
}

enum Content {
    Tree(PathBuf),
    Manifest(BTreeMap<String, Digest>),
}

impl Base {
    /// The SHA-256 of a base file.
    pub(super) fn digest(&self, vfs: &dyn Vfs, path: &str) -> Option<Digest> {
        match &self.content {
            Content::Tree(dir) => vfs.sha256(&dir.join(crate::vfs::decode_name(path))).ok(),
            Content::Manifest(digests) => digests.get(path).copied(),
        }
    }
}

/// Reads the base `model` declares, when it is there. A manifest line that is not
/// `SHA256  PATH` is a `pcfg::base-manifest` diagnostic.
pub(super) fn read(
    model: &Model,
    vfs: &dyn Vfs,
    entry_dir: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Base> {
    let declared = &model.system.base_tree;
    let path = entry_dir.join(declared.value.as_ref()?);
    if let Ok(entries) = vfs.walk(&path) {
        let head = |p: &str| vfs.read_prefix(&path.join(crate::vfs::decode_name(p)), 4);
        let facts = |p: &str| {
            let file = path.join(crate::vfs::decode_name(p));
            elf::facts(&|offset, len| vfs.read_range(&file, offset, len))
        };
        let scanned = libraries::scan(&entries, &head, &facts);
        let mut files = BTreeMap::new();
        let mut links = BTreeMap::new();
        for entry in entries {
            match entry.kind {
                EntryKind::File => {
                    files.insert(entry.path.into_string(), Some(entry.size));
                }
                EntryKind::Symlink { target } => {
                    links.insert(entry.path.into_string(), *target);
                }
                _ => {}
            }
        }
        return Some(Base {
            files,
            links,
            libraries: scanned.provides,
            elves: scanned.elves,
            content: Content::Tree(path),
        });
    }
    // A manifest of a whole `/usr` may well exceed what a source file may hold.
    let text = vfs.read_range(&path, 0, MANIFEST_MAX)?;
    if let Some(manifest) = manifest::read(&text) {
        return match manifest {
            Ok(manifest) => Some(from_manifest(manifest)),
            Err(reason) => {
                if let Some(at) = declared.at.or(model.system.at) {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::BaseManifest,
                            format!("the base manifest cannot be read: {reason}"),
                            Label::new(at, "the base manifest"),
                        )
                        .with_help(
                            "write it again with `pcfg base-manifest BASE-DIR -o FILE`, or give the base directory itself",
                        ),
                    );
                }
                None
            }
        };
    }
    let mut digests = BTreeMap::new();
    // Lines of bytes: file names need not be UTF-8.
    for (number, line) in text.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.trim_ascii().is_empty() || line.starts_with(b"#") {
            continue;
        }
        let Some((sum, file)) = parse_line(line) else {
            if let Some(at) = declared.at.or(model.system.at) {
                let shown = crate::diag::excerpt(&String::from_utf8_lossy(line), 60);
                diagnostics.push(
                    Diagnostic::new(
                        Code::BaseManifest,
                        format!(
                            "line {} of the base manifest is not `SHA256  PATH`: `{shown}`",
                            number + 1
                        ),
                        Label::new(at, "the base manifest"),
                    )
                    .with_help(
                        "write the manifest as `sha256sum` prints it, in the base's root: \
                         `find usr -type f -exec sha256sum {} + > base.sha256`",
                    ),
                );
            }
            continue;
        };
        digests.insert(file, sum);
    }
    let mut libraries = BTreeSet::new();
    for file in digests.keys() {
        libraries.extend(library_names(file));
    }
    Some(Base {
        files: digests.keys().map(|p| (p.clone(), None)).collect(),
        links: BTreeMap::new(),
        libraries,
        elves: BTreeMap::new(),
        content: Content::Manifest(digests),
    })
}

/// The largest manifest read: a `/usr` of a million files.
const MANIFEST_MAX: usize = 512 << 20;

/// The base as pcfg's manifest records it: files with sizes and hashes, links, ELF facts.
fn from_manifest(manifest: manifest::Manifest) -> Base {
    let mut files = BTreeMap::new();
    let mut links = BTreeMap::new();
    let mut digests = BTreeMap::new();
    let mut elves = BTreeMap::new();
    let mut libraries = BTreeSet::new();
    for entry in manifest.entries {
        // Files and links alike provide their names, as `libraries::scan` counts them.
        let name = entry.path.rsplit('/').next().unwrap_or("");
        if libraries::in_library_dir(&entry.path) && libraries::is_library_name(name) {
            libraries.insert(name.to_owned());
        }
        if let Some(target) = entry.link {
            links.insert(entry.path, target);
            continue;
        }
        if let Some(sum) = entry.sha256.as_deref().and_then(parse_hex) {
            digests.insert(entry.path.clone(), sum);
        }
        if let Some(elf) = entry.elf {
            let facts = ElfFacts::from(elf);
            if let Some(soname) = &facts.soname {
                if libraries::in_library_dir(&entry.path) {
                    libraries.insert(soname.clone());
                }
            }
            elves.insert(entry.path.clone(), facts);
        }
        files.insert(entry.path, entry.size);
    }
    Base {
        files,
        links,
        libraries,
        elves,
        content: Content::Manifest(digests),
    }
}

/// A SHA-256 written as 64 hex digits.
fn parse_hex(sum: &str) -> Option<Digest> {
    let mut out = [0u8; 32];
    if sum.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(sum.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// `HEX  PATH` (text mode) or `HEX *PATH` (binary mode); a leading `./` or `/` is dropped. A
/// line that starts with `\\` has its name escaped as `sha256sum` escapes names with a
/// backslash or a line break (`\\\\`, `\\n`, `\\r`). The name comes back as tree entries
/// carry names ([`crate::vfs::encode_name`]).
fn parse_line(line: &[u8]) -> Option<(Digest, String)> {
    let (escaped, line) = match line.strip_prefix(b"\\") {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let (sum, rest) = line.split_at_checked(64)?;
    let name = rest
        .strip_prefix(b"  ")
        .or_else(|| rest.strip_prefix(b" *"))?;
    let mut bytes = Vec::with_capacity(name.len());
    let mut i = 0;
    while i < name.len() {
        match (escaped, name[i], name.get(i + 1)) {
            (true, b'\\', Some(b'\\')) => bytes.push(b'\\'),
            (true, b'\\', Some(b'n')) => bytes.push(b'\n'),
            (true, b'\\', Some(b'r')) => bytes.push(b'\r'),
            (true, b'\\', _) => return None,
            (_, byte, _) => {
                bytes.push(byte);
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    let mut name: &[u8] = &bytes;
    while let Some(rest) = name.strip_prefix(b"./").or_else(|| name.strip_prefix(b"/")) {
        name = rest;
    }
    if name.is_empty() {
        return None;
    }
    let sum = parse_hex(std::str::from_utf8(sum).ok()?)?;
    Some((sum, crate::vfs::encode_name(name)))
}

/// The names a library file in a library directory answers to: a manifest lists regular files
/// only, so `libz.so.1.2.13` stands for its soname links `libz.so.1` and `libz.so` as well.
fn library_names(path: &str) -> Vec<String> {
    if !libraries::in_library_dir(path) {
        return Vec::new();
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some(stem) = name.find(".so") else {
        return Vec::new();
    };
    let base = &name[..stem + 3];
    let rest = &name[stem + 3..];
    if !rest.is_empty() && !rest.starts_with('.') {
        return Vec::new();
    }
    let mut names = vec![base.to_owned()];
    let mut current = base.to_owned();
    for part in rest.split('.').skip(1) {
        current.push('.');
        current.push_str(part);
        names.push(current.clone());
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_line_is_parsed_as_sha256sum_prints_it() {
        let sum = "a".repeat(64);
        let name = |line: &[u8]| parse_line(line).map(|(_, p)| p);
        assert_eq!(
            name(format!("{sum}  ./usr/bin/tool").as_bytes()).as_deref(),
            Some("usr/bin/tool")
        );
        assert_eq!(
            name(format!("{sum} *usr/bin/tool").as_bytes()).as_deref(),
            Some("usr/bin/tool")
        );
        assert!(name(format!("{sum} usr/bin/tool").as_bytes()).is_none());
        assert!(name(b"zz  usr/bin/tool").is_none());
        assert!(name(format!("{}  usr/bin/tool", "g".repeat(64)).as_bytes()).is_none());
        assert!(name("é".repeat(40).as_bytes()).is_none());
        // Names with a backslash or a line break, as sha256sum escapes them; bytes that are not
        // UTF-8, as sha256sum prints them.
        assert_eq!(
            name(format!("\\{sum}  usr/share/a\\\\b\\nc").as_bytes()).as_deref(),
            Some("usr/share/a\\\\b\nc")
        );
        let mut raw = format!("{sum}  usr/share/caf").into_bytes();
        raw.push(0xe9);
        assert_eq!(name(&raw).as_deref(), Some("usr/share/caf\\xe9"));
    }

    #[test]
    fn a_library_file_stands_for_its_soname_links() {
        assert_eq!(
            library_names("usr/lib/x86_64-linux-gnu/libz.so.1.2.13"),
            ["libz.so", "libz.so.1", "libz.so.1.2", "libz.so.1.2.13"]
        );
        assert_eq!(library_names("usr/lib/libc.so.6"), ["libc.so", "libc.so.6"]);
        assert!(library_names("usr/share/doc/libz.so.txt").is_empty());
        assert!(library_names("usr/lib/libzsomething").is_empty());
    }
}
