//! The catalogue of diagnostic codes: one stable name per problem, its default severity and its
//! documentation (What it checks / Why / Example / Fix), kept in `lang/diagnostics/CODE.md`.
//!
//! The enum and the catalogue are generated from one list, so a code cannot exist without its
//! page; `tests/catalogue.rs` checks the other direction and the generated book page.

macro_rules! codes {
    ($($variant:ident => $name:literal, $severity:ident;)*) => {
        /// A stable diagnostic code, printed as `pcfg::NAME`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The kebab-case name, without the `pcfg::` prefix.
            #[must_use]
            pub fn name(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }

            /// The default severity.
            #[must_use]
            pub fn severity(self) -> super::Severity {
                match self {
                    $(Code::$variant => super::Severity::$severity,)*
                }
            }

            /// The catalogue page, Markdown.
            #[must_use]
            pub fn doc(self) -> &'static str {
                match self {
                    $(Code::$variant => include_str!(concat!("../../lang/diagnostics/", $name, ".md")),)*
                }
            }
        }
    };
}

codes! {
    // Reading files
    FileNotFound => "file-not-found", Error;
    FileIsDirectory => "file-is-directory", Error;
    FileUnreadable => "file-unreadable", Error;
    FileTooLarge => "file-too-large", Error;
    InvalidUtf8 => "invalid-utf8", Error;
    SourceChanged => "source-changed", Error;
    // Syntax
    InvalidCharacter => "invalid-character", Error;
    UnexpectedToken => "unexpected-token", Error;
    UnclosedDelimiter => "unclosed-delimiter", Error;
    UnterminatedString => "unterminated-string", Error;
    InvalidEscape => "invalid-escape", Error;
    InvalidNumber => "invalid-number", Error;
    NumberTooLarge => "number-too-large", Error;
    DecimalSizeUnit => "decimal-size-unit", Error;
    InvalidSizeUnit => "invalid-size-unit", Error;
    NestingTooDeep => "nesting-too-deep", Error;
    MisplacedImport => "misplaced-import", Error;
    // Imports and layers
    UnknownStdModule => "unknown-std-module", Error;
    ImportCycle => "import-cycle", Error;
    DuplicateDefinition => "duplicate-definition", Error;
    ConflictingDefinitions => "conflicting-definitions", Error;
    BlockAndValue => "block-and-value", Error;
    InvalidListOperation => "invalid-list-operation", Error;
    RemoveMissingItem => "remove-missing-item", Warning;
    RemoveUndefined => "remove-undefined", Error;
    // Schema
    UnknownField => "unknown-field", Error;
    MissingLabel => "missing-label", Error;
    UnexpectedLabel => "unexpected-label", Error;
    TypeMismatch => "type-mismatch", Error;
    UnknownSymbol => "unknown-symbol", Error;
    MissingField => "missing-field", Error;
    OutOfRange => "out-of-range", Error;
    InvalidValue => "invalid-value", Error;
    UnknownReference => "unknown-reference", Error;
    // The OS model
    MissingVersion => "missing-version", Error;
    DuplicatePartitionType => "duplicate-partition-type", Error;
    SizeRange => "size-range", Error;
    UnalignedSize => "unaligned-size", Error;
    FormatMismatch => "format-mismatch", Error;
    LabelTooLong => "label-too-long", Error;
    LabelLittleRoom => "label-little-room", Warning;
    LabelVersion => "label-version", Error;
    VerityTooSmall => "verity-too-small", Error;
    VerityUnbounded => "verity-unbounded", Error;
    EncryptedReadOnly => "encrypted-read-only", Error;
    EncryptedInImage => "encrypted-in-image", Error;
    EmptyKeyFile => "empty-key-file", Error;
    InstallImagePartition => "install-image-partition", Error;
    DuplicatePackage => "duplicate-package", Warning;
    ReleaseMismatch => "release-mismatch", Error;
    InheritedUpdateServer => "inherited-update-server", Warning;
    MissingSigningKey => "missing-signing-key", Error;
    Tpm2NotConfigured => "tpm2-not-configured", Error;
    TrustRequirementUnmet => "trust-requirement-unmet", Error;
    UnsignedExtension => "unsigned-extension", Error;
    FlatpakWithoutApp => "flatpak-without-app", Error;
    FlatpakWithoutRemote => "flatpak-without-remote", Warning;
    UnusedField => "unused-field", Error;
    ExtensionCycle => "extension-cycle", Error;
    RequiresOptional => "requires-optional", Error;
    UpdateWithoutVersionedPartition => "update-without-versioned-partition", Error;
    DiskTooSmall => "disk-too-small", Error;
    EspTooSmall => "esp-too-small", Error;
    UnsupportedBySystemd => "unsupported-by-systemd", Error;
    SystemdReleaseMismatch => "systemd-release-mismatch", Warning;
    // Products built together
    DuplicateProduct => "duplicate-product", Error;
    ProductsDisagree => "products-disagree", Error;
    // The lock file
    LockMismatch => "lock-mismatch", Error;
    LockMissing => "lock-missing", Error;
    // Extension trees
    ExtensionContent => "extension-content", Error;
    ExtensionSource => "extension-source", Error;
    FlatpakRemoteKey => "flatpak-remote-key", Error;
    UpdateKey => "update-key", Error;
    ExtensionShadowing => "extension-shadowing", Error;
    DuplicateFile => "duplicate-file", Warning;
    UnsafeFile => "unsafe-file", Warning;
    SymlinkEscape => "symlink-escape", Error;
    MissingLibrary => "missing-library", Error;
    AbiBreak => "abi-break", Error;
    ElfArchitecture => "elf-architecture", Error;
    BaseManifest => "base-manifest", Error;
    // The payload
    PayloadFile => "payload-file", Error;
    RequiredBy => "required-by", Error;
    RuntimeEtcChange => "runtime-etc-change", Error;
    PackageSource => "package-source", Error;
    PackageSourceKey => "package-source-key", Error;
    UnknownSuite => "unknown-suite", Error;
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pcfg::{}", self.name())
    }
}

impl Code {
    /// Looks a code up by `NAME` or `pcfg::NAME`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Code> {
        let name = name.strip_prefix("pcfg::").unwrap_or(name);
        Code::ALL.iter().copied().find(|c| c.name() == name)
    }
}

/// The book's diagnostics chapter: every catalogue page, in catalogue order, one heading level
/// down. `tests/catalogue.rs` keeps `book/src/diagnostics.md` equal to it.
#[must_use]
pub fn catalogue_markdown() -> String {
    let mut out = String::from(
        "# Diagnostics\n\n\
         Every diagnostic pcfg reports has a stable code. `pcfg explain CODE` prints its page.\n\
         This chapter is generated from `lang/diagnostics/` by the tests; edit those files.\n",
    );
    for code in Code::ALL {
        out.push('\n');
        for line in code.doc().lines() {
            if line.starts_with('#') {
                out.push('#');
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
