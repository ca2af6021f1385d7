//! The reply model: what the bot shows, free of any transport. Commands build an
//! [`Answer`]; [`Answer::page`] cuts it into the [`Message`] for one page, and every
//! Discord limit is enforced here and nowhere else (see [`limits`]).
//!
//! Text is Discord markdown. Everything that comes from a user or from the source
//! passes through [`markdown::escape`] or [`markdown::escape_user`] on its way in.

mod button;
mod chart;
pub mod limits;
pub mod markdown;

pub use button::{ButtonId, Pager};
pub use chart::{ChartSpec, ChartText, Figure};
use limits::fit;

/// What kind of answer it is: colours the embed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tone {
    /// An answer from the dataset.
    Info,
    /// A polite "nothing matches" or "try this instead".
    Notice,
}

impl Tone {
    /// The embed's colour.
    pub fn color(self) -> u32 {
        match self {
            Tone::Info => 0x3B_6E_A5,
            Tone::Notice => 0x99_99_99,
        }
    }
}

/// One block of an answer's body: a paragraph that never breaks across pages unless
/// it alone is larger than a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The section the block belongs to; shown above the first block of a section on
    /// each page.
    pub section: Option<&'static str>,
    pub text: String,
    /// `limits::len(&text)`, counted once.
    pub len: usize,
}

/// A short name/value pair shown on the first page (counts, settings).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

/// Everything a command answers, before it is cut into pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub title: String,
    /// Shown at the top of every page.
    pub intro: Option<String>,
    pub blocks: Vec<Block>,
    /// Shown on the first page only.
    pub fields: Vec<Field>,
    /// Visible only to the asker.
    pub private: bool,
    pub tone: Tone,
    /// How to rebuild this answer from a page button.
    pub pager: Option<Pager>,
    /// The credit line under the answer (the source and its licence).
    pub credit: Credit,
    /// Nothing was found (the scheduler skips such days).
    pub empty: bool,
    /// The command's own buttons (e.g. confirm and cancel), after the page buttons on
    /// every page.
    pub actions: Vec<Button>,
    /// A chart of what the answer shows, on the first page only: the embed's image and,
    /// as its text alternative, the field [`CHART_FIELD`].
    pub chart: Option<Figure>,
}

/// The name of the field that holds a chart's text alternative.
pub const CHART_FIELD: &str = "Chart";

/// The attribution every answer carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    /// Shown as the embed's author line, linking to the article.
    pub source: String,
    pub url: String,
    /// The licence, in the footer.
    pub licence: String,
}

/// A button under a message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Button {
    /// Comes back to the bot when clicked.
    Action {
        label: String,
        id: ButtonId,
        disabled: bool,
        danger: bool,
    },
    /// Opens a URL.
    Link { label: String, url: String },
}

/// One page, ready for any transport. Built only by [`Answer::page`], so it always
/// keeps Discord's limits.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Message {
    pub private: bool,
    pub tone: Tone,
    pub embed: Embed,
    pub buttons: Vec<Button>,
    pub page: usize,
    pub pages: usize,
    /// The chart to attach (first pages only); the embed's `image` points at it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chart: Option<Figure>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Embed {
    pub title: String,
    pub url: Option<String>,
    pub author: Option<(String, String)>,
    pub description: String,
    pub fields: Vec<Field>,
    pub footer: String,
    /// The image shown in the embed: `attachment://<file>` of the message's chart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

/// One autocomplete suggestion.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Choice {
    pub name: String,
    pub value: String,
}

/// What the bot answers to one interaction.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reply {
    /// A new message.
    Message(Message),
    /// The message the clicked button is on, updated in place.
    Update(Message),
    /// Autocomplete suggestions (at most 25, each within limits).
    Choices(Vec<Choice>),
}

impl Answer {
    pub fn new(title: impl Into<String>, credit: Credit) -> Self {
        Self {
            title: title.into(),
            intro: None,
            blocks: Vec::new(),
            fields: Vec::new(),
            private: false,
            tone: Tone::Info,
            pager: None,
            credit,
            empty: false,
            actions: Vec::new(),
            chart: None,
        }
    }

    /// A polite answer to the asker's own mistake: private, one paragraph.
    pub fn notice(title: impl Into<String>, text: impl Into<String>, credit: Credit) -> Self {
        let mut a = Self::new(title, credit);
        a.intro = Some(text.into());
        a.private = true;
        a.tone = Tone::Notice;
        a.empty = true;
        a
    }

    pub fn block(&mut self, section: Option<&'static str>, text: String) {
        let len = limits::len(&text);
        self.blocks.push(Block { section, text, len });
    }

    /// A block whose length the caller already knows (cached at start-up).
    pub fn block_sized(&mut self, section: Option<&'static str>, text: String, len: usize) {
        debug_assert_eq!(len, limits::len(&text), "a block's cached length is wrong");
        self.blocks.push(Block { section, text, len });
    }

    /// A block whose text is written only if it lands on the page shown: commands whose
    /// answers run to many pages lay them all out by length, then write the blocks of
    /// [`blocks_on_page`](Self::blocks_on_page) with [`fill`](Self::fill). Such an
    /// answer shows that page only. The block must fit on a page whole
    /// ([`fits_whole`](Self::fits_whole)), since cutting it would need its text.
    pub fn block_deferred(&mut self, section: Option<&'static str>, len: usize) {
        debug_assert!(len > 0 && self.fits_whole(section, len));
        self.blocks.push(Block {
            section,
            text: String::new(),
            len,
        });
    }

    /// Whether a block of `len` units in `section` goes on a page without being cut,
    /// given the title, intro and fields set so far.
    pub fn fits_whole(&self, section: Option<&'static str>, len: usize) -> bool {
        len <= self.budget().saturating_sub(section_cost(section) + 2)
    }

    /// The blocks with a piece on page `n` (1-based, clamped as [`page`](Self::page)
    /// clamps it), in order.
    pub fn blocks_on_page(&self, n: usize) -> Vec<usize> {
        let pages = self.pages(self.budget());
        let n = n.clamp(1, pages.len());
        let mut blocks: Vec<usize> = pages[n - 1].iter().map(Piece::block).collect();
        blocks.dedup();
        blocks
    }

    /// Writes the text of a block added with [`block_deferred`](Self::block_deferred).
    pub fn fill(&mut self, block: usize, text: String) {
        let b = &mut self.blocks[block];
        debug_assert!(b.text.is_empty(), "block {block} is filled already");
        debug_assert_eq!(
            b.len,
            limits::len(&text),
            "a deferred block's length is wrong"
        );
        b.text = text;
    }

    /// The pieces of each page. Blocks are packed in order; a block larger than a
    /// page is cut between words into pieces that each fit.
    fn pages(&self, budget: usize) -> Vec<Vec<Piece>> {
        let mut pages: Vec<Vec<Piece>> = Vec::new();
        let mut current: Vec<Piece> = Vec::new();
        let mut current_section: Option<Option<&'static str>> = None;
        let mut used = 0;
        for (i, b) in self.blocks.iter().enumerate() {
            let room = budget.saturating_sub(section_cost(b.section) + 2);
            let pieces: Vec<(Piece, usize)> = if b.len <= room {
                vec![(Piece::Whole(i), b.len)]
            } else {
                limits::split_words(&b.text, room)
                    .into_iter()
                    .map(|t| {
                        let len = limits::len(&t);
                        (Piece::Part(i, t), len)
                    })
                    .collect()
            };
            for (piece, len) in pieces {
                let heading = if current_section == Some(b.section) {
                    0
                } else {
                    section_cost(b.section)
                };
                let cost = len + 2 + heading;
                if !current.is_empty() && used + cost > budget {
                    pages.push(std::mem::take(&mut current));
                    used = len + 2 + section_cost(b.section);
                } else {
                    used += cost;
                }
                current_section = Some(b.section);
                current.push(piece);
            }
        }
        if !current.is_empty() || pages.is_empty() {
            pages.push(current);
        }
        pages
    }

    /// The number of pages this answer has.
    pub fn page_count(&self) -> usize {
        self.pages(self.budget()).len()
    }

    fn footer(&self, page: usize, pages: usize) -> String {
        if pages > 1 {
            format!("{} · page {page}/{pages}", self.credit.licence)
        } else {
            self.credit.licence.clone()
        }
    }

    /// How much text the body of a page may hold, after the title, intro and footer.
    fn budget(&self) -> usize {
        let intro = self.intro.as_deref().map_or(0, |i| limits::len(i) + 2);
        let fixed = limits::len(&self.title).min(limits::TITLE)
            + limits::len(&self.credit.source).min(limits::AUTHOR)
            + limits::len(&self.credit.licence)
            + 24; // " · page 999/999" and separators
        let by_total = limits::EMBED_TOTAL
            .saturating_sub(fixed + limits::fields_len(&self.fields) + self.chart_field_room());
        limits::page_budget(intro).min(by_total)
    }

    /// Room kept for the chart's field: its name and the longest text it may hold, so
    /// that no page's text ever pushes it out.
    fn chart_field_room(&self) -> usize {
        self.chart
            .as_ref()
            .map_or(0, |_| limits::len(CHART_FIELD) + limits::FIELD_VALUE)
    }

    /// The first page's fields: the answer's, then the chart's text alternative.
    fn first_page_fields(&self) -> Vec<Field> {
        let mut fields = self.fields.clone();
        if let Some(chart) = &self.chart {
            fields.push(Field {
                name: CHART_FIELD.to_owned(),
                value: chart.text.clone(),
                inline: false,
            });
        }
        fields
    }

    /// Page `n` (1-based; out of range is clamped) as a message within every limit.
    pub fn page(&self, n: usize) -> Message {
        let pages = self.pages(self.budget());
        let count = pages.len();
        let n = n.clamp(1, count);
        let mut description = String::new();
        if let Some(intro) = &self.intro {
            description.push_str(intro);
        }
        let section_of = |p: &Piece| self.blocks[p.block()].section;
        let mut section: Option<&str> = None;
        for (i, piece) in pages[n - 1].iter().enumerate() {
            let this = section_of(piece);
            if i == 0 || this != section {
                if let Some(s) = this {
                    if !description.is_empty() {
                        description.push_str("\n\n");
                    }
                    description.push_str("**");
                    description.push_str(s);
                    description.push_str("**");
                    let continued = i == 0
                        && n > 1
                        && pages[n - 2].last().is_some_and(|p| section_of(p) == this);
                    if continued {
                        description.push_str(" (continued)");
                    }
                    description.push('\n');
                } else if !description.is_empty() {
                    description.push_str("\n\n");
                }
            } else {
                description.push_str("\n\n");
            }
            section = this;
            debug_assert!(
                !matches!(piece, Piece::Whole(b) if self.blocks[*b].text.is_empty() && self.blocks[*b].len > 0),
                "page {n} shows a deferred block that was never filled"
            );
            description.push_str(match piece {
                Piece::Whole(b) => &self.blocks[*b].text,
                Piece::Part(_, text) => text,
            });
        }
        let mut buttons = Vec::new();
        if count > 1 {
            if let Some(pager) = &self.pager {
                let id = |page: usize| ButtonId::Page {
                    pager: pager.clone(),
                    page,
                };
                if limits::len(&id(count + 1).to_string()) <= limits::CUSTOM_ID {
                    buttons.push(Button::Action {
                        label: "◀ Previous".into(),
                        id: id(n - 1),
                        disabled: n == 1,
                        danger: false,
                    });
                    buttons.push(Button::Action {
                        label: "Next ▶".into(),
                        id: id(n + 1),
                        disabled: n == count,
                        danger: false,
                    });
                }
            }
        }
        buttons.extend(self.actions.iter().cloned());
        let embed = Embed {
            title: self.title.clone(),
            url: None,
            author: Some((self.credit.source.clone(), self.credit.url.clone())),
            description,
            fields: if n == 1 {
                self.first_page_fields()
            } else {
                Vec::new()
            },
            footer: self.footer(n, count),
            image: (n == 1)
                .then(|| self.chart.as_ref().map(Figure::image_url))
                .flatten(),
        };
        fit(Message {
            private: self.private,
            tone: self.tone,
            embed,
            buttons,
            page: n,
            pages: count,
            chart: if n == 1 { self.chart.clone() } else { None },
        })
    }
}

impl Message {
    /// The message without its chart: no image, no chart field (when the picture
    /// cannot be attached).
    pub fn drop_chart(&mut self) {
        if self.chart.take().is_some() {
            self.embed.image = None;
            if let Some(i) = self
                .embed
                .fields
                .iter()
                .rposition(|f| f.name == CHART_FIELD)
            {
                self.embed.fields.remove(i);
            }
        }
    }
}

/// A block on a page: whole, or a piece of one too large for a page.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Whole(usize),
    Part(usize, String),
}

impl Piece {
    fn block(&self) -> usize {
        match self {
            Self::Whole(b) | Self::Part(b, _) => *b,
        }
    }
}

fn section_cost(section: Option<&str>) -> usize {
    section.map_or(0, |s| limits::len(s) + 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credit() -> Credit {
        Credit {
            source: "Wikipedia".into(),
            url: "https://en.wikipedia.org/wiki/X".into(),
            licence: "CC BY-SA 4.0".into(),
        }
    }

    #[test]
    fn long_answers_page_and_nothing_is_dropped() {
        let mut a = Answer::new("Title", credit());
        a.pager = Some(Pager::new("reaction", "turkey"));
        for i in 0..40 {
            a.block(
                Some("Statements"),
                format!("item {i} {}", "word ".repeat(60)),
            );
        }
        let count = a.page_count();
        assert!(count > 1);
        let mut seen = String::new();
        for n in 1..=count {
            let m = a.page(n);
            assert_eq!((m.page, m.pages), (n, count));
            assert!(m.embed.footer.ends_with(&format!("page {n}/{count}")));
            assert!(limits::len(&m.embed.description) <= limits::DESCRIPTION);
            seen.push_str(&m.embed.description);
        }
        for i in 0..40 {
            assert!(seen.contains(&format!("item {i} ")), "item {i} was dropped");
        }
        let first = a.page(1);
        assert_eq!(
            first.buttons[0],
            Button::Action {
                label: "◀ Previous".into(),
                id: ButtonId::parse("page:reaction:turkey:0").unwrap(),
                disabled: true,
                danger: false
            }
        );
        assert!(
            a.page(2)
                .embed
                .description
                .starts_with("**Statements** (continued)")
        );
    }

    #[test]
    fn a_block_larger_than_a_page_is_cut_between_words() {
        let mut a = Answer::new("Title", credit());
        let text = "abcdefghij ".repeat(900);
        a.block(None, text.trim().to_owned());
        let count = a.page_count();
        assert!(count >= 3);
        let mut words = 0;
        for n in 1..=count {
            let d = a.page(n).embed.description;
            assert!(
                d.split_whitespace().all(|w| w == "abcdefghij" || w == "…"),
                "a word was broken"
            );
            words += d.split_whitespace().filter(|w| *w == "abcdefghij").count();
        }
        assert_eq!(words, 900);
    }
}
