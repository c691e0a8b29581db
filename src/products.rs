//! Products: several systems built together from one repository. The base tree (the packages
//! every product installs) and each extension image are built once and shared; each product's
//! image is built on that base with what it adds (its own packages, files, partitions, command
//! line, keys and updates). What the products must agree on for that to hold is checked here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::diag::{Code, Diagnostic, Label};
use crate::model::{Extension, ExtensionKind, Model};
use crate::source::{SourceMap, Span};

/// Where one system's build steps and files are: a single system's at the top, a product's of
/// a set under its name (steps `NAME/STEP`, files `products/NAME/PATH`, its mkosi profile
/// `NAME`, its channels published to `publish/NAME/CHANNEL/`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Place<'a> {
    pub product: Option<&'a str>,
}

impl Place<'_> {
    /// What step names start with: empty, or `NAME/`.
    #[must_use]
    pub fn step_prefix(&self) -> String {
        self.product.map_or_else(String::new, |p| format!("{p}/"))
    }

    /// The name of one of its steps.
    #[must_use]
    pub fn step(&self, name: &str) -> String {
        format!("{}{name}", self.step_prefix())
    }

    /// What its files' paths in the output directory start with: empty, or `products/NAME/`.
    #[must_use]
    pub fn dir(&self) -> String {
        self.product
            .map_or_else(String::new, |p| format!("products/{p}/"))
    }

    /// One of its files, by its path in a single system's output directory.
    #[must_use]
    pub fn file(&self, path: &str) -> String {
        format!("{}{path}", self.dir())
    }

    /// Where its channels are published: `publish/`, or `publish/NAME/`.
    #[must_use]
    pub fn publish_dir(&self) -> String {
        format!("publish/{}", self.step_prefix())
    }
}

/// One product: its entry file and what its compilation made of it.
#[derive(Clone, Copy)]
pub struct Product<'a> {
    pub entry: &'a Path,
    pub sources: &'a SourceMap,
    pub model: &'a Model,
}

impl Product<'_> {
    /// The product's name: its image id, the name of its directory in the output and of its
    /// mkosi profile.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.model.system.name.value
    }

    /// The product as messages name it: `NAME` (its entry file).
    fn who(&self) -> String {
        format!("`{}` ({})", self.name(), self.entry.display())
    }

    fn entry_dir(&self) -> &Path {
        self.entry.parent().unwrap_or(Path::new(""))
    }

    /// Where `span` is, for a message read beside another product's file.
    fn place(&self, span: Option<Span>) -> String {
        match span {
            Some(span) => {
                let at = self.sources.line_col(span);
                format!("{}:{}", self.sources.get(span.file).name, at.line)
            }
            None => format!("{} (by default)", self.entry.display()),
        }
    }
}

/// A diagnostic of a set, in the sources of the product it names.
#[derive(Debug)]
pub struct Finding {
    /// The product whose files the diagnostic's spans are in.
    pub product: usize,
    pub diagnostic: Diagnostic,
}

/// Products that can be built together.
pub struct Set<'a> {
    pub products: Vec<Product<'a>>,
    /// The packages every product's image installs: the shared base tree, in the first
    /// product's order.
    pub shared_packages: Vec<&'a str>,
    /// Each image extension of the set (system and configuration extensions, portable
    /// services), once, in the order the products declare them: the first product that
    /// declares it, and the declaration.
    pub extensions: Vec<(usize, &'a Extension)>,
}

impl<'a> Set<'a> {
    /// The packages product `index` installs on top of the shared base, in its order.
    #[must_use]
    pub fn own_packages(&self, index: usize) -> Vec<&'a str> {
        let shared: std::collections::HashSet<&str> =
            self.shared_packages.iter().copied().collect();
        self.products[index]
            .model
            .image_packages()
            .into_iter()
            .filter(|p| !shared.contains(p))
            .collect()
    }

    /// The index of the product whose verity key signs the shared extension images, when one
    /// is signed.
    #[must_use]
    pub fn extension_signer(&self) -> Option<usize> {
        self.extensions
            .iter()
            .find(|(i, e)| signed(self.products[*i].model, e))
            .map(|(i, _)| *i)
    }

    /// Where product `index` is.
    #[must_use]
    pub fn place(&self, index: usize) -> Place<'_> {
        Place {
            product: self.products.get(index).map(Product::name),
        }
    }
}

/// Whether the image of `extension` is verity-signed in `model`.
fn signed(model: &Model, extension: &Extension) -> bool {
    extension.signed.value && model.trust.verity.is_some()
}

/// Whether an extension is an image mkosi builds (a Flatpak app is installed by Flatpak).
fn is_image(extension: &Extension) -> bool {
    extension.kind.value != ExtensionKind::Flatpak
}

/// The set of `products`, or why they cannot be built together.
///
/// # Errors
/// Two products of one name (`pcfg::duplicate-product`), or products that disagree on what they
/// share (`pcfg::products-disagree`): the distribution, release and architecture of the base
/// tree, the declaration of an extension more than one declares, the key that signs the
/// extension images.
pub fn set(products: Vec<Product<'_>>) -> Result<Set<'_>, Vec<Finding>> {
    let mut findings = Vec::new();
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (index, product) in products.iter().enumerate() {
        if let Some(&first) = names.get(product.name()) {
            findings.push(duplicate(&products, first, index));
        } else {
            names.insert(product.name(), index);
        }
    }
    if let Some(first) = products.first() {
        for (index, product) in products.iter().enumerate().skip(1) {
            findings.extend(base_disagreements(first, product, index));
        }
    }
    let mut extensions: Vec<(usize, &Extension)> = Vec::new();
    let mut declared: HashMap<&str, usize> = HashMap::new();
    for (index, product) in products.iter().enumerate() {
        for extension in product.model.extensions.iter().filter(|e| is_image(e)) {
            if let Some(&at) = declared.get(extension.name.as_str()) {
                let (first, theirs) = extensions[at];
                findings.extend(extension_disagreement(
                    &products,
                    (first, theirs),
                    (index, extension),
                ));
            } else {
                declared.insert(&extension.name, extensions.len());
                extensions.push((index, extension));
            }
        }
    }
    findings.extend(release_disagreements(&products));
    findings.extend(signer_disagreements(&products));
    if !findings.is_empty() {
        return Err(findings);
    }
    let shared_packages = shared_packages(&products);
    Ok(Set {
        products,
        shared_packages,
        extensions,
    })
}

/// The packages every product installs, in the first product's order.
fn shared_packages<'a>(products: &[Product<'a>]) -> Vec<&'a str> {
    let Some(first) = products.first() else {
        return Vec::new();
    };
    let others: Vec<std::collections::HashSet<&str>> = products[1..]
        .iter()
        .map(|p| p.model.image_packages().into_iter().collect())
        .collect();
    first
        .model
        .image_packages()
        .into_iter()
        .filter(|p| others.iter().all(|o| o.contains(p)))
        .collect()
}

fn duplicate(products: &[Product<'_>], first: usize, index: usize) -> Finding {
    let product = &products[index];
    let name = &product.model.system.name;
    let span = name.at.or(product.model.system.at);
    let message = format!(
        "two products are named `{}`: {} and {}",
        name.value,
        products[first].entry.display(),
        product.entry.display()
    );
    Finding {
        product: index,
        diagnostic: at_or_entry(
            Code::DuplicateProduct,
            message,
            span,
            "the name of this product",
        )
        .with_help(format!(
            "give each product its own `system.name`: it names the product's image, its mkosi profile, its partitions and its update files (first named `{}` at {})",
            name.value,
            products[first].place(products[first].model.system.name.at)
        )),
    }
}

/// A diagnostic at `span`, or — for a value no file wrote — at the start of the entry file.
fn at_or_entry(code: Code, message: String, span: Option<Span>, label: &str) -> Diagnostic {
    let span = span.unwrap_or(Span {
        file: crate::source::FileId::FIRST,
        start: 0,
        end: 0,
    });
    Diagnostic::new(code, message, Label::new(span, label))
}

/// The base tree's distribution, release and architecture, which every product shares.
fn base_disagreements(first: &Product<'_>, product: &Product<'_>, index: usize) -> Vec<Finding> {
    let (a, b) = (&first.model.system, &product.model.system);
    let fields = [
        (
            "system.distribution",
            a.distribution.value.clone().unwrap_or_default(),
            b.distribution.value.clone().unwrap_or_default(),
            a.distribution.at,
            b.distribution.at,
        ),
        (
            "system.release",
            a.release.value.clone().unwrap_or_default(),
            b.release.value.clone().unwrap_or_default(),
            a.release.at,
            b.release.at,
        ),
        (
            "system.arch",
            a.arch.value.name().to_owned(),
            b.arch.value.name().to_owned(),
            a.arch.at,
            b.arch.at,
        ),
        (
            "system.repositories",
            joined(&a.repositories.value),
            joined(&b.repositories.value),
            a.repositories.at,
            b.repositories.at,
        ),
    ];
    let fields = fields
        .into_iter()
        .map(|(f, ours, theirs, a, b)| (f.to_owned(), ours, theirs, a, b))
        .chain(package_sources(first.model, product.model));
    fields
        .filter(|(_, ours, theirs, _, _)| ours != theirs)
        .map(|(field, ours, theirs, first_at, at)| Finding {
            product: index,
            diagnostic: at_or_entry(
                Code::ProductsDisagree,
                format!(
                    "products {} and {} disagree on `{field}`: {} and {}",
                    first.who(),
                    product.who(),
                    shown(&ours),
                    shown(&theirs)
                ),
                at.or(b.at),
                "this product's value",
            )
            .with_help(format!(
                "the products share one base tree and one package repository: write `{field}` once, in the file every product imports ({} has {} at {})",
                first.who(),
                shown(&ours),
                first.place(first_at)
            )),
        })
        .collect()
}

fn joined(items: &[crate::model::At<String>]) -> String {
    items
        .iter()
        .map(|i| i.value.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A field two products must agree on: its name, the first product's value and the other's,
/// and where each is written.
type Disagreement = (String, String, String, Option<Span>, Option<Span>);

/// The package sources the two products declare differently, each as a field
/// (`package-source NAME`) with both values and where each is declared: the shared build
/// installs every image through one set of them.
fn package_sources(first: &Model, product: &Model) -> Vec<Disagreement> {
    let describe = |model: &Model, name: &str| {
        model
            .package_sources
            .iter()
            .find(|s| s.name == name)
            .map_or((String::new(), None), |s| {
                (
                    format!(
                        "{} {} [{}], key {}, priority {}",
                        s.url.value,
                        s.suite_in(&model.system).unwrap_or_default(),
                        s.components().join(" "),
                        s.key.value.as_deref().unwrap_or("of the distribution"),
                        s.priority
                            .value
                            .map_or_else(|| "apt's".to_owned(), |p| p.to_string())
                    ),
                    s.at,
                )
            })
    };
    let mut names: Vec<&str> = first
        .package_sources
        .iter()
        .chain(&product.package_sources)
        .map(|s| s.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| {
            let ((ours, first_at), (theirs, at)) = (describe(first, name), describe(product, name));
            (ours != theirs).then(|| (format!("package-source {name}"), ours, theirs, first_at, at))
        })
        .collect()
}

fn shown(value: &str) -> String {
    if value.is_empty() {
        "none".to_owned()
    } else {
        format!("`{value}`")
    }
}

/// One thing an extension's image is made of: its name, the value compared, the value shown,
/// and where it is declared.
type Fact = (&'static str, String, String, Option<Span>);

/// What an extension's image is made of: the facts two products declaring it must agree on for
/// one image to serve both.
fn facts(product: &Product<'_>, extension: &Extension) -> Vec<Fact> {
    let model = product.model;
    let list = |items: &[crate::model::At<String>]| -> String {
        items
            .iter()
            .map(|i| i.value.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let fact = |name, value: String, at| (name, value.clone(), value, at);
    // Compared where it is, shown as written.
    let source = extension
        .source
        .value
        .as_ref()
        .map_or_else(String::new, |s| {
            crate::vfs::normalize(&absolute(&product.entry_dir().join(s)))
                .display()
                .to_string()
        });
    vec![
        fact(
            "kind",
            extension.kind.value.name().to_owned(),
            extension.kind.at,
        ),
        fact("image name", extension.image.clone(), extension.at),
        (
            "source",
            source,
            extension.source.value.clone().unwrap_or_default(),
            extension.source.at,
        ),
        fact(
            "packages",
            list(&extension.packages.value),
            extension.packages.at,
        ),
        fact(
            "requires",
            list(&extension.requires.value),
            extension.requires.at,
        ),
        fact(
            "signed",
            signed(model, extension).to_string(),
            extension.signed.at,
        ),
        (
            "build scripts",
            extension
                .scripts()
                .all()
                .map(|(field, s)| {
                    let path =
                        crate::vfs::normalize(&absolute(&product.entry_dir().join(&s.value)));
                    format!("{field} {}", path.display())
                })
                .collect::<Vec<_>>()
                .join(" "),
            extension
                .scripts()
                .all()
                .map(|(field, s)| format!("{field} {}", s.value))
                .collect::<Vec<_>>()
                .join(" "),
            extension
                .scripts()
                .postinst
                .at
                .or(extension.scripts().finalize.at)
                .or(extension.scripts().post_output.at),
        ),
        // Its own version; the system's, like the rest of its release file, is compared once
        // per product (`release_disagreements`).
        fact(
            "own version",
            extension.version().value.clone().unwrap_or_default(),
            extension.version().at,
        ),
    ]
}

/// `path` made absolute from the working directory (lexically): how two entry files in
/// different directories name the same tree.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// The fact of `name` among `facts`.
fn find<'x>(facts: &'x [Fact], name: &str) -> Option<&'x Fact> {
    facts.iter().find(|f| f.0 == name)
}

fn extension_disagreement(
    products: &[Product<'_>],
    (first, theirs): (usize, &Extension),
    (index, ours): (usize, &Extension),
) -> Option<Finding> {
    let a = facts(&products[first], theirs);
    let b = facts(&products[index], ours);
    // The first fact whose values differ, by name: a release field one product has and the
    // other not (`VERSION_ID` or a level) differs from nothing.
    let (field, old, new, at) = a
        .iter()
        .chain(b.iter().filter(|f| find(&a, f.0).is_none()))
        .map(|f| f.0)
        .find_map(|name| {
            let (x, y) = (find(&a, name), find(&b, name));
            (x.map(|f| &f.1) != y.map(|f| &f.1)).then(|| {
                (
                    name,
                    x.map_or("", |f| f.2.as_str()),
                    y.map_or("", |f| f.2.as_str()),
                    y.and_then(|f| f.3),
                )
            })
        })?;
    let what = format!("its {field}");
    let help = format!(
        "one image is built for every product: declare the extension once, in the file the products import, or give it its own name in one of them ({} declares it at {})",
        products[first].who(),
        products[first].place(theirs.at)
    );
    Some(Finding {
        product: index,
        diagnostic: at_or_entry(
            Code::ProductsDisagree,
            format!(
                "extension `{}` is built once for all products, but {} and {} disagree on {what}: {} and {}",
                ours.name,
                products[first].who(),
                products[index].who(),
                shown(old),
                shown(new)
            ),
            at.or(ours.at),
            "this product's declaration",
        )
        .with_help(help),
    })
}

/// The release file of a shared extension image is written once, from the system's `ID` and
/// `VERSION_ID` (or its extension level): every product that shares an extension with the
/// first must have the same, or systemd-sysext refuses the image on one of them.
fn release_disagreements(products: &[Product<'_>]) -> Vec<Finding> {
    let images = |p: &Product<'_>| -> Vec<String> {
        p.model
            .extensions
            .iter()
            .filter(|e| is_image(e))
            .map(|e| e.name.clone())
            .collect()
    };
    let all: Vec<Vec<String>> = products.iter().map(images).collect();
    let mut findings = Vec::new();
    for (index, product) in products.iter().enumerate().skip(1) {
        // The first product before it that shares an extension with it.
        let Some((first, shared)) = (0..index).find_map(|j| {
            let shared: Vec<String> = all[index]
                .iter()
                .filter(|n| all[j].contains(n))
                .cloned()
                .collect();
            (!shared.is_empty()).then_some((&products[j], shared))
        }) else {
            continue;
        };
        let (a, b) = (&first.model.system, &product.model.system);
        let fields = [
            (
                "system.id",
                "ID",
                Some(a.id.value.clone()),
                Some(b.id.value.clone()),
                a.id.at,
                b.id.at,
            ),
            (
                "system.version",
                "VERSION_ID",
                a.version.value.clone(),
                b.version.value.clone(),
                a.version.at,
                b.version.at,
            ),
        ];
        for (field, key, old, new, first_at, at) in fields {
            if old == new {
                continue;
            }
            let listed = if shared.len() > 3 {
                format!(
                    "`{}`, `{}` and {} more",
                    shared[0],
                    shared[1],
                    shared.len() - 2
                )
            } else {
                shared
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            findings.push(Finding {
                product: index,
                diagnostic: at_or_entry(
                    Code::ProductsDisagree,
                    format!(
                        "products {} and {} share extension images ({listed}), built once with one release file, but disagree on its `{key}=` (`{field}`): {} and {}",
                        first.who(),
                        product.who(),
                        shown(old.as_deref().unwrap_or("")),
                        shown(new.as_deref().unwrap_or(""))
                    ),
                    at.or(b.at),
                    "this product's value",
                )
                .with_help(format!(
                    "systemd merges an extension only where its release file matches the os-release: write `{field}` once, in the file every product imports ({} has {} at {}), or give this product extensions of its own",
                    first.who(),
                    shown(old.as_deref().unwrap_or("")),
                    first.place(first_at)
                )),
            });
        }
    }
    findings
}

/// The shared extension images are signed once, by one verity key: every product with a signed
/// extension must name the same key and certificate.
fn signer_disagreements(products: &[Product<'_>]) -> Vec<Finding> {
    // The key and certificate as the file system names them, where the key is declared, and
    // the key as written.
    type Signer = (String, String, Option<Span>, String);
    let key_of = |product: &Product<'_>| -> Option<Signer> {
        let verity = product.model.trust.verity.as_ref()?;
        if !product
            .model
            .extensions
            .iter()
            .any(|e| is_image(e) && signed(product.model, e))
        {
            return None;
        }
        let resolve = |p: &Option<String>| {
            p.as_ref().map_or_else(String::new, |p| {
                crate::vfs::normalize(&absolute(&product.entry_dir().join(p)))
                    .display()
                    .to_string()
            })
        };
        Some((
            resolve(&verity.key.value),
            resolve(&verity.cert.value),
            verity.key.at.or(verity.at),
            verity.key.value.clone().unwrap_or_default(),
        ))
    };
    let mut first: Option<(usize, Signer)> = None;
    let mut findings = Vec::new();
    for (index, product) in products.iter().enumerate() {
        let Some(key) = key_of(product) else {
            continue;
        };
        match &first {
            None => first = Some((index, key)),
            Some((at, theirs)) if (&theirs.0, &theirs.1) != (&key.0, &key.1) => {
                findings.push(Finding {
                    product: index,
                    diagnostic: at_or_entry(
                        Code::ProductsDisagree,
                        format!(
                            "the extension images are built and signed once for all products, but {} and {} sign them with different verity keys",
                            products[*at].who(),
                            product.who()
                        ),
                        key.2.or(product.model.system.at),
                        "this product's verity key",
                    )
                    .with_help(format!(
                        "name one `trust.verity` key and certificate in the file the products import ({} names `{}` at {}), or set `signed = false` on the extensions",
                        products[*at].who(),
                        theirs.3,
                        products[*at].place(theirs.2)
                    )),
                });
            }
            Some(_) => {}
        }
    }
    findings
}
