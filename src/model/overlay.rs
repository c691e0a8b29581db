//! The overlay order of extensions: which extension's files are on top when systemd merges them.
//!
//! systemd-sysext and systemd-confext sort the images they merge by name with systemd's version
//! comparison (`strverscmp_improved`, `src/fundamental/string-util-fundamental.c`) and put the
//! last one on top (`merge_subprocess` in `src/sysext/sysext.c` builds the overlay's lower
//! directories in reverse order); the UAPI Extension Image specification says the same ("images
//! sorting as older being placed lower in the overlay"). So the only thing that decides which
//! extension wins is its image name. `overrides = [b]` on `a` means `a` must be above `b`: when
//! the names already sort that way they are kept, otherwise every extension of that hierarchy
//! gets a rank prefix (`10-`, `20-`, ...) in the order the declarations demand.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};

use super::extension::{Extension, ExtensionKind};

/// The image name of each extension (by position), as systemd sees it when merging.
#[must_use]
pub fn image_names(extensions: &[Extension]) -> Vec<String> {
    let mut names: Vec<String> = extensions.iter().map(|e| e.name.clone()).collect();
    for kind in [ExtensionKind::Sysext, ExtensionKind::Confext] {
        let members = members(extensions, kind);
        let edges = edges(extensions, &members);
        let satisfied = edges.iter().all(|&(below, above)| {
            version_cmp(&extensions[below].name, &extensions[above].name) == Ordering::Less
        });
        if satisfied {
            continue;
        }
        let Some(order) = layer_order(extensions, &members, &edges) else {
            // A cycle: no order satisfies it; the `extension-cycle` check reports it.
            continue;
        };
        let width = (order.len() * 10).to_string().len().max(2);
        for (rank, &i) in order.iter().enumerate() {
            names[i] = format!("{:0width$}-{}", (rank + 1) * 10, extensions[i].name);
        }
    }
    names
}

/// The extensions of an `overrides` cycle and what they need to be above, when there is one:
/// no overlay order can satisfy them.
#[must_use]
pub fn unordered(extensions: &[Extension]) -> Option<Vec<usize>> {
    for kind in [ExtensionKind::Sysext, ExtensionKind::Confext] {
        let members = members(extensions, kind);
        let edges = edges(extensions, &members);
        let placed = partial_order(extensions, &members, &edges);
        if placed.len() < members.len() {
            let placed: std::collections::HashSet<usize> = placed.into_iter().collect();
            return Some(
                members
                    .into_iter()
                    .filter(|i| !placed.contains(i))
                    .collect(),
            );
        }
    }
    None
}

fn members(extensions: &[Extension], kind: ExtensionKind) -> Vec<usize> {
    (0..extensions.len())
        .filter(|&i| extensions[i].kind.value == kind)
        .collect()
}

/// `(below, above)` for every `overrides` between two extensions of the hierarchy: the one that
/// declares it is above.
fn edges(extensions: &[Extension], members: &[usize]) -> Vec<(usize, usize)> {
    let index: HashMap<&str, usize> = members
        .iter()
        .map(|&i| (extensions[i].name.as_str(), i))
        .collect();
    let mut edges = Vec::new();
    for &above in members {
        for overridden in &extensions[above].overrides().value {
            if let Some(&below) = index.get(overridden.value.as_str()) {
                if below != above {
                    edges.push((below, above));
                }
            }
        }
    }
    edges
}

/// The members from bottom to top: every `overrides` respected, otherwise by name (Kahn's
/// algorithm, the smallest name first among those free to go); `None` for a cycle.
fn layer_order(
    extensions: &[Extension],
    members: &[usize],
    edges: &[(usize, usize)],
) -> Option<Vec<usize>> {
    let order = partial_order(extensions, members, edges);
    (order.len() == members.len()).then_some(order)
}

/// As many members as can be ordered: all but those on or above a cycle.
fn partial_order(
    extensions: &[Extension],
    members: &[usize],
    edges: &[(usize, usize)],
) -> Vec<usize> {
    let position: HashMap<usize, usize> =
        members.iter().enumerate().map(|(p, &i)| (i, p)).collect();
    let mut below_count = vec![0usize; members.len()];
    let mut above: Vec<Vec<usize>> = vec![Vec::new(); members.len()];
    for &(b, a) in edges {
        let (Some(&pb), Some(&pa)) = (position.get(&b), position.get(&a)) else {
            continue;
        };
        below_count[pa] += 1;
        above[pb].push(pa);
    }
    let key = |p: usize| (extensions[members[p]].name.clone(), p);
    let mut free: BTreeSet<(String, usize)> = (0..members.len())
        .filter(|&p| below_count[p] == 0)
        .map(key)
        .collect();
    let mut order = Vec::with_capacity(members.len());
    while let Some((_, p)) = free.pop_first() {
        order.push(members[p]);
        for &next in &above[p] {
            below_count[next] -= 1;
            if below_count[next] == 0 {
                free.insert(key(next));
            }
        }
    }
    order
}

/// systemd's `strverscmp_improved`: how systemd-sysext orders image names (older is lower).
#[must_use]
pub fn version_cmp(left: &str, right: &str) -> Ordering {
    let (mut left, mut right) = (left.as_bytes(), right.as_bytes());
    loop {
        left = skip_invalid(left);
        right = skip_invalid(right);
        // `~` (a pre-release) is older than anything, even the end.
        if let Some(order) = prefixed(&mut left, &mut right, b'~') {
            return order;
        }
        // Otherwise the string with more segments is newer.
        if left.is_empty() || right.is_empty() {
            return first(left).cmp(&first(right));
        }
        // `-` (version and release) is older than `^` (a patch), than `.` (a point release),
        // than no prefix.
        for separator in [b'-', b'^', b'.'] {
            if let Some(order) = prefixed(&mut left, &mut right, separator) {
                return order;
            }
        }
        let numeric = first(left).is_ascii_digit() || first(right).is_ascii_digit();
        let class: fn(&u8) -> bool = if numeric {
            u8::is_ascii_digit
        } else {
            u8::is_ascii_alphabetic
        };
        let (a, rest_left) = split(left, class);
        let (b, rest_right) = split(right, class);
        let order = if numeric {
            // A number is newer than no number; then by value, without leading zeros.
            let present = (!a.is_empty()).cmp(&!b.is_empty());
            let (a, b) = (trim_zeros(a), trim_zeros(b));
            present.then(a.len().cmp(&b.len())).then_with(|| a.cmp(b))
        } else {
            let common = a.len().min(b.len());
            a[..common].cmp(&b[..common]).then(a.len().cmp(&b.len()))
        };
        if order != Ordering::Equal {
            return order;
        }
        left = rest_left;
        right = rest_right;
    }
}

fn first(s: &[u8]) -> u8 {
    s.first().copied().unwrap_or(0)
}

fn skip_invalid(s: &[u8]) -> &[u8] {
    let valid = |c: &u8| c.is_ascii_alphanumeric() || b"~-^.".contains(c);
    let start = s.iter().position(valid).unwrap_or(s.len());
    &s[start..]
}

/// When either string starts with `prefix`: the one without it is newer; when both have it,
/// both lose it and the comparison goes on (`None`).
fn prefixed(left: &mut &[u8], right: &mut &[u8], prefix: u8) -> Option<Ordering> {
    let (l, r) = (first(left) == prefix, first(right) == prefix);
    if !l && !r {
        return None;
    }
    let order = (!l).cmp(&!r);
    if order != Ordering::Equal {
        return Some(order);
    }
    *left = &left[1..];
    *right = &right[1..];
    None
}

fn split(s: &[u8], class: fn(&u8) -> bool) -> (&[u8], &[u8]) {
    s.split_at(s.iter().take_while(|c| class(c)).count())
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    &s[s.iter().take_while(|&&c| c == b'0').count()..]
}

#[cfg(test)]
mod tests {
    use super::version_cmp;
    use std::cmp::Ordering;

    #[test]
    fn versions_sort_as_systemd_documents() {
        // The list in systemd's own comment, oldest first.
        let sorted = [
            "122.1",
            "123~rc1-1",
            "123",
            "123-a",
            "123-a.1",
            "123-1",
            "123-1.1",
            "123^post1",
            "123.a-1",
            "123.1-1",
            "123a-1",
            "124-1",
        ];
        for pair in sorted.windows(2) {
            assert_eq!(
                version_cmp(pair[0], pair[1]),
                Ordering::Less,
                "{} < {}",
                pair[0],
                pair[1]
            );
            assert_eq!(version_cmp(pair[1], pair[0]), Ordering::Greater);
        }
        assert_eq!(version_cmp("00123", "123"), Ordering::Equal);
        assert_eq!(version_cmp("123_a", "123a"), Ordering::Equal);
        assert_eq!(version_cmp("10-zz", "20-aa"), Ordering::Less);
        assert_eq!(version_cmp("devtools", "debugtools"), Ordering::Greater);
        assert_eq!(version_cmp("app9", "app10"), Ordering::Less);
    }
}
