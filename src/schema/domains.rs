//! Value grammars: what each kind of string field may hold, chosen so that an accepted value
//! means exactly the same thing to every tool that reads it (systemd-repart, systemd-sysupdate,
//! mkosi, the kernel and systemd's command-line parser, Flatpak). A value outside its grammar
//! is refused at its span; the emitters' writers then escape what the grammar lets through
//! (`%`) and refuse anything else, as a second line of defence.

use super::Str;
use crate::diag::excerpt;

/// Why a value is outside its grammar, and what to write instead.
#[derive(Debug)]
pub struct Problem {
    pub what: String,
    pub help: String,
}

fn problem(what: impl Into<String>, help: impl Into<String>) -> Result<(), Problem> {
    Err(Problem {
        what: what.into(),
        help: help.into(),
    })
}

/// GPT partition names hold 36 UTF-16 code units, and systemd-repart reads `Label=` into at
/// most 36 bytes of UTF-8 after expanding specifiers (a longer value is ignored with a warning
/// and the partition gets the default label): a label may have at most 36 bytes. Every UTF-16
/// code unit takes at least one byte, so the byte limit is the one that binds.
pub const GPT_LABEL_MAX: usize = 36;
pub const IMAGE_ID_MAX: usize = 64;
/// The longest a free-text value (a pretty name, a title) may be.
const TEXT_MAX: usize = 128;
/// The longest a path may be (`PATH_MAX`).
const PATH_MAX: usize = 4096;
/// Flatpak's limit on an application or runtime id.
const FLATPAK_ID_MAX: usize = 255;

/// Checks `s` against the grammar of `rule`.
pub fn check(rule: Str, s: &str) -> Result<(), Problem> {
    if s.is_empty() {
        return problem("is empty", "write a non-empty string");
    }
    match rule {
        Str::ImageId => image_id(s),
        Str::OsId => os_id(s),
        Str::Version => version(s),
        Str::Release => release(s),
        Str::Text => text(s, false),
        Str::Title => text(s, true),
        Str::Package => package(s),
        Str::CmdlineOption => cmdline_option(s),
        Str::AbsolutePath => absolute_path(s),
        Str::ConfigPath => config_path(s),
        Str::Url => url(s),
        Str::GptLabel => gpt_label(s),
        Str::FlatpakApp => flatpak_ref(s, "app"),
        Str::FlatpakRuntime => flatpak_ref(s, "runtime"),
        Str::KernelModule => kernel_module(s),
    }
}

/// How a character is named in a message: `a newline (U+000A)`, `` `#` ``.
fn describe(c: char) -> String {
    let name = match c {
        '\n' => "a newline",
        '\r' => "a carriage return",
        '\t' => "a tab",
        '\0' => "a NUL character",
        '\u{1b}' => "an escape character",
        ' ' => "a space",
        '"' | '\'' => "a quote",
        '\\' => "a backslash",
        c if c.is_control() => "a control character",
        c if c.is_whitespace() => "a white-space character",
        '\u{2028}' | '\u{2029}' => "a line separator",
        _ => return format!("`{c}` (U+{:04X})", u32::from(c)),
    };
    format!("{name} (U+{:04X})", u32::from(c))
}

/// Control characters, line breaks of any reader (systemd's `read_line`, Python's
/// `str.splitlines`, which mkosi uses) and invisible format characters.
fn is_unprintable(c: char) -> bool {
    crate::diag::is_hidden(c)
}

/// The first character that fails `allowed`, as a problem.
fn only(s: &str, allowed: impl Fn(char) -> bool, help: &str) -> Result<(), Problem> {
    match s.chars().find(|&c| !allowed(c)) {
        Some(c) => problem(format!("contains {}", describe(c)), help),
        None => Ok(()),
    }
}

fn at_most(s: &str, max: usize, what: &str) -> Result<(), Problem> {
    let count = s.chars().count();
    if count > max {
        return problem(
            format!("is {count} characters long, more than {max}"),
            format!("shorten it: {what} hold at most {max} characters"),
        );
    }
    Ok(())
}

fn image_id(s: &str) -> Result<(), Problem> {
    let help = format!("use at most {IMAGE_ID_MAX} ASCII letters, digits, `.`, `_` and `-`, starting with a letter or digit: it names partitions and files");
    at_most(s, IMAGE_ID_MAX, "image ids")?;
    only(s, |c| c.is_ascii_alphanumeric() || "._-".contains(c), &help)?;
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return problem("does not start with a letter or digit", help);
    }
    Ok(())
}

fn os_id(s: &str) -> Result<(), Problem> {
    let suggestion = s.to_ascii_lowercase().replace(
        |c: char| !c.is_ascii_alphanumeric() && !"._-".contains(c),
        "-",
    );
    only(
        s,
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c),
        &format!(
            "an os-release ID is lower-case letters, digits, `.`, `_` and `-`, e.g. `\"{}\"`",
            excerpt(&suggestion, 40)
        ),
    )?;
    at_most(s, IMAGE_ID_MAX, "os-release IDs")
}

fn version(s: &str) -> Result<(), Problem> {
    only(
        s,
        |c| c.is_ascii_alphanumeric() || ".~^+-".contains(c),
        "use letters, digits and `.~^+-`; `_` separates the name from the version in partition labels",
    )?;
    at_most(s, IMAGE_ID_MAX, "versions")
}

fn release(s: &str) -> Result<(), Problem> {
    let help = "a release is a distribution's release name or number, e.g. `\"trixie\"` or `\"42\"`: letters, digits and `._~+-`";
    only(
        s,
        |c| c.is_ascii_alphanumeric() || "._~+-".contains(c),
        help,
    )?;
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return problem("does not start with a letter or digit", help);
    }
    at_most(s, IMAGE_ID_MAX, "releases")
}

/// One line of text for people to read. Titles end up in mkosi's configuration, which has no
/// escape for `#` (it starts a comment anywhere on a line).
fn text(s: &str, title: bool) -> Result<(), Problem> {
    only(
        s,
        |c| !is_unprintable(c),
        "write one line of printable text: no control characters or line breaks",
    )?;
    if title && s.contains('#') {
        return problem(
            "contains `#`, which starts a comment in mkosi's configuration",
            "write the title without `#`, e.g. `No. 2` for `#2`",
        );
    }
    if s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return problem(
            "starts or ends with white space, which configuration files drop",
            format!("write `\"{}\"`", excerpt(s.trim(), 60)),
        );
    }
    at_most(s, TEXT_MAX, "these texts")
}

/// A package name as distributions spell them: Debian's (lower case, digits, `+.-`, an
/// optional `:arch`), RPM's and pacman's (also upper case and `_`). No version constraints, no
/// separators of mkosi's lists.
fn package(s: &str) -> Result<(), Problem> {
    let help = "write a package name, e.g. `\"systemd-boot\"`: letters, digits and `._+-` (and `:arch` on Debian), one package per list item; `\"systemd/forky\"` pins it to a suite on apt's distributions";
    // apt's `PACKAGE/SUITE`: the suite is a release name.
    let s = match s.split_once('/') {
        Some((package, suite)) => {
            if release(suite).is_err() {
                return problem(
                    "has a suite after `/` that is not a release name (letters, digits and `._~+-`, starting with a letter or digit)",
                    help,
                );
            }
            package
        }
        None => s,
    };
    only(
        s,
        |c| c.is_ascii_alphanumeric() || "._+-:".contains(c),
        help,
    )?;
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        return problem("does not start with a letter, digit or `_`", help);
    }
    if s.matches(':').count() > 1 || s.ends_with(':') {
        return problem("has a malformed `:arch` suffix", help);
    }
    at_most(s, TEXT_MAX, "package names")
}

/// The kernel's longest module name (`MODULE_NAME_LEN` less its NUL).
const MODULE_NAME_MAX: usize = 55;

/// A kernel module as `modprobe` names it: letters, digits, `_` and `-` (the kernel reads the
/// two as one), starting with a letter or digit. Nothing a regular expression gives a meaning
/// to: mkosi matches modules by regular expressions, which pcfg writes from the name.
fn kernel_module(s: &str) -> Result<(), Problem> {
    let help = "write a module's name as `modprobe` takes it, e.g. `\"virtio_blk\"`: letters, digits, `_` and `-`";
    only(s, |c| c.is_ascii_alphanumeric() || "_-".contains(c), help)?;
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return problem("does not start with a letter or digit", help);
    }
    at_most(s, MODULE_NAME_MAX, "kernel module names")
}

/// One kernel command-line option as the kernel and systemd split the line: `word` or
/// `key=value` without white space, quotes or backslashes, or `key="value with spaces"`, quoted
/// the way both parsers unquote it (single spaces: mkosi splits the line on spaces and joins it
/// again). No `#` (mkosi comments) and no leading `@` (ukify reads `@PATH` as a file).
fn cmdline_option(s: &str) -> Result<(), Problem> {
    let plain = |c: char| !is_unprintable(c) && !c.is_whitespace() && !"\"'\\#".contains(c);
    let help = "write one option without white space, quotes, backslashes or `#`, e.g. `\"quiet\"` or `\"console=ttyS0,115200\"`; a value with spaces is written `key=\"a b\"` (`\"key=\\\"a b\\\"\"`), each option its own list item";
    if s.starts_with('@') {
        return problem(
            "starts with `@`, which ukify reads as a file to take the command line from",
            help,
        );
    }
    if let Some((key, quoted)) = s.split_once("=\"") {
        if let Some(value) = quoted.strip_suffix('"') {
            only(key, plain, help)?;
            only(value, |c| plain(c) || c == ' ', help)?;
            if value.starts_with(' ') || value.ends_with(' ') || value.contains("  ") {
                return problem(
                    "has leading, trailing or repeated spaces inside its quotes",
                    "mkosi splits the command line on spaces and joins it with one: write single spaces between words",
                );
            }
            if key.is_empty() {
                return problem("has no option name before `=`", help);
            }
            return Ok(());
        }
    }
    only(s, plain, help)?;
    at_most(s, PATH_MAX, "command-line options")
}

fn path_char(c: char) -> bool {
    !is_unprintable(c) && !c.is_whitespace() && !"\"'\\".contains(c)
}

/// An absolute, normalised path: `/var/log`, never `/var//log/`, `/var/./log` or `/../x`.
fn absolute_path(s: &str) -> Result<(), Problem> {
    let normal = normalised_absolute(s);
    if !s.starts_with('/') {
        return problem(
            "does not start with `/`",
            format!("write `\"{}\"`", excerpt(&normal, 60)),
        );
    }
    only(
        s,
        path_char,
        "write a path without white space, quotes, backslashes or control characters",
    )?;
    if s != normal {
        return problem(
            "has empty, `.` or `..` components or a trailing `/`",
            format!(
                "write `\"{}\"`: no empty, `.` or `..` components and no trailing `/`",
                excerpt(&normal, 60)
            ),
        );
    }
    at_most(s, PATH_MAX, "paths")
}

fn normalised_absolute(s: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in s.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// A path of the configuration (a key, a certificate, a source tree), relative to the entry
/// file or absolute. mkosi reads these: `:` separates a tree's source from its target, `,`
/// separates list items, `#` starts a comment, `$` and a leading `~` are expanded.
fn config_path(s: &str) -> Result<(), Problem> {
    // `|` too: Ninja, which watches key files, has no way to write it in a path.
    let help = "write a plain file path, relative to this file or absolute, e.g. `\"keys/db.key\"`: no white space, quotes, backslashes, or `:` `,` `#` `$` `|`, and no leading `~`";
    only(s, |c| path_char(c) && !":,#$|".contains(c), help)?;
    if s.starts_with('~') {
        return problem(
            "starts with `~`, which mkosi expands to a home directory",
            help,
        );
    }
    // mkosi normalises paths: only leading `..` components keep their meaning.
    let relative = s.strip_prefix('/').unwrap_or(s);
    let mut components = relative
        .split('/')
        .skip_while(|c| *c == ".." && !s.starts_with('/'));
    let mut named = false;
    for c in components.by_ref() {
        if matches!(c, "" | "." | "..") {
            return problem(
                "has an empty, `.` or inner `..` component, or a trailing `/`",
                "write the path normalised, e.g. `\"../keys/db.key\"` or `\"keys/db.key\"`",
            );
        }
        named = true;
    }
    // Only `..`: a directory that holds this configuration, never a key, a certificate or a
    // tree of its own (mkosi would also read it as an absolute path, not as written).
    if !named && !s.starts_with('/') {
        return problem(
            "names only a directory above this file, which holds the configuration itself",
            "name the file or directory itself, e.g. `\"../keys/db.key\"`",
        );
    }
    at_most(s, PATH_MAX, "paths")
}

/// Where updates come from: an `http://` or `https://` URL (no fragment, no credentials, only
/// the characters RFC 3986 allows, `%` followed by two hex digits), or an absolute path.
fn url(s: &str) -> Result<(), Problem> {
    if s.starts_with('/') {
        return absolute_path(s);
    }
    let help = "write an `https://` URL (characters outside RFC 3986 percent-encoded) or an absolute directory path, e.g. `\"https://example.org/updates\"`";
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return problem("starts with neither `https://` nor `/`", help);
    };
    only(
        s,
        |c| c.is_ascii_alphanumeric() || "-._~:/?[]@!$&()*+,;=%".contains(c),
        help,
    )?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.contains('@') {
        return problem(
            "has no host, or credentials before it",
            "write `https://HOST/PATH`; keep credentials out of the configuration",
        );
    }
    let bytes = s.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return problem("has a `%` not followed by two hex digits", help);
        }
    }
    at_most(s, PATH_MAX, "URLs")
}

/// A GPT partition label as systemd-repart accepts it: at most 36 bytes (`GPT_LABEL_MAX`), printable,
/// without the white space at either end that unit files drop or a final `\` (a line
/// continuation). `_empty` is refused: systemd-sysupdate takes it for a free slot.
fn gpt_label(s: &str) -> Result<(), Problem> {
    if s.len() > GPT_LABEL_MAX {
        return problem(
            format!("has {} bytes, more than {GPT_LABEL_MAX}", s.len()),
            "systemd-repart reads labels of at most 36 bytes (a character outside ASCII takes 2 to 4): shorten it",
        );
    }
    // Labels are matched by the image filter on the kernel command line
    // (`systemd.image_filter=root=LABEL:…`): nothing that splits the command line, ends a filter
    // entry or is a glob may be in one.
    // `@` starts a field in systemd-sysupdate's patterns, which are made from labels.
    only(
        s,
        |c| !is_unprintable(c) && !c.is_whitespace() && !"\"'\\:=*?[]#@".contains(c),
        "a partition label is printable and has no white space, quotes, backslashes or `:` `=` `*` `?` `[` `]` `#` `@`: it is matched by the image filter on the kernel command line and by systemd-sysupdate's patterns",
    )?;
    // systemd-repart's specifiers: pcfg gives meaning to `%A` (the version) and `%M` (the image
    // id), and `%%` is a `%`; any other would be expanded to something pcfg does not know.
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        match chars.next() {
            Some('A' | 'M' | '%') => {}
            other => {
                let written = other.map_or_else(|| "%".to_owned(), |o| format!("%{o}"));
                return problem(
                    format!(
                        "has `{}`, a specifier pcfg does not know",
                        excerpt(&written, 8)
                    ),
                    "in a label `%A` is the image version, `%M` the image id and `%%` a `%`",
                );
            }
        }
    }
    if s == "_empty" {
        return problem(
            "is `_empty`, the label systemd-sysupdate gives a free slot",
            "choose another label, or leave `label` unset to derive it",
        );
    }
    Ok(())
}

/// The id, architecture and branch of a Flatpak ref of `kind` (`app` or `runtime`) as written
/// — `ID`, `KIND/ID/ARCH/BRANCH`, or for a runtime `ID/ARCH/BRANCH` — each empty when not
/// written; `None` when it has none of these shapes.
#[must_use]
pub fn flatpak_ref_parts<'a>(s: &'a str, kind: &str) -> Option<(&'a str, &'a str, &'a str)> {
    let parts: Vec<&str> = s.split('/').collect();
    match parts.as_slice() {
        [id] => Some((*id, "", "")),
        [k, id, arch, branch] if *k == kind => Some((*id, *arch, *branch)),
        [id, arch, branch] if kind == "runtime" => Some((*id, *arch, *branch)),
        _ => None,
    }
}

/// A Flatpak id (`org.gnome.Maps`): at least three elements separated by `.`, each starting
/// with a letter or `_`, then letters, digits, `_` (and `-` in the last element), at most 255
/// characters. A full ref is `KIND/ID/ARCH/BRANCH`; a runtime may also be `ID/ARCH/BRANCH`, and
/// ARCH may be left empty (`ID//BRANCH`).
fn flatpak_ref(s: &str, kind: &str) -> Result<(), Problem> {
    let example = if kind == "app" {
        "`\"org.gnome.Maps\"` or `\"app/org.gnome.Maps/x86_64/stable\"`"
    } else {
        "`\"org.gnome.Platform//47\"` or `\"runtime/org.gnome.Platform/x86_64/47\"`"
    };
    let help = format!("write a Flatpak {kind} id or ref, e.g. {example}");
    let Some((id, arch, branch)) = flatpak_ref_parts(s, kind) else {
        return problem(format!("is not `ID` or `{kind}/ID/ARCH/BRANCH`"), help);
    };
    flatpak_id(id).map_err(|what| Problem {
        what,
        help: help.clone(),
    })?;
    if !arch.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return problem(
            format!("has an invalid architecture `{}`", excerpt(arch, 40)),
            help,
        );
    }
    let branch_ok = branch.is_empty()
        || (branch.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && branch
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)));
    if !branch_ok {
        return problem(
            format!("has an invalid branch `{}`", excerpt(branch, 40)),
            help,
        );
    }
    if s.contains('/') && branch.is_empty() {
        return problem("has an empty branch", help);
    }
    Ok(())
}

fn flatpak_id(id: &str) -> Result<(), String> {
    if id.len() > FLATPAK_ID_MAX {
        return Err(format!("has an id longer than {FLATPAK_ID_MAX} characters"));
    }
    let elements: Vec<&str> = id.split('.').collect();
    if elements.len() < 3 {
        return Err("has an id with fewer than three elements (`org.example.App`)".to_owned());
    }
    let last = elements.len() - 1;
    for (i, element) in elements.iter().enumerate() {
        let first_ok = element.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
        let rest_ok = element
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || (c == '-' && i == last));
        if !first_ok || !rest_ok {
            return Err(format!(
                "has an invalid id element `{}`",
                excerpt(element, 40)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(rule: Str, s: &str) -> bool {
        check(rule, s).is_ok()
    }

    #[test]
    fn command_line_options() {
        for good in [
            "quiet",
            "console=ttyS0,115200",
            "a=\"b c\"",
            "x=y=z",
            "rd.luks=0",
        ] {
            assert!(ok(Str::CmdlineOption, good), "{good}");
        }
        for bad in [
            "a b",
            "quiet\"",
            "init=/bin/sh rw",
            "a=\"b  c\"",
            "@/etc/x",
            "a#b",
            "a\\b",
            "=\"x\"",
            "a=\"b\"c\"",
        ] {
            assert!(!ok(Str::CmdlineOption, bad), "{bad}");
        }
    }

    #[test]
    fn paths_and_urls() {
        assert!(ok(Str::AbsolutePath, "/var/log"));
        assert!(ok(Str::AbsolutePath, "/"));
        for bad in [
            "var",
            "/var/",
            "/var//log",
            "/var/./log",
            "/../x",
            "/a b",
            "/a\nb",
        ] {
            assert!(!ok(Str::AbsolutePath, bad), "{bad}");
        }
        assert!(ok(Str::ConfigPath, "keys/db.key"));
        assert!(ok(Str::ConfigPath, "../keys/db.key"));
        for bad in [
            "db.key\nSecureBoot=no",
            "a:b",
            "a,b",
            "~/k",
            "$HOME/k",
            "a#b",
            "a//b",
            "a/./b",
            "a/../b",
            "..",
            "../..",
            "./a",
            "a/",
            "/../a",
        ] {
            assert!(!ok(Str::ConfigPath, bad), "{bad}");
        }
        assert!(ok(Str::Url, "https://example.org/a%20b?x=1"));
        assert!(ok(Str::Url, "/srv/updates"));
        for bad in [
            "ftp://x",
            "https://",
            "https://u:p@x/",
            "https://x/a b",
            "https://x/%zz",
            "https://x/#f",
        ] {
            assert!(!ok(Str::Url, bad), "{bad}");
        }
    }

    #[test]
    fn labels_packages_and_refs() {
        assert!(ok(Str::GptLabel, "root-x86-64_%%50"));
        assert!(ok(Str::GptLabel, "%M_%A_r"));
        assert!(!ok(Str::GptLabel, "root-x86-64_%50"));
        assert!(!ok(Str::GptLabel, "root@1"));
        for bad in [
            "rootfs\nType=esp",
            " x",
            "x\\",
            "_empty",
            &"x".repeat(37),
            "a b",
            "a:b",
            "a*",
            "\\e",
        ] {
            assert!(!ok(Str::GptLabel, bad), "{bad}");
        }
        for good in [
            "systemd-boot",
            "libc6:i386",
            "g++",
            "kernel-core",
            "python3.12",
            "systemd/forky",
            "linux-image-amd64/trixie-backports",
            "libc6:i386/sid",
        ] {
            assert!(ok(Str::Package, good), "{good}");
        }
        for bad in [
            "less\nPostInstallationScripts=/tmp/x.sh",
            "100%-pkg",
            "a b",
            "!x",
            "a,b",
            "a::b",
            "systemd/",
            "/forky",
            "a/b/c",
            "a/-b",
            "a/b c",
        ] {
            assert!(!ok(Str::Package, bad), "{bad}");
        }
        for good in [
            "org.gnome.Maps",
            "app/org.gnome.Maps/x86_64/stable",
            "app/org.gnome.Maps//stable",
        ] {
            assert!(ok(Str::FlatpakApp, good), "{good}");
        }
        assert!(ok(Str::FlatpakRuntime, "org.gnome.Platform//47"));
        assert!(ok(
            Str::FlatpakRuntime,
            "runtime/org.gnome.Platform/x86_64/47"
        ));
        for bad in [
            "maps",
            "org.gnome",
            "org.gnome.Maps\nx",
            "runtime/org.a.b/x/1",
            "org.1a.b",
            "app/org.a.b/x86_64/",
        ] {
            assert!(!ok(Str::FlatpakApp, bad), "{bad}");
        }
    }

    #[test]
    fn texts() {
        assert!(ok(Str::Text, "AtomOS 1.0 (Ünïcode)"));
        assert!(ok(Str::Text, "Debug #2"));
        assert!(!ok(Str::Title, "Debug #2"));
        for bad in ["a\u{1b}]0;x\u{7}", "a\u{2028}b", " x", "x ", "a\u{202e}b"] {
            assert!(!ok(Str::Text, bad), "{bad:?}");
        }
    }
}
