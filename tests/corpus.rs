//! A generator of synthetic extension corpora, for the tests and the benchmark: `extensions`
//! sysext trees of `files` files each, `duplicates` files planted with the same content in two
//! extensions (at different paths), `conflicts` paths planted in two extensions with different
//! content — all from a seed, so the same call makes the same bytes.

use std::fmt::Write as _;
use std::path::Path;

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Corpus {
    pub(crate) extensions: usize,
    pub(crate) files: usize,
    /// The largest file, in bytes (sizes are spread from 1 to this).
    pub(crate) max_size: usize,
    pub(crate) duplicates: usize,
    pub(crate) conflicts: usize,
    pub(crate) seed: u64,
}

/// A small, fast, deterministic generator (xorshift64*), also the grammar test's.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }

    /// `len` bytes that start with `tag`, so that no two planted contents are equal by chance.
    fn bytes(&mut self, tag: &str, len: usize) -> Vec<u8> {
        let mut out = tag.as_bytes().to_vec();
        while out.len() < len {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(len.max(tag.len()));
        out
    }
}

impl Corpus {
    /// Writes the trees below `dir/ext/NAME` and `dir/system.pcfg` naming them; returns the
    /// total bytes written.
    pub(crate) fn write(&self, dir: &Path) -> u64 {
        let mut rng = Rng(self.seed | 1);
        let mut total = 0u64;
        let mut write = |path: &Path, bytes: &[u8]| {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, bytes).expect("write");
            total += bytes.len() as u64;
        };
        let tree = |e: usize| dir.join(format!("ext/e{e:03}"));
        for e in 0..self.extensions {
            for f in 0..self.files {
                let size = 1 + rng.below(self.max_size);
                let bytes = rng.bytes(&format!("e{e}f{f}:"), size);
                write(
                    &tree(e).join(format!("usr/share/e{e:03}/d{:02}/f{f:05}", f % 50)),
                    &bytes,
                );
            }
        }
        let pair = |rng: &mut Rng| {
            let a = rng.below(self.extensions);
            let b = (a + 1 + rng.below(self.extensions - 1)) % self.extensions;
            (a, b)
        };
        for d in 0..self.duplicates {
            let (a, b) = pair(&mut rng);
            let size = 64 + rng.below(self.max_size);
            let bytes = rng.bytes(&format!("dup{d}:"), size);
            write(&tree(a).join(format!("usr/lib/dup{d:04}-a.so.1")), &bytes);
            write(&tree(b).join(format!("usr/lib/dup{d:04}-b.so.1")), &bytes);
        }
        for c in 0..self.conflicts {
            let (a, b) = pair(&mut rng);
            write(
                &tree(a).join(format!("usr/bin/conflict{c:04}")),
                format!("#!/bin/sh\necho {a}\n").as_bytes(),
            );
            write(
                &tree(b).join(format!("usr/bin/conflict{c:04}")),
                format!("#!/bin/sh\necho {b} {c}\n").as_bytes(),
            );
        }
        let mut config = String::from("system { name = \"corpus\", version = \"1\" }\n");
        for e in 0..self.extensions {
            let _ = writeln!(
                config,
                "extension e{e:03} {{ kind = sysext, source = \"ext/e{e:03}\" }}"
            );
        }
        std::fs::write(dir.join("system.pcfg"), config).expect("write");
        total
    }
}
