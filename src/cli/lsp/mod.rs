//! `pcfg lsp`: a Language Server Protocol server over stdio (lsp-server and lsp-types, as
//! rust-analyzer is built). Open buffers take precedence over the disk ([`overlay`]); every
//! change re-checks each open configuration that no other open file imports, so an edit in a
//! base file shows its effect in the files that import it; diagnostics carry their code, a link
//! to its catalogue page and related locations in other files. Hover shows the resolved value
//! with its provenance (`pcfg why`) and the field's schema; go to definition opens an import,
//! the declaration of an extension named in `requires` or `overrides`, or the definition that
//! decides a field; references are every definition of a field; rename changes a label in
//! every file; a did-you-mean is a quick fix;
//! completion offers what the schema allows in the block at the cursor; the outline lists the
//! blocks and their fields; formatting is `pcfg fmt`.

mod convert;
mod cursor;
mod fixes;
mod library;
mod navigate;
mod overlay;
mod rename;
mod tokens;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument, DidOpenTextDocument,
    DidSaveTextDocument, Notification as _, PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest,
    References, Rename, Request as _, SemanticTokensFullRequest,
};
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionOptions, CompletionResponse, DocumentSymbol,
    DocumentSymbolResponse, GotoDefinitionResponse, Hover, HoverContents, HoverProviderCapability,
    Location, MarkupContent, MarkupKind, OneOf, Position, PublishDiagnosticsParams, Range,
    ServerCapabilities, SymbolKind, TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit,
    Url,
};

use super::{Failure, EXIT_OK};
use crate::compile::{self, Compilation};
use crate::source::SourceFile;
use navigate::Target;
use overlay::Overlay;

/// The JSON-RPC error for a request the server does not answer.
const METHOD_NOT_FOUND: i32 = -32601;
/// The protocol's error for a request that is understood but cannot be done.
const REQUEST_FAILED: i32 = -32803;

pub(super) fn run() -> Result<u8, Failure> {
    let (connection, threads) = Connection::stdio();
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(lsp_types::CodeActionProviderCapability::Simple(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions::default()),
        semantic_tokens_provider: Some(
            lsp_types::SemanticTokensOptions {
                legend: lsp_types::SemanticTokensLegend {
                    token_types: tokens::TYPES
                        .iter()
                        .map(|t| lsp_types::SemanticTokenType::new(t))
                        .collect(),
                    token_modifiers: Vec::new(),
                },
                full: Some(lsp_types::SemanticTokensFullOptions::Bool(true)),
                ..lsp_types::SemanticTokensOptions::default()
            }
            .into(),
        ),
        ..ServerCapabilities::default()
    };
    let failure = |e: &dyn std::fmt::Display| Failure::Message(format!("pcfg lsp: {e}"));
    let capabilities = serde_json::to_value(capabilities).map_err(|e| failure(&e))?;
    connection
        .initialize(capabilities)
        .map_err(|e| failure(&e))?;
    let book = super::output::book_url();
    let mut server = Server {
        connection: &connection,
        overlay: Overlay::default(),
        compilations: BTreeMap::new(),
        published: BTreeSet::new(),
        book,
    };
    server.serve().map_err(|e| failure(&e))?;
    drop(connection);
    threads.join().map_err(|e| failure(&e))?;
    Ok(EXIT_OK)
}

struct Server<'c> {
    connection: &'c Connection,
    overlay: Overlay,
    /// The last compilation of each open configuration that no other open file imports.
    compilations: BTreeMap<PathBuf, Compilation>,
    /// The files diagnostics were last published for (cleared when they have none).
    published: BTreeSet<PathBuf>,
    book: String,
}

type Outcome = Result<(), Box<dyn std::error::Error + Send + Sync>>;

impl Server<'_> {
    fn serve(&mut self) -> Outcome {
        while let Ok(message) = self.connection.receiver.recv() {
            match message {
                Message::Request(request) => {
                    // After `shutdown` the server stops, whether the client then sends `exit`
                    // or just goes away (Neovim closes the pipe when it quits).
                    match self.connection.handle_shutdown(&request) {
                        Ok(true) => return Ok(()),
                        Err(_) if request.method == "shutdown" => return Ok(()),
                        Err(e) => return Err(e.into()),
                        Ok(false) => {}
                    }
                    let response = self.answer(request);
                    self.connection.sender.send(Message::Response(response))?;
                }
                Message::Notification(notification) => self.notified(notification)?,
                Message::Response(_) => {}
            }
        }
        Ok(())
    }

    fn notified(&mut self, notification: Notification) -> Outcome {
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let params: lsp_types::DidOpenTextDocumentParams =
                    serde_json::from_value(notification.params)?;
                if let Some(path) = file_path(&params.text_document.uri) {
                    self.overlay.set(&path, params.text_document.text);
                }
            }
            DidChangeTextDocument::METHOD => {
                let params: lsp_types::DidChangeTextDocumentParams =
                    serde_json::from_value(notification.params)?;
                // Full synchronisation: the last change holds the whole text.
                let text = params.content_changes.into_iter().last().map(|c| c.text);
                if let (Some(path), Some(text)) = (file_path(&params.text_document.uri), text) {
                    self.overlay.set(&path, text);
                }
            }
            DidCloseTextDocument::METHOD => {
                let params: lsp_types::DidCloseTextDocumentParams =
                    serde_json::from_value(notification.params)?;
                if let Some(path) = file_path(&params.text_document.uri) {
                    self.overlay.close(&path);
                }
            }
            // A save, or files changed on disk: the extension trees are walked again.
            DidSaveTextDocument::METHOD | DidChangeWatchedFiles::METHOD => {
                self.overlay.forget_trees();
            }
            _ => return Ok(()),
        }
        self.check()
    }

    /// Compiles every open configuration that no other open file imports and publishes the
    /// diagnostics of every file they load, clearing those of files that have none now.
    fn check(&mut self) -> Outcome {
        // Last time's roots first: a file one of them loads is not compiled on its own.
        let open = self.overlay.paths();
        let order = open
            .iter()
            .filter(|p| self.compilations.contains_key(*p))
            .chain(open.iter().filter(|p| !self.compilations.contains_key(*p)));
        let mut compiled: BTreeMap<PathBuf, Compilation> = BTreeMap::new();
        let mut imported: BTreeSet<PathBuf> = BTreeSet::new();
        for path in order {
            // A copy of the standard library is read, never checked on its own.
            if imported.contains(path) || library::module_name(path).is_some() {
                continue;
            }
            if let Ok(compilation) = compile::check(&self.overlay, path) {
                imported.extend(
                    compilation
                        .sources
                        .files()
                        .filter_map(|(_, f)| convert::disk_path(f))
                        .filter(|p| p != path),
                );
                compiled.insert(path.clone(), compilation);
            }
        }
        compiled.retain(|path, _| !imported.contains(path));
        self.overlay.sweep_parsed();
        let mut by_file: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
        // A file two roots load reports its diagnostics once.
        let mut seen: BTreeSet<(PathBuf, String)> = BTreeSet::new();
        for compilation in compiled.values() {
            for d in &compilation.diagnostics {
                let Some((path, diagnostic)) =
                    convert::diagnostic(d, &compilation.sources, &self.book)
                else {
                    continue;
                };
                let key = format!(
                    "{:?}{:?}{}",
                    diagnostic.range, diagnostic.code, diagnostic.message
                );
                if seen.insert((path.clone(), key)) {
                    by_file.entry(path).or_default().push(diagnostic);
                }
            }
        }
        let stale: Vec<PathBuf> = self
            .published
            .iter()
            .filter(|p| !by_file.contains_key(*p))
            .cloned()
            .collect();
        for path in stale {
            self.publish(&path, Vec::new())?;
        }
        self.published = by_file.keys().cloned().collect();
        for (path, diagnostics) in by_file {
            self.publish(&path, diagnostics)?;
        }
        // The previous compilations are dropped on another thread: freeing a large one takes
        // milliseconds the next keystroke need not wait for.
        let previous = std::mem::replace(&mut self.compilations, compiled);
        std::thread::spawn(move || drop(previous));
        Ok(())
    }

    fn publish(&self, path: &Path, diagnostics: Vec<lsp_types::Diagnostic>) -> Outcome {
        let Some(uri) = convert::url(path) else {
            return Ok(());
        };
        let params = PublishDiagnosticsParams::new(uri, diagnostics, None);
        let notification = Notification::new(PublishDiagnostics::METHOD.to_owned(), params);
        self.connection
            .sender
            .send(Message::Notification(notification))?;
        Ok(())
    }

    fn answer(&self, request: Request) -> Response {
        use lsp_types as t;
        let params = request.params;
        let answered = match request.method.as_str() {
            HoverRequest::METHOD => on(params, |p: t::HoverParams| {
                Ok(self.hover(&p.text_document_position_params))
            }),
            GotoDefinition::METHOD => on(params, |p: t::GotoDefinitionParams| {
                Ok(self.definition(&p.text_document_position_params))
            }),
            Completion::METHOD => on(params, |p: t::CompletionParams| {
                Ok(self.complete(&p.text_document_position))
            }),
            DocumentSymbolRequest::METHOD => on(params, |p: t::DocumentSymbolParams| {
                Ok(self.outline(&p.text_document.uri))
            }),
            CodeActionRequest::METHOD => {
                on(params, |p: t::CodeActionParams| Ok(self.quick_fixes(&p)))
            }
            References::METHOD => on(params, |p: t::ReferenceParams| {
                Ok(self.references(&p.text_document_position))
            }),
            Rename::METHOD => on(params, |p: t::RenameParams| self.rename(&p)),
            Formatting::METHOD => on(params, |p: t::DocumentFormattingParams| {
                Ok(self.format(&p.text_document.uri))
            }),
            SemanticTokensFullRequest::METHOD => on(params, |p: t::SemanticTokensParams| {
                Ok(self.semantic_tokens(&p.text_document.uri))
            }),
            _ => Err((
                METHOD_NOT_FOUND,
                format!("pcfg lsp does not answer `{}`", request.method),
            )),
        };
        match answered {
            Ok(value) => Response::new_ok(request.id, value),
            Err((code, message)) => Response::new_err(request.id, code, message),
        }
    }

    /// The path and text of an open document.
    fn open(&self, uri: &Url) -> Option<(PathBuf, &str)> {
        let path = file_path(uri)?;
        let text = self.overlay.text(&path)?;
        Some((path, text))
    }

    /// The open document and the target at a position in it.
    fn target(&self, at: &lsp_types::TextDocumentPositionParams) -> Option<(PathBuf, Target)> {
        let (path, text) = self.open(&at.text_document.uri)?;
        let target = navigate::target_at(text, convert::offset(text, at.position))?;
        Some((path, target))
    }

    fn hover(&self, at: &lsp_types::TextDocumentPositionParams) -> Option<Hover> {
        let (path, Target::Path(dotted)) = self.target(at)? else {
            return None;
        };
        let compilation = self.compilation_of(&path)?;
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: navigate::hover(compilation, &dotted),
            }),
            range: None,
        })
    }

    /// An import: its file. A name in `requires` or `overrides`: that extension's declaration.
    /// A field or block: the definition that decides it (in whichever file that is).
    fn definition(
        &self,
        at: &lsp_types::TextDocumentPositionParams,
    ) -> Option<GotoDefinitionResponse> {
        let (path, target) = self.target(at)?;
        let location = match target {
            Target::Import(import) => {
                let in_std = library::module_name(&path).is_some();
                let file = match crate::resolve::stdlib::imported_name(&import, in_std) {
                    Some(name) => library::document(name)?,
                    None => navigate::import_target(&path, &import)?,
                };
                let start = Position::new(0, 0);
                Location::new(convert::url(&file)?, Range::new(start, start))
            }
            Target::Extension(_) | Target::Path(_) => {
                let dotted = match target {
                    Target::Extension(name) => vec!["extension".to_owned(), name],
                    Target::Path(dotted) => dotted,
                    Target::Import(_) => return None,
                };
                let compilation = self.compilation_of(&path)?;
                let span = navigate::winning_definition(compilation, &dotted)?;
                location(compilation, span)?
            }
        };
        Some(GotoDefinitionResponse::Scalar(location))
    }

    /// The quick fixes of the diagnostics in a range: each diagnostic that carries its fix
    /// (`diag::Edit`) gives one, as a text edit of the file's text.
    fn quick_fixes(
        &self,
        params: &lsp_types::CodeActionParams,
    ) -> Option<Vec<lsp_types::CodeAction>> {
        let uri = &params.text_document.uri;
        let path = file_path(uri)?;
        let compilation = self.compilation_of(&path)?;
        let wanted = params.range;
        let overlaps = |r: Range| !(r.end < wanted.start || wanted.end < r.start);
        let mut actions = Vec::new();
        for d in &compilation.diagnostics {
            let Some(fix) = &d.fix else { continue };
            let file = compilation.sources.get(fix.span.file);
            if convert::disk_path(file).as_deref() != Some(path.as_path()) {
                continue;
            }
            // Offered on the problem or on the place the fix changes.
            let primary = compilation.sources.get(d.primary.span.file);
            let on_primary = convert::disk_path(primary).as_deref() == Some(path.as_path())
                && overlaps(convert::range(primary, d.primary.span));
            if !overlaps(convert::range(file, fix.span)) && !on_primary {
                continue;
            }
            let (start, end) = (fix.span.start as usize, fix.span.end as usize);
            let Some((from, to, new)) = fixes::text_edit(file.text(), start, end, &fix.edit) else {
                continue;
            };
            let range = convert::range(file, crate::source::Span::new(fix.span.file, from, to));
            let diagnostic =
                convert::diagnostic(d, &compilation.sources, &self.book).map(|(_, d)| d);
            let edit = TextEdit::new(range, new);
            actions.push(lsp_types::CodeAction {
                title: fix.title.clone(),
                kind: Some(lsp_types::CodeActionKind::QUICKFIX),
                diagnostics: diagnostic.map(|d| vec![d]),
                edit: Some(lsp_types::WorkspaceEdit::new(
                    std::iter::once((uri.clone(), vec![edit])).collect(),
                )),
                is_preferred: Some(true),
                ..lsp_types::CodeAction::default()
            });
        }
        Some(actions)
    }

    /// Every definition of the field or block at the cursor, in every file.
    fn references(&self, at: &lsp_types::TextDocumentPositionParams) -> Option<Vec<Location>> {
        let (path, Target::Path(dotted)) = self.target(at)? else {
            return None;
        };
        let compilation = self.compilation_of(&path)?;
        Some(
            navigate::definitions(compilation, &dotted)
                .into_iter()
                .filter_map(|span| location(compilation, span))
                .collect(),
        )
    }

    /// Renames the label at the cursor (a block's, or an extension named in `requires` or
    /// `overrides`) in every file of the configuration; refused with the reason when the new
    /// name is not a name, is taken, or a file to change is the standard library's.
    fn rename(&self, params: &lsp_types::RenameParams) -> Result<lsp_types::WorkspaceEdit, String> {
        let at = &params.text_document_position;
        let (path, target) = self.target(at).ok_or("nothing to rename here")?;
        let (kind, label) = match target {
            Target::Extension(name) => ("extension".to_owned(), name),
            Target::Path(dotted) if dotted.len() >= 2 => {
                let labelled = crate::schema::v1::ROOT
                    .block(&dotted[0])
                    .is_some_and(|b| b.labelled);
                if !labelled {
                    return Err(format!("`{}` has no label to rename", dotted[0]));
                }
                (dotted[0].clone(), dotted[1].clone())
            }
            _ => return Err("only a block's label can be renamed".to_owned()),
        };
        let new = params.new_name.as_str();
        if !crate::syntax::is_name(new) {
            return Err(format!(
                "`{new}` is not a name: letters, digits and `-`, as `{label}` is"
            ));
        }
        let compilation = self
            .compilation_of(&path)
            .ok_or("the configuration does not load")?;
        let resolved = compilation
            .resolved
            .as_ref()
            .ok_or("the configuration does not resolve yet: fix its errors first")?;
        if resolved.root.get(&[kind.as_str(), new]).is_some() {
            return Err(format!("`{kind} {new}` exists already"));
        }
        let mut changes: std::collections::HashMap<Url, Vec<TextEdit>> =
            std::collections::HashMap::new();
        for span in rename::occurrences(&resolved.layers, &kind, &label) {
            let file = compilation.sources.get(span.file);
            let Some(disk) = convert::disk_path(file) else {
                return Err(format!(
                    "`{kind} {label}` is named in `{}`, which is part of pcfg and cannot be changed",
                    file.name
                ));
            };
            let uri = convert::url(&disk).ok_or("a file outside the file system")?;
            changes
                .entry(uri)
                .or_default()
                .push(TextEdit::new(convert::range(file, span), new.to_owned()));
        }
        Ok(lsp_types::WorkspaceEdit::new(changes))
    }

    /// What the schema allows at the cursor: the names of the block around it, or the values
    /// of the field being set (its symbols, or the labels of the blocks it refers to, as the
    /// configuration that includes this file declares them).
    fn complete(&self, at: &lsp_types::TextDocumentPositionParams) -> Option<CompletionResponse> {
        let (path, text) = self.open(&at.text_document.uri)?;
        let completions = match cursor::at(text, convert::offset(text, at.position)) {
            cursor::Cursor::Name(block) => navigate::completions(&block),
            cursor::Cursor::Value {
                path: field,
                in_list,
            } => {
                let compilation = self.compilation_of(&path);
                let labels = |kind: &str| {
                    compilation.map_or_else(Vec::new, |c| declared(c, &self.overlay, kind))
                };
                navigate::value_completions(&field, in_list, &labels)
            }
        };
        let items = completions
            .into_iter()
            .map(|c| CompletionItem {
                kind: Some(match c.kind {
                    navigate::Name::Field => CompletionItemKind::FIELD,
                    navigate::Name::Block => CompletionItemKind::MODULE,
                    navigate::Name::Keyword => CompletionItemKind::KEYWORD,
                    navigate::Name::Value => CompletionItemKind::ENUM_MEMBER,
                    navigate::Name::Label => CompletionItemKind::REFERENCE,
                }),
                detail: Some(c.detail),
                insert_text: c.insert,
                label: c.name,
                ..CompletionItem::default()
            })
            .collect();
        Some(CompletionResponse::Array(items))
    }

    /// What each word of the document is (`tokens.rs`).
    fn semantic_tokens(&self, uri: &Url) -> Option<lsp_types::SemanticTokensResult> {
        let (_, text) = self.open(uri)?;
        let data = tokens::encode(&convert::indexed(text), &tokens::tokens(text));
        Some(lsp_types::SemanticTokensResult::Tokens(
            lsp_types::SemanticTokens {
                result_id: None,
                data,
            },
        ))
    }

    /// The blocks of the document and the fields set in them.
    fn outline(&self, uri: &Url) -> Option<DocumentSymbolResponse> {
        let (_, text) = self.open(uri)?;
        Some(DocumentSymbolResponse::Nested(symbols(
            &convert::indexed(text),
            navigate::outline(text),
        )))
    }

    /// The whole document, formatted as `pcfg fmt` does; nothing when it does not parse.
    fn format(&self, uri: &Url) -> Option<Vec<TextEdit>> {
        let (_, text) = self.open(uri)?;
        let formatted = crate::syntax::format::format(crate::source::FileId::FIRST, text).ok()?;
        if formatted == text {
            return Some(Vec::new());
        }
        let end = convert::position(&convert::indexed(text), text.len());
        Some(vec![TextEdit::new(
            Range::new(Position::new(0, 0), end),
            formatted,
        )])
    }

    /// The compilation that loads `path`: its own when it is a root, else one that imports it.
    fn compilation_of(&self, path: &Path) -> Option<&Compilation> {
        // A copy of a standard library module: a compilation that loads that module.
        let std_name = library::module_name(path);
        self.compilations.get(path).or_else(|| {
            self.compilations.values().find(|c| {
                c.sources.files().any(|(_, f)| match &std_name {
                    Some(name) => f.origin == crate::source::Origin::Std && &f.name == name,
                    None => convert::disk_path(f).as_deref() == Some(path),
                })
            })
        })
    }
}

/// The labels of the blocks of `kind` a compilation declares: from its resolved tree, or, while
/// some file does not parse (as when a value is half-typed), from what each file declares as far
/// as it parses (the syntax trees the last check kept, through `vfs`).
fn declared(compilation: &Compilation, vfs: &dyn crate::vfs::Vfs, kind: &str) -> Vec<String> {
    if let Some(resolved) = &compilation.resolved {
        return match resolved.root.get(&[kind]).map(|e| &e.node) {
            Some(crate::resolve::Node::Block(block)) => block
                .entries
                .keys()
                .map(|k| k.as_str().to_owned())
                .collect(),
            _ => Vec::new(),
        };
    }
    let mut labels: Vec<String> = Vec::new();
    for (id, file) in compilation.sources.files() {
        let (ast, _) = vfs.parse(id, file.text());
        labels.extend(navigate::labels_of(&ast.items, kind));
    }
    let mut seen = BTreeSet::new();
    labels.retain(|label| seen.insert(label.clone()));
    labels
}

/// A span of a compilation's sources as a location: in its file on disk, or in the read-only copy
/// of its standard library module.
fn location(compilation: &Compilation, span: crate::source::Span) -> Option<Location> {
    let file = compilation.sources.get(span.file);
    let path = convert::disk_path(file).or_else(|| library::document_of(file))?;
    let uri = convert::url(&path)?;
    Some(Location::new(uri, convert::range(file, span)))
}

/// An outline in the protocol's terms.
#[allow(deprecated)] // `DocumentSymbol::deprecated` must be written; `tags` replaces it.
fn symbols(file: &SourceFile, outline: Vec<navigate::Symbol>) -> Vec<DocumentSymbol> {
    let range = |(start, end): (u32, u32)| {
        Range::new(
            convert::position(file, start as usize),
            convert::position(file, end as usize),
        )
    };
    outline
        .into_iter()
        .map(|symbol| DocumentSymbol {
            name: symbol.name,
            detail: None,
            kind: if symbol.block {
                SymbolKind::STRUCT
            } else {
                SymbolKind::FIELD
            },
            tags: None,
            deprecated: None,
            range: range(symbol.span),
            selection_range: range(symbol.name_span),
            children: Some(symbols(file, symbol.children)).filter(|c| !c.is_empty()),
        })
        .collect()
}

fn file_path(uri: &Url) -> Option<PathBuf> {
    uri.to_file_path().ok().map(|p| crate::vfs::normalize(&p))
}

/// Runs `answer` on a request's parameters: its result as JSON, or the error to send (the
/// parameters do not parse; the request cannot be done, with the reason).
fn on<P: serde::de::DeserializeOwned, R: serde::Serialize>(
    params: serde_json::Value,
    answer: impl FnOnce(P) -> Result<R, String>,
) -> Result<serde_json::Value, (i32, String)> {
    let invalid = lsp_server::ErrorCode::InvalidParams as i32;
    let params = serde_json::from_value(params).map_err(|e| (invalid, e.to_string()))?;
    let result = answer(params).map_err(|reason| (REQUEST_FAILED, reason))?;
    serde_json::to_value(result)
        .map_err(|e| (lsp_server::ErrorCode::InternalError as i32, e.to_string()))
}
