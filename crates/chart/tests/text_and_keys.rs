//! The text alternatives say what the charts show; the cache keys are
//! stable and mean "same picture".

mod common;

use jiff::civil::date;
use karabakh_chart::{ChartRequest, CoverageInput, Period, StripInput, TimelineInput};

// ---- text alternatives ----

#[test]
fn war_timeline_alt_text() {
    assert_eq!(
        common::war_timeline().alt_text().unwrap(),
        "Bar chart of 197 dated statements per day from 27 September to 10 November 2020; \
         the busiest day was 27 September 2020 with 16 statements. \
         Marked: 27 September 2020 (16 statements), 10 October 2020 (9 statements) and \
         10 November 2020 (10 statements)."
    );
}

#[test]
fn month_and_year_timelines_name_their_period_and_unit() {
    assert_eq!(
        common::october_timeline().alt_text().unwrap(),
        "Bar chart of 115 dated statements per day in October 2020; the busiest day was \
         17 October 2020 with 10 statements. Marked: 10 October 2020 (9 statements), \
         17 October 2020 (10 statements) and 26 October 2020 (9 statements)."
    );
    assert_eq!(
        common::year_2021_timeline().alt_text().unwrap(),
        "Bar chart of 11 dated statements per week in 2021; the busiest week was the week of \
         11 January 2021 with 3 statements (1 other week had as many). \
         Marked: 24 April 2021 (3 statements)."
    );
}

#[test]
fn timeline_alt_text_edge_cases() {
    let t = |start, end, dates, marked| TimelineInput {
        start,
        end,
        dates,
        marked,
        title: None,
    };
    let d = date(2020, 10, 10);
    assert_eq!(
        t(date(2021, 10, 1), date(2021, 10, 31), vec![], vec![])
            .alt_text()
            .unwrap(),
        "Bar chart: no dated statements in October 2021."
    );
    assert_eq!(
        t(
            date(2021, 10, 1),
            date(2021, 10, 31),
            vec![],
            vec![date(2021, 10, 2)]
        )
        .alt_text()
        .unwrap(),
        "Bar chart: no dated statements in October 2021. Marked: 2 October 2021 (no statements)."
    );
    assert_eq!(
        t(d, d, vec![d; 3], vec![]).alt_text().unwrap(),
        "Bar chart: 3 dated statements on 10 October 2020."
    );
    assert_eq!(
        t(date(2020, 10, 1), date(2020, 10, 31), vec![d; 40], vec![])
            .alt_text()
            .unwrap(),
        "Bar chart of 40 dated statements per day in October 2020, all on 10 October 2020."
    );
    assert_eq!(
        t(date(2020, 10, 1), date(2020, 10, 31), vec![d], vec![d])
            .alt_text()
            .unwrap(),
        "Bar chart of 1 dated statement per day in October 2020, all on 10 October 2020. \
         Marked: 10 October 2020 (1 statement)."
    );
    // many marked days are summarised, not listed
    let marked: Vec<_> = common::days(date(2020, 10, 1), 10).collect();
    let on_marked = common::war_dates()
        .iter()
        .filter(|d| marked.contains(d))
        .count();
    let text = t(
        date(2020, 9, 27),
        date(2020, 11, 10),
        common::war_dates(),
        marked,
    )
    .alt_text()
    .unwrap();
    assert!(
        text.ends_with(&format!(
            "Marked: 10 days from 1 October to 10 October 2020, with {on_marked} statements in all."
        )),
        "{text}"
    );
    // long ranges switch unit (the 4 statements before 1994 are outside)
    let long = t(
        date(1994, 1, 1),
        date(2023, 12, 31),
        common::coverage_dates(),
        vec![],
    )
    .alt_text()
    .unwrap();
    assert!(long.starts_with("Bar chart of 224 dated statements per year from 1994 to 2023; the busiest year was 2020 with 200 statements."), "{long}");
}

#[test]
fn strip_alt_text() {
    assert_eq!(
        common::strip_input().alt_text(),
        "Time strip: Turkey made 14 dated statements on 11 days from 27 September 2020 to \
         11 January 2021; the busiest day was 27 September 2020 with 3 statements."
    );
    let s = |actor: &str, dates| StripInput {
        actor: actor.into(),
        dates,
    };
    let d = date(2020, 10, 1);
    assert_eq!(
        s("Iran", vec![d]).alt_text(),
        "Time strip: Iran made 1 dated statement, on 1 October 2020."
    );
    assert_eq!(
        s("European Union", vec![d; 40]).alt_text(),
        "Time strip: European Union made 40 dated statements, all on 1 October 2020."
    );
    assert_eq!(
        s("Nobody", vec![]).alt_text(),
        "Time strip: Nobody has no dated statements."
    );
    assert_eq!(
        s("France", vec![d, date(2020, 10, 2)]).alt_text(),
        "Time strip: France made 2 dated statements on 2 days from 1 October to 2 October 2020."
    );
}

#[test]
fn coverage_alt_text() {
    assert_eq!(
        common::coverage_input().alt_text().unwrap(),
        "Bar chart of the dataset's 228 dated statements per year from 1991 to 2023; the busiest \
         year was 2020 with 200 statements. 197 of the 228 date from the Second Nagorno-Karabakh \
         War (27 September to 10 November 2020)."
    );
    let empty = CoverageInput {
        dates: vec![],
        period: None,
        title: None,
    };
    assert_eq!(
        empty.alt_text().unwrap(),
        "Bar chart: the dataset has no dated statements."
    );
    let months = CoverageInput {
        dates: common::war_dates()
            .into_iter()
            .chain(common::dates_2021())
            .collect(),
        period: Some(Period::second_karabakh_war()),
        title: None,
    };
    assert!(months.alt_text().unwrap().starts_with(
        "Bar chart of the dataset's 208 dated statements per month from September 2020 to December 2021;"
    ));
}

#[test]
fn alt_text_is_capped_for_discord() {
    let s = StripInput {
        actor: "A".repeat(5000),
        dates: vec![date(2020, 10, 1)],
    };
    let text = s.alt_text();
    assert_eq!(text.chars().count(), karabakh_chart::MAX_ALT_TEXT_CHARS);
    assert!(text.ends_with('…'));
}

// ---- cache keys ----

#[test]
fn cache_keys_are_pinned() {
    // These values must not change with the Rust version, the platform or a
    // dependency update; they change only with RENDER_VERSION or the key's
    // byte layout (then update them on purpose).
    assert_eq!(karabakh_chart::RENDER_VERSION, 1);
    let keys = [
        common::war_timeline().cache_key(),
        common::strip_input().cache_key(),
        common::coverage_input().cache_key(),
    ];
    assert_eq!(
        keys,
        [0x6d93808114911bcf, 0x40b44a686dfcde8e, 0xa9d81cefee7899a8]
    );
}

#[test]
fn cache_keys_ignore_order_and_out_of_range_dates() {
    let a = common::war_timeline();
    let mut b = a.clone();
    b.dates.reverse();
    b.marked.reverse();
    b.marked.push(b.marked[0]); // a duplicate mark
    b.dates.push(date(2019, 1, 1)); // outside the range
    assert_eq!(a.cache_key(), b.cache_key());
    let mut s = common::strip_input();
    let k = s.cache_key();
    s.dates.rotate_left(3);
    assert_eq!(s.cache_key(), k);
}

#[test]
fn cache_keys_change_with_what_is_drawn() {
    let base = common::war_timeline();
    let k = base.cache_key();
    let mut more = base.clone();
    more.dates.push(date(2020, 10, 30));
    let mut marked = base.clone();
    marked.marked.pop();
    let mut titled = base.clone();
    titled.title = Some("Reactions".into());
    let mut longer = base.clone();
    longer.end = date(2020, 11, 11);
    let keys = [
        k,
        more.cache_key(),
        marked.cache_key(),
        titled.cache_key(),
        longer.cache_key(),
    ];
    for i in 0..keys.len() {
        for j in i + 1..keys.len() {
            assert_ne!(keys[i], keys[j], "{i} and {j}");
        }
    }
    // the same dates as a strip or as coverage are other charts
    let dates = vec![date(2020, 10, 1)];
    let t = ChartRequest::Timeline(TimelineInput {
        start: date(2020, 10, 1),
        end: date(2020, 10, 1),
        dates: dates.clone(),
        marked: vec![],
        title: None,
    });
    let s = ChartRequest::Strip(StripInput {
        actor: String::new(),
        dates: dates.clone(),
    });
    let c = ChartRequest::Coverage(CoverageInput {
        dates,
        period: None,
        title: None,
    });
    assert_ne!(t.cache_key(), s.cache_key());
    assert_ne!(s.cache_key(), c.cache_key());
    assert_ne!(t.cache_key(), c.cache_key());
}
