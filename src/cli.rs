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
    /// The configuration file (default: config/bot.toml if it exists). See
    /// config/bot.example.toml.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Answer as to a Discord user with this locale, e.g. en-US or en-GB: en-US reads
    /// a numeric date such as 04/12/2020 month first, every other locale day first.
    #[arg(long, global = true, value_name = "LOCALE")]
    pub locale: Option<String>,
    /// With DISCORD_TOKEN: run only these shards, e.g. 0-3 (needs --total-shards).
    #[arg(long, value_name = "FIRST-LAST", requires = "total_shards", value_parser = parse_shards)]
    pub shards: Option<(u32, u32)>,
    /// With --shards: how many shards the bot has in all.
    #[arg(long, value_name = "N", requires = "shards")]
    pub total_shards: Option<u32>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `FIRST-LAST` (or one number) as a range of shard ids.
fn parse_shards(s: &str) -> Result<(u32, u32), String> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let first: u32 = a
        .trim()
        .parse()
        .map_err(|_| format!("'{a}' is not a shard number"))?;
    let last: u32 = b
        .trim()
        .parse()
        .map_err(|_| format!("'{b}' is not a shard number"))?;
    if last < first {
        return Err(format!("the range {first}-{last} ends before it starts"));
    }
    Ok((first, last))
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Answer one slash command, typed as in Discord, and print the reply.
    Ask(AskArgs),
    /// Bulk-overwrite the bot's slash commands on Discord (globally, or for one server).
    Register {
        /// Register for this server only (takes effect at once; global commands can
        /// take a while to appear).
        #[arg(long, value_name = "ID")]
        guild: Option<u64>,
        /// Print the JSON Discord would receive and send nothing.
        #[arg(long)]
        print: bool,
    },
    /// The public site: write it as static files.
    Site {
        #[command(subcommand)]
        command: SiteCommand,
    },
    /// Send the daily "on this day" posts and nothing else, until SIGINT or SIGTERM
    /// (needs DISCORD_TOKEN). Any number of these (and of `serve` and gateway
    /// processes with schedule.enabled) may run on one database.
    Schedule,
    /// Answer interactions over HTTP (Discord's interactions endpoint URL), and serve
    /// the public site on the same address.
    Serve {
        /// The address to listen on (default: http.listen in the config, 127.0.0.1:8080).
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Write every page of the site, its charts and its assets under DIR, for any
    /// static host (the search page then says that searching needs `serve`).
    Build {
        /// The folder to write (created if missing; files in it are overwritten).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// Print the interaction response body the bot would send (`{"type":4,"data":{…}}`);
    /// for a reply with a chart, the JSON part (`payload_json`) of its multipart body.
    #[arg(long)]
    pub json: bool,
    /// Print every page (with --json, a JSON array of every page's body).
    #[arg(long)]
    pub all_pages: bool,
    /// Answer as autocomplete for the option being typed (the last one): a type-8 body.
    #[arg(long)]
    pub autocomplete: bool,
    /// Write the files the reply attaches (its chart, e.g. timeline.png) into this
    /// folder; with --json, `data.attachments` names them.
    #[arg(long, value_name = "DIR")]
    pub files: Option<PathBuf>,
    /// The command as typed in Discord, e.g. '/reaction Turkey' or
    /// '/timeline date:2020-10-10 to:2020-10-12'.
    #[arg(required = true, num_args = 1.., value_name = "COMMAND")]
    pub command: Vec<String>,
}
