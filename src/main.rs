//! Start-up only: parse the command line, load what it names, run it.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use karabakh_core::commands::{Context, Core, Request};
use karabakh_core::reply::Reply;
use karabakh_reactions::cli::{AskArgs, Cli, Command, SiteCommand};
use karabakh_reactions::discord::gateway::{self, Sharding};
use karabakh_reactions::discord::register::{self, Scope};
use karabakh_reactions::discord::{endpoint, render, rest};
use karabakh_reactions::{admin, console, metrics, startup, web};

/// Exit code for a command line the bot cannot run (an unknown command or option).
const USAGE: u8 = 2;

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

fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

/// For the commands that write a reply to standard output (`ask`, the console): when
/// the reader goes away (`ask … | head -c 600`), the process ends as command-line
/// tools do, by SIGPIPE (exit status 141 in a shell), with nothing on standard error.
/// Rust ignores SIGPIPE by default, so a write would fail with EPIPE and `println!`
/// would panic. Not for `serve` or the gateway: a peer closing a socket must not end
/// a server.
fn end_quietly_on_a_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring a signal's default action, before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        None => {
            let loaded = startup::load_config(cli.config.as_deref())?;
            if let Some(token) = &loaded.config.secrets.token {
                let config = &loaded.config;
                let sharding = Sharding::from_cli(cli.shards, cli.total_shards)?;
                rest::check_token_shape(token.expose())?;
                startup::init_logging(&config.log.level);
                let data = cli.data.as_deref();
                block_on(async {
                    let service = startup::service(data, config).await?;
                    gateway::run(service, config, token, sharding).await
                })?;
                return Ok(ExitCode::SUCCESS);
            }
            if cli.shards.is_some() {
                return Err(
                    "--shards runs shards of the Discord bot, which needs DISCORD_TOKEN".to_owned(),
                );
            }
            let public_url = loaded.config.site.public_url.as_deref();
            let core = startup::core(startup::load_dataset(cli.data.as_deref())?, public_url);
            end_quietly_on_a_closed_pipe();
            let interactive = std::io::stdin().is_terminal();
            eprintln!(
                "karabakh-reactions is offline (no DISCORD_TOKEN set): type slash commands here, e.g. /help. \
                 To connect to Discord, set DISCORD_TOKEN and run it again."
            );
            let ansi = interactive && std::io::stdout().is_terminal();
            console::run(
                &core,
                std::io::stdin().lock(),
                std::io::stdout().lock(),
                console::Options {
                    prompt: interactive,
                    ansi,
                    locale: cli.locale.clone(),
                },
                now,
            )
            .map_err(|e| format!("console: {e}"))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Ask(args)) => {
            let loaded = startup::load_config(cli.config.as_deref())?;
            let public_url = loaded.config.site.public_url.as_deref();
            let core = startup::core(startup::load_dataset(cli.data.as_deref())?, public_url);
            end_quietly_on_a_closed_pipe();
            ask(&core, &args, cli.locale.as_deref())
        }
        Some(Command::Register { guild, print }) => {
            if print {
                println!("{}", register::body());
                return Ok(ExitCode::SUCCESS);
            }
            let loaded = startup::load_config(cli.config.as_deref())?;
            let config = &loaded.config;
            let token = config.secrets.token().map_err(|e| {
                format!("register sends the commands to Discord and needs the bot token ({e}); use --print to see them without sending")
            })?;
            rest::check_token_shape(token.expose())?;
            startup::init_logging(&config.log.level);
            let done = block_on(register::run(config, token, Scope::new(guild)))?;
            println!("{done}");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Site {
            command: SiteCommand::Build { dir },
        }) => {
            let loaded = startup::load_config(cli.config.as_deref())?;
            let public_url = loaded.config.site.public_url.clone();
            let core = startup::core(
                startup::load_dataset(cli.data.as_deref())?,
                public_url.as_deref(),
            );
            let site = karabakh_site::Site::new(
                std::sync::Arc::new(core),
                std::sync::Arc::new(karabakh_site::charts::ChartCache::default()),
                karabakh_site::Options {
                    public_url,
                    live: false,
                },
            );
            let started = std::time::Instant::now();
            let built = web::build(&site, &dir)?;
            println!(
                "wrote {} pages, {} charts and {} assets ({} KB) to {} in {:.1} s; the largest page is {} ({} KB)",
                built.pages,
                built.charts,
                built.assets,
                built.bytes / 1024,
                dir.display(),
                started.elapsed().as_secs_f64(),
                built.largest.0,
                built.largest.1 / 1024
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Schedule) => {
            let loaded = startup::load_config(cli.config.as_deref())?;
            let config = &loaded.config;
            let token = config.secrets.token().map_err(|e| {
                format!("schedule sends the daily posts through Discord's REST API and needs the bot token ({e})")
            })?;
            rest::check_token_shape(token.expose())?;
            startup::init_logging(&config.log.level);
            let data = cli.data.as_deref();
            block_on(async {
                let service = startup::service(data, config).await?;
                schedule(service, config, token).await
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Serve { listen }) => {
            let loaded = startup::load_config(cli.config.as_deref())?;
            let config = &loaded.config;
            let key = config.secrets.public_key().map_err(|e| {
                format!("serve checks every request against the application's public key ({e})")
            })?;
            let verifier = endpoint::verifier(key.expose())?;
            startup::init_logging(&config.log.level);
            let data = cli.data.as_deref();
            let addr = listen.unwrap_or(config.http.listen);
            let token = match &config.secrets.token {
                Some(token) => {
                    rest::check_token_shape(token.expose())?;
                    Some(token)
                }
                None => {
                    tracing::info!(
                        "no DISCORD_TOKEN: interactions are answered, but the daily posts are off (they are sent through Discord's REST API)"
                    );
                    None
                }
            };
            block_on(async {
                let service = startup::service(data, config).await?;
                serve(service, verifier, addr, config, token).await
            })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `ask`: one command, answered on standard output.
fn ask(core: &Core, args: &AskArgs, locale: Option<&str>) -> Result<ExitCode, String> {
    let line = args.command.join(" ");
    let mut context = Context::new(now());
    context.locale = locale.map(str::to_owned);
    let request = match console::request(&line, context, args.autocomplete) {
        Ok(request) => request,
        Err(e) => {
            eprintln!("karabakh-reactions: {e}");
            return Ok(ExitCode::from(USAGE));
        }
    };
    let first = core.respond(&request).reply;
    let replies: Vec<Reply> = match (&request, &first, args.all_pages) {
        (Request::Command(call), Reply::Message(m), true) if m.pages > 1 => {
            // Each page as its button asks for it: an answer may write only the page
            // it was asked for.
            let page = |n: usize| {
                let mut call = call.clone();
                call.page = n;
                Reply::Update(core.answer(&call).answer.page(n))
            };
            std::iter::once(first.clone())
                .chain((2..=m.pages).map(page))
                .collect()
        }
        _ => vec![first],
    };
    if let Some(dir) = &args.files {
        write_files(dir, &replies)?;
    }
    let ansi = std::io::stdout().is_terminal();
    if args.json {
        let bodies: Vec<String> = replies.iter().map(render::body).collect();
        if args.all_pages {
            println!("[{}]", bodies.join(","));
        } else {
            println!("{}", bodies[0]);
        }
    } else {
        let pages: Vec<String> = replies.iter().map(|r| console::render(r, ansi)).collect();
        print!("{}", pages.join("\n"));
    }
    Ok(ExitCode::SUCCESS)
}

/// `ask --files DIR`: the file each reply attaches (its chart's picture), written to
/// DIR under its own name (the name `data.attachments` gives it), one line each on
/// standard error.
fn write_files(dir: &std::path::Path, replies: &[Reply]) -> Result<(), String> {
    let charts = karabakh_site::charts::ChartCache::new(4);
    for (page, reply) in replies.iter().enumerate() {
        let (Reply::Message(m) | Reply::Update(m)) = reply else {
            continue;
        };
        let Some(figure) = &m.chart else { continue };
        let chart = charts
            .get(&figure.spec)
            .map_err(|e| format!("the chart could not be drawn: {e}"))?;
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(figure.spec.filename());
        std::fs::write(&path, &chart.png)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!(
            "page {}: {} ({} bytes, {}×{})",
            page + 1,
            path.display(),
            chart.png.len(),
            chart.width,
            chart.height
        );
    }
    Ok(())
}

/// Runs `future` on a multi-threaded tokio runtime built for it: only the Discord
/// paths need one, so the console and `ask` start without it. Blocking work still
/// running after the future ends gets two seconds, then the process moves on.
fn block_on<T>(future: impl std::future::Future<Output = Result<T, String>>) -> Result<T, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let result = runtime.block_on(future);
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    result
}

/// `schedule`: the daily posts' scheduler alone, until SIGINT or SIGTERM.
async fn schedule(
    service: karabakh_reactions::service::Service,
    config: &karabakh_reactions::operator::Config,
    token: &karabakh_reactions::operator::Secret,
) -> Result<(), String> {
    let stop = gateway::shutdown_signal()?;
    let http = rest::client(&config.discord.api_base, token)?;
    let Some(posts) = startup::start_scheduler(&service, config, std::sync::Arc::new(http)) else {
        return Err("the scheduler has no settings database to read the posts from".to_owned());
    };
    let admin = admin::start(
        config.admin.listen,
        startup::admin("schedule", &service).metrics(
            std::sync::Arc::clone(&posts.metrics) as std::sync::Arc<dyn metrics::MetricSet>
        ),
    )
    .await?;
    // One plain line whatever the log level: scripts and tests read it.
    eprintln!("karabakh-reactions: sending the daily posts");
    let signal = stop.await;
    tracing::info!(signal, "shutting down: finishing the posts in flight");
    posts.stop(gateway::SHUTDOWN_GRACE).await;
    if let Some(admin) = admin {
        admin.stop().await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// `serve`: the HTTP interactions endpoint on `addr` until SIGINT or SIGTERM.
async fn serve(
    service: karabakh_reactions::service::Service,
    verifier: serenity::interactions_endpoint::Verifier,
    addr: std::net::SocketAddr,
    config: &karabakh_reactions::operator::Config,
    token: Option<&karabakh_reactions::operator::Secret>,
) -> Result<(), String> {
    let stop = gateway::shutdown_signal()?;
    // The daily posts go out from here too when the bot has a token to send them with.
    let scheduler = token.and_then(
        |token| match rest::client(&config.discord.api_base, token) {
            Ok(http) => startup::spawn_scheduler(&service, config, std::sync::Arc::new(http)),
            Err(e) => {
                tracing::error!(error = %e, "the daily posts are off");
                None
            }
        },
    );
    let state = std::sync::Arc::new(endpoint::Endpoint::new(service.clone(), verifier));
    let mut view = startup::admin("serve", &service)
        .metrics(std::sync::Arc::clone(state.metrics()) as std::sync::Arc<dyn metrics::MetricSet>);
    if let Some(posts) = &scheduler {
        view = view.metrics(
            std::sync::Arc::clone(&posts.metrics) as std::sync::Arc<dyn metrics::MetricSet>
        );
    }
    let admin = admin::start(config.admin.listen, view).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    // One plain line whatever the log level: scripts (and tests using port 0) read it.
    eprintln!(
        "karabakh-reactions: listening on http://{bound}{}",
        endpoint::PATH
    );
    tracing::info!(addr = %bound, path = endpoint::PATH, "serving the interactions endpoint");
    let site = std::sync::Arc::new(karabakh_site::Site::new(
        std::sync::Arc::clone(&service.core),
        std::sync::Arc::clone(&service.charts),
        karabakh_site::Options {
            public_url: config.site.public_url.clone(),
            live: true,
        },
    ));
    let router = endpoint::app(state).merge(web::router(site));
    let served = endpoint::serve_router(listener, router, async move {
        let signal = stop.await;
        tracing::info!(signal, "shutting down: finishing the requests in flight");
    })
    .await;
    if let Some(posts) = scheduler {
        posts.stop(gateway::SHUTDOWN_GRACE).await;
    }
    if let Some(admin) = admin {
        admin.stop().await;
    }
    served.map_err(|e| format!("the HTTP server stopped: {e}"))?;
    tracing::info!("stopped");
    Ok(())
}
