//! SHA-256 digests written as lower-case hex: the one form in which every file pcfg writes (the
//! manifest, the lock file, the plan, the extension report) names content.

use sha2::{Digest as _, Sha256};

/// `bytes` (a digest) as lower-case hex.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(2 * bytes.len()), |mut text, b| {
            let _ = write!(text, "{b:02x}");
            text
        })
}

/// The SHA-256 of `bytes`, as lower-case hex.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}
