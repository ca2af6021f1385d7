//! Every output is a valid PNG within Discord's limits, for ordinary and
//! edge-case inputs; rendering is deterministic and thread-safe.

mod common;

use jiff::civil::{Date, date};
use karabakh_chart::{
    Chart, ChartError, ChartRequest, CoverageInput, MAX_ALT_TEXT_CHARS, MAX_PNG_BYTES, Period,
    StripInput, TimelineInput,
};

const MAX_W: u32 = 1200;
const MAX_H: u32 = 600;

fn timeline(start: Date, end: Date, dates: Vec<Date>, marked: Vec<Date>) -> TimelineInput {
    TimelineInput {
        start,
        end,
        dates,
        marked,
        title: None,
    }
}

/// Decode the PNG fully and check it against the limits and the Chart's
/// own description of it.
fn assert_valid(name: &str, chart: &Chart) {
    assert!(
        chart.png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{name}: not a PNG"
    );
    assert!(
        chart.png.len() <= MAX_PNG_BYTES,
        "{name}: {} bytes",
        chart.png.len()
    );
    let mut dec = png::Decoder::new(std::io::Cursor::new(&chart.png[..]));
    dec.set_transformations(png::Transformations::EXPAND);
    let mut reader = dec.read_info().unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader
        .next_frame(&mut buf)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        (info.width, info.height),
        (chart.width, chart.height),
        "{name}"
    );
    assert!(
        info.width <= MAX_W && info.height <= MAX_H,
        "{name}: {}x{}",
        info.width,
        info.height
    );
    assert_eq!(
        reader.info().color_type,
        png::ColorType::Indexed,
        "{name}: indexed colour"
    );
    assert!(
        !chart.alt_text.is_empty() && chart.alt_text.chars().count() <= MAX_ALT_TEXT_CHARS,
        "{name}"
    );
    // not blank: the card, text and marks give several colours
    let distinct: std::collections::HashSet<&[u8]> = buf.chunks(3).collect();
    assert!(distinct.len() >= 4, "{name}: {} colours", distinct.len());
}

fn all_cases() -> Vec<(&'static str, ChartRequest)> {
    let war = common::war_dates();
    let one_day = date(2020, 10, 10);
    let forty_on_one_day = vec![one_day; 40];
    let forty_days: Vec<Date> = common::days(date(2020, 9, 27), 40).collect();
    let thirty_years: Vec<Date> = {
        let mut rng = common::Lcg(1994);
        (0..3000)
            .map(|_| {
                date(1994, 1, 1)
                    .checked_add(jiff::Span::new().days(rng.below(30 * 365) as i64))
                    .unwrap()
            })
            .collect()
    };
    use ChartRequest::{Coverage, Strip, Timeline};
    vec![
        ("timeline war", Timeline(common::war_timeline())),
        ("timeline october", Timeline(common::october_timeline())),
        ("timeline 2021", Timeline(common::year_2021_timeline())),
        ("timeline empty", Timeline(timeline(date(2021, 10, 1), date(2021, 10, 31), vec![], vec![]))),
        ("timeline empty, marked", Timeline(timeline(date(2021, 10, 1), date(2021, 10, 31), vec![], vec![date(2021, 10, 5)]))),
        ("timeline one point", Timeline(timeline(date(2020, 10, 1), date(2020, 10, 31), vec![one_day], vec![one_day]))),
        ("timeline 40 on one day", Timeline(timeline(date(2020, 10, 1), date(2020, 10, 31), forty_on_one_day.clone(), vec![]))),
        ("timeline range of 1 day", Timeline(timeline(one_day, one_day, war.clone(), vec![one_day]))),
        ("timeline range of 1 day, empty", Timeline(timeline(date(2019, 1, 1), date(2019, 1, 1), war.clone(), vec![]))),
        ("timeline 30 years", Timeline(timeline(date(1994, 1, 1), date(2023, 12, 31), thirty_years.clone(), vec![one_day]))),
        ("timeline 30 years, few points", Timeline(timeline(date(1994, 1, 1), date(2023, 12, 31), common::coverage_dates(), vec![]))),
        ("timeline 120 days all marked", {
            let days: Vec<Date> = common::days(date(2020, 8, 1), 120).collect();
            let mut dates = days.clone();
            dates.extend(war.iter().copied());
            Timeline(timeline(days[0], days[119], dates, days))
        }),
        ("timeline 121 days (weekly)", Timeline(timeline(date(2020, 8, 1), date(2020, 11, 29), war.clone(), vec![one_day]))),
        ("timeline 3 years (monthly)", Timeline(timeline(date(2020, 1, 1), date(2022, 12, 31), common::coverage_dates(), vec![]))),
        ("timeline across new year", Timeline(timeline(date(2020, 12, 20), date(2021, 1, 20), common::dates_2021(), vec![date(2021, 1, 11)]))),
        ("timeline busy day", Timeline(timeline(date(2020, 9, 27), date(2020, 11, 10), vec![one_day; 12_345], vec![one_day]))),
        ("strip", Strip(common::strip_input())),
        ("strip empty", Strip(StripInput { actor: "Nobody".into(), dates: vec![] })),
        ("strip one point", Strip(StripInput { actor: "Iran".into(), dates: vec![one_day] })),
        ("strip 40 on one day", Strip(StripInput { actor: "European Union".into(), dates: forty_on_one_day.clone() })),
        ("strip 40 days", Strip(StripInput { actor: "OSCE Minsk Group".into(), dates: forty_days.clone() })),
        ("strip 40 points over 30 years", Strip(StripInput { actor: "Armenia".into(), dates: thirty_years[..40].to_vec() })),
        ("strip 150 statements on one day", Strip(StripInput { actor: "UN".into(), dates: vec![one_day; 150] })),
        ("strip long name", Strip(StripInput {
            actor: "United Nations Secretary-General António Guterres, speaking for the Security Council of the United Nations".into(),
            dates: war.iter().copied().step_by(5).collect(),
        })),
        ("strip non-Latin name", Strip(StripInput { actor: "Հայաստան / Azərbaycan / Россия / Ελλάδα".into(), dates: forty_days[..5].to_vec() })),
        ("coverage", Coverage(common::coverage_input())),
        ("coverage empty", Coverage(CoverageInput { dates: vec![], period: Some(Period::second_karabakh_war()), title: None })),
        ("coverage one point", Coverage(CoverageInput { dates: vec![one_day], period: None, title: None })),
        ("coverage 40 on one day", Coverage(CoverageInput { dates: forty_on_one_day, period: Some(Period::second_karabakh_war()), title: None })),
        ("coverage months", Coverage(CoverageInput { dates: war.iter().copied().chain(common::dates_2021()).collect(), period: Some(Period::second_karabakh_war()), title: None })),
        ("coverage 30 years", Coverage(CoverageInput { dates: thirty_years, period: Some(Period::second_karabakh_war()), title: None })),
        ("coverage period outside the data", Coverage(CoverageInput { dates: vec![date(1994, 5, 12)], period: Some(Period::second_karabakh_war()), title: None })),
    ]
}

/// With `CHART_DUMP=<dir>`, every case's PNG is also written there, to look at.
#[test]
fn every_case_is_a_valid_png_within_limits() {
    let dump = std::env::var_os("CHART_DUMP").map(std::path::PathBuf::from);
    for (name, req) in all_cases() {
        let chart = req.render().unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Some(dir) = &dump {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(
                dir.join(format!("{}.png", name.replace([' ', ','], "_"))),
                &chart.png,
            )
            .unwrap();
            println!("{name}: {} bytes", chart.png.len());
        }
        assert_valid(name, &chart);
        assert_eq!(
            chart.alt_text,
            req.alt_text().unwrap(),
            "{name}: alt text is the same with or without drawing"
        );
    }
}

#[test]
fn sizes_are_as_documented() {
    let t = common::war_timeline().render().unwrap();
    assert_eq!((t.width, t.height), karabakh_chart::BAR_CHART_SIZE);
    let s = common::strip_input().render().unwrap();
    assert_eq!((s.width, s.height), karabakh_chart::STRIP_SIZE);
    let c = common::coverage_input().render().unwrap();
    assert_eq!((c.width, c.height), karabakh_chart::BAR_CHART_SIZE);
}

#[test]
fn rendering_is_deterministic() {
    for (name, req) in all_cases().into_iter().take(6) {
        assert_eq!(req.render().unwrap(), req.render().unwrap(), "{name}");
    }
}

#[test]
fn rendering_from_many_threads_gives_the_same_bytes() {
    let expected: Vec<Chart> = all_cases()
        .iter()
        .take(5)
        .map(|(_, r)| r.render().unwrap())
        .collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    all_cases()
                        .iter()
                        .take(5)
                        .map(|(_, r)| r.render().unwrap())
                        .collect::<Vec<Chart>>()
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), expected);
        }
    });
}

#[test]
fn a_reversed_range_is_an_error_not_a_panic() {
    let t = timeline(
        date(2020, 11, 10),
        date(2020, 9, 27),
        common::war_dates(),
        vec![],
    );
    assert_eq!(
        t.render().unwrap_err(),
        ChartError::InvalidRange {
            start: date(2020, 11, 10),
            end: date(2020, 9, 27)
        }
    );
    assert!(t.alt_text().is_err());
    let c = CoverageInput {
        dates: vec![],
        period: Some(Period {
            start: date(2021, 1, 2),
            end: date(2021, 1, 1),
            label: "x".into(),
        }),
        title: None,
    };
    assert!(matches!(c.render(), Err(ChartError::InvalidRange { .. })));
}

#[test]
fn dates_outside_the_range_do_not_change_the_picture() {
    let a = common::october_timeline();
    let mut b = a.clone();
    b.dates.retain(|d| d.month() == 10);
    b.marked.push(date(2020, 11, 10)); // outside: ignored
    assert_eq!(a.render().unwrap(), b.render().unwrap());
    assert_eq!(a.cache_key(), b.cache_key());
}

#[test]
fn registering_the_font_is_idempotent() {
    for _ in 0..3 {
        karabakh_chart::register_font().unwrap();
    }
}
