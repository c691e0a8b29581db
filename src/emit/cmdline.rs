//! The writer of the kernel command line: options joined by single spaces, each one checked
//! against the command-line grammar the kernel and systemd's parser share, so no option can
//! split into two, swallow its neighbour in an open quote or hide the image policy.

use super::Refused;
use crate::schema::{domains, Str};

/// The command line as one line of text, or the first option that cannot be written.
pub(crate) fn render<'a>(
    path: &str,
    options: impl IntoIterator<Item = &'a str>,
) -> Result<String, Refused> {
    let mut line = String::new();
    for option in options {
        if let Err(problem) = domains::check(Str::CmdlineOption, option) {
            return Err(Refused {
                file: path.to_owned(),
                key: "command line".to_owned(),
                value: option.to_owned(),
                reason: problem.what,
            });
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(option);
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_that_would_change_the_split_are_refused() {
        assert_eq!(
            render("c", ["rw", "a=\"b c\""]).expect("writes"),
            "rw a=\"b c\""
        );
        assert!(render("c", ["init=/bin/sh rw"]).is_err());
        assert!(render("c", ["quiet\""]).is_err());
    }
}
