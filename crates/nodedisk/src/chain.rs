//! Following a layer chain (child → parent → …) with one bound and one cycle check for every
//! runtime: containerd snapshots, Docker layerdb, podman layers.

use crate::error::NodeError;
use crate::limits::MAX_CHAIN;
use std::collections::HashSet;

/// Follows the chain from `start`: `step(key)` gives the item for `key` and the next key (the
/// parent), `None` at the bottom. Items are returned top first.
///
/// # Errors
/// [`NodeError::Record`] naming `file` when a key comes twice (a cycle) or the chain is longer
/// than [`MAX_CHAIN`]; any error of `step`.
pub fn follow<T>(
    start: &str,
    file: &str,
    mut step: impl FnMut(&str) -> Result<(T, Option<String>), NodeError>,
) -> Result<Vec<T>, NodeError> {
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    let mut next = Some(start.to_string());
    while let Some(key) = next {
        if items.len() >= MAX_CHAIN {
            return Err(NodeError::record(
                file,
                format!("the layer chain from {start} is longer than {MAX_CHAIN} layers"),
            ));
        }
        if !seen.insert(key.clone()) {
            return Err(NodeError::record(
                file,
                format!("the layer chain from {start} loops: {key} comes twice"),
            ));
        }
        let (item, parent) = step(&key)?;
        items.push(item);
        next = parent;
    }
    Ok(items)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cycles_and_long_chains_are_named() {
        let e = follow("a", "/f", |k| {
            Ok((k.to_string(), Some(if k == "a" { "b" } else { "a" }.into())))
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "/f: the layer chain from a loops: a comes twice");
        let e = follow("0", "/f", |k| {
            Ok(((), Some(format!("{}", k.parse::<u32>().unwrap() + 1))))
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "/f: the layer chain from 0 is longer than 128 layers");
        let ok = follow("3", "/f", |k| {
            let n: u32 = k.parse().unwrap();
            Ok((n, (n > 0).then(|| (n - 1).to_string())))
        })
        .unwrap();
        assert_eq!(ok, [3, 2, 1, 0]);
    }
}
