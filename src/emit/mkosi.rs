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
use crate::model::trust::Enroll;
use crate::model::{Extension, ExtensionKind, Model};
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
    let file = |path: String, sections: &[Section], origins| -> Result<File, Refused> {
        let contents = ini::render(Dialect::Mkosi, &path, source.entry_name, sections)?;
        Ok(File {
            path,
            contents,
            origins,
        })
    };
    let initrd = image_tree::repart_options(model).is_some();
    let mut files = vec![file(
        format!("{DIR}/mkosi.conf"),
        &main(
            model,
            &paths,
            profiles,
            !system_extensions.is_empty(),
            initrd,
        ),
        origins.clone(),
    )?];
    if initrd {
        files.push(file(
            format!("{DIR}/mkosi.images/{INITRD}/mkosi.conf"),
            &initrd_image(model),
            origins.clone(),
        )?);
    }
    if system_extensions.is_empty() {
        return Ok(files);
    }
    files.push(file(
        format!("{DIR}/mkosi.images/base/mkosi.conf"),
        &base(model),
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
    s
}

fn main(
    model: &Model,
    paths: &Paths<'_, '_>,
    profiles: &[String],
    with_base: bool,
    initrd: bool,
) -> Vec<Section> {
    let system = &model.system;
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
    // Named, so that `%O` (in `BaseTrees=%O/base`) has a value.
    output.set("OutputDirectory", "mkosi.output");
    output.set("SplitArtifacts", "uki,partitions");
    output.set("RepartDirectories", format!("../{}", repart::BUILD_DIR));
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
    if with_base {
        content.set("BaseTrees", Value::specifier("%O").and_text("/base"));
    } else {
        packages(&mut content, model);
    }
    // mkosi's default initrd, when pcfg has no initrd sub-image: the tools of the file systems
    // systemd-repart makes there at first boot.
    let initrd_packages = model.initrd_packages();
    if !initrd && !initrd_packages.is_empty() {
        content.set_list("InitrdPackages", Delimiter::Comma, initrd_packages);
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
            profiles.iter().map(|p| format!("../{p}")),
        );
    }
    if initrd {
        // mkosi's default initrd, built as a sub-image so that it takes pcfg's files.
        content.set(
            "Initrds",
            Value::specifier("%O").and_text(format!("/{INITRD}.cpio.zst")),
        );
    }
    let mut trees = vec![
        format!("../{}:/", image_tree::DIR),
        format!("../{}:/usr/lib/repart.d", repart::INSTALL_DIR),
    ];
    if let Some(channel) = model.updates.channels.first() {
        trees.push(format!(
            "../{}/{}:/usr/lib/sysupdate.d",
            sysupdate::DIR,
            channel.name
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
            trees.push(format!("../{}:/usr/lib", sysupdate::COMPONENTS_DIR));
        }
    }
    content.set_list("ExtraTrees", Delimiter::Comma, trees);

    let mut sections = vec![
        distribution(model),
        output,
        content,
        validation(model, paths),
    ];
    // The installed disk's size: the disk image is grown to it when mkosi boots it, and
    // systemd-repart then makes the first-boot partitions in the room.
    if let Some(size) = model.disk.size.value {
        let mut runtime = Section::new("Runtime");
        runtime.set("RuntimeSize", size.to_string());
        sections.push(runtime);
    }
    sections
}

fn packages(content: &mut Section, model: &Model) {
    let packages = model.image_packages();
    if !packages.is_empty() {
        content.set_list("Packages", Delimiter::Comma, packages);
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
fn base(model: &Model) -> Vec<Section> {
    let mut output = Section::new("Output");
    output.set("Format", "directory");
    // Named as `BaseTrees=%O/base` finds it: without a name of its own the sub-image inherits
    // the image's `ImageVersion=` and mkosi would write `base_VERSION`.
    output.set("Output", "base");
    let mut content = Section::new("Content");
    packages(&mut content, model);
    content.set("ExtraTrees", format!("../../../{}:/", image_tree::DIR));
    vec![output, content]
}

/// The initrd: mkosi's own default initrd configuration (`Include=mkosi-initrd`, which writes
/// `initrd.cpio.zst`), with pcfg's files for it and the tools of the file systems
/// systemd-repart makes there at first boot.
fn initrd_image(model: &Model) -> Vec<Section> {
    let mut include = Section::new("Include");
    include.set("Include", "mkosi-initrd");
    let mut output = Section::new("Output");
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
        format!("../../../{}:/", image_tree::INITRD_DIR),
    );
    vec![include, output, content]
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
