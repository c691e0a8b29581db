//! The writer of the `[Section]` / `Key=Value` files pcfg emits, in the dialects that read
//! them: systemd's unit-file syntax (repart.d, sysupdate.d, drop-ins), mkosi's configuration
//! (mkosi.conf, UKI profiles) and `GLib`'s key files (Flatpak's `.preinstall`). Values are data: text from the configuration is escaped (`%` as
//! `%%` where the key expands specifiers) or refused when the dialect has no way to carry it (a
//! line break, a control character, white space at either end, a final `\` for systemd, `#` for
//! mkosi, a list separator inside a list item). Specifiers pcfg means (`%M`, `%A`) are separate
//! pieces, written as they are.

use std::fmt::Write as _;

use super::Refused;

/// Which parser reads the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// systemd's `config_parse()`: one line a value, whitespace at either end dropped, a final
    /// `\` continues the line; specifiers in the keys of [`SYSTEMD_SPECIFIER_KEYS`].
    Systemd,
    /// mkosi's `parse_ini()`: `#` starts a comment anywhere, lines split as Python's
    /// `str.splitlines()` does, indented lines continue a value, every value expands
    /// specifiers, list items are split on the key's delimiter.
    Mkosi,
    /// mkosi's syntax for the files a setting points to (UKI profiles): as [`Dialect::Mkosi`],
    /// but `%` is literal (mkosi expands no specifiers there).
    MkosiProfile,
    /// `GLib`'s `GKeyFile` (Flatpak's `.preinstall` files): `#` starts a comment only at the start
    /// of a line, `\` escapes, `%` is literal, a group name holds no `[`, `]` or control
    /// character.
    KeyFile,
}

impl Dialect {
    fn is_mkosi(self) -> bool {
        matches!(self, Dialect::Mkosi | Dialect::MkosiProfile)
    }

    /// How `%` in text is written for `key`.
    fn percent(self, key: &str) -> Percent {
        match self {
            Dialect::Mkosi => Percent::Escape,
            Dialect::MkosiProfile | Dialect::KeyFile => Percent::Literal,
            Dialect::Systemd if SYSTEMD_SPECIFIER_KEYS.contains(&key) => Percent::Escape,
            Dialect::Systemd => Percent::Refuse,
        }
    }
}

/// What `%` becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Percent {
    /// `%%`: the key expands specifiers.
    Escape,
    /// `%`: the reader takes it literally.
    Literal,
    /// Refused: pcfg does not know how the reader takes it.
    Refuse,
}

/// The systemd keys pcfg writes whose values expand `%` specifiers.
const SYSTEMD_SPECIFIER_KEYS: &[&str] = &[
    "Label",
    "CopyFiles",
    "MakeDirectories",
    "Path",
    "MatchPattern",
    "ProtectVersion",
];

/// One piece of a value.
#[derive(Clone, Debug)]
enum Piece {
    /// Text from the configuration or the model: escaped or refused.
    Text(String),
    /// A specifier pcfg means, written as is.
    Specifier(&'static str),
}

/// A value: text and specifiers, concatenated.
#[derive(Clone, Debug, Default)]
pub(crate) struct Value(Vec<Piece>);

impl Value {
    /// A value that starts with a specifier (`%M`).
    pub(crate) fn specifier(spec: &'static str) -> Self {
        Value(vec![Piece::Specifier(spec)])
    }

    /// Appends a specifier.
    #[must_use]
    pub(crate) fn and_specifier(mut self, spec: &'static str) -> Self {
        self.0.push(Piece::Specifier(spec));
        self
    }

    /// Appends text.
    #[must_use]
    pub(crate) fn and_text(mut self, text: impl Into<String>) -> Self {
        self.0.push(Piece::Text(text.into()));
        self
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value(vec![Piece::Text(text)])
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::from(text.to_owned())
    }
}

/// How a key's value is made of items.
#[derive(Clone, Debug)]
enum Entry {
    /// One value.
    One(Value),
    /// Items separated by `separator` (systemd: space-separated words on one line; mkosi: one
    /// item per continuation line, and the key's own delimiter may not occur in an item).
    List {
        items: Vec<Value>,
        delimiter: Delimiter,
    },
}

/// What separates a list's items where the reader splits them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delimiter {
    /// White space (systemd's word lists, mkosi's `KernelCommandLine=`).
    Space,
    /// `,` (most of mkosi's lists).
    Comma,
    /// Only the line break (mkosi's dictionaries, e.g. a UKI profile's `Profile=`).
    Line,
}

/// One `[Section]` and its keys, in the order written.
#[derive(Debug)]
pub(crate) struct Section {
    name: String,
    keys: Vec<(&'static str, Entry)>,
}

impl Section {
    pub(crate) fn new(name: impl Into<String>) -> Self {
        Section {
            name: name.into(),
            keys: Vec::new(),
        }
    }

    /// Whether no key was set: a section worth leaving out.
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds `key=value`.
    pub(crate) fn set(&mut self, key: &'static str, value: impl Into<Value>) -> &mut Self {
        self.keys.push((key, Entry::One(value.into())));
        self
    }

    /// Adds a list value: in mkosi's dialect one item per continuation line, in systemd's the
    /// items as words on one line.
    pub(crate) fn set_list<V: Into<Value>>(
        &mut self,
        key: &'static str,
        delimiter: Delimiter,
        items: impl IntoIterator<Item = V>,
    ) -> &mut Self {
        let items = items.into_iter().map(Into::into).collect();
        self.keys.push((key, Entry::List { items, delimiter }));
        self
    }

    /// Adds `key=value` when there is a value.
    pub(crate) fn set_some(
        &mut self,
        key: &'static str,
        value: Option<impl Into<Value>>,
    ) -> &mut Self {
        if let Some(value) = value {
            self.set(key, value);
        }
        self
    }
}

/// A whole file: the header naming the configuration, then the sections; `path` names the file
/// in a refusal.
pub(crate) fn render(
    dialect: Dialect,
    path: &str,
    source: &str,
    sections: &[Section],
) -> Result<String, Refused> {
    let mut out = header(source);
    for section in sections {
        if let Some(c) = section
            .name
            .chars()
            .find(|&c| c.is_control() || c == '[' || c == ']')
        {
            return Err(Refused {
                file: path.to_owned(),
                key: "a section name".to_owned(),
                value: section.name.clone(),
                reason: format!("`{}` (U+{:04X})", c.escape_default(), u32::from(c)),
            });
        }
        let _ = write!(out, "\n[{}]\n", section.name);
        for (key, entry) in &section.keys {
            let refuse = |reason: String, value: &str| Refused {
                file: path.to_owned(),
                key: (*key).to_owned(),
                value: value.to_owned(),
                reason,
            };
            let percent = dialect.percent(key);
            match entry {
                Entry::One(value) => {
                    let text = value_text(dialect, percent, value, None)
                        .map_err(|(reason, v)| refuse(reason, &v))?;
                    let _ = writeln!(out, "{key}={text}");
                }
                Entry::List { items, delimiter } => {
                    let mut texts = Vec::with_capacity(items.len());
                    for item in items {
                        let text = value_text(dialect, percent, item, Some(*delimiter))
                            .map_err(|(reason, v)| refuse(reason, &v))?;
                        texts.push(text);
                    }
                    match dialect {
                        Dialect::Systemd | Dialect::KeyFile => {
                            let _ = writeln!(out, "{key}={}", texts.join(" "));
                        }
                        Dialect::Mkosi | Dialect::MkosiProfile => {
                            let _ = write!(out, "{key}=");
                            for text in texts {
                                let _ = write!(out, "\n        {text}");
                            }
                            out.push('\n');
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The first line of every generated unit-file or mkosi file.
pub(crate) fn header(source: &str) -> String {
    let source = comment_text(source);
    format!(
        "# Generated by pcfg from {source}. Do not edit: change {source} and run `pcfg build`.\n"
    )
}

/// Text for a comment line: anything that could end the line or drive a terminal escaped.
pub(crate) fn comment_text(text: &str) -> String {
    crate::diag::excerpt(text, usize::MAX)
}

type Refusal = (String, String);

/// One value as the dialect writes it, or why it cannot be written.
fn value_text(
    dialect: Dialect,
    percent: Percent,
    value: &Value,
    delimiter: Option<Delimiter>,
) -> Result<String, Refusal> {
    let mut out = String::new();
    for piece in &value.0 {
        match piece {
            Piece::Specifier(spec) => out.push_str(spec),
            Piece::Text(text) => {
                for c in text.chars() {
                    if let Some(reason) = refused_char(dialect, c, delimiter) {
                        return Err((reason, text.clone()));
                    }
                    if dialect == Dialect::KeyFile && c == '\\' {
                        // GKeyFile's escape character.
                        out.push('\\');
                    }
                    if c == '%' {
                        match percent {
                            Percent::Escape => out.push('%'),
                            Percent::Literal => {}
                            Percent::Refuse => {
                                return Err((
                                    "`%` in a key that does not expand specifiers".to_owned(),
                                    text.clone(),
                                ))
                            }
                        }
                    }
                    out.push(c);
                }
            }
        }
    }
    // The value as given, for a refusal's message.
    let whole = || {
        value
            .0
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.as_str(),
                Piece::Specifier(s) => s,
            })
            .collect::<String>()
    };
    if out.is_empty() && delimiter.is_some() {
        return Err((
            "an empty list item, which the reader drops".to_owned(),
            whole(),
        ));
    }
    if out.starts_with(char::is_whitespace) || out.ends_with(char::is_whitespace) {
        return Err((
            "white space at either end, which the reader drops".to_owned(),
            whole(),
        ));
    }
    if delimiter == Some(Delimiter::Space) && out.contains("  ") {
        return Err((
            "repeated spaces inside a list item, which the reader joins with one".to_owned(),
            whole(),
        ));
    }
    if dialect == Dialect::Systemd && out.ends_with('\\') {
        return Err(("a final `\\`, which continues the line".to_owned(), whole()));
    }
    Ok(out)
}

/// Why the dialect cannot carry `c` in a value, if it cannot.
fn refused_char(dialect: Dialect, c: char, delimiter: Option<Delimiter>) -> Option<String> {
    // Control characters end lines for systemd (`\n`, `\r`, NUL) and for mkosi, which splits as
    // Python's `str.splitlines` does: mkosi also at U+2028 and U+2029.
    let line_break = dialect.is_mkosi() && matches!(c, '\u{2028}' | '\u{2029}');
    if line_break || c.is_control() {
        return Some(format!(
            "a control character or line break (U+{:04X})",
            u32::from(c)
        ));
    }
    if dialect.is_mkosi() && c == '#' {
        return Some("`#`, which starts a comment in mkosi's configuration".to_owned());
    }
    match delimiter {
        Some(Delimiter::Space) if c == '\t' && dialect.is_mkosi() => {
            Some("a tab inside a list item".to_owned())
        }
        Some(Delimiter::Space) if c.is_whitespace() && dialect == Dialect::Systemd => {
            Some("white space inside a list item".to_owned())
        }
        Some(Delimiter::Space) if "\"'\\".contains(c) && dialect == Dialect::Systemd => {
            Some("a quote or backslash inside a list item".to_owned())
        }
        Some(Delimiter::Comma) if c == ',' => Some("`,` inside a list item".to_owned()),
        _ => None,
    }
}

/// `yes` or `no`.
pub(crate) fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(
        dialect: Dialect,
        key: &'static str,
        value: impl Into<Value>,
    ) -> Result<String, Refused> {
        let mut s = Section::new("S");
        s.set(key, value);
        render(dialect, "f", "x.pcfg", &[s])
    }

    #[test]
    fn text_is_escaped_or_refused() {
        let ok = one(Dialect::Systemd, "Label", "100%").expect("writes");
        assert!(ok.ends_with("Label=100%%\n"), "{ok}");
        for bad in ["a\nType=esp", " a", "a ", "a\\", "a\rb"] {
            assert!(one(Dialect::Systemd, "Label", bad).is_err(), "{bad:?}");
        }
        assert!(one(Dialect::Systemd, "Type", "a%b").is_err());
        assert!(one(Dialect::Mkosi, "Release", "a#b").is_err());
        assert!(one(Dialect::Mkosi, "Release", "a\u{2028}b").is_err());
        let spec = Value::specifier("%M").and_text("_%x");
        assert!(one(Dialect::Systemd, "Label", spec)
            .expect("writes")
            .ends_with("Label=%M_%%x\n"));
    }

    #[test]
    fn list_items_cannot_hold_their_separator() {
        let mut s = Section::new("S");
        s.set_list("Packages", Delimiter::Comma, ["a,b"]);
        assert!(render(Dialect::Mkosi, "f", "x", &[s]).is_err());
        let mut s = Section::new("S");
        s.set_list("MakeDirectories", Delimiter::Space, ["/a b"]);
        assert!(render(Dialect::Systemd, "f", "x", &[s]).is_err());
        let mut s = Section::new("S");
        s.set_list("MakeDirectories", Delimiter::Space, ["/a", "/b%"]);
        assert!(render(Dialect::Systemd, "f", "x", &[s])
            .expect("writes")
            .ends_with("MakeDirectories=/a /b%%\n"));
    }

    #[test]
    fn the_header_escapes_the_file_name() {
        assert_eq!(
            header("a\nb.pcfg"),
            "# Generated by pcfg from a\\nb.pcfg. Do not edit: change a\\nb.pcfg and run `pcfg build`.\n"
        );
    }
}
