//! What pcfg knows about the distributions mkosi builds from: the release mkosi 25.3 builds
//! when none is named (`default_release()` of each of mkosi's distributions), and the release
//! names that belong to one distribution only, so that a release inherited from a base written
//! for another distribution is caught before mkosi fails on it.

/// mkosi's default release of a distribution, when it has one.
#[must_use]
pub fn default_release(distribution: &str) -> Option<&'static str> {
    Some(match distribution {
        "arch" => "rolling",
        "azure" => "3.0",
        "centos" | "alma" | "rocky" | "rhel" | "rhel-ubi" => "10",
        "debian" => "testing",
        "fedora" => "41",
        "kali" => "kali-rolling",
        "mageia" => "cauldron",
        "openmandriva" => "cooker",
        "opensuse" => "tumbleweed",
        "ubuntu" => "noble",
        _ => return None,
    })
}

/// Release names (not numbers, which several distributions share) and the distribution they
/// belong to.
const RELEASE_NAMES: &[(&str, &[&str])] = &[
    ("fedora", &["rawhide", "eln"]),
    (
        "debian",
        &[
            "buster",
            "bullseye",
            "bookworm",
            "trixie",
            "forky",
            "duke",
            "sid",
            "testing",
            "unstable",
            "stable",
            "oldstable",
        ],
    ),
    (
        "ubuntu",
        &[
            "focal", "jammy", "lunar", "mantic", "noble", "oracular", "plucky", "questing",
            "resolute", "devel",
        ],
    ),
    ("arch", &["rolling"]),
    ("kali", &["kali-rolling", "kali-last-snapshot", "kali-dev"]),
    ("opensuse", &["tumbleweed", "leap", "slowroll"]),
    ("mageia", &["cauldron"]),
    ("openmandriva", &["cooker", "rock"]),
    ("postmarketos", &["edge"]),
];

/// The distribution a release name belongs to, when it is known and not also one of
/// `distribution`'s own.
#[must_use]
pub fn release_of_another(distribution: &str, release: &str) -> Option<&'static str> {
    let own = RELEASE_NAMES
        .iter()
        .any(|(d, names)| *d == distribution && names.contains(&release));
    if own || distribution == "custom" {
        return None;
    }
    RELEASE_NAMES
        .iter()
        .find(|(_, names)| names.contains(&release))
        .map(|(d, _)| *d)
}

/// A few release names of `distribution`, for help lines.
#[must_use]
pub fn some_releases(distribution: &str) -> Vec<&'static str> {
    RELEASE_NAMES
        .iter()
        .find(|(d, _)| *d == distribution)
        .map(|(_, names)| names.iter().copied().take(4).collect())
        .unwrap_or_default()
}

/// The systemd each release ships, for the releases whose version is settled.
const SYSTEMD_OF: &[(&str, &str, u32)] = &[
    ("debian", "buster", 241),
    ("debian", "bullseye", 247),
    ("debian", "bookworm", 252),
    ("debian", "oldstable", 252),
    ("debian", "trixie", 257),
    ("debian", "stable", 257),
    ("ubuntu", "focal", 245),
    ("ubuntu", "jammy", 249),
    ("ubuntu", "noble", 255),
    ("ubuntu", "oracular", 256),
    ("ubuntu", "plucky", 257),
    ("fedora", "39", 254),
    ("fedora", "40", 255),
    ("fedora", "41", 256),
    ("fedora", "42", 257),
    ("fedora", "43", 258),
];

/// The systemd a release ships: the image's command line and partition definitions must not
/// use what that systemd does not know (`root=dissect` needs 258). `None` for rolling and
/// development releases.
#[must_use]
pub fn systemd_of(distribution: &str, release: &str) -> Option<u32> {
    SYSTEMD_OF
        .iter()
        .find(|(d, r, _)| *d == distribution && *r == release)
        .map(|(_, _, version)| *version)
}
