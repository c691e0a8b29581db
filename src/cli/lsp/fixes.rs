//! A diagnostic's fix as a text edit: the diagnostics say what changes in the configuration's
//! terms (remove this item, add this name to that list); here the file's text decides the
//! separators and the indentation, so that the result parses and reads as if written by hand.

use crate::diag::Edit;

/// The byte range of `text` to replace, and its replacement, for `edit` at `start..end`; `None`
/// when the text there is not what the edit expects (the file changed since it was checked).
pub(super) fn text_edit(
    text: &str,
    start: usize,
    end: usize,
    edit: &Edit,
) -> Option<(usize, usize, String)> {
    if start > end
        || end > text.len()
        || !text.is_char_boundary(start)
        || !text.is_char_boundary(end)
    {
        return None;
    }
    match edit {
        Edit::Replace(replacement) => Some((start, end, replacement.clone())),
        Edit::Remove => {
            let (start, end) = removal(text, start, end);
            Some((start, end, String::new()))
        }
        Edit::Append {
            item,
            to_list: true,
            ..
        } => append_to_list(text, start, end, item).map(|(at, new)| (at, at, new)),
        Edit::Append {
            field,
            item,
            to_list: false,
        } => add_field(text, start, end, field, item).map(|(at, new)| (at, at, new)),
    }
}

/// The range that removes the item at `start..end` with its separator: its whole line when it
/// is alone on it, else the `,` after it, else the `,` before it.
fn removal(text: &str, start: usize, end: usize) -> (usize, usize) {
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let after = &text[end..line_end];
    let rest = after
        .trim_start()
        .strip_prefix(',')
        .unwrap_or(after.trim_start());
    if text[line_start..start].trim().is_empty() && rest.trim().is_empty() {
        return (line_start, (line_end + 1).min(text.len()));
    }
    let spaces = after.len() - after.trim_start().len();
    if after[spaces..].starts_with(',') {
        let comma = end + spaces + 1;
        let gap = text[comma..line_end].len() - text[comma..line_end].trim_start().len();
        return (start, comma + gap);
    }
    let before = text[line_start..start].trim_end();
    if before.ends_with(',') {
        return (line_start + before.len() - 1, end);
    }
    (start, end)
}

/// Where `item` goes in the list at `start..end` (`[` to `]`), and the text to insert: after the
/// last item, with a `,` unless one is there.
fn append_to_list(text: &str, start: usize, end: usize, item: &str) -> Option<(usize, String)> {
    let list = &text[start..end];
    if !list.starts_with('[') || !list.ends_with(']') {
        return None;
    }
    let inner = &list[1..list.len() - 1];
    let items = inner.trim_end();
    let at = start + 1 + items.len();
    let new = if items.trim().is_empty() {
        item.to_owned()
    } else if items.ends_with(',') {
        format!(" {item}")
    } else {
        format!(", {item}")
    };
    Some((at, new))
}

/// Where `field = [item]` goes in the block whose label is at `start..end`, and the text to
/// insert: first in its braces (on a line of its own when the block spans lines), or, for a
/// block declared by paths (`extension.app.kind = sysext`), as a path on the line before.
fn add_field(
    text: &str,
    start: usize,
    end: usize,
    field: &str,
    item: &str,
) -> Option<(usize, String)> {
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let indent: String = text[line_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let after = &text[end..];
    let gap = after.len() - after.trim_start_matches([' ', '\t']).len();
    if after[gap..].starts_with('{') {
        let brace = end + gap + 1;
        let rest = &text[brace..];
        let one_line = !rest.trim_start_matches([' ', '\t']).starts_with('\n');
        let new = if one_line {
            format!(" {field} = [{item}],")
        } else {
            format!("\n{indent}  {field} = [{item}]")
        };
        return Some((brace, new));
    }
    // A path: what precedes the label on its line, then the label.
    let prefix = text[line_start..end].trim_start();
    if after.starts_with('.') && !prefix.is_empty() {
        return Some((line_start, format!("{indent}{prefix}.{field} = [{item}]\n")));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` with the edit applied at the first `needle`.
    fn apply(text: &str, needle: &str, edit: &Edit) -> String {
        let start = text.find(needle).expect("needle");
        let (from, to, new) = text_edit(text, start, start + needle.len(), edit).expect("an edit");
        format!("{}{new}{}", &text[..from], &text[to..])
    }

    #[test]
    fn a_removed_item_takes_its_separator() {
        let remove = Edit::Remove;
        assert_eq!(
            apply(
                "system {\n  name = \"a\"\n  name = \"b\"\n}\n",
                "name = \"b\"",
                &remove
            ),
            "system {\n  name = \"a\"\n}\n"
        );
        assert_eq!(
            apply(
                "partition root { size = 1G, size = 2G }\n",
                "size = 2G",
                &remove
            ),
            "partition root { size = 1G }\n"
        );
        assert_eq!(
            apply("p { a = 1, b = 2 }\n", "a = 1", &remove),
            "p { b = 2 }\n"
        );
        assert_eq!(
            apply("packages = [\"a\", \"b\", \"c\"]\n", "\"c\"", &remove),
            "packages = [\"a\", \"b\"]\n"
        );
        assert_eq!(
            apply("packages = [\"a\", \"b\", \"c\"]\n", "\"b\"", &remove),
            "packages = [\"a\", \"c\"]\n"
        );
        assert_eq!(
            apply("packages = [\n  \"a\",\n  \"b\",\n]\n", "\"b\"", &remove),
            "packages = [\n  \"a\",\n]\n"
        );
    }

    #[test]
    fn a_name_joins_its_list() {
        let add = Edit::Append {
            field: "requires".to_owned(),
            item: "libs".to_owned(),
            to_list: true,
        };
        assert_eq!(
            apply("requires = [a]\n", "[a]", &add),
            "requires = [a, libs]\n"
        );
        assert_eq!(apply("requires = []\n", "[]", &add), "requires = [libs]\n");
        assert_eq!(
            apply("requires = [\n  a,\n]\n", "[\n  a,\n]", &add),
            "requires = [\n  a, libs\n]\n"
        );
        assert_eq!(text_edit("requires = a\n", 11, 12, &add), None);
    }

    #[test]
    fn a_missing_field_is_written_in_its_block() {
        let add = Edit::Append {
            field: "requires".to_owned(),
            item: "libs".to_owned(),
            to_list: false,
        };
        assert_eq!(
            apply("extension app { kind = sysext }\n", "app", &add),
            "extension app { requires = [libs], kind = sysext }\n"
        );
        assert_eq!(
            apply("extension app {\n  kind = sysext\n}\n", "app", &add),
            "extension app {\n  requires = [libs]\n  kind = sysext\n}\n"
        );
        assert_eq!(
            apply("extension.app.kind = sysext\n", "app", &add),
            "extension.app.requires = [libs]\nextension.app.kind = sysext\n"
        );
    }
}
