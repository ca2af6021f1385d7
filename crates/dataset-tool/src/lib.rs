//! The dataset builder: derives `data/reactions.json` from the article's text
//! (`data/source/reactions-article.txt`) and the hand-kept `data/curation.toml`, and
//! checks a dataset against the text it claims to quote. A tool for the people who
//! keep the dataset; the bot itself only loads what it built (`karabakh_core::dataset`).

mod build;
mod check;
mod curation;
mod dates;

use std::collections::BTreeMap;

use karabakh_core::dataset::Dataset;

pub use build::{BuildError, build};
pub use check::{SourceCheck, check_against_source};

/// The source text the embedded dataset was built from.
pub const SOURCE_TEXT: &str = include_str!("../../../data/source/reactions-article.txt");
/// The hand-kept curation file.
pub const CURATION: &str = include_str!("../../../data/curation.toml");

/// A dataset's counts, as `check` and `build` print them.
pub fn counts(d: &Dataset) -> String {
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for a in &d.actors {
        *kinds.entry(a.kind.label()).or_default() += 1;
    }
    let mut precisions: BTreeMap<String, usize> = BTreeMap::new();
    for s in &d.statements {
        *precisions
            .entry(format!("{:?}", s.date.precision).to_lowercase())
            .or_default() += 1;
    }
    let dated: Vec<_> = d.statements.iter().filter_map(|s| s.date.start).collect();
    let cited: std::collections::BTreeSet<u16> = d
        .statements
        .iter()
        .flat_map(|s| s.citations.iter().copied())
        .collect();
    let mut out = vec![
        format!("dataset {}", d.version),
        format!(
            "  statements: {} ({} dated, {} undated)",
            d.statements.len(),
            dated.len(),
            d.statements.len() - dated.len()
        ),
        format!("    by date precision: {}", join(&precisions)),
    ];
    if let (Some(first), Some(last)) = (dated.iter().min(), dated.iter().max()) {
        out.push(format!("    dated from {first} to {last}"));
    }
    out.push(format!(
        "  citations carried: {} of 1–{}",
        cited.len(),
        d.source.citations
    ));
    out.push(format!("  actors: {} ({})", d.actors.len(), join(&kinds)));
    out.push(format!(
        "  topics: {} ({} dated events)",
        d.topics.len(),
        d.topics.iter().map(|t| t.events.len()).sum::<usize>()
    ));
    out.push(format!("  reference excerpts: {}", d.excerpts.len()));
    out.push(format!(
        "  source: {} ({}), {}",
        d.source.title, d.source.url, d.source.licence
    ));
    out.join("\n")
}

fn join<K: std::fmt::Display>(m: &BTreeMap<K, usize>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
