//! The writer of os-release-style files (`extension-release.NAME`): `KEY=VALUE` lines as
//! systemd's environment-file parser reads them. A value of only safe characters is written
//! bare; any other is double-quoted with `\`, `"`, `$` and `` ` `` escaped; line breaks and
//! control characters are refused.

use std::fmt::Write as _;

use super::Refused;

/// The file's text, or the first value that cannot be written.
pub(crate) fn render(path: &str, fields: &[(&'static str, String)]) -> Result<String, Refused> {
    let mut out = String::new();
    for (key, value) in fields {
        if let Some(c) = value.chars().find(|c| c.is_control()) {
            return Err(Refused {
                file: path.to_owned(),
                key: (*key).to_owned(),
                value: value.clone(),
                reason: format!("a control character or line break (U+{:04X})", u32::from(c)),
            });
        }
        if !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._~^+-:/".contains(c))
        {
            let _ = writeln!(out, "{key}={value}");
        } else {
            let mut quoted = String::with_capacity(value.len() + 2);
            for c in value.chars() {
                if "\\\"$`".contains(c) {
                    quoted.push('\\');
                }
                quoted.push(c);
            }
            let _ = writeln!(out, "{key}=\"{quoted}\"");
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_when_they_need_it() {
        let text = render(
            "f",
            &[
                ("ID", "debian".to_owned()),
                ("PRETTY_NAME", "A \"b\" $c".to_owned()),
            ],
        )
        .expect("writes");
        assert_eq!(text, "ID=debian\nPRETTY_NAME=\"A \\\"b\\\" \\$c\"\n");
        assert!(render("f", &[("ID", "a\nB=c".to_owned())]).is_err());
    }
}
