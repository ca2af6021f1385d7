//! Every page: its template (askama, checked at compile time), what it shows, and the
//! router from a path to a page.

use askama::Template;
use jiff::civil::{Date, date};
use karabakh_core::commands::{
    COMMANDS, Call, CommandSpec, Context, Kind, MANAGE_GUILD, Permission, Request, parse_line,
};
use karabakh_core::dataset::{ActorKind, Precision};
use karabakh_core::query::dates::Span;
use karabakh_core::query::search::DocRef;
use karabakh_core::reply::markdown::{date_of, day, day_of_year};
use karabakh_core::reply::{ChartSpec, Reply};
use karabakh_core::site as paths;

use crate::views::{ChartView, Cite, EmbedView, Layout, Link, StatementView, how, precision};
use crate::{CSS, Caching, ICON, ICON_PATH, Page, Site, html};

/// When the embed previews are answered: a fixed moment, so pages never change
/// between two renderings of the same dataset.
const PREVIEW_NOW: &str = "2026-01-01T12:00:00Z";

/// The longest query the search page reads (`/search`'s option takes 80).
const SEARCH_MAX: usize = 200;

// ---------------------------------------------------------------- templates

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    layout: Layout,
    statements: usize,
    dated: usize,
    actors: usize,
    topics: usize,
    citations: u16,
    chart: ChartView,
    commands: Vec<CommandRow>,
    browse: Vec<Link>,
}

struct CommandRow {
    href: String,
    usage: String,
    description: String,
    example: String,
}

#[derive(Template)]
#[template(path = "commands.html")]
struct Commands {
    layout: Layout,
    commands: Vec<CommandRow>,
}

#[derive(Template)]
#[template(path = "command.html")]
struct CommandPage {
    layout: Layout,
    name: String,
    usage: String,
    description: String,
    moderators: bool,
    guild_only: bool,
    options: Vec<OptionRow>,
    subcommands: Vec<(String, String)>,
    examples: Vec<EmbedView>,
}

struct OptionRow {
    name: String,
    kind: String,
    required: bool,
    description: String,
}

#[derive(Template)]
#[template(path = "actors.html")]
struct Actors {
    layout: Layout,
    groups: Vec<ActorGroup>,
}

struct ActorGroup {
    label: &'static str,
    actors: Vec<ActorRow>,
}

struct ActorRow {
    href: String,
    name: String,
    own: usize,
    mentioned: usize,
}

#[derive(Template)]
#[template(path = "actor.html")]
struct ActorPage {
    layout: Layout,
    name: String,
    what: String,
    role: Option<String>,
    aliases: Vec<String>,
    speaks_for: Option<Link>,
    speakers: Vec<Link>,
    chart: Option<ChartView>,
    own: Vec<StatementView>,
    mentioned: Vec<StatementView>,
    command: String,
}

#[derive(Template)]
#[template(path = "statements.html")]
struct Statements {
    layout: Layout,
    paragraphs: Vec<Paragraph>,
    total: usize,
}

struct Paragraph {
    line: u32,
    statements: Vec<StatementView>,
}

#[derive(Template)]
#[template(path = "statement.html")]
struct StatementPage {
    layout: Layout,
    heading: String,
    statement: StatementView,
    date: String,
    date_href: Option<String>,
    precision: &'static str,
    how: &'static str,
    phrase: Option<String>,
    actors: Vec<Link>,
    mentions: Vec<Link>,
    date_mentions: Vec<String>,
    cites: Vec<Cite>,
    line: u32,
    paragraph: Vec<StatementView>,
    chart: Option<ChartView>,
    chart_actor: Option<Link>,
    permalink: Option<String>,
    article_url: String,
}

#[derive(Template)]
#[template(path = "dates.html")]
struct Dates {
    layout: Layout,
    years: Vec<YearRow>,
    /// Years whose only entries are background summaries spanning many years.
    spanned: Vec<Link>,
    undated: usize,
    on_this_day: Vec<Link>,
    statements_href: String,
}

struct YearRow {
    link: Link,
    months: Vec<Link>,
}

#[derive(Template)]
#[template(path = "date.html")]
struct DatePage {
    layout: Layout,
    heading: String,
    intro: String,
    up: Option<Link>,
    within: Vec<Link>,
    chart: Option<ChartView>,
    groups: Vec<Group>,
    loose: Vec<StatementView>,
    events: Vec<EventView>,
    mentions: Vec<StatementView>,
    command: String,
    previous: Option<Link>,
    next: Option<Link>,
}

struct Group {
    id: String,
    heading: String,
    href: Option<String>,
    statements: Vec<StatementView>,
}

struct EventView {
    date: String,
    /// The page of the event's day or month, when it has one.
    date_href: Option<String>,
    topic: Link,
    sentence: String,
}

#[derive(Template)]
#[template(path = "citations.html")]
struct Citations {
    layout: Layout,
    rows: Vec<(Link, usize)>,
    references_url: String,
}

#[derive(Template)]
#[template(path = "citation.html")]
struct CitationPage {
    layout: Layout,
    n: u16,
    references_url: String,
    statements: Vec<StatementView>,
    excerpts: Vec<(String, String)>,
    previous: Option<Link>,
    next: Option<Link>,
}

#[derive(Template)]
#[template(path = "topics.html")]
struct Topics {
    layout: Layout,
    topics: Vec<(Link, String)>,
}

#[derive(Template)]
#[template(path = "topic.html")]
struct TopicPage {
    layout: Layout,
    title: String,
    /// The Wikipedia article the summary is the lead of: credited by title and link.
    article_url: String,
    text: String,
    events: Vec<EventView>,
    command: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    layout: Layout,
    live: bool,
    query: String,
    searched: bool,
    count: usize,
    results: Vec<SearchResult>,
    statements_href: String,
    browse: Vec<Link>,
    command: String,
}

enum SearchResult {
    Statement(StatementView),
    Topic {
        link: Link,
        text_html: String,
    },
    /// A quote left in the article's reference list: shown as that, with no page of
    /// its own and no citation (the source does not say which reference it is from).
    Excerpt {
        text_html: String,
    },
}

#[derive(Template)]
#[template(path = "about.html")]
struct About {
    layout: Layout,
    statements: usize,
    dated: usize,
    actors: usize,
    topics: usize,
    excerpts: usize,
    citations: u16,
    reactions_dated: String,
    background_dated: String,
    version: String,
    chart: ChartView,
    licence_page: String,
    statements_href: String,
}

#[derive(Template)]
#[template(path = "licence.html")]
struct Licence {
    layout: Layout,
}

#[derive(Template)]
#[template(path = "terms.html")]
struct Terms {
    layout: Layout,
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct Privacy {
    layout: Layout,
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFound {
    layout: Layout,
    path: String,
}

// ---------------------------------------------------------------- routing

/// What a path names.
enum Route {
    Home,
    Commands,
    Command(&'static CommandSpec),
    Actors,
    Actor(usize),
    Statements,
    Statement(usize),
    Dates,
    Year(i16),
    Month(i16, i8),
    Day(Date),
    OnThisDay(i8, i8),
    Citations,
    Citation(u16),
    Topics,
    Topic(usize),
    Search,
    About,
    Licence,
    Terms,
    Privacy,
    Chart(u64),
    Css,
    Icon,
}

fn route(site: &Site, path: &str) -> Option<Route> {
    let ix = &site.core().index;
    let data = &ix.data;
    Some(match path {
        paths::HOME => Route::Home,
        paths::COMMANDS => Route::Commands,
        paths::ACTORS => Route::Actors,
        "/statements/" => Route::Statements,
        paths::DATES => Route::Dates,
        paths::CITATIONS => Route::Citations,
        paths::TOPICS => Route::Topics,
        paths::SEARCH => Route::Search,
        paths::ABOUT => Route::About,
        paths::LICENCE => Route::Licence,
        paths::TERMS => Route::Terms,
        paths::PRIVACY => Route::Privacy,
        ICON_PATH => Route::Icon,
        p if p == site.css_path => Route::Css,
        _ => {
            let (section, rest) = path.strip_prefix('/')?.split_once('/')?;
            if section == "charts" {
                let key = rest.strip_suffix(".png")?;
                if key.len() != 16 {
                    return None;
                }
                let key = u64::from_str_radix(key, 16).ok()?;
                return site
                    .chart_specs
                    .contains_key(&key)
                    .then_some(Route::Chart(key));
            }
            let item = rest.strip_suffix('/')?;
            if item.is_empty() || item.contains('/') {
                return None;
            }
            match section {
                "commands" => Route::Command(COMMANDS.iter().find(|c| c.name == item)?),
                "actors" => Route::Actor(ix.actor_index(item)?),
                "statements" => {
                    Route::Statement(data.statements.iter().position(|s| s.id == item)?)
                }
                "citations" => {
                    let n: u16 = item.parse().ok()?;
                    (item == n.to_string() && (1..=data.source.citations).contains(&n))
                        .then_some(Route::Citation(n))?
                }
                "topics" => Route::Topic(data.topics.iter().position(|t| t.id == item)?),
                "onthisday" => {
                    let (m, d) = item.split_once('-')?;
                    let (m, d): (i8, i8) = (m.parse().ok()?, d.parse().ok()?);
                    (item == format!("{m:02}-{d:02}") && site.dates.on_this_day.contains(&(m, d)))
                        .then_some(Route::OnThisDay(m, d))?
                }
                "dates" => date_route(site, item)?,
                _ => return None,
            }
        }
    })
}

/// `2020`, `2020-10` or `2020-10-02`, when that date has a page.
fn date_route(site: &Site, item: &str) -> Option<Route> {
    let parts: Vec<&str> = item.split('-').collect();
    let num = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<i16>().ok())
            .flatten()
    };
    match parts.as_slice() {
        [y] => {
            let y = num(y, 4)?;
            site.dates.years.contains(&y).then_some(Route::Year(y))
        }
        [y, m] => {
            let (y, m) = (num(y, 4)?, num(m, 2)? as i8);
            site.dates
                .months
                .contains(&(y, m))
                .then_some(Route::Month(y, m))
        }
        [_, _, _] => {
            let d: Date = item.parse().ok()?;
            (d.to_string() == item && site.dates.days.contains(&d)).then_some(Route::Day(d))
        }
        _ => None,
    }
}

/// Whether `path` has a page.
pub fn exists(site: &Site, path: &str) -> bool {
    route(site, path).is_some()
}

/// The page at `path` (`query` is read by the search page only).
pub fn render(site: &Site, path: &str, query: &str) -> Option<Page> {
    let route = route(site, path)?;
    let html = |t: Result<String, askama::Error>| {
        Page::html(t.expect("templates render (their fields are plain data)"))
    };
    Some(match route {
        Route::Home => html(home(site).render()),
        Route::Commands => html(commands(site).render()),
        Route::Command(spec) => html(command(site, spec).render()),
        Route::Actors => html(actors(site).render()),
        Route::Actor(a) => html(actor(site, a).render()),
        Route::Statements => html(statements(site).render()),
        Route::Statement(si) => html(statement(site, si).render()),
        Route::Dates => html(dates(site).render()),
        Route::Year(y) => {
            let from = date(y, 1, 1);
            html(
                date_page(
                    site,
                    Span {
                        from,
                        to: from.last_of_year(),
                    },
                )
                .render(),
            )
        }
        Route::Month(y, m) => {
            let from = date(y, m, 1);
            html(
                date_page(
                    site,
                    Span {
                        from,
                        to: from.last_of_month(),
                    },
                )
                .render(),
            )
        }
        Route::Day(d) => html(date_page(site, Span { from: d, to: d }).render()),
        Route::OnThisDay(m, d) => html(on_this_day(site, m, d).render()),
        Route::Citations => html(citations(site).render()),
        Route::Citation(n) => html(citation(site, n).render()),
        Route::Topics => html(topics(site).render()),
        Route::Topic(t) => html(topic(site, t).render()),
        Route::Search => html(search(site, query).render()),
        Route::About => html(about(site).render()),
        Route::Licence => html(
            Licence {
                layout: site.layout(
                    paths::LICENCE,
                    "Licence and attribution",
                    "Where the text comes from and how it may be reused.",
                ),
            }
            .render(),
        ),
        Route::Terms => html(
            Terms {
                layout: site.layout(
                    paths::TERMS,
                    "Terms of use",
                    "The terms of using the bot and this site.",
                ),
            }
            .render(),
        ),
        Route::Privacy => html(
            Privacy {
                layout: site.layout(
                    paths::PRIVACY,
                    "Privacy policy",
                    "What the bot stores, and what it does not.",
                ),
            }
            .render(),
        ),
        Route::Chart(key) => Page::new("image/png", site.chart_png(key)?, Caching::Immutable),
        Route::Css => Page::new(
            "text/css; charset=utf-8",
            CSS.as_bytes().to_vec(),
            Caching::Immutable,
        ),
        Route::Icon => Page::new("image/svg+xml", ICON.as_bytes().to_vec(), Caching::Page),
    })
}

/// Every page's path (charts and assets apart), in a stable order.
pub fn every_page(site: &Site) -> Vec<String> {
    let data = site.core().data();
    let mut out: Vec<String> = [
        paths::HOME,
        paths::COMMANDS,
        paths::ACTORS,
        "/statements/",
        paths::DATES,
        paths::CITATIONS,
        paths::TOPICS,
        paths::SEARCH,
        paths::ABOUT,
        paths::LICENCE,
        paths::TERMS,
        paths::PRIVACY,
    ]
    .iter()
    .map(|p| (*p).to_owned())
    .collect();
    out.extend(COMMANDS.iter().map(|c| paths::command(c.name)));
    out.extend(data.actors.iter().map(|a| paths::actor(&a.id)));
    out.extend(data.statements.iter().map(|s| paths::statement(&s.id)));
    out.extend(site.dates.years.iter().map(|y| paths::year(*y)));
    out.extend(site.dates.months.iter().map(|(y, m)| paths::month(*y, *m)));
    out.extend(site.dates.days.iter().map(|d| paths::day(*d)));
    out.extend(
        site.dates
            .on_this_day
            .iter()
            .map(|(m, d)| paths::on_this_day(*m, *d)),
    );
    out.extend((1..=data.source.citations).map(paths::citation));
    out.extend(data.topics.iter().map(|t| paths::topic(&t.id)));
    out
}

/// Every chart a page shows: actors' strips, the dates' timelines, the coverage, and
/// the charts of the commands' example replies.
pub fn every_chart(site: &Site) -> Vec<ChartSpec> {
    let core = site.core();
    let mut out = vec![core.coverage_chart()];
    out.extend((0..core.data().actors.len()).filter_map(|a| core.actor_chart(a)));
    for &y in &site.dates.years {
        let from = date(y, 1, 1);
        out.extend(core.timeline_chart(&Span {
            from,
            to: from.last_of_year(),
        }));
    }
    for &(y, m) in &site.dates.months {
        let from = date(y, m, 1);
        out.extend(core.timeline_chart(&Span {
            from,
            to: from.last_of_month(),
        }));
    }
    for spec in COMMANDS {
        for line in examples(spec) {
            if let Some(Reply::Message(m)) = preview(site, line) {
                out.extend(m.chart.map(|c| c.spec));
            }
        }
    }
    out
}

// ---------------------------------------------------------------- pages

fn counts(site: &Site) -> (usize, usize) {
    let data = site.core().data();
    (
        data.statements.len(),
        data.statements.iter().filter(|s| s.date.is_known()).count(),
    )
}

/// A command's description as a sentence: with a final full stop unless it ends
/// with one or an ellipsis.
fn sentence(description: &str) -> String {
    if description.ends_with(['.', '…']) {
        description.to_owned()
    } else {
        format!("{description}.")
    }
}

fn command_rows(site: &Site, from: &str) -> Vec<CommandRow> {
    COMMANDS
        .iter()
        .map(|c| CommandRow {
            href: site.href(from, &paths::command(c.name)),
            usage: c.usage(),
            description: sentence(c.description),
            example: c.example.to_owned(),
        })
        .collect()
}

fn browse(site: &Site, from: &str) -> Vec<Link> {
    [
        (
            paths::ACTORS,
            "By actor: every state, organisation and person quoted",
        ),
        (paths::DATES, "By date: years, months and days"),
        (paths::CITATIONS, "By citation number: [1] to the last"),
        (
            "/statements/",
            "Every statement, in the order of the article",
        ),
        (paths::TOPICS, "Background topics"),
    ]
    .iter()
    .map(|(p, label)| Link {
        href: site.href(from, p),
        label: (*label).to_owned(),
    })
    .collect()
}

fn home(site: &Site) -> Home {
    let p = paths::HOME;
    let data = site.core().data();
    let (statements, dated) = counts(site);
    Home {
        layout: site.layout(
            p,
            "what was said about the 2020 Nagorno-Karabakh war, quoted",
            "A Discord bot that quotes the international reactions to the 2020 Nagorno-Karabakh war from the Wikipedia article, word for word, with its citations.",
        ),
        statements,
        dated,
        actors: data.actors.len(),
        topics: data.topics.len(),
        citations: data.source.citations,
        chart: site.chart(p, &site.core().coverage_chart()),
        commands: command_rows(site, p),
        browse: browse(site, p),
    }
}

fn commands(site: &Site) -> Commands {
    let p = paths::COMMANDS;
    Commands {
        layout: site.layout(
            p,
            "Commands",
            "Every command of the bot, with examples and its replies.",
        ),
        commands: command_rows(site, p),
    }
}

/// The examples a command's page shows: a few more than the table's for the
/// commands that answer in more ways, then the table's.
fn examples(spec: &CommandSpec) -> Vec<&'static str> {
    let extra: &[&str] = match spec.name {
        "timeline" => &[
            "/timeline 2020-10",
            "/timeline date:2020-10-16 to:2020-10-18",
        ],
        "reaction" => &["/reaction Erdogan"],
        _ => &[],
    };
    let mut all: Vec<&'static str> = extra.to_vec();
    if !all.contains(&spec.example) {
        all.push(spec.example);
    }
    all
}

/// The bot's reply to `line`, as answered in a server by a moderator at a fixed
/// moment (so that `/config show` shows the defaults and pages never change).
fn preview(site: &Site, line: &str) -> Option<Reply> {
    let parsed = parse_line(line).ok()?;
    let mut context = Context::new(PREVIEW_NOW.parse().expect("a timestamp"));
    context.guild_id = Some(1);
    context.user_id = Some(1);
    context.permissions = Some(MANAGE_GUILD);
    let mut call = Call::new(parsed.command.name, parsed.options, context);
    call.subcommand = parsed.subcommand.map(str::to_owned);
    Some(site.core().respond(&Request::Command(call)).reply)
}

fn command(site: &Site, spec: &'static CommandSpec) -> CommandPage {
    let p = paths::command(spec.name);
    let kind = |k: Kind| match k {
        Kind::Text { max_length } => format!("text, up to {max_length} characters"),
        Kind::Integer { min, max } => format!("a number from {min} to {max}"),
        Kind::Boolean => "true or false".to_owned(),
        Kind::Channel => "a text channel".to_owned(),
        Kind::Choice(words) => format!("one of: {}", words.join(", ")),
    };
    CommandPage {
        layout: site.layout(&p, &format!("/{}", spec.name), spec.description),
        name: spec.name.to_owned(),
        usage: spec.usage(),
        description: sentence(spec.description),
        moderators: spec.permission == Permission::ManageServer,
        guild_only: spec.guild_only,
        options: spec
            .options
            .iter()
            .map(|o| OptionRow {
                name: o.name.to_owned(),
                kind: kind(o.kind),
                required: o.required,
                description: o.description.to_owned(),
            })
            .collect(),
        subcommands: spec
            .subcommand_usages()
            .into_iter()
            .map(|(u, d)| (u, d.to_owned()))
            .collect(),
        examples: examples(spec)
            .into_iter()
            .filter_map(|line| match preview(site, line)? {
                Reply::Message(m) | Reply::Update(m) => Some(site.embed(&p, line, &m)),
                Reply::Choices(_) => None,
            })
            .collect(),
    }
}

fn kind_group(kind: ActorKind) -> (u8, &'static str) {
    match kind {
        ActorKind::State => (0, "States"),
        ActorKind::UnrecognisedState => (1, "Unrecognised states"),
        ActorKind::InternationalOrganisation => (2, "International organisations"),
        ActorKind::Person => (3, "People"),
        ActorKind::Institution | ActorKind::Legislature | ActorKind::Party => {
            (4, "Institutions, legislatures and parties")
        }
        ActorKind::Organisation | ActorKind::SportsBody | ActorKind::Company => {
            (5, "Organisations, sports bodies and companies")
        }
        ActorKind::Community | ActorKind::Group => (6, "Communities and groups"),
    }
}

fn actors(site: &Site) -> Actors {
    let p = paths::ACTORS;
    let ix = &site.core().index;
    let mut groups: Vec<(u8, ActorGroup)> = Vec::new();
    let mut order: Vec<usize> = (0..ix.data.actors.len()).collect();
    order.sort_by(|&a, &b| {
        ix.actor(a)
            .name
            .to_lowercase()
            .cmp(&ix.actor(b).name.to_lowercase())
    });
    for a in order {
        let actor = ix.actor(a);
        let (rank, label) = kind_group(actor.kind);
        let row = ActorRow {
            href: site.href(p, &paths::actor(&actor.id)),
            name: actor.name.clone(),
            own: ix.statements_of(a).len(),
            mentioned: ix.mentions_of(a).len(),
        };
        match groups.iter_mut().find(|(r, _)| *r == rank) {
            Some((_, g)) => g.actors.push(row),
            None => groups.push((
                rank,
                ActorGroup {
                    label,
                    actors: vec![row],
                },
            )),
        }
    }
    groups.sort_by_key(|(r, _)| *r);
    Actors {
        layout: site.layout(
            p,
            "Actors",
            "Every state, organisation and person the dataset quotes or names.",
        ),
        groups: groups.into_iter().map(|(_, g)| g).collect(),
    }
}

fn actor(site: &Site, a: usize) -> ActorPage {
    let core = site.core();
    let ix = &core.index;
    let actor = ix.actor(a);
    let p = paths::actor(&actor.id);
    let link = |i: usize| Link {
        href: site.href(&p, &paths::actor(&ix.actor(i).id)),
        label: ix.actor(i).name.clone(),
    };
    let mut speakers: Vec<usize> = (0..ix.data.actors.len())
        .filter(|&i| ix.actor(i).speaks_for.as_deref() == Some(actor.id.as_str()))
        .collect();
    speakers.sort_by(|&x, &y| ix.actor(x).name.cmp(&ix.actor(y).name));
    let mut what = karabakh_core::text::capitalise(actor.kind.label());
    if let Some(parent) = actor
        .speaks_for
        .as_deref()
        .and_then(|id| ix.actor_index(id))
    {
        what = format!("{what}, speaking for {}", ix.actor(parent).name);
    }
    ActorPage {
        layout: site.layout(
            &p,
            &actor.name,
            &format!(
                "What {} said, quoted from the Wikipedia article with its citations.",
                actor.name
            ),
        ),
        name: actor.name.clone(),
        what,
        role: actor.role.clone(),
        aliases: actor.aliases.clone(),
        speaks_for: actor
            .speaks_for
            .as_deref()
            .and_then(|id| ix.actor_index(id))
            .map(link),
        speakers: speakers.into_iter().map(link).collect(),
        chart: core.actor_chart(a).map(|spec| site.chart(&p, &spec)),
        own: ix
            .statements_of(a)
            .iter()
            .map(|&si| site.statement(&p, si, &[]))
            .collect(),
        mentioned: ix
            .mentions_of(a)
            .iter()
            .map(|&si| site.statement(&p, si, &[]))
            .collect(),
        command: format!("/reaction {}", actor.name),
    }
}

fn statements(site: &Site) -> Statements {
    let p = "/statements/";
    let data = site.core().data();
    let mut paragraphs: Vec<Paragraph> = Vec::new();
    for (si, s) in data.statements.iter().enumerate() {
        let view = site.statement(p, si, &[]);
        match paragraphs.last_mut() {
            Some(para) if para.line == s.line => para.statements.push(view),
            _ => paragraphs.push(Paragraph {
                line: s.line,
                statements: vec![view],
            }),
        }
    }
    Statements {
        layout: site.layout(
            p,
            "Every statement",
            "Every statement of the dataset, in the order of the article.",
        ),
        total: data.statements.len(),
        paragraphs,
    }
}

fn statement(site: &Site, si: usize) -> StatementPage {
    let core = site.core();
    let ix = &core.index;
    let s = &ix.data.statements[si];
    let p = paths::statement(&s.id);
    let actor_link = |id: &String| {
        ix.actor_index(id).map(|i| Link {
            href: site.href(&p, &paths::actor(&ix.actor(i).id)),
            label: ix.actor(i).name.clone(),
        })
    };
    let actors: Vec<Link> = s.actors.iter().filter_map(actor_link).collect();
    let who = if actors.is_empty() {
        "Statement".to_owned()
    } else {
        format!(
            "{} statement",
            actors
                .iter()
                .map(|a| a.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let heading = match s.date.precision {
        Precision::Unknown => who,
        _ => format!("{who}, {}", date_of(&s.date)),
    };
    let view = site.statement(&p, si, &[]);
    let paragraph = ix
        .data
        .statements
        .iter()
        .enumerate()
        .filter(|(_, o)| o.line == s.line)
        .map(|(i, _)| {
            let mut v = site.statement(&p, i, &[]);
            v.current = i == si;
            v
        })
        .collect();
    // The chart of the first actor with dated statements.
    let charted = s
        .actors
        .iter()
        .filter_map(|id| ix.actor_index(id))
        .find_map(|a| core.actor_chart(a).map(|spec| (a, spec)));
    StatementPage {
        layout: site.layout(&p, &heading, &s.text.chars().take(150).collect::<String>()),
        heading,
        date: date_of(&s.date),
        date_href: view.date_href.clone(),
        precision: precision(s.date.precision),
        how: how(s.date.how),
        phrase: s.date.phrase.clone(),
        actors,
        mentions: s.mentions.iter().filter_map(actor_link).collect(),
        date_mentions: s.date_mentions.iter().map(date_of).collect(),
        cites: s.citations.iter().map(|&n| site.cite(&p, n)).collect(),
        line: s.line,
        paragraph,
        chart: charted.as_ref().map(|(_, spec)| site.chart(&p, spec)),
        chart_actor: charted.map(|(a, _)| Link {
            href: site.href(&p, &paths::actor(&ix.actor(a).id)),
            label: ix.actor(a).name.clone(),
        }),
        permalink: site.options.public_url.as_ref().map(|b| format!("{b}{p}")),
        article_url: ix.data.source.url.clone(),
        statement: view,
    }
}

fn dates(site: &Site) -> Dates {
    let p = paths::DATES;
    let d = &site.dates;
    let has_days = |y: i16| d.days.iter().any(|day| day.year() == y);
    let (years, spanned): (Vec<i16>, Vec<i16>) = d
        .years
        .iter()
        .partition(|&&y| has_days(y) || d.listed_months.iter().any(|(my, _)| *my == y));
    let spanned = spanned
        .into_iter()
        .map(|y| Link {
            href: site.href(p, &paths::year(y)),
            label: y.to_string(),
        })
        .collect();
    let years = years
        .into_iter()
        .map(|y| YearRow {
            link: Link {
                href: site.href(p, &paths::year(y)),
                label: y.to_string(),
            },
            months: d
                .listed_months
                .iter()
                .filter(|(my, _)| *my == y)
                .map(|&(my, m)| Link {
                    href: site.href(p, &paths::month(my, m)),
                    label: karabakh_core::text::month_name(m).to_owned(),
                })
                .collect(),
        })
        .collect();
    Dates {
        layout: site.layout(p, "Dates", "The dataset by year, month and day."),
        years,
        spanned,
        undated: site
            .core()
            .data()
            .statements
            .iter()
            .filter(|s| !s.date.is_known())
            .count(),
        on_this_day: d
            .on_this_day
            .iter()
            .map(|&(m, dd)| Link {
                href: site.href(p, &paths::on_this_day(m, dd)),
                label: day_of_year(m, dd),
            })
            .collect(),
        statements_href: site.href(p, "/statements/"),
    }
}

fn event_views(site: &Site, from: &str, events: &[(usize, usize)]) -> Vec<EventView> {
    let data = site.core().data();
    events
        .iter()
        .map(|&(t, e)| {
            let topic = &data.topics[t];
            let when = &topic.events[e].date;
            let date_href = when.start.and_then(|d| match when.precision {
                Precision::Day | Precision::Days | Precision::Range
                    if site.dates.days.contains(&d) =>
                {
                    Some(paths::day(d))
                }
                Precision::Month if site.dates.months.contains(&(d.year(), d.month())) => {
                    Some(paths::month(d.year(), d.month()))
                }
                _ => None,
            });
            EventView {
                date_href: date_href.filter(|p| p != from).map(|p| site.href(from, &p)),
                date: date_of(when),
                topic: Link {
                    href: site.href(from, &paths::topic(&topic.id)),
                    label: topic.title.clone(),
                },
                sentence: topic.events[e].sentence.clone(),
            }
        })
        .collect()
}

/// A day's, a month's or a year's page: what `/timeline` lists for it, the day-dated
/// statements grouped by day.
fn date_page(site: &Site, span: Span) -> DatePage {
    let core = site.core();
    let ix = &core.index;
    let p = paths::span(&span);
    let (label, command) = if span.is_single_day() {
        (day(span.from), format!("/timeline {}", span.from))
    } else if span.is_month() {
        (
            format!(
                "{} {}",
                karabakh_core::text::month_name(span.from.month()),
                span.from.year()
            ),
            format!("/timeline {}", span.key()),
        )
    } else {
        (
            span.from.year().to_string(),
            format!("/timeline {}", span.from.year()),
        )
    };
    let on_days = ix.statements_on(span.from, span.to);
    let mut groups: Vec<Group> = Vec::new();
    for &si in &on_days {
        let s = &ix.data.statements[si];
        // Grouped by the first day of the statement that falls in the span.
        let d = s
            .date
            .start
            .filter(|d| (span.from..=span.to).contains(d))
            .or_else(|| {
                s.date
                    .days
                    .iter()
                    .copied()
                    .find(|d| (span.from..=span.to).contains(d))
            })
            .unwrap_or(span.from);
        let view = site.statement(&p, si, &[]);
        match groups.last_mut() {
            Some(g) if g.id == paths::day_anchor(d) => g.statements.push(view),
            _ => groups.push(Group {
                id: paths::day_anchor(d),
                heading: day(d),
                href: (!span.is_single_day() && site.dates.days.contains(&d))
                    .then(|| site.href(&p, &paths::day(d))),
                statements: vec![view],
            }),
        }
    }
    // Statements dated only to a month or a year that holds the span: listed as the
    // reply lists them (a day inside them shows them too), under their own heading.
    let coarse = ix.statements_in_months(span.from, span.to);
    let loose: Vec<StatementView> = coarse
        .iter()
        .map(|&si| site.statement(&p, si, &[]))
        .collect();
    let listed: Vec<usize> = on_days.iter().copied().chain(coarse).collect();
    let mentions: Vec<StatementView> = ix
        .mentioning(span.from, span.to)
        .into_iter()
        .filter(|i| !listed.contains(i))
        .map(|si| site.statement(&p, si, &[]))
        .collect();
    let events = event_views(site, &p, &ix.events_in(span.from, span.to));
    let (up, within) = if span.is_single_day() {
        let (y, m) = (span.from.year(), span.from.month());
        (
            site.dates.months.contains(&(y, m)).then(|| Link {
                href: site.href(&p, &paths::month(y, m)),
                label: format!("{} {y}", karabakh_core::text::month_name(m)),
            }),
            Vec::new(),
        )
    } else if span.is_month() {
        let y = span.from.year();
        (
            site.dates.years.contains(&y).then(|| Link {
                href: site.href(&p, &paths::year(y)),
                label: y.to_string(),
            }),
            Vec::new(),
        )
    } else {
        let y = span.from.year();
        (
            Some(Link {
                href: site.href(&p, paths::DATES),
                label: "All dates".to_owned(),
            }),
            site.dates
                .listed_months
                .iter()
                .filter(|(my, _)| *my == y)
                .map(|&(my, m)| Link {
                    href: site.href(&p, &paths::month(my, m)),
                    label: karabakh_core::text::month_name(m).to_owned(),
                })
                .collect(),
        )
    };
    let n = listed.len();
    let intro = match (n, events.len()) {
        (0, 0) => format!("No reaction in the dataset is dated {label}."),
        (n, e) => {
            let mut parts = Vec::new();
            if n > 0 {
                parts.push(format!(
                    "{n} {}",
                    if n == 1 { "reaction" } else { "reactions" }
                ));
            }
            if e > 0 {
                parts.push(format!(
                    "{e} {}",
                    if e == 1 {
                        "background event"
                    } else {
                        "background events"
                    }
                ));
            }
            format!(
                "{}, in date order, as /timeline lists them.",
                parts.join(" and ")
            )
        }
    };
    // A day's page leads to the days with entries before and after it.
    let neighbour = |d: Option<&Date>, word: &str| {
        d.filter(|_| span.is_single_day()).map(|d| Link {
            href: site.href(&p, &paths::day(*d)),
            label: format!("{word}: {}", day(*d)),
        })
    };
    let previous = neighbour(
        site.dates.days.range(..span.from).next_back(),
        "Previous day with entries",
    );
    let next = neighbour(
        site.dates.days.range(span.to..).find(|d| **d > span.to),
        "Next day with entries",
    );
    DatePage {
        previous,
        next,
        layout: site.layout(
            &p,
            &label,
            &format!("What the dataset records for {label}."),
        ),
        heading: label,
        intro,
        up,
        within,
        chart: core.timeline_chart(&span).map(|spec| site.chart(&p, &spec)),
        groups,
        loose,
        events,
        mentions,
        command,
    }
}

fn on_this_day(site: &Site, m: i8, d: i8) -> DatePage {
    let ix = &site.core().index;
    let p = paths::on_this_day(m, d);
    let label = day_of_year(m, d);
    let found = ix.on_this_day(m, d);
    let mut groups: Vec<Group> = Vec::new();
    for &si in &found.on_day {
        let s = &ix.data.statements[si];
        let when = s
            .date
            .start
            .filter(|x| x.month() == m && x.day() == d)
            .or_else(|| {
                s.date
                    .days
                    .iter()
                    .copied()
                    .find(|x| x.month() == m && x.day() == d)
            })
            .unwrap_or_else(|| date(2020, m, d));
        let view = site.statement(&p, si, &[]);
        match groups.last_mut() {
            Some(g) if g.id == paths::day_anchor(when) => g.statements.push(view),
            _ => groups.push(Group {
                id: paths::day_anchor(when),
                heading: day(when),
                href: site
                    .dates
                    .days
                    .contains(&when)
                    .then(|| site.href(&p, &paths::day(when))),
                statements: vec![view],
            }),
        }
    }
    DatePage {
        layout: site.layout(
            &p,
            &format!("On this day: {label}"),
            &format!("What the dataset records on {label}, in any year."),
        ),
        heading: format!("On this day: {label}"),
        intro: format!("What the dataset records on {label}, in any year, as /onthisday lists it."),
        up: Some(Link {
            href: site.href(&p, paths::DATES),
            label: "All dates".to_owned(),
        }),
        within: Vec::new(),
        chart: None,
        groups,
        loose: found
            .in_month
            .iter()
            .map(|&si| site.statement(&p, si, &[]))
            .collect(),
        events: event_views(site, &p, &found.events),
        mentions: Vec::new(),
        command: format!("/onthisday {label}"),
        previous: None,
        next: None,
    }
}

fn citations(site: &Site) -> Citations {
    let p = paths::CITATIONS;
    let data = site.core().data();
    Citations {
        layout: site.layout(
            p,
            "Citations",
            "Every citation number of the article, with the statements that cite it.",
        ),
        rows: (1..=data.source.citations)
            .map(|n| {
                (
                    Link {
                        href: site.href(p, &paths::citation(n)),
                        label: format!("[{n}]"),
                    },
                    site.core().index.citing(n).len(),
                )
            })
            .collect(),
        references_url: data.source.references_url.clone(),
    }
}

fn citation(site: &Site, n: u16) -> CitationPage {
    let p = paths::citation(n);
    let data = site.core().data();
    let last = data.source.citations;
    let link = |k: u16| Link {
        href: site.href(&p, &paths::citation(k)),
        label: format!("[{k}]"),
    };
    CitationPage {
        layout: site.layout(
            &p,
            &format!("Citation [{n}]"),
            &format!("Every statement that cites [{n}]."),
        ),
        n,
        references_url: data.source.references_url.clone(),
        statements: site
            .core()
            .index
            .citing(n)
            .iter()
            .map(|&si| site.statement(&p, si, &[]))
            .collect(),
        // The source ties no reference-list quote to a citation number (issue 11).
        excerpts: Vec::new(),
        previous: (n > 1).then(|| link(n - 1)),
        next: (n < last).then(|| link(n + 1)),
    }
}

fn topics(site: &Site) -> Topics {
    let p = paths::TOPICS;
    let data = site.core().data();
    Topics {
        layout: site.layout(
            p,
            "Background topics",
            "Background summaries from related Wikipedia articles, with the dates they name.",
        ),
        topics: data
            .topics
            .iter()
            .map(|t| {
                (
                    Link {
                        href: site.href(p, &paths::topic(&t.id)),
                        label: t.title.clone(),
                    },
                    t.events
                        .iter()
                        .map(|e| date_of(&e.date))
                        .collect::<Vec<_>>()
                        .join(" · "),
                )
            })
            .collect(),
    }
}

fn topic(site: &Site, t: usize) -> TopicPage {
    let data = site.core().data();
    let topic = &data.topics[t];
    let p = paths::topic(&topic.id);
    let events: Vec<(usize, usize)> = (0..topic.events.len()).map(|e| (t, e)).collect();
    TopicPage {
        layout: site.layout(&p, &topic.title, &format!("Background: {}", topic.title)),
        title: topic.title.clone(),
        article_url: topic.url.clone(),
        text: topic.text.clone(),
        events: event_views(site, &p, &events),
        command: format!("/topic {}", topic.title),
    }
}

fn search(site: &Site, query: &str) -> SearchPage {
    let p = paths::SEARCH;
    // As long as Discord lets `/search` take, and no longer: a query of megabytes
    // costs no more than one of 80 characters.
    let q = paths::query_param(query, "q").unwrap_or_default();
    let q: String = q.trim().chars().take(SEARCH_MAX).collect();
    let core = site.core();
    let ix = &core.index;
    let live = site.options.live;
    let hits = if live && !q.is_empty() {
        ix.search.search(&q)
    } else {
        Vec::new()
    };
    let results = hits
        .iter()
        .map(|hit| match hit.doc {
            DocRef::Statement(i) => SearchResult::Statement(site.statement(p, i, &hit.marks)),
            DocRef::Topic(i) => {
                let t = &ix.data.topics[i];
                SearchResult::Topic {
                    link: Link {
                        href: site.href(p, &paths::topic(&t.id)),
                        label: t.title.clone(),
                    },
                    text_html: html::marked(&t.text, &hit.marks),
                }
            }
            DocRef::Excerpt(i) => SearchResult::Excerpt {
                text_html: html::marked(&ix.data.excerpts[i].text, &hit.marks),
            },
        })
        .collect();
    let heading = if q.is_empty() {
        "Search".to_owned()
    } else {
        format!("Search: {q}")
    };
    SearchPage {
        layout: site.layout(
            p,
            &heading,
            "Search the statements and background summaries.",
        ),
        live,
        searched: live && !q.is_empty(),
        count: hits.len(),
        results,
        statements_href: site.href(p, "/statements/"),
        browse: browse(site, p),
        command: format!("/search {q}"),
        query: q,
    }
}

fn about(site: &Site) -> About {
    let p = paths::ABOUT;
    let core = site.core();
    let data = core.data();
    let c = core.index.coverage();
    let (statements, dated) = counts(site);
    let range = |a: Option<Date>, b: Option<Date>, f: fn(Date) -> String| match (a, b) {
        (Some(a), Some(b)) => format!("{} – {}", f(a), f(b)),
        _ => "none".to_owned(),
    };
    About {
        layout: site.layout(
            p,
            "About",
            "What the bot knows, where it comes from and how it is kept.",
        ),
        statements,
        dated,
        actors: data.actors.len(),
        topics: data.topics.len(),
        excerpts: data.excerpts.len(),
        citations: data.source.citations,
        reactions_dated: range(c.statements_from, c.statements_to, day),
        background_dated: range(c.background_from, c.background_to, |d| d.year().to_string()),
        version: data.version.clone(),
        chart: site.chart(p, &core.coverage_chart()),
        licence_page: site.href(p, paths::LICENCE),
        statements_href: site.href(p, "/statements/"),
    }
}

/// The 404 page: links from the site's root (a static host serves it at any depth).
pub fn not_found(site: &Site, path: &str) -> String {
    let mut layout = site.layout("/", "Page not found", "There is no page at this address.");
    // Any depth: links from the root (absolute on the public site when known).
    let base = site.options.public_url.clone().unwrap_or_default();
    let fix = |href: &str| format!("{base}/{}", href.trim_start_matches("./"));
    layout.home = format!("{base}/");
    layout.css = fix(&layout.css);
    layout.icon = fix(&layout.icon);
    for n in &mut layout.nav {
        n.href = fix(&n.href);
    }
    layout.search = fix(&layout.search);
    layout.licence_page = fix(&layout.licence_page);
    layout.terms = fix(&layout.terms);
    layout.privacy = fix(&layout.privacy);
    layout.canonical = None;
    NotFound {
        layout,
        path: path.chars().take(200).collect(),
    }
    .render()
    .expect("the 404 page renders")
}
