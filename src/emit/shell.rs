//! `/bin/sh` words: any value becomes exactly one word of a command, whatever it contains.

/// One word for `/bin/sh`, single-quoted unless it is plain.
pub(crate) fn word(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/+=,@".contains(c))
    {
        return text.to_owned();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::word;

    /// `/bin/sh` reads each word back as the text it was made from.
    #[test]
    fn the_shell_reads_every_word_back_exactly() {
        let texts = [
            "",
            "plain/path-1.0+x=y,z@w",
            "a b",
            "it's",
            "''",
            "$HOME `id` $(id) \\ \" ; & | < > * ? [ ] ~ # !",
            "line\nbreak\ttab",
            "-n",
            "é ü 日本",
        ];
        let script: Vec<String> = texts.iter().map(|t| word(t)).collect();
        // Through the shell's own parser, as a script line: `set --` then the words.
        let line = format!(
            "set -- {}; for a; do printf '%s\\0' \"$a\"; done",
            script.join(" ")
        );
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(&line)
            .output()
            .expect("sh runs");
        assert!(output.status.success(), "{line}");
        let read: Vec<&str> = std::str::from_utf8(&output.stdout)
            .expect("UTF-8")
            .split_terminator('\0')
            .collect();
        assert_eq!(read, texts, "{line}");
    }
}
