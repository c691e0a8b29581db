//! The mkosi project (`mkosi/`): `mkosi.conf` for the image — distribution, packages, image id
//! and version, output naming, the partition definitions, the kernel command line and UKI
//! profiles, Secure Boot, verity and PCR signing — and, when the system has extensions, a
//! `base` sub-image that the image and every extension build on, and one sub-image per system
//! or configuration extension and portable service.
//!
//! The project refers to the other emitted files by relative path (`../repart.d/build`), so the
//! output directory is used as a whole; relative paths of the configuration (keys, extension
//! sources) are written as seen from where mkosi reads them, so the output directory refers
//! back to the configuration's directory.

use super::ini::{self, Delimiter, Dialect, Section, Value};
use super::{extension, image_tree, kernel, repart, sysupdate, File, Refused, Source};
use crate::model::system::Scripts;
use crate::model::trust::Enroll;
use crate::model::{Extension, ExtensionKind, Model};
use crate::products::Place;
use std::collections::HashMap;

pub(crate) const DIR: &str = "mkosi";
/// The sub-image of the initrd, when the initrd needs files of pcfg's (`initrd-tree/`).
const INITRD: &str = "initrd";

pub(crate) fn emit(
    model: &Model,
    source: &Source<'_>,
    profiles: &[String],
) -> Result<Vec<File>, Refused> {
    let paths = Paths { source, depth: 1 };
    let system_extensions: Vec<&Extension> = model
        .extensions
        .iter()
        .filter(|e| e.kind.value != ExtensionKind::Flatpak)
        .collect();
    let origins: Vec<_> = model.system.at.into_iter().collect();
    let file = |path: String, sections: &[Section], origins| file(path, sections, source, origins);
    let initrd = image_tree::repart_options(model, image_tree::at_first_boot).is_some();
    // With extensions, every package is in the base they and the image build on.
    let layout = Layout {
        place: Place::default(),
        base: !system_extensions.is_empty(),
        packages: if system_extensions.is_empty() {
            model.image_packages()
        } else {
            Vec::new()
        },
        initrd,
    };
    let mut files = vec![file(
        format!("{DIR}/mkosi.conf"),
        &main(model, &paths, profiles, &layout),
        origins.clone(),
    )?];
    if initrd {
        files.push(file(
            format!("{DIR}/mkosi.images/{INITRD}/mkosi.conf"),
            &initrd_image(model, &layout),
            origins.clone(),
        )?);
    }
    if system_extensions.is_empty() {
        return Ok(files);
    }
    files.push(file(
        format!("{DIR}/mkosi.images/base/mkosi.conf"),
        &base(&model.image_packages(), true),
        origins,
    )?);
    let paths = Paths { source, depth: 3 };
    // Each extension's image name, looked up once per `requires` entry.
    let images: HashMap<&str, &str> = model
        .extensions
        .iter()
        .map(|e| (e.name.as_str(), e.image.as_str()))
        .collect();
    for ext in system_extensions {
        files.push(file(
            format!("{DIR}/mkosi.images/{}/mkosi.conf", ext.image),
            &sub_image(model, &images, &paths, ext),
            ext.at.into_iter().collect(),
        )?);
    }
    Ok(files)
}

fn distribution(model: &Model) -> Section {
    let mut s = Section::new("Distribution");
    s.set_some("Distribution", model.system.distribution.value.clone());
    s.set_some("Release", model.system.release.value.clone());
    s.set("Architecture", model.system.arch.value.name());
    let repositories = &model.system.repositories.value;
    if !repositories.is_empty() {
        s.set_list(
            "Repositories",
            Delimiter::Comma,
            repositories.iter().map(|r| r.value.as_str()),
        );
    }
    s
}

/// The package sources, for every image mkosi builds (`SandboxTrees=` is universal): the
/// emitted `apt/` as the sandbox's `/etc/apt`, and each declared key where the source's
/// `Signed-By:` names it.
fn sandbox(model: &Model, paths: &Paths<'_, '_>) -> Option<Section> {
    if model.package_sources.is_empty() {
        return None;
    }
    let mut trees = vec![format!(
        "../{}:/etc/apt",
        super::APT_DIR.trim_end_matches('/')
    )];
    let distribution = model.system.distribution.value.as_deref();
    for source in &model.package_sources {
        if let (Some(key), Some(keyring)) = (
            paths.of(source.key.value.as_deref()),
            source.keyring(distribution),
        ) {
            trees.push(format!("{key}:{keyring}"));
        }
    }
    let mut build = Section::new("Build");
    build.set_list("SandboxTrees", Delimiter::Comma, trees);
    Some(build)
}

/// A file of the project, written in mkosi's dialect, naming `source`'s entry file.
fn file(
    path: String,
    sections: &[Section],
    source: &Source<'_>,
    origins: Vec<crate::source::Span>,
) -> Result<File, Refused> {
    let contents = ini::render(Dialect::Mkosi, &path, source.entry_name, sections)?;
    Ok(File {
        path,
        contents,
        origins,
    })
}

/// Where an image's configuration is and what it builds on.
struct Layout<'m> {
    /// A single system's (its configuration `mkosi.conf`), or a product's (its profile,
    /// `mkosi.profiles/NAME/`, its files in `products/NAME/`).
    place: Place<'m>,
    /// Whether it builds on the base sub-image (`BaseTrees=%O/base`).
    base: bool,
    /// The packages it installs itself, on top of the base when it has one.
    packages: Vec<&'m str>,
    /// Whether pcfg makes its initrd (a sub-image).
    initrd: bool,
}

impl Layout<'_> {
    /// From the directory mkosi reads the image's configuration in to the output directory.
    fn up(&self) -> &'static str {
        if self.place.product.is_some() {
            "../../.."
        } else {
            ".."
        }
    }

    /// A path of the output directory (`repart.d/build`) as the image's configuration names it.
    fn own(&self, path: &str) -> String {
        format!("{}/{}", self.up(), self.place.file(path))
    }

    /// The initrd sub-image, when pcfg makes one: `initrd`, a product's `initrd-NAME`.
    fn initrd_name(&self) -> Option<String> {
        self.initrd.then(|| match self.place.product {
            Some(product) => format!("{INITRD}-{product}"),
            None => INITRD.to_owned(),
        })
    }
}

fn main(
    model: &Model,
    paths: &Paths<'_, '_>,
    profiles: &[String],
    layout: &Layout<'_>,
) -> Vec<Section> {
    let system = &model.system;
    let mut sections = Vec::new();
    if layout.place.product.is_some() {
        // Only the base (and the product's initrd) is built with the product: the extension
        // images are the set's, built once by the project's own build.
        let mut config = Section::new("Config");
        config.set("Dependencies", "");
        let mut dependencies = vec!["base".to_owned()];
        dependencies.extend(layout.initrd_name());
        config.set_list("Dependencies", Delimiter::Comma, dependencies);
        sections.push(config);
    } else {
        sections.push(distribution(model));
        sections.extend(sandbox(model, paths));
    }
    let mut output = Section::new("Output");
    output.set("Format", "disk");
    output.set("ImageId", system.name.value.clone());
    output.set_some("ImageVersion", system.version.value.clone());
    // The split partition files are named `<id>_<version>_<arch>.<type>.<uuid>.raw`, which the
    // update transfers' source patterns expect.
    output.set(
        "Output",
        Value::specifier("%i")
            .and_text("_")
            .and_specifier("%v")
            .and_text("_")
            .and_specifier("%a"),
    );
    if layout.place.product.is_none() {
        // Named, so that `%O` (in `BaseTrees=%O/base`) has a value.
        output.set("OutputDirectory", "mkosi.output");
    }
    output.set("SplitArtifacts", "uki,partitions");
    output.set("RepartDirectories", layout.own(repart::BUILD_DIR));
    if model.disk.sector_size.value != 512 {
        output.set("SectorSize", model.disk.sector_size.value.to_string());
    }

    let mut content = Section::new("Content");
    content.set("Bootable", "yes");
    content.set("Bootloader", "systemd-boot");
    if model.trust.secure_boot.is_some() && model.trust.enroll.value == Enroll::Shim {
        // The distribution's Microsoft-signed shim as the ESP's boot binary, systemd-boot as
        // its second stage (signed with the Secure Boot key, checked against the MOK list).
        content.set("ShimBootloader", "signed");
    }
    // A UKI, always: the plan, the transfers and the publish step expect one, and with `auto`
    // mkosi silently falls back to a Type #1 entry when the stub is missing. Named as the UKI
    // transfers match it (`NAME_@v_ARCH.efi`), not mkosi's default `&e-&k-&h`.
    content.set("UnifiedKernelImages", "yes");
    content.set(
        "UnifiedKernelImageFormat",
        Value::specifier("%i")
            .and_text("_")
            .and_specifier("%v")
            .and_text("_")
            .and_specifier("%a"),
    );
    if layout.base {
        content.set("BaseTrees", Value::specifier("%O").and_text("/base"));
    }
    packages(&mut content, &layout.packages);
    // mkosi's default initrd, when pcfg has no initrd sub-image: the tools of the file systems
    // systemd-repart makes there at first boot.
    let initrd_packages = model.initrd_packages();
    if !layout.initrd && !initrd_packages.is_empty() {
        content.set_list("InitrdPackages", Delimiter::Comma, initrd_packages);
    }
    // The kernel modules initrd mkosi appends to the UKI's: mkosi-initrd's default set and the
    // declared modules (with what they depend on), instead of every module of the kernel.
    let modules = system.initrd_module_patterns();
    if !modules.is_empty() {
        content.set("KernelModulesInitrdExclude", ".*");
        content.set_list(
            "KernelModulesInitrdInclude",
            Delimiter::Comma,
            std::iter::once("default".to_owned()).chain(modules),
        );
    }
    content.set_list(
        "KernelCommandLine",
        Delimiter::Space,
        model.cmdline.options.iter().map(|o| o.value.as_str()),
    );
    if !profiles.is_empty() {
        content.set_list(
            "UnifiedKernelImageProfiles",
            Delimiter::Comma,
            profiles.iter().map(|p| format!("{}/{p}", layout.up())),
        );
    }
    if let Some(initrd) = layout.initrd_name() {
        // mkosi's default initrd, built as a sub-image so that it takes pcfg's files.
        content.set(
            "Initrds",
            Value::specifier("%O").and_text(format!("/{initrd}.cpio.zst")),
        );
    }
    // The declared trees first: pcfg's files (os-release, the definitions) are copied after
    // them and win, so the image says what pcfg says.
    let mut trees: Vec<String> = system
        .trees
        .value
        .iter()
        .filter_map(|t| paths.of(Some(&t.value)))
        .map(|t| format!("{t}:/"))
        .collect();
    trees.extend([
        format!("{}:/", layout.own(image_tree::DIR)),
        format!("{}:/usr/lib/repart.d", layout.own(repart::INSTALL_DIR)),
    ]);
    if repart::has_installer(model) {
        trees.push(format!(
            "{}:{}",
            layout.own(repart::INSTALLER_DIR),
            repart::INSTALLER_IMAGE_DIR
        ));
    }
    if let Some(channel) = model.updates.channels.first() {
        trees.push(format!(
            "{}:/usr/lib/sysupdate.d",
            layout.own(&format!("{}/{}", sysupdate::DIR, channel.name))
        ));
        // The key that signs the channel's `SHA256SUMS`, as the keyring systemd-sysupdate
        // verifies downloads with.
        if let Some(key) = paths.of(channel.key.value.as_deref()) {
            trees.push(format!("{key}:/usr/lib/systemd/import-pubring.gpg"));
        }
        if model
            .extensions
            .iter()
            .any(crate::model::Extension::updatable)
        {
            trees.push(format!(
                "{}:/usr/lib",
                layout.own(sysupdate::COMPONENTS_DIR)
            ));
        }
    }
    content.set_list("ExtraTrees", Delimiter::Comma, trees);
    scripts(&mut content, &system.scripts, paths);

    let mut validation = validation(model, paths);
    if layout.place.product.is_some() && model.trust.verity.is_none() {
        // The project's own build names the extension images' verity key, which every image
        // it reads would otherwise take.
        validation.set("Verity", "no");
    }
    sections.extend([output, content, validation]);
    // The installed disk's size: the disk image is grown to it when mkosi boots it, and
    // systemd-repart then makes the first-boot partitions in the room.
    if let Some(size) = model.disk.size.value {
        let mut runtime = Section::new("Runtime");
        runtime.set("RuntimeSize", size.to_string());
        sections.push(runtime);
    }
    sections
}

/// The build scripts mkosi runs, as seen from the directory of the file that names them.
fn scripts(content: &mut Section, scripts: &Scripts, paths: &Paths<'_, '_>) {
    for (key, list) in [
        ("PostInstallationScripts", &scripts.postinst),
        ("FinalizeScripts", &scripts.finalize),
        ("PostOutputScripts", &scripts.post_output),
    ] {
        if !list.value.is_empty() {
            content.set_list(
                key,
                Delimiter::Comma,
                list.value.iter().filter_map(|s| paths.of(Some(&s.value))),
            );
        }
    }
}

fn packages(content: &mut Section, packages: &[&str]) {
    if !packages.is_empty() {
        content.set_list("Packages", Delimiter::Comma, packages.iter().copied());
    }
}

/// Signing: Secure Boot for the boot loader and UKIs, the signed PCR 11 policy, verity.
fn validation(model: &Model, paths: &Paths<'_, '_>) -> Section {
    let trust = &model.trust;
    let mut s = Section::new("Validation");
    if let Some(secure_boot) = &trust.secure_boot {
        s.set("SecureBoot", "yes");
        // Enrolled by systemd-boot into the firmware's db, or trusted through shim's MOK list
        // (then nothing may be enrolled behind the owner's back).
        s.set(
            "SecureBootAutoEnroll",
            ini::yes_no(trust.enroll.value == Enroll::Firmware),
        );
        s.set_some("SecureBootKey", paths.of(secure_boot.key.value.as_deref()));
        s.set_some(
            "SecureBootCertificate",
            paths.of(secure_boot.cert.value.as_deref()),
        );
    }
    if let Some(tpm2) = &trust.tpm2 {
        s.set("SignExpectedPcr", ini::yes_no(tpm2.signed_policy.value));
    }
    // Named even when it is the Secure Boot key: mkosi 25 does not fall back to it.
    if let Some(((key, cert), _)) = trust.pcr_signer() {
        s.set_some("SignExpectedPcrKey", paths.of(key.value.as_deref()));
        s.set_some(
            "SignExpectedPcrCertificate",
            paths.of(cert.value.as_deref()),
        );
    }
    if let Some(verity) = &trust.verity {
        s.set("Verity", "yes");
        s.set_some("VerityKey", paths.of(verity.key.value.as_deref()));
        s.set_some("VerityCertificate", paths.of(verity.cert.value.as_deref()));
    }
    s
}

/// The tree everything builds on: the packages and the image's own files (its os-release, which
/// mkosi reads to write each extension's release file), as a plain directory.
fn base(packages_of: &[&str], image_tree: bool) -> Vec<Section> {
    let mut output = Section::new("Output");
    output.set("Format", "directory");
    // Named as `BaseTrees=%O/base` finds it: without a name of its own the sub-image inherits
    // the image's `ImageVersion=` and mkosi would write `base_VERSION`.
    output.set("Output", "base");
    let mut content = Section::new("Content");
    packages(&mut content, packages_of);
    if image_tree {
        content.set("ExtraTrees", format!("../../../{}:/", image_tree::DIR));
    }
    vec![output, content]
}

/// The initrd: mkosi's own default initrd configuration (`Include=mkosi-initrd`, which writes
/// `initrd.cpio.zst`), with pcfg's files for it and the tools of the file systems
/// systemd-repart makes there at first boot.
fn initrd_image(model: &Model, layout: &Layout<'_>) -> Vec<Section> {
    let mut sections = Vec::new();
    if let Some(product) = layout.place.product {
        // Built with its product only.
        let mut matches = Section::new("Match");
        matches.set("Profiles", product);
        sections.push(matches);
    }
    let mut include = Section::new("Include");
    include.set("Include", "mkosi-initrd");
    let mut output = Section::new("Output");
    if let Some(name) = layout.initrd_name().filter(|n| n != INITRD) {
        // mkosi-initrd names it `initrd`; each product's has its own name.
        output.set("Output", name);
    }
    output.set("CompressOutput", "zstd");
    let mut content = Section::new("Content");
    let packages = model.initrd_packages();
    if !packages.is_empty() {
        // mkosi-initrd removes dpkg from a Debian or Ubuntu initrd, and with it every package
        // that needs it; the file systems' tools need what dpkg's removal scripts call
        // (xfsprogs brings Python), so that removal fails the build: dpkg stays.
        if model
            .system
            .distribution
            .value
            .as_deref()
            .is_some_and(crate::model::packages::dpkg_based)
        {
            content.set("RemovePackages", "");
        }
        content.set_list("Packages", Delimiter::Comma, packages);
    }
    content.set(
        "ExtraTrees",
        format!("../../../{}:/", layout.place.file(image_tree::INITRD_DIR)),
    );
    sections.extend([include, output, content]);
    sections
}

/// An extension image: the base as a lower layer, the extension's tree on top, only the
/// difference kept (`Overlay=yes`).
fn sub_image(
    model: &Model,
    images: &HashMap<&str, &str>,
    paths: &Paths<'_, '_>,
    ext: &Extension,
) -> Vec<Section> {
    let mut config = Section::new("Config");
    let mut dependencies = vec!["base".to_owned()];
    dependencies.extend(
        ext.requires
            .value
            .iter()
            .filter_map(|r| images.get(r.value.as_str()).map(|&i| i.to_owned())),
    );
    config.set("Dependencies", dependencies.join(","));
    let mut output = Section::new("Output");
    output.set("Format", ext.kind.value.name());
    // The sub-image's directory and id are its image name, which decides its place in the
    // overlay (`model/overlay.rs`).
    output.set("ImageId", ext.image.clone());
    let version = ext.version_in(&model.system);
    let versioned = version.is_some();
    output.set_some("ImageVersion", version);
    // `IMAGE_VERSION.raw`: what the extension's update component matches.
    output.set(
        "Output",
        if versioned {
            Value::specifier("%i").and_text("_").and_specifier("%v")
        } else {
            Value::specifier("%i")
        },
    );
    output.set("Overlay", "yes");
    let mut content = Section::new("Content");
    content.set("BaseTrees", Value::specifier("%O").and_text("/base"));
    // Installed on top of the base; `Overlay=yes` keeps only what they add.
    if !ext.packages.value.is_empty() {
        content.set_list(
            "Packages",
            Delimiter::Comma,
            ext.packages.value.iter().map(|p| p.value.as_str()),
        );
    }
    let mut trees = vec![format!("../../../{}/{}:/", extension::DIR, ext.name)];
    if let Some(source) = &ext.source.value {
        trees.push(format!(
            "{}:/",
            paths.source.config_path(source, paths.depth)
        ));
    }
    content.set_list("ExtraTrees", Delimiter::Comma, trees);
    scripts(&mut content, ext.scripts(), paths);
    // The verity key and certificate are the image's: mkosi passes them on to sub-images.
    let mut validation = Section::new("Validation");
    validation.set("Verity", ini::yes_no(ext.signed.value));
    vec![config, output, content, validation]
}

/// Paths of the configuration as seen from a directory `depth` levels below the output.
struct Paths<'s, 'a> {
    source: &'s Source<'a>,
    depth: usize,
}

impl Paths<'_, '_> {
    fn of(&self, path: Option<&str>) -> Option<String> {
        path.map(|p| self.source.config_path(p, self.depth))
    }
}

/// The profile files `kernel.rs` writes, relative to the output directory.
pub(crate) fn profile_paths(files: &[File]) -> Vec<String> {
    files
        .iter()
        .filter(|f| f.path.starts_with(kernel::PROFILES_DIR))
        .map(|f| f.path.clone())
        .collect()
}

/// A product of a set, as the set's project sees it.
pub(crate) struct Member<'s, 'a> {
    pub(crate) model: &'a Model,
    pub(crate) source: &'s Source<'a>,
    /// Its UKI profiles' files, relative to the output directory.
    pub(crate) profiles: Vec<String>,
    /// The packages it installs on top of the shared base.
    pub(crate) packages: Vec<&'a str>,
}

/// The project of products built together: `mkosi.conf` builds what they share (the base and
/// every extension image, once: `mkosi build`), and each product's profile its image on that
/// base (`mkosi --profile NAME build`: `mkosi.profiles/NAME/`, with its finalize script and
/// its initrd, `mkosi.images/initrd-NAME/`, which only that profile builds). Each file comes
/// with the member whose declarations it is made from.
pub(crate) fn emit_set(
    members: &[Member<'_, '_>],
    shared_packages: &[&str],
    extensions: &[(usize, &Extension)],
    signer: Option<usize>,
) -> Result<Vec<(usize, File)>, Refused> {
    let Some(first) = members.first() else {
        return Ok(Vec::new());
    };
    let images: HashMap<&str, &str> = extensions
        .iter()
        .map(|(_, e)| (e.name.as_str(), e.image.as_str()))
        .collect();
    let mut config = Section::new("Config");
    let mut dependencies = vec!["base"];
    dependencies.extend(extensions.iter().map(|(_, e)| e.image.as_str()));
    config.set_list("Dependencies", Delimiter::Comma, dependencies);
    let mut shared = vec![config, distribution(first.model)];
    shared.extend(sandbox(
        first.model,
        &Paths {
            source: first.source,
            depth: 1,
        },
    ));
    let mut output = Section::new("Output");
    // Nothing of its own: the project's build makes the base and the extension images.
    output.set("Format", "none");
    output.set("OutputDirectory", "mkosi.output");
    shared.push(output);
    if let Some(signer) = signer.and_then(|i| members.get(i)) {
        // The key every signed extension image is signed with (mkosi passes it to sub-images).
        let paths = Paths {
            source: signer.source,
            depth: 1,
        };
        if let Some(verity) = &signer.model.trust.verity {
            let mut validation = Section::new("Validation");
            validation.set_some("VerityKey", paths.of(verity.key.value.as_deref()));
            validation.set_some("VerityCertificate", paths.of(verity.cert.value.as_deref()));
            shared.push(validation);
        }
    }
    let origins: Vec<_> = first.model.system.at.into_iter().collect();
    let mut files = vec![
        (
            0,
            file(
                format!("{DIR}/mkosi.conf"),
                &shared,
                first.source,
                origins.clone(),
            )?,
        ),
        (
            0,
            file(
                format!("{DIR}/mkosi.images/base/mkosi.conf"),
                &base(shared_packages, false),
                first.source,
                origins,
            )?,
        ),
    ];
    for (index, extension) in extensions {
        let member = &members[*index];
        let paths = Paths {
            source: member.source,
            depth: 3,
        };
        files.push((
            *index,
            file(
                format!("{DIR}/mkosi.images/{}/mkosi.conf", extension.image),
                &sub_image(member.model, &images, &paths, extension),
                member.source,
                extension.at.into_iter().collect(),
            )?,
        ));
    }
    for (index, member) in members.iter().enumerate() {
        let model = member.model;
        let name = model.system.name.value.as_str();
        let layout = Layout {
            place: Place {
                product: Some(name),
            },
            base: true,
            packages: member.packages.clone(),
            initrd: image_tree::repart_options(model, image_tree::at_first_boot).is_some(),
        };
        let paths = Paths {
            source: member.source,
            depth: 3,
        };
        let origins: Vec<_> = model.system.at.into_iter().collect();
        files.push((
            index,
            file(
                format!("{DIR}/mkosi.profiles/{name}/mkosi.conf"),
                &main(model, &paths, &member.profiles, &layout),
                member.source,
                origins.clone(),
            )?,
        ));
        if let Some(initrd) = layout.initrd_name() {
            files.push((
                index,
                file(
                    format!("{DIR}/mkosi.images/{initrd}/mkosi.conf"),
                    &initrd_image(model, &layout),
                    member.source,
                    origins,
                )?,
            ));
        }
    }
    Ok(files)
}
