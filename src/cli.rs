//! The command line: what each subcommand takes. `main.rs` runs them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "karabakh-reactions",
    version,
    about = "Answers questions about the international reactions to the 2020 Nagorno-Karabakh war, \
             quoting a cited dataset built from Wikipedia."
)]
pub struct Cli {
    /// Load this dataset file instead of the one compiled into the binary.
    #[arg(long, global = true, value_name = "PATH")]
    pub data: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Answer one slash command, typed as in Discord, and print the reply.
    Ask(AskArgs),
    /// Build or check the reactions dataset.
    #[command(subcommand)]
    Dataset(DatasetCommand),
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// Print the interaction response body the bot would send (`{"type":4,"data":{…}}`).
    #[arg(long)]
    pub json: bool,
    /// Print every page (with --json, a JSON array of every page's body).
    #[arg(long)]
    pub all_pages: bool,
    /// Answer as autocomplete for the option being typed (the last one): a type-8 body.
    #[arg(long)]
    pub autocomplete: bool,
    /// The command as typed in Discord, e.g. '/reaction Turkey' or
    /// '/timeline date:2020-10-10 to:2020-10-12'.
    #[arg(required = true, num_args = 1.., value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Derive the dataset from the source text and the curation file.
    Build(BuildArgs),
    /// Validate a dataset (the embedded one, or --data PATH), check it against the
    /// source text and print its counts.
    Check {
        /// The source text to check quotes against (default: the embedded one).
        #[arg(long, value_name = "PATH")]
        source: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[arg(
        long,
        value_name = "PATH",
        default_value = "data/source/reactions-article.txt"
    )]
    pub source: PathBuf,
    #[arg(long, value_name = "PATH", default_value = "data/curation.toml")]
    pub curation: PathBuf,
    #[arg(long, value_name = "PATH", default_value = "data/reactions.json")]
    pub out: PathBuf,
}
