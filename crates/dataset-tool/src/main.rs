//! `karabakh-dataset build | check`: the dataset keepers' tool.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use karabakh_core::dataset;
use karabakh_dataset::{SOURCE_TEXT, build, check_against_source, counts};

/// Builds the bot's dataset from the article's text, or checks one against it.
#[derive(Debug, Parser)]
#[command(name = "karabakh-dataset", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Derive the dataset from the source text and the curation file.
    Build {
        #[arg(
            long,
            value_name = "PATH",
            default_value = "data/source/reactions-article.txt"
        )]
        source: PathBuf,
        #[arg(long, value_name = "PATH", default_value = "data/curation.toml")]
        curation: PathBuf,
        #[arg(long, value_name = "PATH", default_value = "data/reactions.json")]
        out: PathBuf,
    },
    /// Validate a dataset (the one compiled into the bot, or --data PATH), check it
    /// against the source text and print its counts.
    Check {
        /// A dataset file to check instead of the embedded one.
        #[arg(long, value_name = "PATH")]
        data: Option<PathBuf>,
        /// The source text to check quotes against (default: the embedded one).
        #[arg(long, value_name = "PATH")]
        source: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("karabakh-dataset: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Build {
            source,
            curation,
            out,
        } => {
            let source = read(&source)?;
            let curation = read(&curation)?;
            let built = build(&source, &curation).map_err(|e| e.to_string())?;
            let check = check_against_source(&built, &source);
            if !check.problems.is_empty() {
                return Err(format!(
                    "the built dataset fails its checks:\n  {}",
                    check.problems.join("\n  ")
                ));
            }
            std::fs::write(&out, dataset::to_json(&built))
                .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            println!("wrote {}", out.display());
            println!("{}", counts(&built));
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { data, source } => {
            let data = match data {
                None => dataset::embedded().map_err(|e| e.to_string())?,
                Some(path) => dataset::parse(&read(&path)?, &path.display().to_string())
                    .map_err(|e| e.to_string())?,
            };
            let source = match source {
                Some(path) => read(&path)?,
                None => SOURCE_TEXT.to_owned(),
            };
            let check = check_against_source(&data, &source);
            println!("{}", counts(&data));
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
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}
