//! What templates show, ready to print: links already relative to the page, text
//! already escaped where it holds markup. Templates only lay it out.

use karabakh_core::dataset::{How, Precision, Statement};
use karabakh_core::reply::markdown::date_of;
use karabakh_core::reply::{Button, ChartSpec, Message, Tone};
use karabakh_core::site as paths;

use crate::html;
use crate::{Site, chart_path, charts, relative};

/// A link: where (relative to the page) and what it says.
#[derive(Debug, Clone)]
pub struct Link {
    pub href: String,
    pub label: String,
}

/// One entry of the main navigation.
#[derive(Debug, Clone)]
pub struct Nav {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

/// What every page has around its content.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The `<title>`: the page's heading, then the site's name.
    pub title: String,
    pub description: String,
    pub home: String,
    pub css: String,
    pub icon: String,
    pub canonical: Option<String>,
    pub nav: Vec<Nav>,
    pub search: String,
    pub article_title: String,
    pub article_url: String,
    pub licence: String,
    pub licence_url: String,
    pub licence_page: String,
    pub terms: String,
    pub privacy: String,
}

pub const SITE_NAME: &str = "karabakh-reactions";

const NAV: [(&str, &str); 7] = [
    (paths::COMMANDS, "Commands"),
    (paths::ACTORS, "Actors"),
    (paths::DATES, "Dates"),
    (paths::CITATIONS, "Citations"),
    (paths::TOPICS, "Background"),
    (paths::SEARCH, "Search"),
    (paths::ABOUT, "About"),
];

impl Site {
    /// `to` as a link from the page at `from`.
    pub(crate) fn href(&self, from: &str, to: &str) -> String {
        relative(from, to)
    }

    /// The layout of the page at `path`, titled `heading`.
    pub(crate) fn layout(&self, path: &str, heading: &str, description: &str) -> Layout {
        let source = &self.core().data().source;
        let section = NAV
            .iter()
            .filter(|(p, _)| path.starts_with(p))
            .map(|(p, _)| *p)
            .max_by_key(|p| p.len());
        Layout {
            title: if path == paths::HOME {
                format!("{SITE_NAME}: {heading}")
            } else {
                format!("{heading} · {SITE_NAME}")
            },
            description: description.to_owned(),
            home: self.href(path, paths::HOME),
            css: self.href(path, &self.css_path),
            icon: self.href(path, crate::ICON_PATH),
            canonical: self
                .options
                .public_url
                .as_ref()
                .map(|base| format!("{base}{path}")),
            nav: NAV
                .iter()
                .map(|(p, label)| Nav {
                    href: self.href(path, p),
                    label,
                    current: section == Some(*p),
                })
                .collect(),
            search: self.href(path, paths::SEARCH),
            article_title: source.title.clone(),
            article_url: source.url.clone(),
            licence: source.licence.clone(),
            licence_url: source.licence_url.clone(),
            licence_page: self.href(path, paths::LICENCE),
            terms: self.href(path, paths::TERMS),
            privacy: self.href(path, paths::PRIVACY),
        }
    }
}

/// A citation: its number, the article's references (where it is listed), and the
/// site's page of every statement citing it.
#[derive(Debug, Clone)]
pub struct Cite {
    pub n: u16,
    pub references: String,
    pub page: String,
}

/// A statement as the site shows it.
#[derive(Debug, Clone)]
pub struct StatementView {
    pub id: String,
    pub permalink: String,
    pub date: String,
    /// The day's page, for a statement dated to a day.
    pub date_href: Option<String>,
    pub speakers: Vec<Link>,
    /// The quote, escaped, with any search matches marked.
    pub text_html: String,
    pub cites: Vec<Cite>,
    /// The statement the page is about (in its paragraph's context).
    pub current: bool,
}

impl Site {
    /// Statement `si` as shown on the page at `from`, its text escaped and `marks`
    /// (byte ranges of its text) marked.
    pub(crate) fn statement(
        &self,
        from: &str,
        si: usize,
        marks: &[std::ops::Range<usize>],
    ) -> StatementView {
        let ix = &self.core().index;
        let s = &ix.data.statements[si];
        StatementView {
            id: s.id.clone(),
            permalink: self.href(from, &paths::statement(&s.id)),
            date: date_of(&s.date),
            date_href: self.day_href(from, s),
            speakers: s
                .actors
                .iter()
                .filter_map(|id| ix.actor_index(id))
                .map(|a| Link {
                    href: self.href(from, &paths::actor(&ix.actor(a).id)),
                    label: ix.actor(a).name.clone(),
                })
                .collect(),
            text_html: html::marked(&s.text, marks),
            cites: s.citations.iter().map(|&n| self.cite(from, n)).collect(),
            current: false,
        }
    }

    pub(crate) fn cite(&self, from: &str, n: u16) -> Cite {
        Cite {
            n,
            references: self.core().data().source.references_url.clone(),
            page: self.href(from, &paths::citation(n)),
        }
    }

    /// The page of the day (or month) a statement is dated to, if it has one.
    fn day_href(&self, from: &str, s: &Statement) -> Option<String> {
        let start = s.date.start?;
        match s.date.precision {
            Precision::Day | Precision::Days | Precision::Range
                if self.dates.days.contains(&start) =>
            {
                Some(self.href(from, &paths::day(start)))
            }
            Precision::Month if self.dates.months.contains(&(start.year(), start.month())) => {
                Some(self.href(from, &paths::month(start.year(), start.month())))
            }
            _ => None,
        }
    }
}

/// A chart on a page: the picture, and its text alternative as the caption.
#[derive(Debug, Clone)]
pub struct ChartView {
    pub src: String,
    pub text: String,
    pub width: u32,
    pub height: u32,
}

impl Site {
    pub(crate) fn chart(&self, from: &str, spec: &ChartSpec) -> ChartView {
        let (width, height) = match spec {
            ChartSpec::Strip { .. } => karabakh_chart::STRIP_SIZE,
            _ => karabakh_chart::BAR_CHART_SIZE,
        };
        ChartView {
            src: self.href(from, &chart_path(charts::key(spec))),
            text: charts::alt_text(spec),
            width,
            height,
        }
    }
}

/// How a date was found, in words.
pub fn how(h: How) -> &'static str {
    match h {
        How::Explicit => "written out in the sentence",
        How::YearFromContext => "day and month in the sentence, the year from the text around it",
        How::Relative => "from the date of an earlier sentence (\u{201c}the next day\u{201d})",
        How::Curated => "set by hand in the dataset's curation",
        How::None => "the source gives none",
    }
}

/// A date's precision, in words.
pub fn precision(p: Precision) -> &'static str {
    match p {
        Precision::Day => "a day",
        Precision::Days => "several days",
        Precision::Month => "a month",
        Precision::Year => "a year",
        Precision::Range => "a range of days",
        Precision::Unknown => "not given",
    }
}

/// A reply as Discord shows it, for the embed previews.
#[derive(Debug, Clone)]
pub struct EmbedView {
    /// The command as typed.
    pub command: String,
    pub tone: &'static str,
    pub private: bool,
    pub author: Option<Link>,
    pub title_html: String,
    pub description_html: String,
    pub fields: Vec<FieldView>,
    pub image: Option<ChartView>,
    pub footer_html: String,
    pub buttons: Vec<ButtonView>,
}

#[derive(Debug, Clone)]
pub struct FieldView {
    pub name_html: String,
    pub value_html: String,
    pub inline: bool,
}

#[derive(Debug, Clone)]
pub struct ButtonView {
    pub label: String,
    /// A link button's address; None for the bot's own buttons (shown, not working).
    pub href: Option<String>,
    pub disabled: bool,
    pub danger: bool,
}

impl Site {
    pub(crate) fn embed(&self, from: &str, command: &str, m: &Message) -> EmbedView {
        let e = &m.embed;
        EmbedView {
            command: command.to_owned(),
            tone: match m.tone {
                Tone::Info => "info",
                Tone::Notice => "notice",
            },
            private: m.private,
            author: e.author.as_ref().map(|(name, url)| Link {
                href: url.clone(),
                label: name.clone(),
            }),
            title_html: html::inline_markdown(&e.title),
            description_html: html::markdown(&e.description),
            fields: e
                .fields
                .iter()
                .map(|f| FieldView {
                    name_html: html::inline_markdown(&f.name),
                    value_html: html::markdown(&f.value),
                    inline: f.inline,
                })
                .collect(),
            image: m.chart.as_ref().map(|c| self.chart(from, &c.spec)),
            footer_html: html::inline_markdown(&e.footer),
            buttons: m
                .buttons
                .iter()
                .map(|b| match b {
                    Button::Action {
                        label,
                        disabled,
                        danger,
                        ..
                    } => ButtonView {
                        label: label.clone(),
                        href: None,
                        disabled: *disabled,
                        danger: *danger,
                    },
                    Button::Link { label, url } => ButtonView {
                        label: label.clone(),
                        href: Some(url.clone()),
                        disabled: false,
                        danger: false,
                    },
                })
                .collect(),
        }
    }
}
