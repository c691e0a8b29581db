//! Version gates: the first systemd version with each feature pcfg derives or checks. The model
//! leaves out what the target cannot do (command-line options); the checks refuse what it needs.
//!
//! Verified by the tests against the machine's systemd-repart: 252 refuses erofs. The other
//! gates are the versions systemd's changelog gives.

/// systemd-repart formats erofs.
pub const EROFS: u32 = 253;
/// systemd-repart copies the partitions of a disk image (`--copy-from=`), as the installer
/// does; 254 lacks it (tested).
pub const REPART_COPY_FROM: u32 = 255;
/// systemd-pcrlock, and systemd-repart's `--tpm2-pcrlock=` (with which it seals to a pcrlock
/// policy it finds unless told otherwise); 254 lacks the option (tested).
pub const PCRLOCK: u32 = 255;
/// `systemd.image_policy=` on the kernel command line.
pub const IMAGE_POLICY: u32 = 254;
/// ukify builds UKI profiles.
pub const UKI_PROFILES: u32 = 257;
/// `systemd.image_filter=` on the kernel command line.
pub const IMAGE_FILTER: u32 = 258;
/// `root=dissect` and `mount.usr=dissect`; before, the GPT auto-generator finds the partitions.
pub const DISSECT: u32 = 258;
/// ukify signs profiles selectively (`SignExpectedPcr=no` on a profile).
pub const UNSIGNED_PROFILE: u32 = 258;
/// systemd-repart shrinks file systems to their content (`Minimize=`); 252 lacks it (tested).
pub const MINIMIZE: u32 = 253;
/// systemd-repart compresses erofs and squashfs (`Compression=`); 252 lacks it (tested).
pub const COMPRESSION: u32 = 257;
/// systemd-sysupdate resolves target paths against the boot partition (`PathRelativeTo=`).
pub const SYSUPDATE_PATH_RELATIVE_TO: u32 = 254;
/// systemd-sysupdate's optional features (`*.feature`, `Features=` in a transfer); before, a
/// transfer's `Features=` is an unknown key, ignored with a warning, and the transfer always used.
pub const SYSUPDATE_FEATURES: u32 = 257;
/// systemd-sysupdate reads `*.transfer` files; before, `*.conf` (254 ignores `.transfer`, tested).
pub const SYSUPDATE_TRANSFER_SUFFIX: u32 = 257;
