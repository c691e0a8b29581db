//! The generated configuration both benches compile: `items` partitions and extensions (half
//! each) over `files` files, all imported by the entry, which also overrides, appends and
//! removes as a remix does; each extension has a one-file tree.
#![allow(clippy::format_push_string, dead_code)]

/// The files, as `(path, text)`.
pub(crate) fn generated_files(items: usize, files: usize) -> Vec<(String, String)> {
    let mut fs: Vec<(String, String)> = Vec::new();
    let per_file = items / files;
    let mut entry =
        String::from("system { name = \"bench\", version = \"1\", cmdline = [\"rw\"] }\n");
    for f in 0..files {
        entry.push_str(&format!("import \"layer{f}.pcfg\"\n"));
        let mut text = format!("# layer {f}\n");
        for i in 0..per_file {
            let n = f * per_file + i;
            if n % 2 == 0 {
                text.push_str(&format!(
                    "partition p{n} {{\n  type = linux-generic\n  size-min = {}M\n  size-max = default 8G\n  weight = {}\n  format = ext4\n  directories = [\"/srv/{n}\"]\n}}\n",
                    1 + n % 512,
                    n % 1000
                ));
            } else {
                let requires = if n > 2 {
                    format!("requires = [e{}]", n - 2)
                } else {
                    String::new()
                };
                text.push_str(&format!(
                    "extension e{n} {{ kind = sysext, source = \"ext/{n}\", {requires} }}\n"
                ));
                fs.push((format!("ext/{n}/usr/share/e{n}/README"), format!("e{n}\n")));
            }
        }
        fs.push((format!("layer{f}.pcfg"), text));
    }
    entry.push_str(
        "partition.p0.size-max = 16G\nsystem.cmdline += [\"quiet\"]\nremove partition.p2\n",
    );
    fs.push(("system.pcfg".to_owned(), entry));
    fs
}
