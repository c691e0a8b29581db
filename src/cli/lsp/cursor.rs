//! What the text before the cursor says, read as it is typed: the block the cursor is in, and
//! whether a name or a value is being written there. Half-typed text does not parse (`  fo`, or
//! `format = ` with nothing after it), so this reads tokens up to the cursor instead of the syntax
//! tree: strings, comments and lists are skipped as the grammar writes them, and every `{`
//! opens the block its header names.

/// What may be written at the cursor.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Cursor {
    /// A name: a field, a block or a keyword of the block at this path (labels included,
    /// `["partition", "root"]`).
    Name(Vec<String>),
    /// A value of the field at this path (labels included); `in_list` when a `[` is open.
    Value { path: Vec<String>, in_list: bool },
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    /// `=`, `+=` or `-=`.
    Op,
    /// `[`
    OpenList,
    /// Anything else in an item: a string, a number, a `]`.
    Other,
}

/// What may be written at byte `offset` of `text`.
pub(super) fn at(text: &str, offset: usize) -> Cursor {
    let before = text.get(..offset).unwrap_or(text);
    let mut blocks: Vec<Vec<String>> = Vec::new();
    // The tokens of the item being written, since the last separator.
    let mut item: Vec<Token> = Vec::new();
    let mut lists = 0usize;
    let mut chars = before.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '#' => {
                // A comment runs to the end of the line; the line break is read next.
                while chars.next_if(|(_, c)| *c != '\n').is_some() {}
            }
            '"' => {
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                item.push(Token::Other);
            }
            '\n' | ',' if lists == 0 => item.clear(),
            '{' => {
                let header = item
                    .iter()
                    .map_while(|t| match t {
                        Token::Word(w) => Some(w.split('.').map(str::to_owned)),
                        _ => None,
                    })
                    .flatten()
                    .collect();
                blocks.push(header);
                item.clear();
                lists = 0;
            }
            '}' => {
                blocks.pop();
                item.clear();
                lists = 0;
            }
            '[' => {
                lists += 1;
                item.push(Token::OpenList);
            }
            ']' => {
                lists = lists.saturating_sub(1);
                item.push(Token::Other);
            }
            '=' => item.push(Token::Op),
            '+' | '-' if chars.peek().is_some_and(|(_, c)| *c == '=') => {
                chars.next();
                item.push(Token::Op);
            }
            c if word_char(c) => {
                let mut end = i + c.len_utf8();
                // `a+= [b]`: the `+` of an operator ends the name.
                let continues = |&(j, c): &(usize, char)| {
                    word_char(c) && !(matches!(c, '+' | '-') && before[j + 1..].starts_with('='))
                };
                while let Some((j, c)) = chars.next_if(continues) {
                    end = j + c.len_utf8();
                }
                item.push(Token::Word(before[i..end].to_owned()));
            }
            _ => {}
        }
    }
    let mut path: Vec<String> = blocks.into_iter().flatten().collect();
    // The word being typed is not part of the context.
    if before.chars().next_back().is_some_and(word_char) {
        item.pop();
    }
    match item.as_slice() {
        [Token::Word(field), Token::Op, rest @ ..] => {
            let rest = match rest {
                [Token::Word(w), rest @ ..] if w == "default" => rest,
                rest => rest,
            };
            let in_list = rest.first() == Some(&Token::OpenList) && lists > 0;
            if !rest.is_empty() && !in_list {
                // A value is there already: what follows is the next item's name.
                return Cursor::Name(path);
            }
            path.extend(field.split('.').map(str::to_owned));
            Cursor::Value { path, in_list }
        }
        _ => Cursor::Name(path),
    }
}

/// A character of a name, a symbol, a number or a size (`key-file+tpm2`, `4G`).
fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(text: &str) -> Cursor {
        at(text, text.len())
    }

    fn name(path: &[&str]) -> Cursor {
        Cursor::Name(path.iter().map(|s| (*s).to_owned()).collect())
    }

    fn value(path: &[&str], in_list: bool) -> Cursor {
        Cursor::Value {
            path: path.iter().map(|s| (*s).to_owned()).collect(),
            in_list,
        }
    }

    #[test]
    fn a_half_typed_name_is_in_its_block() {
        assert_eq!(
            cursor("partition root {\n  fo"),
            name(&["partition", "root"])
        );
        assert_eq!(cursor("system {\n"), name(&["system"]));
        assert_eq!(cursor("partition root { size = 4G }\nsy"), name(&[]));
        assert_eq!(cursor("trust {\n  tpm2 {\n    "), name(&["trust", "tpm2"]));
        assert_eq!(
            cursor("partition root { size = 4G, "),
            name(&["partition", "root"])
        );
    }

    #[test]
    fn a_value_is_of_its_field() {
        assert_eq!(
            cursor("partition root {\n  format = "),
            value(&["partition", "root", "format"], false)
        );
        assert_eq!(
            cursor("partition root {\n  format = er"),
            value(&["partition", "root", "format"], false)
        );
        assert_eq!(
            cursor("partition.root.encrypt = default "),
            value(&["partition", "root", "encrypt"], false)
        );
        assert_eq!(
            cursor("extension app { requires = [libs, "),
            value(&["extension", "app", "requires"], true)
        );
        assert_eq!(
            cursor("system.cmdline+= ["),
            value(&["system", "cmdline"], true)
        );
        assert_eq!(
            cursor("extension app {\n  requires += [\"x\", l"),
            value(&["extension", "app", "requires"], true)
        );
    }

    #[test]
    fn strings_comments_and_closed_lists_are_skipped() {
        assert_eq!(
            cursor("system { name = \"a { b\" # {\n  "),
            name(&["system"])
        );
        assert_eq!(
            cursor("extension app { requires = [libs] "),
            name(&["extension", "app"])
        );
        assert_eq!(
            cursor("partition root { format = erofs "),
            name(&["partition", "root"])
        );
    }
}
