//! The abstract syntax tree of one `.pcfg` file. Every node carries its byte span.

use smallvec::SmallVec;

use crate::source::Span;

/// A parsed file: its items in source order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
}

/// Every item of every file is held until the files are merged: its size is watched.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Item>() <= 128);

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Import(Import),
    Remove(Remove),
    Block(Block),
    Assign(Assign),
}

/// `import "path"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    pub path: String,
    /// The string literal, quotes included.
    pub path_span: Span,
    pub span: Span,
}

/// `remove PATH`.
#[derive(Clone, Debug, PartialEq)]
pub struct Remove {
    pub path: Path,
    pub span: Span,
}

/// `KIND LABEL? { ITEMS }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub kind: Ident,
    pub label: Option<Ident>,
    pub items: Vec<Item>,
    /// From the kind to the closing brace.
    pub span: Span,
}

impl Block {
    /// The span of the block's header, `KIND LABEL?`.
    #[must_use]
    pub fn header_span(&self) -> Span {
        match &self.label {
            Some(label) => self.kind.span.to(label.span),
            None => self.kind.span,
        }
    }
}

/// `PATH OP VALUE`, where `VALUE` may be marked weak with `default`.
#[derive(Clone, Debug, PartialEq)]
pub struct Assign {
    pub path: Path,
    pub op: Op,
    pub op_span: Span,
    /// The span of the `default` keyword when the value is weak.
    pub default: Option<Span>,
    /// Moved into the resolved tree when the syntax tree is not kept (most values are set once,
    /// and each would otherwise be copied into it), copied from when it is.
    pub value: Box<Value>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Set,
    /// `+=`
    Append,
    /// `-=`
    Subtract,
}

impl Op {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Set => "=",
            Op::Append => "+=",
            Op::Subtract => "-=",
        }
    }
}

/// A dotted path `a.b.c`.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    /// Held inline when there is one (most assignments name a field of their block): a
    /// `Vec` would take an allocation for every assignment.
    pub segments: SmallVec<[Ident; 1]>,
    pub span: Span,
}

impl Path {
    /// The path as written, `a.b.c`.
    #[must_use]
    pub fn dotted(&self) -> String {
        let names: Vec<&str> = self.segments.iter().map(|s| s.name.as_str()).collect();
        names.join(".")
    }
}

/// A name. Names of up to 24 bytes (nearly all of them) are held inline, not allocated: a
/// large configuration has one for every field it sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: compact_str::CompactString,
    pub span: Span,
}

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    /// A string; held inline up to 24 bytes (most are paths and names), as are symbols.
    Str(compact_str::CompactString),
    /// A plain integer, `42` or `0x1f`.
    Int(u64),
    /// A size with a unit, in bytes.
    Size(u64),
    Bool(bool),
    Auto,
    /// A bare word in value position, `erofs` or `key-file+tpm2`.
    Symbol(compact_str::CompactString),
    List(Vec<Value>),
}

impl std::fmt::Display for ValueKind {
    /// The value in pcfg syntax: sizes in the largest unit that divides them, strings escaped.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValueKind::Str(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        '\t' => f.write_str("\\t")?,
                        c if c.is_control() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
                        c => write!(f, "{c}")?,
                    }
                }
                f.write_str("\"")
            }
            ValueKind::Int(n) => write!(f, "{n}"),
            ValueKind::Size(bytes) => f.write_str(&format_size(*bytes)),
            ValueKind::Bool(b) => write!(f, "{b}"),
            ValueKind::Auto => f.write_str("auto"),
            ValueKind::Symbol(s) => f.write_str(s),
            ValueKind::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", item.kind)?;
                }
                f.write_str("]")
            }
        }
    }
}

/// A byte count in the largest binary unit that divides it exactly: `30G`, `1536K`, `7`.
#[must_use]
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(u32, &str); 4] = [(40, "T"), (30, "G"), (20, "M"), (10, "K")];
    for (shift, unit) in UNITS {
        if bytes != 0 && bytes % (1 << shift) == 0 {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}
