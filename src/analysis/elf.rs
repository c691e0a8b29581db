//! What the dynamic loader reads of an ELF file: its machine and class, its soname, the
//! libraries it needs (`DT_NEEDED`), the symbol versions it needs of each (`DT_VERNEED`) and the
//! versions it defines (`DT_VERDEF`). Read in parts — the header, the program headers, the
//! dynamic segment, its string table and the version tables, through `read(offset, len)` — so a
//! file of any size costs kilobytes, never its whole size.

use goblin::container::Ctx;
use goblin::elf::dynamic::{Dynamic, DT_SONAME, DT_VERDEFNUM, DT_VERNEEDNUM};
use goblin::elf::program_header::{ProgramHeader, PT_DYNAMIC};
use goblin::elf::Elf;
use goblin::strtab::Strtab;

/// Bounds on the parts read: far above any real file's, far below a hostile one's claims.
const TABLE_MAX: usize = 1 << 20;
const STRINGS_MAX: usize = 16 << 20;
/// Entries of a version table walked at most (a loop in `vn_next` ends here).
const VERSIONS_MAX: usize = 4096;
/// The bytes of a version table read: tables of real programs take a few hundred, glibc's
/// definitions about a kilobyte.
const VERSION_WINDOW: usize = 16 << 10;

/// The facts of one ELF file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ElfFacts {
    /// `e_machine`.
    pub machine: u16,
    /// 64-bit (`ELFCLASS64`).
    pub class64: bool,
    pub soname: Option<String>,
    /// `DT_NEEDED`, in order.
    pub needed: Vec<String>,
    /// Per needed library file name, the symbol versions required of it (`DT_VERNEED`).
    pub needs_versions: Vec<(String, Vec<String>)>,
    /// The symbol versions it defines (`DT_VERDEF`, without the entry naming the file itself).
    pub defines: Vec<String>,
}

/// Reads the facts of an ELF file; `None` when it is not one, or is malformed.
pub fn facts(read: &dyn Fn(u64, usize) -> Option<Vec<u8>>) -> Option<ElfFacts> {
    let head = read(0, 64)?;
    let header = Elf::parse_header(&head).ok()?;
    let container = header.container().ok()?;
    let little = header.endianness().ok()?.is_little();
    let ctx = Ctx::new(container, header.endianness().ok()?);
    let mut facts = ElfFacts {
        machine: header.e_machine,
        class64: container.is_big(),
        ..ElfFacts::default()
    };
    let table_len = usize::from(header.e_phentsize) * usize::from(header.e_phnum);
    if table_len > TABLE_MAX {
        return None;
    }
    let table = read(header.e_phoff, table_len)?;
    let mut phdrs = ProgramHeader::parse(&table, 0, usize::from(header.e_phnum), ctx).ok()?;
    // A static program has no dynamic segment: its machine is all there is to know.
    let Some(dynamic) = phdrs.iter_mut().find(|p| p.p_type == PT_DYNAMIC) else {
        return Some(facts);
    };
    let len = usize::try_from(dynamic.p_filesz)
        .ok()
        .filter(|&n| n <= TABLE_MAX)?;
    let segment = read(dynamic.p_offset, len)?;
    // The segment is read on its own: it starts at offset 0 of its buffer.
    dynamic.p_offset = 0;
    let Ok(Some(parsed)) = Dynamic::parse(&segment, &phdrs, ctx) else {
        return Some(facts);
    };
    let strings = read(
        parsed.info.strtab as u64,
        parsed.info.strsz.min(STRINGS_MAX),
    )?;
    let strtab = Strtab::parse(&strings, 0, strings.len(), 0).ok()?;
    let string = |offset: u64| -> Option<String> {
        strtab
            .get_at(usize::try_from(offset).ok()?)
            .map(str::to_owned)
    };
    facts.needed = parsed
        .get_libraries(&strtab)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let value = |tag: u64| parsed.dyns.iter().find(|d| d.d_tag == tag).map(|d| d.d_val);
    facts.soname = value(DT_SONAME).and_then(string);
    let reader = Fields { little };
    // goblin converts the tables' addresses to file offsets; the counts are read raw.
    if parsed.info.verneed != 0 {
        let count = value(DT_VERNEEDNUM).unwrap_or(0);
        let bytes = read(parsed.info.verneed, VERSION_WINDOW)?;
        facts.needs_versions = verneed(&bytes, count, &reader, &string);
    }
    if parsed.info.verdef != 0 {
        let count = value(DT_VERDEFNUM).unwrap_or(0);
        let bytes = read(parsed.info.verdef, VERSION_WINDOW)?;
        facts.defines = verdef(&bytes, count, &reader, &string);
    }
    Some(facts)
}

/// Little- or big-endian fields of the version tables (the same layout in both classes).
struct Fields {
    little: bool,
}

impl Fields {
    fn u16(&self, bytes: &[u8], at: usize) -> Option<u16> {
        let b: [u8; 2] = bytes.get(at..at + 2)?.try_into().ok()?;
        Some(if self.little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }

    fn u32(&self, bytes: &[u8], at: usize) -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }
}

/// `Elf_Verneed` entries (`vn_cnt` at 2, `vn_file` at 4, `vn_aux` at 8, `vn_next` at 12), each
/// with `Elf_Vernaux` entries (`vna_name` at 8, `vna_next` at 12).
fn verneed(
    bytes: &[u8],
    count: u64,
    f: &Fields,
    string: &dyn Fn(u64) -> Option<String>,
) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut at = 0usize;
    for _ in 0..count.min(VERSIONS_MAX as u64) {
        let (Some(cnt), Some(file), Some(aux), Some(next)) = (
            f.u16(bytes, at + 2),
            f.u32(bytes, at + 4),
            f.u32(bytes, at + 8),
            f.u32(bytes, at + 12),
        ) else {
            break;
        };
        let mut versions = Vec::new();
        let mut aux_at = at.saturating_add(aux as usize);
        for _ in 0..usize::from(cnt).min(VERSIONS_MAX) {
            let (Some(name), Some(aux_next)) =
                (f.u32(bytes, aux_at + 8), f.u32(bytes, aux_at + 12))
            else {
                break;
            };
            versions.extend(string(u64::from(name)));
            if aux_next == 0 {
                break;
            }
            aux_at = aux_at.saturating_add(aux_next as usize);
        }
        if let Some(file) = string(u64::from(file)) {
            out.push((file, versions));
        }
        if next == 0 {
            break;
        }
        at = at.saturating_add(next as usize);
    }
    out
}

/// `Elf_Verdef` entries (`vd_flags` at 2, `vd_cnt` at 6, `vd_aux` at 12, `vd_next` at 16), the
/// first `Elf_Verdaux` (`vda_name` at 0) naming the version; the entry flagged `VER_FLG_BASE`
/// names the file itself and is left out.
fn verdef(
    bytes: &[u8],
    count: u64,
    f: &Fields,
    string: &dyn Fn(u64) -> Option<String>,
) -> Vec<String> {
    const VER_FLG_BASE: u16 = 1;
    let mut out = Vec::new();
    let mut at = 0usize;
    for _ in 0..count.min(VERSIONS_MAX as u64) {
        let (Some(flags), Some(aux), Some(next)) = (
            f.u16(bytes, at + 2),
            f.u32(bytes, at + 12),
            f.u32(bytes, at + 16),
        ) else {
            break;
        };
        if flags & VER_FLG_BASE == 0 {
            if let Some(name) = f.u32(bytes, at.saturating_add(aux as usize)) {
                out.extend(string(u64::from(name)));
            }
        }
        if next == 0 {
            break;
        }
        at = at.saturating_add(next as usize);
    }
    out
}
