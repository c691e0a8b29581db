//! OpenPGP public keys as a `.flatpakrepo` file carries them: the binary key, base64-encoded on
//! one line (`GPGKey=`), from a key file exported binary (`gpg --export`) or ASCII-armored
//! (`gpg --export --armor`); as a keyring gpg reads (an update channel's key), binary only; and
//! as apt reads a `Signed-By:` keyring, armored or binary as its name says. Only the outer
//! packet is looked at: the first packet must be a
//! public key (tag 6, RFC 9580 §5.5.1.1); a secret key, a signature or anything else is refused,
//! so that a private key can never be written into an image.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// What is wrong with a key file, for a diagnostic ("the key file `k` ...").
pub type Problem = &'static str;

/// The base64 of the binary public key in `bytes`.
///
/// # Errors
/// When `bytes` is not an OpenPGP public key, binary or armored.
pub fn public_key_base64(bytes: &[u8]) -> Result<String, Problem> {
    let binary = if bytes.starts_with(b"-----BEGIN PGP") {
        dearmor(bytes)?
    } else {
        bytes.to_vec()
    };
    match packet_tag(&binary) {
        Some(6) => Ok(STANDARD.encode(&binary)),
        Some(5) => Err("holds a secret key: give the public key (`gpg --export KEYID`)"),
        Some(_) => Err("does not start with a public key packet"),
        None => Err("is not an OpenPGP key (binary or ASCII-armored)"),
    }
}

/// Checks that `bytes` is a binary OpenPGP public key, as a keyring gpg reads
/// (`--keyring`, systemd-sysupdate's `import-pubring.gpg`) must be: an armored key is refused,
/// since gpg does not read one as a keyring.
///
/// # Errors
/// When `bytes` is armored, a secret key, or not an OpenPGP public key.
pub fn binary_public_key(bytes: &[u8]) -> Result<(), Problem> {
    if bytes.starts_with(b"-----BEGIN PGP") {
        return Err("is ASCII-armored, and gpg reads a keyring only in binary: export it with `gpg --export KEYID` (or convert it with `gpg --dearmor`)");
    }
    public_key_base64(bytes).map(|_| ())
}

/// Checks that `bytes` is an ASCII-armored OpenPGP public key, as apt reads a keyring named
/// `.asc`: a binary key is refused, since apt dearmors a `.asc` file before it reads it.
///
/// # Errors
/// When `bytes` is binary, a secret key, or not an OpenPGP public key.
pub fn armored_public_key(bytes: &[u8]) -> Result<(), Problem> {
    if !bytes.starts_with(b"-----BEGIN PGP") {
        return Err("is named `.asc`, which apt reads as ASCII-armored, but is binary: name it `.gpg`, or export it with `--armor`");
    }
    public_key_base64(bytes).map(|_| ())
}

/// The tag of the first packet: old format `10TTTTLL`, new format `11TTTTTT`.
fn packet_tag(binary: &[u8]) -> Option<u8> {
    let first = *binary.first()?;
    if first & 0x80 == 0 {
        None
    } else if first & 0x40 == 0 {
        Some((first >> 2) & 0x0f)
    } else {
        Some(first & 0x3f)
    }
}

/// The binary key of an ASCII-armored public key block: the base64 between the header lines'
/// end (a blank line) and the checksum line (`=XXXX`) or the end line.
fn dearmor(bytes: &[u8]) -> Result<Vec<u8>, Problem> {
    let text = std::str::from_utf8(bytes).map_err(|_| "is armored but not text")?;
    let mut lines = text.lines().map(str::trim_end);
    if lines.next() != Some("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
        return Err("is armored, but not a public key block: give the public key (`gpg --export --armor KEYID`)");
    }
    // Armor headers (`Comment: ...`) end at the first blank line.
    for line in lines.by_ref() {
        if line.is_empty() {
            break;
        }
    }
    let mut body = String::new();
    let mut ended = false;
    for line in lines {
        if line.starts_with("-----END") {
            ended = true;
            break;
        }
        // The checksum line (`=XXXX`) is not part of the key.
        if !line.starts_with('=') {
            body.push_str(line);
        }
    }
    if !ended {
        return Err("is armored but has no end line");
    }
    STANDARD
        .decode(body.as_bytes())
        .map_err(|_| "is armored but its body is not base64")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A public key packet header (old format, tag 6, two length bytes) and a few bytes.
    const PUBLIC: &[u8] = &[0x99, 0x00, 0x03, 0x04, 0x00, 0x00];

    #[test]
    fn binary_and_armored_public_keys_give_the_same_base64() {
        let binary = public_key_base64(PUBLIC).expect("a public key");
        assert_eq!(binary, STANDARD.encode(PUBLIC));
        let armored = format!(
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: test\n\n{}\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n",
            STANDARD.encode(PUBLIC)
        );
        assert_eq!(public_key_base64(armored.as_bytes()), Ok(binary));
        // New-format header of a public key (0xC6).
        assert!(public_key_base64(&[0xc6, 0x01, 0x04]).is_ok());
    }

    #[test]
    fn a_keyring_key_must_be_binary() {
        assert_eq!(binary_public_key(PUBLIC), Ok(()));
        let armored = format!(
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n{}\n-----END PGP PUBLIC KEY BLOCK-----\n",
            STANDARD.encode(PUBLIC)
        );
        assert!(binary_public_key(armored.as_bytes()).is_err_and(|e| e.contains("--dearmor")));
        assert!(binary_public_key(&[0x95, 0x00, 0x01, 0x04]).is_err_and(|e| e.contains("secret")));
    }

    #[test]
    fn secret_keys_and_other_data_are_refused() {
        // Old-format secret key packet (tag 5): 0x95.
        assert!(
            public_key_base64(&[0x95, 0x00, 0x01, 0x04]).is_err_and(|e| e.contains("secret key"))
        );
        assert!(public_key_base64(b"not a key").is_err());
        assert!(public_key_base64(b"").is_err());
        assert!(public_key_base64(b"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxx\n").is_err());
        assert!(public_key_base64(
            b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!\n-----END PGP PUBLIC KEY BLOCK-----\n"
        )
        .is_err());
    }
}
