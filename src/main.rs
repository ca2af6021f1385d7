//! Start-up only: parse the command line, load what it names, run it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use karabakh_reactions::cli::{Cli, Command, DatasetCommand};
use karabakh_reactions::dataset::{self, Dataset};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("karabakh-reactions: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Some(Command::Dataset(DatasetCommand::Build(args))) => {
            let source = read(&args.source)?;
            let curation = read(&args.curation)?;
            let built = dataset::build(&source, &curation).map_err(|e| e.to_string())?;
            let check = dataset::check_against_source(&built, &source);
            if !check.problems.is_empty() {
                return Err(format!(
                    "the built dataset fails its checks:\n  {}",
                    check.problems.join("\n  ")
                ));
            }
            std::fs::write(&args.out, dataset::to_json(&built))
                .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
            println!("wrote {}", args.out.display());
            print_counts(&built);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Dataset(DatasetCommand::Check { source })) => {
            let data = load(cli.data.as_deref())?;
            let source = match source {
                Some(path) => read(&path)?,
                None => dataset::SOURCE_TEXT.to_owned(),
            };
            let check = dataset::check_against_source(&data, &source);
            print_counts(&data);
            if check.problems.is_empty() {
                println!(
                    "checks: all passed (verbatim quotes, citations, coverage of the article)"
                );
                Ok(ExitCode::SUCCESS)
            } else {
                println!("checks: {} problems", check.problems.len());
                for p in &check.problems {
                    println!("  {p}");
                }
                Ok(ExitCode::FAILURE)
            }
        }
        None => Err("no command given (see --help)".to_owned()),
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn load(path: Option<&Path>) -> Result<Dataset, String> {
    match path {
        None => dataset::embedded().map_err(|e| e.to_string()),
        Some(path) => {
            dataset::parse(&read(path)?, &path.display().to_string()).map_err(|e| e.to_string())
        }
    }
}

fn print_counts(d: &Dataset) {
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
    println!("dataset {}", d.version);
    println!(
        "  statements: {} ({} dated, {} undated)",
        d.statements.len(),
        dated.len(),
        d.statements.len() - dated.len()
    );
    println!("    by date precision: {}", join(&precisions));
    if let (Some(first), Some(last)) = (dated.iter().min(), dated.iter().max()) {
        println!("    dated from {first} to {last}");
    }
    println!(
        "  citations carried: {} of 1–{}",
        cited.len(),
        d.source.citations
    );
    println!("  actors: {} ({})", d.actors.len(), join(&kinds));
    println!(
        "  topics: {} ({} dated events)",
        d.topics.len(),
        d.topics.iter().map(|t| t.events.len()).sum::<usize>()
    );
    println!("  reference excerpts: {}", d.excerpts.len());
    println!(
        "  source: {} ({}), {}",
        d.source.title, d.source.url, d.source.licence
    );
}

fn join<K: std::fmt::Display>(m: &BTreeMap<K, usize>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
