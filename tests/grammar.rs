//! The grammar against the parser, both ways. Sentences are generated from the productions of
//! `lang/GRAMMAR.md` (file, separator, item, import, remove, block, assignment, path, operator,
//! value, symbol, list) from a fixed seed, with white space between tokens wherever the grammar
//! allows it — spaces and tabs between any two tokens but inside a path or a symbol, comments
//! at the end of a line, line breaks as `\n` or `\r\n`, and anything inside lists — and every
//! one must parse. Then each is mutated in ways the grammar excludes (a space inside a path or
//! a symbol, a lone CR for a line break, a no-break space for a space, `0X` for `0x`, a raw
//! control character in a string, `remove` with a block) and every mutant must be refused.

use std::io::Write as _;

use pcfg::source::FileId;

/// The corpus generator's xorshift64* (the tests must give the same sentences on every
/// machine), with the two choices the grammar needs.
use crate::corpus::Rng;

trait Choose {
    fn chance(&mut self, percent: u64) -> bool;
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str;
}

impl Choose for Rng {
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Where a sentence is being generated: at the top level, in a block, or in a list (where line
/// breaks and comments are white space).
struct Gen {
    rng: Rng,
    out: String,
    /// Spans (byte ranges) of paths and symbols with more than one part, for the mutations.
    joined: Vec<(usize, usize, char)>,
}

const IDENTS: &[&str] = &[
    "a",
    "x9",
    "size-max",
    "key_file",
    "Z",
    "usr",
    "b-c-d",
    "tpm2",
    "1password",
    "7zip",
    "2fa-x",
];

impl Gen {
    /// White space that may stand between two tokens of one item: spaces and tabs.
    fn inline(&mut self) {
        for _ in 0..self.rng.below(3) {
            let c = self.rng.pick(&[" ", "\t"]);
            self.out.push_str(c);
        }
    }

    /// A line break, maybe preceded by a comment (`COMMENT` runs to the end of its line).
    fn newline(&mut self) {
        self.inline();
        if self.rng.chance(30) {
            let text = self
                .rng
                .pick(&["", " c", "# nested # marks", " é ünïcode", "\t{ [ = \""]);
            self.out.push('#');
            self.out.push_str(text);
        }
        let nl = self.rng.pick(&["\n", "\r\n"]);
        self.out.push_str(nl);
    }

    /// `separator+` between items: line breaks (with comments) and commas.
    fn separators(&mut self, at_least_one: bool) {
        let n = self.rng.below(3) + usize::from(at_least_one);
        for _ in 0..n {
            if self.rng.chance(40) {
                self.inline();
                self.out.push(',');
            } else {
                self.newline();
            }
        }
        self.inline();
    }

    fn ident(&mut self) {
        let word = self.rng.pick(IDENTS);
        self.out.push_str(word);
    }

    /// `path = IDENT ( "." IDENT )*`, one word.
    fn path(&mut self) {
        let start = self.out.len();
        self.ident();
        let parts = self.rng.below(3);
        for _ in 0..parts {
            self.out.push('.');
            self.ident();
        }
        if parts > 0 {
            self.joined.push((start, self.out.len(), '.'));
        }
    }

    /// `symbol = IDENT ( "+" IDENT )*`, one word; never a keyword of value position.
    fn symbol(&mut self) {
        let start = self.out.len();
        self.ident();
        let parts = self.rng.below(3);
        for _ in 0..parts {
            self.out.push('+');
            self.ident();
        }
        if parts > 0 {
            self.joined.push((start, self.out.len(), '+'));
        }
    }

    fn string(&mut self) {
        let body = self.rng.pick(&[
            "",
            "text",
            "a b",
            "tab\there",
            "\\\"q\\\"",
            "\\\\",
            "\\n",
            "\\t",
            "\\u{2713}",
            "é",
            "# not a comment",
            "{ [ , = }",
        ]);
        self.out.push('"');
        self.out.push_str(body);
        self.out.push('"');
    }

    fn value(&mut self, depth: usize) {
        match self.rng.below(9) {
            0 => self.string(),
            1 => {
                let n = self
                    .rng
                    .pick(&["0", "42", "0x1f", "0xABCdef", "18446744073709551615"]);
                self.out.push_str(n);
            }
            2 => {
                let n = self
                    .rng
                    .pick(&["512M", "1.5G", "4KiB", "2T", "0.5K", "1.000G", "3MiB"]);
                self.out.push_str(n);
            }
            3 => {
                let w = self.rng.pick(&["true", "false", "auto"]);
                self.out.push_str(w);
            }
            4 | 5 if depth < 4 => self.list(depth + 1),
            _ => self.symbol(),
        }
    }

    /// `list = "[" ( value ( "," value )* ","? )? "]"`, line breaks and comments inside.
    fn list(&mut self, depth: usize) {
        self.out.push('[');
        self.list_space();
        let n = self.rng.below(4);
        for i in 0..n {
            self.value(depth);
            self.list_space();
            if i + 1 < n || self.rng.chance(30) {
                self.out.push(',');
                self.list_space();
            }
        }
        self.out.push(']');
    }

    fn list_space(&mut self) {
        if self.rng.chance(30) {
            self.newline();
        }
        self.inline();
    }

    /// `assignment = path operator ( "default" )? value`.
    fn assignment(&mut self, depth: usize) {
        self.path();
        self.inline();
        let op = self.rng.pick(&["=", "+=", "-="]);
        self.out.push_str(op);
        self.inline();
        if op == "=" && self.rng.chance(20) {
            self.out.push_str("default");
            self.out.push(' ');
            self.inline();
        }
        self.value(depth);
    }

    /// `block = IDENT IDENT? "{" separator* ( item ( separator+ item )* )? separator* "}"`.
    fn block(&mut self, depth: usize) {
        self.ident();
        if self.rng.chance(50) {
            self.out.push(' ');
            self.inline();
            self.ident();
        }
        self.inline();
        self.out.push('{');
        self.items(depth + 1);
        self.out.push('}');
    }

    fn item(&mut self, depth: usize) {
        match self.rng.below(10) {
            0 if depth == 0 => {
                self.out.push_str("import ");
                self.inline();
                self.string();
            }
            1 => {
                self.out.push_str("remove ");
                self.inline();
                self.path();
            }
            2..=4 if depth < 4 => self.block(depth),
            _ => self.assignment(depth),
        }
    }

    /// `separator* ( item ( separator+ item )* )? separator*`.
    fn items(&mut self, depth: usize) {
        self.separators(false);
        let n = self.rng.below(4);
        for i in 0..n {
            if i > 0 {
                self.separators(true);
            }
            self.item(depth);
        }
        self.separators(false);
    }
}

/// `file = separator* ( item ( separator+ item )* )? separator* EOF`.
fn sentence(seed: u64) -> (String, Vec<(usize, usize, char)>) {
    let mut gen = Gen {
        rng: Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
        out: String::new(),
        joined: Vec::new(),
    };
    gen.items(0);
    (gen.out, gen.joined)
}

fn parses(text: &str) -> bool {
    pcfg::syntax::parse(FileId::FIRST, text).is_ok()
}

#[test]
fn sentences_of_the_grammar_parse() {
    let mut failures = Vec::new();
    for seed in 0..3000 {
        let (text, _) = sentence(seed);
        if let Err(e) = pcfg::syntax::parse(FileId::FIRST, &text) {
            failures.push(format!("seed {seed}: {:?}\n{text}", e.kind));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 3000 generated sentences do not parse; the first:\n{}",
        failures.len(),
        failures[0]
    );
}

#[test]
fn what_the_grammar_excludes_is_refused() {
    let mut mutants = 0;
    let mut failures = Vec::new();
    for seed in 0..3000 {
        let (text, joined) = sentence(seed);
        let mut variants: Vec<(&str, String)> = Vec::new();
        // A space around `.` in a path or `+` in a symbol.
        if let Some(&(start, end, sep)) = joined.first() {
            let word = &text[start..end];
            let spaced = word.replacen(sep, &format!(" {sep} "), 1);
            variants.push((
                "space inside a path or symbol",
                format!("{}{spaced}{}", &text[..start], &text[end..]),
            ));
        }
        // A lone CR for a line break outside comments and strings: the first line break that
        // ends a line without a comment or string on it.
        if let Some(at) = first_bare_newline(&text) {
            let mut t = text.clone();
            let len = if t[at..].starts_with("\r\n") { 2 } else { 1 };
            // A space after it, so that it never joins a following `\n` into a CRLF.
            t.replace_range(at..at + len, "\r ");
            variants.push(("a lone CR", t));
        }
        // A no-break space for a space between tokens, outside strings and comments.
        if let Some(at) = first_bare(&text, ' ') {
            let mut t = text.clone();
            t.replace_range(at..=at, "\u{a0}");
            variants.push(("U+00A0 between tokens", t));
        }
        // `0X` for `0x`.
        if let Some(at) = first_bare_str(&text, "0x") {
            let mut t = text.clone();
            t.replace_range(at..at + 2, "0X");
            variants.push(("0X", t));
        }
        // A raw control character in a string.
        if let Some(at) = first_bare(&text, '"') {
            let mut t = text.clone();
            t.insert(at + 1, '\u{7}');
            variants.push(("BEL in a string", t));
        }
        for (what, variant) in variants {
            mutants += 1;
            if parses(&variant) {
                failures.push(format!(
                    "seed {seed}, {what}: parses\n{variant:?}\noriginal {text:?}"
                ));
            }
        }
        // `remove PATH { ... }` is not a block.
        mutants += 1;
        let with_block = format!("{text}\nremove a.b {{ c = 1 }}\n");
        if parses(&with_block) {
            failures.push(format!("seed {seed}: remove with a block parses"));
        }
    }
    assert!(mutants > 5000, "{mutants} mutants");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // Shown with `--nocapture`.
    let _ = writeln!(
        std::io::stdout(),
        "3000 sentences, {mutants} mutants refused"
    );
}

/// Byte offsets outside strings and comments (an opening quote and a comment's line break
/// included).
fn bare_offsets(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let (mut in_string, mut in_comment, mut escaped) = (false, false, false);
    for (i, c) in text.char_indices() {
        if in_comment {
            if c == '\n' {
                in_comment = false;
                out.push(i);
            }
            continue;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                out.push(i);
                in_string = true;
            }
            '#' => in_comment = true,
            _ => out.push(i),
        }
    }
    out
}

fn first_bare(text: &str, c: char) -> Option<usize> {
    bare_offsets(text)
        .into_iter()
        .find(|&i| text[i..].starts_with(c))
}

fn first_bare_str(text: &str, s: &str) -> Option<usize> {
    bare_offsets(text)
        .into_iter()
        .find(|&i| text[i..].starts_with(s))
}

/// The first line break (`\n` or `\r\n`) outside strings, on a line without a comment.
fn first_bare_newline(text: &str) -> Option<usize> {
    let mut line_start = 0;
    let bare = bare_offsets(text);
    for (i, _) in text.match_indices('\n') {
        let line = &text[line_start..i];
        let at = if line.ends_with('\r') { i - 1 } else { i };
        if !line.contains('#') && bare.contains(&at) {
            return Some(at);
        }
        line_start = i + 1;
    }
    None
}
