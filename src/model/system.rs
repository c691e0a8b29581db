//! The system as a whole: identity, architecture, target systemd, packages, disk.

use super::arch::Arch;
use super::fields::{At, Fields};

/// The systemd version pcfg targets when the configuration names none.
pub const DEFAULT_SYSTEMD: u32 = 258;

#[derive(Clone, Debug)]
pub struct System {
    /// The image id: labels and artifact names.
    pub name: At<String>,
    /// os-release `ID=`.
    pub id: At<String>,
    pub pretty_name: At<String>,
    pub version: At<Option<String>>,
    pub arch: At<Arch>,
    pub distribution: At<Option<String>>,
    pub release: At<Option<String>>,
    pub systemd: At<u32>,
    pub packages: At<Vec<At<String>>>,
    /// The distribution's repositories mkosi enables besides its default (`Repositories=`).
    pub repositories: At<Vec<At<String>>>,
    pub cmdline: At<Vec<At<String>>>,
    pub base_tree: At<Option<String>>,
    /// The kernel package, in place of the distribution's (a kernel variant).
    pub kernel: At<Option<String>>,
    /// Packages the initrd installs besides what pcfg adds to mkosi's default initrd.
    pub initrd_packages: At<Vec<At<String>>>,
    /// Kernel modules the initrd holds besides mkosi-initrd's default set (none: every module).
    pub initrd_modules: At<Vec<At<String>>>,
    /// Directories copied onto the image's root, in order (mkosi's `ExtraTrees=`), paths
    /// relative to the entry file.
    pub trees: At<Vec<At<String>>>,
    /// The image's build scripts.
    pub scripts: Scripts,
    /// Where the `system` block is declared.
    pub at: Option<crate::source::Span>,
}

/// Programs mkosi runs while it builds an image, paths relative to the entry file: after the
/// packages are installed (`postinst`, `PostInstallationScripts=`), when the tree is complete
/// (`finalize`, `FinalizeScripts=`), and once the image is written (`post-output`,
/// `PostOutputScripts=`). A name ending in `.chroot` runs inside the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scripts {
    pub postinst: At<Vec<At<String>>>,
    pub finalize: At<Vec<At<String>>>,
    pub post_output: At<Vec<At<String>>>,
}

impl Scripts {
    /// No scripts.
    pub const NONE: Scripts = Scripts {
        postinst: At {
            value: Vec::new(),
            at: None,
        },
        finalize: At {
            value: Vec::new(),
            at: None,
        },
        post_output: At {
            value: Vec::new(),
            at: None,
        },
    };

    /// Whether none of the three is written (an empty list written still names a place).
    #[must_use]
    pub fn is_unwritten(&self) -> bool {
        [&self.postinst, &self.finalize, &self.post_output]
            .iter()
            .all(|list| list.value.is_empty() && list.at.is_none())
    }

    pub(super) fn lower(fields: &super::fields::Fields<'_>) -> Scripts {
        Scripts {
            postinst: fields.list("postinst"),
            finalize: fields.list("finalize"),
            post_output: fields.list("post-output"),
        }
    }

    /// Each script with its field's name, in the order mkosi runs them.
    pub fn all(&self) -> impl Iterator<Item = (&'static str, &At<String>)> {
        self.postinst
            .value
            .iter()
            .map(|s| ("postinst", s))
            .chain(self.finalize.value.iter().map(|s| ("finalize", s)))
            .chain(self.post_output.value.iter().map(|s| ("post-output", s)))
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.all().next().is_none()
    }
}

/// The extension level the image declares and its extensions carry when the system has no
/// version to match them by (`SYSEXT_LEVEL=`, `CONFEXT_LEVEL=`).
pub const EXTENSION_LEVEL: &str = "1";

impl System {
    /// What systemd compares between the image's os-release and an extension's release file
    /// before it merges the extension: `ID`, then `VERSION_ID`, or the level (`level` is
    /// `SYSEXT_LEVEL` or `CONFEXT_LEVEL`) when there is no version. Both files take these from
    /// here, so they agree by construction.
    #[must_use]
    pub fn match_fields(&self, level: &'static str) -> Vec<(&'static str, String)> {
        let mut fields = vec![("ID", self.id.value.clone())];
        match &self.version.value {
            Some(version) => fields.push(("VERSION_ID", version.clone())),
            None => fields.push((level, EXTENSION_LEVEL.to_owned())),
        }
        fields
    }

    /// The image's `/usr/lib/os-release`: its name, id and version in place of the
    /// distribution's, and the fields extensions are matched by.
    #[must_use]
    pub fn os_release(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![("NAME", self.name.value.clone())];
        fields.push(("PRETTY_NAME", self.pretty_name.value.clone()));
        fields.push(("ID", self.id.value.clone()));
        if let Some(distribution) = &self.distribution.value {
            if *distribution != self.id.value {
                fields.push(("ID_LIKE", distribution.clone()));
            }
        }
        for level in ["SYSEXT_LEVEL", "CONFEXT_LEVEL"] {
            for (key, value) in self.match_fields(level) {
                if !fields.iter().any(|(k, _)| *k == key) {
                    fields.push((key, value));
                }
            }
        }
        fields.push(("IMAGE_ID", self.name.value.clone()));
        if let Some(version) = &self.version.value {
            fields.push(("IMAGE_VERSION", version.clone()));
        }
        fields
    }
}

#[derive(Clone, Debug)]
pub struct Disk {
    /// `None` is `auto`: as large as the partitions need.
    pub size: At<Option<u64>>,
    pub sector_size: At<u64>,
}

pub(super) fn lower_system(fields: &Fields<'_>) -> System {
    let name = fields.string("name").map(Option::unwrap_or_default);
    let id = match fields.string("id") {
        At {
            value: Some(id),
            at,
        } => At::new(id, at),
        At { .. } => At::derived(name.value.to_ascii_lowercase()),
    };
    let pretty_name = match fields.string("pretty-name") {
        At {
            value: Some(pretty),
            at,
        } => At::new(pretty, at),
        At { .. } => At::derived(name.value.clone()),
    };
    let arch = fields.symbol("arch");
    let arch = At::new(
        arch.value.and_then(Arch::from_name).unwrap_or(Arch::X86_64),
        arch.at,
    );
    let distribution = fields.symbol("distribution").map(|d| d.map(str::to_owned));
    // No release: the one mkosi builds for the distribution, said out loud.
    let release = match fields.string("release") {
        At { value: None, .. } => At::derived(
            distribution
                .value
                .as_deref()
                .and_then(super::distribution::default_release)
                .map(str::to_owned),
        ),
        written => written,
    };
    // No target systemd: the one the release ships (or the suite `systemd` is pinned to), when
    // that is settled, else the newest.
    let systemd = fields.int("systemd");
    let packages = fields.list("packages");
    let systemd_suite = systemd_suite(&packages.value).or(release.value.as_deref());
    let shipped = distribution
        .value
        .as_deref()
        .zip(systemd_suite)
        .and_then(|(d, r)| super::distribution::systemd_of(d, r));
    let systemd = At::new(
        systemd
            .value
            .map_or(shipped.unwrap_or(DEFAULT_SYSTEMD), |v| {
                u32::try_from(v).unwrap_or(DEFAULT_SYSTEMD)
            }),
        systemd.at,
    );
    System {
        name,
        id,
        pretty_name,
        version: fields.string("version"),
        arch,
        distribution,
        release,
        systemd,
        packages,
        repositories: fields.list("repositories"),
        cmdline: fields.list("cmdline"),
        base_tree: fields.string("base-tree"),
        kernel: fields.string("kernel"),
        initrd_packages: fields.list("initrd-packages"),
        initrd_modules: fields.list("initrd-modules"),
        trees: fields.list("trees"),
        scripts: Scripts::lower(fields),
        at: fields.at,
    }
}

/// The entry that pins the `systemd` package to a suite (`"systemd/forky"`), if one does.
pub(super) fn pinned_systemd(packages: &[At<String>]) -> Option<&At<String>> {
    packages
        .iter()
        .find(|p| matches!(super::sources::pinned(&p.value), ("systemd", Some(_))))
}

/// The suite the `systemd` package is pinned to, if it is.
fn systemd_suite(packages: &[At<String>]) -> Option<&str> {
    pinned_systemd(packages).and_then(|p| super::sources::pinned(&p.value).1)
}

impl System {
    /// The regular expressions mkosi matches the initrd's modules with
    /// (`KernelModulesInitrdInclude=`), as mkosi-initrd writes its own: `/NAME.ko`, where the
    /// file's name may spell `_` as `-` and the other way round (`snd_hda_intel` is
    /// `snd-hda-intel.ko`).
    #[must_use]
    pub fn initrd_module_patterns(&self) -> Vec<String> {
        self.initrd_modules
            .value
            .iter()
            .map(|m| format!("/{}.ko", m.value.replace(['-', '_'], "[-_]")))
            .collect()
    }

    /// The suite the image's systemd comes from: the one `systemd` is pinned to in
    /// `system.packages`, else the release.
    #[must_use]
    pub fn systemd_suite(&self) -> Option<&str> {
        systemd_suite(&self.packages.value).or(self.release.value.as_deref())
    }
}

pub(super) fn lower_disk(fields: &Fields<'_>) -> Disk {
    let size = if fields.is_auto("size") {
        At::derived(None)
    } else {
        fields.size("size")
    };
    let sector = fields.int("sector-size");
    Disk {
        size,
        sector_size: At::new(sector.value.unwrap_or(512), sector.at),
    }
}
