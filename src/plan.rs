//! The build plan of a system: every artifact and the step that makes it, from the model and the
//! emitted files, content-addressed by [`graph`](crate::graph).
//!
//! Inputs are the package set, the signing keys (their certificates, the public halves, hashed
//! by content when readable) and the extension source trees (hashed by content); generated
//! definitions enter as their text. A step's parameters are exactly what it is made from, so a
//! change reaches the steps that use it and those downstream, and nothing upstream.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::emit::File;
use crate::graph::{GraphError, Plan, StepSpec};
use crate::model::{ExtensionKind, Model, PartitionType, Verity};
use crate::products::Place;
use crate::vfs::Vfs;

/// File contents the plan hashes: key certificates and extension trees, keyed by the path the
/// configuration gives. Read through the [`Vfs`], relative to the entry file's directory.
#[derive(Debug, Default)]
pub struct Inputs {
    digests: BTreeMap<String, String>,
    /// Each Flatpak remote's key file, as `GPGKey=` carries it (base64 of the binary key), or
    /// why it cannot be (`pcfg check` reports it as `flatpak-remote-key`).
    flatpak_keys: BTreeMap<String, Result<String, String>>,
}

impl Inputs {
    /// Reads what the plan of `model` hashes.
    #[must_use]
    pub fn read(model: &Model, vfs: &dyn Vfs, entry_dir: &Path) -> Inputs {
        let mut digests = BTreeMap::new();
        let resolve = |p: &str| entry_dir.join(p);
        let trust = &model.trust;
        let certs = [
            trust
                .secure_boot
                .as_ref()
                .and_then(|k| k.cert.value.clone()),
            trust.verity.as_ref().and_then(|k| k.cert.value.clone()),
            trust.cert.value.clone(),
        ];
        for cert in certs.into_iter().flatten() {
            if let Ok(bytes) = vfs.read(&resolve(&cert)) {
                digests.insert(cert, crate::emit::sha256_hex(&bytes));
            }
        }
        for source in model
            .extensions
            .iter()
            .filter_map(|e| e.source.value.as_ref())
        {
            if let Some(digest) = vfs.tree_digest(&resolve(source)) {
                digests.insert(source.clone(), digest);
            }
        }
        let mut flatpak_keys = BTreeMap::new();
        for key in model.flatpak_remotes.iter().map(|r| &r.key.value) {
            let (digest, read) = read_flatpak_key(vfs, &resolve(key));
            if let Some(digest) = digest {
                digests.insert(key.clone(), digest);
            }
            flatpak_keys.insert(key.clone(), read);
        }
        for key in model
            .updates
            .channels
            .iter()
            .filter_map(|c| c.key.value.as_ref())
        {
            if let (Some(digest), _) = read_update_key(vfs, &resolve(key)) {
                digests.insert(key.clone(), digest);
            }
        }
        for key in model
            .package_sources
            .iter()
            .filter_map(|s| s.key.value.as_ref())
        {
            if let (Some(digest), _) = read_apt_key(vfs, &resolve(key)) {
                digests.insert(key.clone(), digest);
            }
        }
        // The payload: the image's trees, and every build script.
        for tree in &model.system.trees.value {
            if let Some(digest) = vfs.tree_digest(&resolve(&tree.value)) {
                digests.insert(tree.value.clone(), digest);
            }
        }
        let scripts = std::iter::once(&model.system.scripts).chain(
            model
                .extensions
                .iter()
                .map(crate::model::extension::Extension::scripts),
        );
        for script in scripts.flat_map(crate::model::system::Scripts::all) {
            if let Ok(digest) = vfs.sha256(&resolve(&script.1.value)) {
                digests.insert(script.1.value.clone(), crate::digest::hex(&digest));
            }
        }
        Inputs {
            digests,
            flatpak_keys,
        }
    }

    /// The key of a Flatpak remote (its `key` path) as `GPGKey=` carries it, or why it cannot
    /// be read as one.
    ///
    /// # Errors
    /// When the file is missing, unreadable or not an OpenPGP public key.
    pub fn flatpak_key(&self, path: &str) -> Result<&str, &str> {
        match self.flatpak_keys.get(path) {
            Some(Ok(key)) => Ok(key),
            Some(Err(why)) => Err(why),
            None => Err("was not read"),
        }
    }

    /// The digest of a path, or a marker that it could not be read (so the path still counts).
    fn of(&self, path: &str) -> String {
        self.digests
            .get(path)
            .cloned()
            .unwrap_or_else(|| format!("unread:{path}"))
    }
}

/// A Flatpak remote's key file: its digest when it could be read, and the key as `GPGKey=`
/// carries it, or why it cannot be one.
pub(crate) fn read_flatpak_key(
    vfs: &dyn Vfs,
    path: &Path,
) -> (Option<String>, Result<String, String>) {
    read_key(vfs, path, crate::openpgp::public_key_base64)
}

/// An update channel's key file: its digest when it could be read, or why it cannot be the
/// binary public key systemd-sysupdate's keyring must hold.
pub(crate) fn read_update_key(vfs: &dyn Vfs, path: &Path) -> (Option<String>, Result<(), String>) {
    read_key(vfs, path, crate::openpgp::binary_public_key)
}

/// A package source's key file: its digest when it could be read, or why apt cannot verify
/// with it. apt reads a `Signed-By=` file by its name: `.asc` armored, anything else binary.
pub(crate) fn read_apt_key(vfs: &dyn Vfs, path: &Path) -> (Option<String>, Result<(), String>) {
    let parse = if crate::model::sources::is_armored_name(&path.to_string_lossy()) {
        crate::openpgp::armored_public_key
    } else {
        crate::openpgp::binary_public_key
    };
    read_key(vfs, path, parse)
}

fn read_key<T>(
    vfs: &dyn Vfs,
    path: &Path,
    parse: fn(&[u8]) -> Result<T, crate::openpgp::Problem>,
) -> (Option<String>, Result<T, String>) {
    match vfs.read(path) {
        Ok(bytes) => (
            Some(crate::emit::sha256_hex(&bytes)),
            parse(&bytes).map_err(str::to_owned),
        ),
        Err(crate::vfs::VfsError::NotFound) => (None, Err("does not exist".to_owned())),
        Err(crate::vfs::VfsError::IsADirectory) => (None, Err("is a directory".to_owned())),
        Err(crate::vfs::VfsError::TooLarge { bytes }) => {
            (None, Err(format!("has {bytes} bytes, more than any key")))
        }
        Err(crate::vfs::VfsError::Io(e)) => (None, Err(format!("cannot be read: {e}"))),
    }
}

/// A generated file without the header line naming the entry file: what the file says, so that
/// renaming the configuration changes no step.
#[must_use]
pub fn without_header(contents: &str) -> String {
    contents
        .lines()
        .filter(|l| !l.starts_with("# Generated by pcfg"))
        .fold(String::new(), |mut text, line| {
            text.push_str(line);
            text.push('\n');
            text
        })
}

/// The plan of `model`, whose emitted files are `files`.
///
/// # Errors
/// When the steps do not form a graph (a bug in the derivation: the model was checked).
pub fn plan(model: &Model, files: &[File], inputs: &Inputs) -> Result<Plan, GraphError> {
    let mut specs = Specs::default();
    let place = Place::default();
    let texts = Texts::new(files);
    specs.input("packages", packages(model, &model.image_packages(), inputs));
    let mut base_needs = vec!["packages", "image-files"];
    base_needs.extend(package_sources(&mut specs, &texts));
    // The base takes the image's own files too (os-release, drop-ins, Flatpak's preinstall
    // list).
    specs.step(
        "base-tree",
        "mkosi",
        &["--image=base", "build"],
        [],
        &base_needs,
        &[BASE_TREE],
    );
    let verity = model.trust.verity.as_ref().map(|_| "key:verity");
    product(&mut specs, model, &texts, inputs, place);
    for ext in model.extensions.iter().filter(|e| is_image(e)) {
        extension(&mut specs, model, ext, &texts, inputs, verity);
    }
    check(&mut specs, model, place);
    specs.finish()
}

/// The plan of products built together: the base and the extension images once, then each
/// product's steps, named `PRODUCT/STEP`. `files` holds every emitted file of the set (each
/// product's under `products/NAME/`), `inputs` what each product's plan hashes.
///
/// # Errors
/// When the steps do not form a graph.
pub fn plan_products(
    set: &crate::products::Set<'_>,
    files: &[File],
    inputs: &[&Inputs],
) -> Result<Plan, GraphError> {
    let mut specs = Specs::default();
    let texts = Texts::new(files);
    let Some(first) = set.products.first() else {
        return specs.finish();
    };
    specs.input(
        "packages",
        packages(first.model, &set.shared_packages, inputs[0]),
    );
    let mut base_needs = vec!["packages"];
    base_needs.extend(package_sources(&mut specs, &texts));
    specs.step(
        "base-tree",
        "mkosi",
        &["--image=base", "build"],
        [],
        &base_needs,
        &[BASE_TREE],
    );
    let signer = set.extension_signer();
    if let Some(index) = signer {
        if let Some(verity) = &set.products[index].model.trust.verity {
            specs.key(
                "key:verity",
                verity.key.value.as_deref(),
                verity.cert.value.as_deref(),
                inputs[index],
            );
        }
    }
    for (index, ext) in &set.extensions {
        let model = set.products[*index].model;
        extension(
            &mut specs,
            model,
            ext,
            &texts,
            inputs[*index],
            signer.map(|_| "key:verity"),
        );
    }
    for (index, product_) in set.products.iter().enumerate() {
        let place = set.place(index);
        let own = set.own_packages(index);
        specs.input(&place.step("packages"), [("packages", own.join("\n"))]);
        product(&mut specs, product_.model, &texts, inputs[index], place);
        check(&mut specs, product_.model, place);
    }
    specs.finish()
}

/// The emitted files, sorted by path, read by prefix.
struct Texts<'f> {
    by_path: Vec<&'f File>,
}

impl<'f> Texts<'f> {
    fn new(files: &'f [File]) -> Self {
        let mut by_path: Vec<&File> = files.iter().collect();
        by_path.sort_by(|a, b| a.path.cmp(&b.path));
        Texts { by_path }
    }

    /// The files under `prefix` (binary search: one lookup per extension and channel keeps the
    /// plan linear in the number of files).
    fn under(&self, prefix: &str) -> &[&'f File] {
        let first = self.by_path.partition_point(|f| f.path.as_str() < prefix);
        let len = self.by_path[first..]
            .iter()
            .take_while(|f| f.path.starts_with(prefix))
            .count();
        &self.by_path[first..first + len]
    }

    /// Generated files by path, without the header naming the entry file: renaming the
    /// configuration changes no artifact.
    fn text(&self, prefix: &str) -> String {
        self.under(prefix)
            .iter()
            .fold(String::new(), |mut text, f| {
                text.push_str(&f.path);
                text.push('\n');
                text.push_str(&without_header(&f.contents));
                text
            })
    }

    /// The paths of those files: what Ninja checks for changes (the steps' implicit inputs).
    fn paths(&self, prefix: &str) -> Vec<String> {
        self.under(prefix).iter().map(|f| f.path.clone()).collect()
    }

    /// The path of the build-time definition of a declared partition's data, hash or
    /// signature.
    fn repart_file(&self, dir: &str, partition: &str, suffix: &str) -> String {
        let build = format!("{dir}repart.d/build/");
        self.under(&build)
            .iter()
            .map(|f| f.path.as_str())
            .find(|p| p.ends_with(&format!("-{partition}{suffix}.conf")))
            .map_or_else(|| format!("{build}none"), str::to_owned)
    }
}

/// What every package comes from: the distribution, its release and repositories, the package
/// sources' keys (their contents; the sources' files are the `apt-sources` input), and the
/// packages.
fn packages(model: &Model, packages: &[&str], inputs: &Inputs) -> [(&'static str, String); 6] {
    let system = &model.system;
    let keys = model
        .package_sources
        .iter()
        .filter_map(|s| s.key.value.as_deref())
        .map(|key| format!("{key} {}", inputs.of(key)))
        .collect::<Vec<_>>();
    [
        (
            "distribution",
            system.distribution.value.clone().unwrap_or_default(),
        ),
        ("release", system.release.value.clone().unwrap_or_default()),
        ("architecture", system.arch.value.name().to_owned()),
        (
            "repositories",
            system
                .repositories
                .value
                .iter()
                .map(|r| r.value.as_str())
                .collect::<Vec<_>>()
                .join(","),
        ),
        ("source-keys", keys.join("\n")),
        ("packages", packages.join("\n")),
    ]
}

/// The apt sources and pins pcfg writes for mkosi's sandbox, as an input the base needs (every
/// package is installed through them), when there are any.
fn package_sources(specs: &mut Specs, texts: &Texts<'_>) -> Option<&'static str> {
    let files = texts.paths(crate::emit::APT_DIR);
    if files.is_empty() {
        return None;
    }
    specs.generated("apt-sources", texts.text(crate::emit::APT_DIR), files);
    Some("apt-sources")
}

fn is_image(ext: &crate::model::Extension) -> bool {
    ext.kind.value != ExtensionKind::Flatpak
}

/// The steps of one system's image, its publication and its inputs (every name in `place`).
#[allow(clippy::too_many_lines)]
fn product(specs: &mut Specs, model: &Model, texts: &Texts<'_>, inputs: &Inputs, place: Place<'_>) {
    let system = &model.system;
    let n = |step: &str| place.step(step);
    let text = |prefix: &str| texts.text(&place.file(prefix));
    let paths = |prefix: &str| texts.paths(&place.file(prefix));
    let trust = &model.trust;
    if let Some(sb) = &trust.secure_boot {
        specs.key(
            &n("key:secure-boot"),
            sb.key.value.as_deref(),
            sb.cert.value.as_deref(),
            inputs,
        );
    }
    if let Some(verity) = &trust.verity {
        // In a set, the product's own partitions' key (the extension images' is the set's).
        if place.product.is_some() || !specs.has("key:verity") {
            specs.key(
                &n("key:verity"),
                verity.key.value.as_deref(),
                verity.cert.value.as_deref(),
                inputs,
            );
        }
    }
    let pcr_signer = trust
        .pcr_signer()
        .map(|((key, cert), _)| (key.value.clone(), cert.value.clone()));
    if let Some((key, cert)) = &pcr_signer {
        specs.key(
            &n("key:pcr-policy"),
            key.as_deref(),
            cert.as_deref(),
            inputs,
        );
    }

    // The image's own files (os-release, drop-ins, Flatpak's preinstall list).
    specs.generated(&n("image-files"), text("image-tree/"), paths("image-tree/"));
    specs.generated(
        &n("definitions:first-boot"),
        text("repart.d/install/"),
        paths("repart.d/install/"),
    );
    let first_channel = model.updates.channels.first();
    let base_tree = "base-tree".to_owned();
    let mut tree_needs = vec![
        base_tree.clone(),
        n("definitions:first-boot"),
        n("image-files"),
    ];
    // The installer's definitions (`create = install`), in the image beside the installer.
    let installer = text("repart.d/installer/");
    if !installer.is_empty() {
        specs.generated(
            &n("definitions:installer"),
            installer,
            paths("repart.d/installer/"),
        );
        tree_needs.push(n("definitions:installer"));
    }
    if place.product.is_some() {
        tree_needs.push(n("packages"));
    }
    // The declared trees and build scripts, by content: editing a script rebuilds the image.
    let system_payload = payload(&system.trees.value, &system.scripts, inputs);
    if let Some(params) = system_payload {
        specs.input(&n("payload"), params);
        tree_needs.push(n("payload"));
    }
    // The initrd's files (the sealing drop-in): the UKI carries the initrd.
    let initrd = text("initrd-tree/");
    let has_initrd_files = !initrd.is_empty();
    if has_initrd_files {
        specs.generated(&n("initrd-files"), initrd, paths("initrd-tree/"));
    }
    // mkosi's finalize script (the image's /etc kept in /usr), which the image runs.
    let script = if place.product.is_some() {
        format!("mkosi/mkosi.profiles/{}/mkosi.finalize", system.name.value)
    } else {
        "mkosi/mkosi.finalize".to_owned()
    };
    let scripts = texts.text(&script);
    if !scripts.is_empty() {
        specs.generated(&n("image-scripts"), scripts, texts.paths(&script));
        tree_needs.push(n("image-scripts"));
    }
    // The channels' signing keys: the first channel's goes into the image (its keyring), each
    // signs its channel's `SHA256SUMS` when published.
    let update_key = |channel: &crate::model::update::Channel| {
        channel
            .key
            .value
            .as_ref()
            .map(|_| n(&format!("key:update:{}", channel.name)))
    };
    for channel in &model.updates.channels {
        if let (Some(name), Some(key)) = (update_key(channel), &channel.key.value) {
            specs.key(&name, Some(key), None, inputs);
            if let Some(spec) = specs.specs.last_mut() {
                spec.params.insert("key-sha256".to_owned(), inputs.of(key));
            }
        }
    }
    if let Some(key) = first_channel.and_then(update_key) {
        tree_needs.push(key);
    }
    if let Some(channel) = first_channel {
        let dir = format!("sysupdate.d/{}/", channel.name);
        specs.generated(&n("definitions:updates"), text(&dir), paths(&dir));
        tree_needs.push(n("definitions:updates"));
        // The extensions' update components, in the image only.
        let components = text("sysupdate-components/");
        if !components.is_empty() {
            specs.generated(
                &n("definitions:components"),
                components,
                paths("sysupdate-components/"),
            );
            tree_needs.push(n("definitions:components"));
        }
    }
    let tree_needs: Vec<&str> = tree_needs.iter().map(String::as_str).collect();
    let usr_tree = n("usr-tree");
    specs.step(
        &usr_tree,
        "mkosi",
        &["build"],
        [
            ("image-id", system.name.value.clone()),
            ("version", system.version.value.clone().unwrap_or_default()),
            // The initrd this build makes (its sub-image, or mkosi's default).
            ("initrd-packages", model.initrd_packages().join("\n")),
        ],
        &tree_needs,
        &["mkosi/mkosi.output/root"],
    );

    // What mkosi writes: `Output=%i_%v_%a`, split partitions `<output>.<type>.<uuid>.raw`.
    let output = format!(
        "mkosi/mkosi.output/{}_{}_{}",
        system.name.value,
        system.version.value.as_deref().unwrap_or("unversioned"),
        system.arch.value.name()
    );
    let split = |ty: PartitionType| format!("{output}.{}.*.raw", ty.full_name(system.arch.value));
    let repart_file =
        |partition: &str, suffix: &str| texts.repart_file(&place.dir(), partition, suffix);
    // The image's partitions other than the ESP, from their build-time definitions.
    let mut image_parts: Vec<String> = Vec::new();
    let os = model.partitions.iter().find(|p| p.is_versioned());
    if let Some(os) = os {
        let kind = os.ty.value.repart_name();
        let data = n(&format!("{kind}-image"));
        let (data_ty, hash_ty, sig_ty) = match os.ty.value {
            PartitionType::Root => (
                PartitionType::Root,
                PartitionType::RootVerity,
                PartitionType::RootVeritySig,
            ),
            other => (other, PartitionType::UsrVerity, PartitionType::UsrVeritySig),
        };
        specs.step(
            &data,
            "systemd-repart",
            &["--offline=yes", "--split=yes"],
            [("definition", texts.text(&repart_file(&os.name, "")))],
            &[&usr_tree],
            &[&split(data_ty)],
        );
        image_parts.push(data.clone());
        if os.verity().value != Verity::None {
            let hash = n(&format!("{kind}-verity"));
            specs.step(
                &hash,
                "systemd-repart",
                &["--offline=yes", "--split=yes"],
                [("definition", texts.text(&repart_file(&os.name, "-verity")))],
                &[&data],
                &[&split(hash_ty)],
            );
            image_parts.push(hash.clone());
            if os.verity().value == Verity::Signed {
                let sig = n(&format!("{kind}-verity-sig"));
                specs.step(
                    &sig,
                    "systemd-repart",
                    &[
                        "--offline=yes",
                        "--split=yes",
                        "--private-key=KEY",
                        "--certificate=CERT",
                    ],
                    [(
                        "definition",
                        texts.text(&repart_file(&os.name, "-verity-sig")),
                    )],
                    &[&hash, &n("key:verity")],
                    &[&split(sig_ty)],
                );
                image_parts.push(sig);
            }
        }
    }
    // The command line carries `usrhash=`, the root hash of the verity tree.
    let mut cmdline_needs: Vec<&str> = Vec::new();
    let hash_step = image_parts.iter().find(|p| p.ends_with("-verity")).cloned();
    if let Some(hash) = &hash_step {
        cmdline_needs.push(hash);
    }
    let cmdline = n("cmdline");
    let kernel_cmdline = place.file("kernel/cmdline");
    specs.step(
        &cmdline,
        "pcfg",
        &[],
        [("cmdline", model.cmdline.text())],
        &cmdline_needs,
        &[&kernel_cmdline],
    );
    let mut uki_needs = vec![base_tree, cmdline];
    if has_initrd_files {
        uki_needs.push(n("initrd-files"));
    }
    if trust.secure_boot.is_some() {
        uki_needs.push(n("key:secure-boot"));
    }
    if pcr_signer.is_some() {
        uki_needs.push(n("key:pcr-policy"));
    }
    let uki_needs: Vec<&str> = uki_needs.iter().map(String::as_str).collect();
    let uki = n("uki");
    specs.step(
        &uki,
        "ukify",
        &["build"],
        [("architecture", system.arch.value.name().to_owned())],
        &uki_needs,
        &[],
    );
    let mut esp_needs = vec![uki.clone()];
    for profile in texts.under(&place.file("kernel/profiles/")) {
        let name = n(&format!("uki-profile:{}", profile_name(&profile.path)));
        specs.step(
            &name,
            "ukify",
            &["build", "--profile"],
            [("profile", without_header(&profile.contents))],
            &[&uki],
            &[],
        );
        esp_needs.push(name);
    }
    let esp_needs: Vec<&str> = esp_needs.iter().map(String::as_str).collect();
    let esp = model
        .partitions
        .iter()
        .find(|p| p.ty.value == PartitionType::Esp)
        .map_or("", |p| p.name.as_str());
    let esp_step = n("esp");
    specs.step(
        &esp_step,
        "systemd-repart",
        &["--offline=yes"],
        [("definition", texts.text(&repart_file(esp, "")))],
        &esp_needs,
        &[],
    );
    let mut disk_needs = vec![esp_step.as_str()];
    disk_needs.extend(image_parts.iter().map(String::as_str));
    let disk_name = format!(
        "{}_{}_{}.raw",
        system.name.value,
        system.version.value.as_deref().unwrap_or("unversioned"),
        system.arch.value.name()
    );
    specs.step(
        &n("disk-image"),
        "systemd-repart",
        &["--offline=yes", "--empty=create", "--size=auto"],
        [
            (
                "size",
                model
                    .disk
                    .size
                    .value
                    .map_or("auto".to_owned(), |s| s.to_string()),
            ),
            ("sector-size", model.disk.sector_size.value.to_string()),
        ],
        &disk_needs,
        &[&disk_name],
    );
    // The first channel also publishes the extensions' images, which their components fetch.
    let components: Vec<String> = model
        .extensions
        .iter()
        .filter(|e| e.updatable())
        .map(|e| format!("extension:{}", e.name))
        .collect();
    for (index, channel) in model.updates.channels.iter().enumerate() {
        let mut needs: Vec<&str> = image_parts.iter().map(String::as_str).collect();
        needs.push(&uki);
        if index == 0 {
            needs.extend(components.iter().map(String::as_str));
        }
        // A signed channel's `SHA256SUMS` is signed with its key when published.
        let key = update_key(channel);
        if let Some(key) = &key {
            needs.push(key);
        }
        specs.step(
            &n(&format!("update:{}", channel.name)),
            "publish",
            &[],
            [
                ("source", channel.source.value.clone()),
                (
                    "artifact-name",
                    channel.published_name(&system.name.value).to_owned(),
                ),
                ("transfers", text(&format!("sysupdate.d/{}/", channel.name))),
            ],
            &needs,
            &[],
        );
    }
}

/// The build of an extension image, on the base, with its source tree and the images it
/// requires; signed with `verity` (the step of the key) when it is signed.
fn extension(
    specs: &mut Specs,
    model: &Model,
    ext: &crate::model::Extension,
    texts: &Texts<'_>,
    inputs: &Inputs,
    verity: Option<&str>,
) {
    let mut needs = vec!["base-tree".to_owned()];
    if let Some(source) = &ext.source.value {
        let input = format!("source:{}", ext.name);
        specs.input(
            &input,
            [("path", source.clone()), ("tree-sha256", inputs.of(source))],
        );
        needs.push(input);
    }
    if let Some(verity) = verity.filter(|_| ext.signed.value && model.trust.verity.is_some()) {
        needs.push(verity.to_owned());
    }
    needs.extend(
        ext.requires
            .value
            .iter()
            .map(|r| format!("extension:{}", r.value)),
    );
    let needs: Vec<&str> = needs.iter().map(String::as_str).collect();
    let release = texts.text(&format!("extensions/{}/", ext.name));
    let scripts = payload(&[], ext.scripts(), inputs).map(|[_, (_, scripts)]| scripts);
    specs.step(
        &format!("extension:{}", ext.name),
        "mkosi",
        &[&format!("--image={}", ext.image), "build"],
        [
            ("kind", ext.kind.value.name().to_owned()),
            ("release", release),
            (
                "packages",
                ext.packages
                    .value
                    .iter()
                    .map(|p| p.value.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        ],
        &needs,
        &[],
    );
    if let (Some(scripts), Some(spec)) = (scripts, specs.specs.last_mut()) {
        spec.params.insert("scripts".to_owned(), scripts);
    }
}

/// The parameters of an image's payload — its trees and its build scripts, each with its
/// digest — or `None` when it has none.
fn payload(
    trees: &[crate::model::At<String>],
    scripts: &crate::model::system::Scripts,
    inputs: &Inputs,
) -> Option<[(&'static str, String); 2]> {
    if trees.is_empty() && scripts.is_empty() {
        return None;
    }
    let trees = trees.iter().fold(String::new(), |mut out, t| {
        let _ = writeln!(out, "{} {}", t.value, inputs.of(&t.value));
        out
    });
    let scripts = scripts.all().fold(String::new(), |mut out, (field, s)| {
        let _ = writeln!(out, "{field} {} {}", s.value, inputs.of(&s.value));
        out
    });
    Some([("trees", trees), ("scripts", scripts)])
}

/// Once the base is built, the extension trees are checked against it (shadowing, symbol
/// versions in the merged /usr) through its manifest, which CI without the tree can use too.
fn check(specs: &mut Specs, model: &Model, place: Place<'_>) {
    let checked: Vec<String> = model
        .extensions
        .iter()
        .filter(|e| e.kind.value == ExtensionKind::Sysext && e.source.value.is_some())
        .map(|e| format!("source:{}", e.name))
        .collect();
    if !checked.is_empty() {
        let mut needs = vec!["base-tree"];
        needs.extend(checked.iter().map(String::as_str));
        let manifest = place.file(BASE_MANIFEST);
        specs.push(
            &place.step(CHECK_STEP),
            "check",
            Some("pcfg"),
            &["extensions", "--base", &manifest],
            [],
            &needs,
            &[&manifest],
        );
    }
}

/// The step that checks the extension trees against the built base.
pub const CHECK_STEP: &str = "extensions:check";
/// Where the build writes the built base's manifest (`pcfg base-manifest`).
pub const BASE_MANIFEST: &str = "base.manifest.json";
/// The built base tree, as mkosi writes it.
pub const BASE_TREE: &str = "mkosi/mkosi.output/base";

/// `emergency` from `kernel/profiles/20-emergency.conf`.
fn profile_name(path: &str) -> &str {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.strip_suffix(".conf").unwrap_or(file);
    stem.split_once('-').map_or(stem, |(_, name)| name)
}

#[derive(Default)]
struct Specs {
    specs: Vec<StepSpec>,
}

impl Specs {
    fn has(&self, name: &str) -> bool {
        self.specs.iter().any(|s| s.name == name)
    }

    fn input<const N: usize>(&mut self, name: &str, params: [(&str, String); N]) {
        self.push(name, "input", None, &[], params, &[], &[]);
    }

    fn key(&mut self, name: &str, key: Option<&str>, cert: Option<&str>, inputs: &Inputs) {
        let cert_digest = cert.map_or_else(String::new, |c| inputs.of(c));
        self.input(
            name,
            [
                ("key", key.unwrap_or_default().to_owned()),
                ("cert", cert.unwrap_or_default().to_owned()),
                ("cert-sha256", cert_digest),
            ],
        );
    }

    /// Files `pcfg build` writes, as one input: `content` is what they say (their identity),
    /// `files` their paths (what the step produces, and what Ninja watches).
    fn generated(&mut self, name: &str, content: String, files: Vec<String>) {
        self.push(
            name,
            "definitions",
            Some("pcfg"),
            &["build"],
            [("content", content)],
            &[],
            &[],
        );
        if let Some(spec) = self.specs.last_mut() {
            spec.outputs = files;
        }
    }

    fn step<const N: usize>(
        &mut self,
        name: &str,
        tool: &'static str,
        args: &[&str],
        params: [(&str, String); N],
        needs: &[&str],
        outputs: &[&str],
    ) {
        self.push(name, tool, Some(tool), args, params, needs, outputs);
    }

    #[allow(clippy::too_many_arguments)]
    fn push<const N: usize>(
        &mut self,
        name: &str,
        kind: &'static str,
        tool: Option<&'static str>,
        args: &[&str],
        params: [(&str, String); N],
        needs: &[&str],
        outputs: &[&str],
    ) {
        self.specs.push(StepSpec {
            name: name.to_owned(),
            kind,
            tool,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            params: params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            needs: needs.iter().map(|n| (*n).to_owned()).collect(),
            outputs: outputs.iter().map(|o| (*o).to_owned()).collect(),
        });
    }

    /// Sorted by name, so that the graph is built in the same order every time.
    fn finish(mut self) -> Result<Plan, GraphError> {
        self.specs.sort_by(|a, b| a.name.cmp(&b.name));
        Plan::new(&self.specs)
    }
}
