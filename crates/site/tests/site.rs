//! The site as a whole, rendered from the embedded dataset: every page renders, every
//! link between pages (and every anchor) leads to a page, every link the bot's
//! replies carry leads to a page, and the pages say what the dataset says.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use karabakh_core::commands::{Call, Context, Core, CoreConfig, Request, parse_line};
use karabakh_core::reply::{Button, Reply};
use karabakh_site::charts::{self, ChartCache};
use karabakh_site::{Caching, Options, Site};

const PUBLIC: &str = "https://karabakh.example.org/bot";

fn core() -> Arc<Core> {
    static CORE: OnceLock<Arc<Core>> = OnceLock::new();
    Arc::clone(CORE.get_or_init(|| {
        Arc::new(Core::with_config(
            karabakh_core::dataset::embedded().unwrap(),
            CoreConfig {
                public_url: Some(PUBLIC.to_owned()),
                chart_text: Some(charts::alt_text),
            },
        ))
    }))
}

fn site(live: bool) -> Site {
    Site::new(
        core(),
        Arc::new(ChartCache::default()),
        Options {
            public_url: Some(PUBLIC.to_owned()),
            live,
        },
    )
}

/// The live site, every page rendered once: path → HTML.
fn rendered() -> &'static (Site, HashMap<String, String>) {
    static ALL: OnceLock<(Site, HashMap<String, String>)> = OnceLock::new();
    ALL.get_or_init(|| {
        let site = site(true);
        let mut pages = HashMap::new();
        for path in site.paths() {
            let page = site
                .page(&path)
                .unwrap_or_else(|| panic!("{path} is listed but has no page"));
            assert_eq!(page.status, 200, "{path}");
            if page.content_type.starts_with("text/html") {
                pages.insert(path, String::from_utf8(page.body.clone()).unwrap());
            }
        }
        (site, pages)
    })
}

/// The values of `attr="…"` in `html`, unescaped as far as the site escapes.
fn attributes(html: &str, attr: &str) -> Vec<String> {
    let needle = format!(" {attr}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest[..rest.find('"').unwrap()].replace("&amp;", "&")
        })
        .collect()
}

/// A relative link from the page at `from` as a site path (with query and fragment).
fn resolve(from: &str, href: &str) -> String {
    let mut segments: Vec<&str> = from
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let (path, rest) = match href.find(['?', '#']) {
        Some(i) => (&href[..i], &href[i..]),
        None => (href, ""),
    };
    let trailing = path.ends_with('/') || path.is_empty() || path == "." || path.ends_with("/.");
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            p => segments.push(p),
        }
    }
    let mut out = format!("/{}", segments.join("/"));
    if trailing && out != "/" {
        out.push('/');
    }
    out + rest
}

#[test]
fn relative_links_resolve_like_a_browser() {
    assert_eq!(
        resolve("/actors/turkey/", "../../statements/s2.1/"),
        "/statements/s2.1/"
    );
    assert_eq!(resolve("/", "actors/"), "/actors/");
    assert_eq!(resolve("/", "./"), "/");
    assert_eq!(resolve("/search/", "./?q=x"), "/search/?q=x");
    assert_eq!(
        resolve("/dates/", "2020-10/#d2020-10-02"),
        "/dates/2020-10/#d2020-10-02"
    );
    assert_eq!(resolve("/a/b/", "../../charts/x.png"), "/charts/x.png");
}

#[test]
fn every_page_renders_with_one_h1_its_landmarks_and_no_script() {
    let (_, pages) = rendered();
    assert!(pages.len() > 1000, "{} pages", pages.len());
    for (path, html) in pages {
        assert!(
            html.starts_with("<!doctype html>\n<html lang=\"en\">"),
            "{path}"
        );
        assert_eq!(html.matches("<h1").count(), 1, "{path}: one h1");
        for landmark in [
            "<header class=\"site\">",
            "<nav aria-label=\"Main\">",
            "<main id=\"main\"",
            "<footer class=\"site\">",
        ] {
            assert_eq!(html.matches(landmark).count(), 1, "{path}: {landmark}");
        }
        assert!(!html.contains("<script"), "{path}: no JavaScript");
        assert!(
            html.contains("<link rel=\"canonical\" href=\"https://karabakh.example.org/bot"),
            "{path}"
        );
        // Every image says what it shows, or is explained by its caption.
        for img in html
            .match_indices("<img ")
            .map(|(i, _)| &html[i..i + html[i..].find('>').unwrap()])
        {
            assert!(img.contains(" alt=\""), "{path}: {img}");
        }
        // Headings never skip a level.
        let mut level = 1;
        for (i, _) in html.match_indices("<h") {
            let Some(n) = html[i + 2..].chars().next().and_then(|c| c.to_digit(10)) else {
                continue;
            };
            assert!(n <= level + 1, "{path}: h{n} after h{level}");
            level = n;
        }
    }
}

#[test]
fn every_link_between_pages_leads_to_a_page_and_every_anchor_to_its_target() {
    let (site, pages) = rendered();
    let mut checked = BTreeSet::new();
    for (path, html) in pages {
        for href in attributes(html, "href")
            .into_iter()
            .chain(attributes(html, "src"))
        {
            if href.starts_with("https://") || href.starts_with("http://") {
                continue;
            }
            let target = resolve(path, &href);
            let (target, fragment) = target
                .split_once('#')
                .map_or((target.as_str(), None), |(t, f)| (t, Some(f)));
            let page = site
                .page(target)
                .unwrap_or_else(|| panic!("{path} links to {href}: no page at {target}"));
            if let Some(id) = fragment.filter(|f| !f.is_empty()) {
                let body = String::from_utf8_lossy(&page.body);
                assert!(
                    body.contains(&format!(" id=\"{id}\"")),
                    "{path} links to {href}: no #{id} there"
                );
            }
            checked.insert(target.to_owned());
        }
    }
    // The crawl reaches every page of the static build from the home page's links on.
    let mut reached = BTreeSet::from(["/".to_owned()]);
    let mut queue = vec!["/".to_owned()];
    while let Some(p) = queue.pop() {
        let Some(html) = pages.get(&p) else { continue };
        for href in attributes(html, "href") {
            if href.starts_with("http") {
                continue;
            }
            let t = resolve(&p, &href);
            let t = t.split(['#', '?']).next().unwrap().to_owned();
            if reached.insert(t.clone()) {
                queue.push(t);
            }
        }
    }
    let listed: BTreeSet<String> = site
        .paths()
        .into_iter()
        .filter(|p| p.ends_with('/'))
        .collect();
    let unreached: Vec<&String> = listed.iter().filter(|p| !reached.contains(*p)).collect();
    // Months that only a decades-long background event covers have pages (the bot's
    // link buttons may lead there) but are listed under their year only.
    assert!(
        unreached
            .iter()
            .all(|p| p.starts_with("/dates/") && p.len() == "/dates/2020-10/".len()),
        "pages no link leads to: {unreached:?}"
    );
    assert!(checked.len() > 1000);
}

/// The reply to a command typed as in Discord.
fn reply(line: &str) -> karabakh_core::reply::Message {
    let parsed = parse_line(line).unwrap();
    let mut call = Call::new(
        parsed.command.name,
        parsed.options,
        Context::new("2026-11-25T12:00:00Z".parse().unwrap()),
    );
    call.subcommand = parsed.subcommand.map(str::to_owned);
    match core().respond(&Request::Command(call)).reply {
        Reply::Message(m) => m,
        other => panic!("{line}: {other:?}"),
    }
}

#[test]
fn every_link_button_of_the_bot_leads_to_a_page_of_what_it_shows() {
    let site = site(true);
    let cases = [
        ("/reaction Turkey", "/actors/turkey/"),
        ("/reaction Erdogan", "/actors/recep-tayyip-erdogan/"),
        ("/reaction Hungary", "/actors/hungary/"),
        ("/timeline 2 October 2020", "/dates/2020-10-02/"),
        ("/timeline 2020-10", "/dates/2020-10/"),
        ("/timeline 2020", "/dates/2020/"),
        ("/timeline 2012", "/dates/2012/"),
        ("/timeline 1995-03", "/dates/1995-03/"),
        (
            "/timeline date:2020-10-16 to:2020-10-18",
            "/dates/2020-10/#d2020-10-16",
        ),
        (
            "/timeline date:2020-09-27 to:2020-11-10",
            "/dates/2020/#d2020-09-27",
        ),
        ("/timeline 2020-10-10", "/dates/"),
        ("/search cluster munitions", "/search/?q=cluster+munitions"),
        ("/topic Madrid Principles", "/topics/madrid-principles/"),
        ("/source 55", "/citations/55/"),
        ("/onthisday 25 November", "/onthisday/11-25/"),
        ("/onthisday 29 February", "/dates/"),
        ("/about", "/about/"),
        ("/help", "/commands/"),
    ];
    for (line, path) in cases {
        let m = reply(line);
        let links: Vec<&str> = m
            .buttons
            .iter()
            .filter_map(|b| match b {
                Button::Link { url, .. } => Some(url.as_str()),
                Button::Action { .. } => None,
            })
            .collect();
        assert_eq!(links, [format!("{PUBLIC}{path}")], "{line}");
        let target = path.split('#').next().unwrap();
        let page = site
            .page(target)
            .unwrap_or_else(|| panic!("{line}: no page at {path}"));
        if let Some((_, id)) = path.split_once('#') {
            assert!(
                String::from_utf8_lossy(&page.body).contains(&format!(" id=\"{id}\"")),
                "{line}"
            );
        }
    }
    // Mistakes get no link.
    for line in ["/reaction Turky", "/timeline soon", "/source 999"] {
        assert!(
            reply(line)
                .buttons
                .iter()
                .all(|b| !matches!(b, Button::Link { .. })),
            "{line}"
        );
    }
    // Without a public address, no link at all.
    let plain = Core::with_config(
        karabakh_core::dataset::embedded().unwrap(),
        CoreConfig::default(),
    );
    let call = Call::new(
        "reaction",
        vec![(
            "actor".into(),
            karabakh_core::commands::Value::Text("Turkey".into()),
        )],
        Context::new("2026-11-25T12:00:00Z".parse().unwrap()),
    );
    let Reply::Message(m) = plain.respond(&Request::Command(call)).reply else {
        panic!()
    };
    assert!(m.buttons.iter().all(|b| !matches!(b, Button::Link { .. })));
}

fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut tag = false;
    for c in html.chars() {
        match c {
            '<' => tag = true,
            '>' => tag = false,
            c if !tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&gt;", ">")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

#[test]
fn a_statement_page_quotes_it_verbatim_in_its_paragraph_with_its_citations_date_and_chart() {
    let (_, pages) = rendered();
    let data = core().data().clone();
    for s in &data.statements {
        let html = &pages[&format!("/statements/{}/", s.id)];
        let text = text_of(html);
        assert!(text.contains(&s.text), "{}: the quote, verbatim", s.id);
        for n in &s.citations {
            assert!(
                text.contains(&format!("[{n}]: listed in the article's References")),
                "{}: [{n}]",
                s.id
            );
        }
        assert!(html.contains(&format!("href=\"{}\"", data.source.references_url)));
        // The neighbours of its paragraph, in order.
        let neighbours: Vec<&str> = data
            .statements
            .iter()
            .filter(|o| o.line == s.line)
            .map(|o| o.id.as_str())
            .collect();
        if neighbours.len() == 1 {
            assert!(
                text.contains("It is the only statement the dataset takes from paragraph"),
                "{}",
                s.id
            );
        } else {
            let context = &html[html.find("<div class=\"context\">").unwrap()..];
            let shown: Vec<String> = attributes(context, "data-statement");
            assert_eq!(shown, neighbours, "{}", s.id);
            assert_eq!(context.matches("aria-current=\"true\"").count(), 1);
        }
        assert!(
            text.contains(&format!(
                "(precision: {}",
                match s.date.precision {
                    karabakh_core::dataset::Precision::Day => "a day",
                    karabakh_core::dataset::Precision::Days => "several days",
                    karabakh_core::dataset::Precision::Month => "a month",
                    karabakh_core::dataset::Precision::Year => "a year",
                    karabakh_core::dataset::Precision::Range => "a range of days",
                    karabakh_core::dataset::Precision::Unknown => "not given",
                }
            )),
            "{}",
            s.id
        );
        assert!(
            text.contains(&format!("{PUBLIC}/statements/{}/", s.id)),
            "{}: its permalink",
            s.id
        );
    }
    // A statement by an actor with dated statements shows that actor's strip.
    let html = &pages["/statements/s2.1/"];
    assert!(
        html.contains("<figure class=\"chart\">") && html.contains("Time strip: OSCE Minsk Group")
    );
}

#[test]
fn pages_and_assets_carry_their_caching() {
    let site = site(false);
    let css = site
        .paths()
        .into_iter()
        .find(|p| p.ends_with(".css"))
        .unwrap();
    assert_eq!(site.page(&css).unwrap().caching, Caching::Immutable);
    let chart = site
        .paths()
        .into_iter()
        .find(|p| p.starts_with("/charts/"))
        .unwrap();
    let png = site.page(&chart).unwrap();
    assert_eq!(
        (png.content_type, png.caching),
        ("image/png", Caching::Immutable)
    );
    assert!(png.body.starts_with(b"\x89PNG"));
    let home = site.page("/").unwrap();
    assert_eq!(home.caching, Caching::Page);
    assert_eq!(home.etag, site.page("/").unwrap().etag);
    let missing = site.not_found("/nope/");
    assert_eq!((missing.status, missing.caching), (404, Caching::None));
    assert!(site.page("/nope/").is_none());
    assert!(site.page("/actors/nobody/").is_none());
    assert!(
        site.page("/citations/0/").is_none()
            && site.page("/citations/244/").is_none()
            && site.page("/citations/055/").is_none()
    );
    assert!(site.page("/dates/1850/").is_none() && site.page("/dates/2020-13/").is_none());
    assert_eq!(
        site.redirect("/actors/turkey").as_deref(),
        Some("/actors/turkey/")
    );
    assert_eq!(
        site.redirect("/statements/s2.1").as_deref(),
        Some("/statements/s2.1/")
    );
    assert_eq!(site.redirect("/nope"), None);
}

#[test]
fn search_answers_live_and_the_static_copy_says_where_to_look() {
    let live = site(true);
    let page = live.page("/search/?q=cluster+munitions").unwrap();
    let html = String::from_utf8(page.body.clone()).unwrap();
    let hits = core().index.search.search("cluster munitions");
    assert!(!hits.is_empty());
    assert!(html.contains(&format!("{} result", hits.len())));
    assert!(html.contains("<mark>"));
    let nothing = String::from_utf8(live.page("/search/?q=zxqv").unwrap().body.clone()).unwrap();
    assert!(nothing.contains("Nothing in the dataset matches “zxqv”"));
    // What a user typed is escaped, never markup.
    let evil = String::from_utf8(
        live.page("/search/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
            .unwrap()
            .body
            .clone(),
    )
    .unwrap();
    assert!(
        !evil.contains("<script") && evil.contains("script&#62;"),
        "{evil}"
    );

    // A huge query is read as its first 200 characters.
    let huge = format!("/search/?q={}", "ceasefire+".repeat(20_000));
    let html = String::from_utf8(live.page(&huge).unwrap().body.clone()).unwrap();
    assert!(html.len() < 200_000 && html.contains("result"));

    let frozen = site(false);
    let html =
        String::from_utf8(frozen.page("/search/?q=ceasefire").unwrap().body.clone()).unwrap();
    assert!(html.contains("This copy of the site is static"));
    assert!(!html.contains("result"));
}
