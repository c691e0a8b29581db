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
