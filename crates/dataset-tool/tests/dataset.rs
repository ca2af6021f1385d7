//! The reactions dataset against its source: fresh, verbatim, complete, and right on
//! facts checked by hand against `data/source/reactions-article.txt`.

use jiff::civil::Date;
use karabakh_core::dataset::{self, Dataset, How, Precision, Statement};
use karabakh_dataset::{CURATION, SOURCE_TEXT, build, check_against_source};

fn data() -> Dataset {
    dataset::embedded().expect("the embedded dataset loads")
}

fn actor_id(d: &Dataset, name: &str) -> String {
    d.actors
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no actor named {name}"))
        .id
        .clone()
}

/// The statement that carries citation `n` first.
fn by_citation(d: &Dataset, n: u16) -> &Statement {
    d.statements
        .iter()
        .find(|s| s.citations.first() == Some(&n))
        .unwrap_or_else(|| panic!("no statement starts with citation [{n}]"))
}

fn day(s: &str) -> Date {
    s.parse().expect("a date")
}

#[test]
fn the_committed_dataset_is_a_fresh_build() {
    let built = build(SOURCE_TEXT, CURATION).expect("the dataset builds");
    let fresh = dataset::to_json(&built);
    assert!(
        fresh == dataset::EMBEDDED_JSON,
        "data/reactions.json is stale: run `cargo run -p karabakh-dataset -- build`"
    );
}

#[test]
fn the_build_is_reproducible_and_ids_do_not_depend_on_corrections() {
    let a = build(SOURCE_TEXT, CURATION).unwrap();
    let b = build(SOURCE_TEXT, CURATION).unwrap();
    assert_eq!(a, b);
    // Ids come from where a statement stands in the source, not from what the
    // corrections say of it: drop every correction and the ids stay the same.
    let cut = CURATION
        .find("\n[[statement]]")
        .expect("the curation has corrections");
    let bare = build(SOURCE_TEXT, &CURATION[..cut]).unwrap();
    let ids = |d: &Dataset| {
        d.statements
            .iter()
            .map(|s| s.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&a), ids(&bare));
    assert_ne!(
        a.statements, bare.statements,
        "the corrections must change something"
    );
}

#[test]
fn every_statement_is_verbatim_cited_and_the_article_is_covered() {
    let d = data();
    let check = check_against_source(&d, SOURCE_TEXT);
    assert!(check.problems.is_empty(), "{:#?}", check.problems);
    // The only sentences shared by several statements are the lists and the three
    // sentences whose next words belong to another actor.
    let shared: Vec<(u32, String)> = check
        .shared_sentences
        .iter()
        .map(|(line, words)| (*line, words.chars().take(30).collect()))
        .collect();
    let expected = [
        (4, "Secretary General of the Organ"),
        (8, "Turkey blamed Armenia for viol"),
        (13, "Syrian President Bashar al-Ass"),
        (19, "Representatives of countries, "),
        (23, "Amnesty International and Huma"),
        (26, "Armenian communities have also"),
        (35, "Those in favor of Armenia incl"),
        (35, "Former Barcelona player Ronald"),
        (35, "Several Turkish celebrities, i"),
    ];
    let expected: Vec<(u32, String)> = expected.iter().map(|(l, w)| (*l, w.to_string())).collect();
    assert_eq!(shared, expected);
}

#[test]
fn the_check_catches_a_quote_that_is_not_verbatim() {
    let mut d = data();
    let hungary = d
        .statements
        .iter_mut()
        .find(|s| s.citations == [55, 56])
        .unwrap();
    hungary.parts[0] = hungary.parts[0].replace("Hungary stated", "Hungary said");
    assert!(hungary.parts[0].starts_with("Hungary said"));
    let check = check_against_source(&d, SOURCE_TEXT);
    assert!(
        check.problems.iter().any(|p| p.contains("is not verbatim")),
        "{:?}",
        check.problems
    );

    let mut d = data();
    d.statements[0].citations = vec![2];
    let check = check_against_source(&d, SOURCE_TEXT);
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.contains("citation [1] is carried by no statement"))
    );
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.contains("but its words are followed by [1]"))
    );

    let mut d = data();
    d.statements.remove(5);
    let check = check_against_source(&d, SOURCE_TEXT);
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.contains("belongs to no statement")),
        "{:?}",
        check.problems
    );
}

#[test]
fn no_debris_reaches_the_dataset() {
    for junk in ["{{", "CS1 maint", "|last=", "(help)", "cite web"] {
        assert!(
            !dataset::EMBEDDED_JSON.contains(junk),
            "'{junk}' is in the dataset"
        );
    }
    let d = data();
    assert_eq!(d.excerpts.len(), 6);
    // The source does not say which reference a quote of the list belongs to, and
    // neither does the dataset: an excerpt is its line and its words.
    let aznavour = d.excerpts.iter().find(|x| x.line == 68).unwrap();
    assert!(!dataset::EMBEDDED_JSON.contains("\"note\""));
    assert_eq!(
        aznavour.text,
        "Nicolas Aznavour published an open letter addressed to President Reuven Rivlin"
    );
}

#[test]
fn actors_have_kinds_unique_ids_and_people_speak_for_someone() {
    let d = data();
    let speaks_for = |person: &str| {
        let id = actor_id(&d, person);
        d.actors
            .iter()
            .find(|a| a.id == id)
            .unwrap()
            .speaks_for
            .clone()
    };
    assert_eq!(speaks_for("Recep Tayyip Erdoğan"), Some("turkey".into()));
    assert_eq!(speaks_for("Sergei Lavrov"), Some("russia".into()));
    assert_eq!(speaks_for("Jens Stoltenberg"), Some("nato".into()));
    assert_eq!(
        speaks_for("Sahiba Gafarova"),
        Some("parliament-of-azerbaijan".into())
    );
    let aliases = |name: &str| {
        d.actors
            .iter()
            .find(|a| a.name == name)
            .unwrap()
            .aliases
            .clone()
    };
    for (name, alias) in [
        ("Turkey", "Türkiye"),
        ("United States", "USA"),
        ("United States", "U.S."),
        ("United States", "America"),
        ("United Kingdom", "Britain"),
        ("United Kingdom", "UK"),
        ("Holy See", "Vatican"),
        ("Organisation of Islamic Cooperation", "OIC"),
        ("United Nations Security Council", "UNSC"),
        ("Recep Tayyip Erdoğan", "Erdogan"),
    ] {
        assert!(
            aliases(name).iter().any(|a| a == alias),
            "{name} lacks alias {alias}"
        );
    }
    // Every actor a statement names exists, and every state the article names as
    // reacting has statements of its own.
    for s in &d.statements {
        for a in s.actors.iter().chain(&s.mentions) {
            assert!(
                d.actors.iter().any(|x| &x.id == a),
                "{}: unknown actor {a}",
                s.id
            );
        }
    }
}

#[test]
fn hand_checked_citations_of_actors() {
    let d = data();
    // actor → the citations of each statement it made, in source order.
    let table: &[(&str, &[&[u16]])] = &[
        ("Hungary", &[&[55, 56]]),
        ("Estonia", &[&[71, 72]]),
        ("Pakistan", &[&[61]]),
        ("Albania", &[&[65]]),
        ("Afghanistan", &[&[97]]),
        ("Cyprus", &[&[100]]),
        ("Holy See", &[&[26]]),
        ("Germany", &[&[26]]),
        ("Lithuania", &[&[87, 86]]),
        ("Russia", &[&[14], &[19], &[74, 75, 92]]),
        ("Turkey", &[&[26, 27, 28], &[30, 31], &[33]]),
        ("Recep Tayyip Erdoğan", &[&[6], &[29]]),
        ("Northern Cyprus", &[&[32]]),
        ("Jens Stoltenberg", &[&[5, 6], &[7]]),
        ("NATO", &[&[5, 8]]),
        ("Luis Almagro", &[&[9]]),
        ("Turkic Council", &[&[10, 11]]),
        ("Organisation of Islamic Cooperation", &[&[12, 13]]),
        ("Sergei Lavrov", &[&[20, 21], &[23]]),
        ("Vladimir Putin", &[&[22], &[23], &[24, 25], &[242], &[243]]),
        ("Donald Trump", &[&[34], &[43], &[137, 138]]),
        ("Mike Pompeo", &[&[40]]),
        ("Bob Menendez", &[&[36, 37, 38], &[126]]),
        ("Nikol Pashinyan", &[&[50, 51], &[52], &[227]]),
        ("Israel", &[&[54]]),
        ("Iran", &[&[62, 63], &[81, 82, 83]]),
        ("Ali Khamenei", &[&[64]]),
        ("Volodymyr Zelenskyy", &[&[57, 58, 59, 60], &[109, 110]]),
        ("Transnistria", &[&[103, 104, 105, 106, 107, 108]]),
        ("Hamas", &[&[111]]),
        ("Amnesty International", &[&[114, 116, 117], &[118, 119]]),
        ("Genocide Watch", &[&[120], &[121, 122]]),
        ("Dutch Parliament", &[&[124, 125]]),
        ("UEFA", &[&[184], &[187, 188, 189]]),
        ("Armenian Football Federation", &[&[185]]),
        ("French Senate", &[&[225]]),
        ("National Assembly of France", &[&[236]]),
        ("Azerbaijani Foreign Ministry", &[&[159], &[232], &[240]]),
        ("Azerbaijan", &[&[239]]),
        ("Chuck Norris", &[&[212, 213]]),
        ("Mel Gibson", &[&[193]]),
        ("Kim Kardashian", &[&[205, 206]]),
        ("Armenia Fund", &[&[148, 149]]),
        ("Jean-Yves Le Drian", &[&[123], &[237]]),
        ("Hikmat Hajiyev", &[&[15]]),
        ("United Kingdom", &[&[94]]),
        ("James L. Sharp", &[&[101, 102]]),
    ];
    for (name, expected) in table {
        let id = actor_id(&d, name);
        let got: Vec<Vec<u16>> = d
            .statements
            .iter()
            .filter(|s| s.actors.contains(&id))
            .map(|s| s.citations.clone())
            .collect();
        let expected: Vec<Vec<u16>> = expected.iter().map(|c| c.to_vec()).collect();
        assert_eq!(got, expected, "statements of {name}");
    }
}

#[test]
fn hand_checked_dates_of_statements() {
    let d = data();
    // first citation of a statement → its day, and how it was found.
    let days: &[(u16, &str, How)] = &[
        (1, "2020-10-02", How::Explicit),
        (4, "2020-10-18", How::Explicit),
        (14, "2020-10-19", How::Explicit),
        (19, "2020-10-02", How::Explicit),
        (20, "2020-10-06", How::Explicit),
        (22, "2020-10-08", How::Explicit),
        (23, "2020-10-09", How::Explicit),
        (30, "2020-10-01", How::Explicit),
        (34, "2020-09-27", How::Explicit),
        (40, "2020-10-15", How::Explicit),
        (44, "2020-10-25", How::Explicit),
        (45, "2020-10-25", How::Relative),
        (48, "2020-10-16", How::Explicit),
        (123, "2020-11-10", How::Explicit),
        (128, "2020-10-01", How::YearFromContext),
        (129, "2020-10-02", How::Relative),
        (146, "2020-10-29", How::Explicit),
        (148, "2020-09-27", How::YearFromContext),
        (161, "2020-10-02", How::Relative),
        (163, "2020-10-02", How::Relative),
        (166, "2020-10-17", How::Relative),
        (167, "2020-10-18", How::Relative),
        (169, "2020-10-18", How::Relative),
        (178, "2020-10-28", How::Explicit),
        (185, "2020-10-31", How::Explicit),
        (186, "2020-11-01", How::Relative),
        (225, "2020-11-25", How::YearFromContext),
        (233, "2020-11-27", How::YearFromContext),
        (234, "2020-11-29", How::Relative),
        (236, "2020-12-03", How::Explicit),
        (239, "2020-12-04", How::Relative),
        (242, "2020-11-22", How::Explicit),
        (243, "2020-12-17", How::YearFromContext),
    ];
    for &(n, expected, how) in days {
        let s = by_citation(&d, n);
        assert_eq!(s.date.precision, Precision::Day, "[{n}] {}", s.text);
        assert_eq!(s.date.start, Some(day(expected)), "[{n}] {}", s.text);
        assert_eq!(s.date.how, how, "[{n}] {}", s.text);
    }

    // "[167] while Georgian Azerbaijanis held a rally …": the clause's own words give no
    // date, and a statement is dated by its own words only.
    let georgian = by_citation(&d, 168);
    assert_eq!(
        georgian.date.precision,
        Precision::Unknown,
        "{}",
        georgian.text
    );

    // "These events followed the clashes … the preceding morning" [178] [180].
    let preceding = d
        .statements
        .iter()
        .find(|s| s.citations == [178, 180])
        .unwrap();
    assert_eq!(preceding.date.start, Some(day("2020-10-27")));

    // "as did the OSCE [2] on 1 October and 5 October 2020"
    let osce = by_citation(&d, 2);
    assert_eq!(osce.date.precision, Precision::Days);
    assert_eq!(osce.date.days, vec![day("2020-10-01"), day("2020-10-05")]);

    // "After the war, in January 2021" and "In October 2020": months.
    for (n, from, to) in [
        (101, "2021-01-01", "2021-01-31"),
        (145, "2020-10-01", "2020-10-31"),
    ] {
        let s = by_citation(&d, n);
        assert_eq!(s.date.precision, Precision::Month);
        assert_eq!((s.date.start, s.date.end), (Some(day(from)), Some(day(to))));
    }

    // No date in the source: the statement says so.
    for n in [55, 7, 241, 181, 226, 238] {
        assert_eq!(
            by_citation(&d, n).date.precision,
            Precision::Unknown,
            "[{n}]"
        );
    }

    // Mentioned, not dated: "the 10 October 2020 humanitarian ceasefire", "the 17 October attack".
    let oic = by_citation(&d, 12);
    assert!(!oic.date.is_known());
    assert!(
        oic.date_mentions
            .iter()
            .any(|m| m.start == Some(day("2020-10-10")))
    );
    let moscow = by_citation(&d, 169);
    assert!(
        moscow
            .date_mentions
            .iter()
            .any(|m| m.start == Some(day("2020-10-17")))
    );
}

#[test]
fn topics_cover_the_background_from_1991_to_2023() {
    let d = data();
    assert_eq!(d.topics.len(), 20);
    let topic = |title: &str| {
        d.topics
            .iter()
            .find(|t| t.title == title)
            .unwrap_or_else(|| panic!("{title}"))
    };
    assert!(
        topic("Madrid Principles")
            .text
            .starts_with("The Madrid Principles were proposed peace settlements")
    );
    assert!(
        topic("Lachin offensive")
            .events
            .iter()
            .any(|e| e.date.start == Some(day("2020-10-25")))
    );
    let status = topic("Political status of Nagorno-Karabakh");
    assert!(
        status
            .events
            .iter()
            .any(|e| e.date.precision == Precision::Day && e.date.start == Some(day("1991-12-10")))
    );
    let offensive = topic("2023 Azerbaijani offensive in Nagorno-Karabakh");
    let range = &offensive.events[0].date;
    assert_eq!(
        (range.precision, range.start, range.end),
        (
            Precision::Range,
            Some(day("2023-09-19")),
            Some(day("2023-09-20"))
        )
    );
    let oic = topic("OIC Resolution 10/11");
    assert_eq!(
        (oic.events[0].date.start, oic.events[0].date.end),
        (Some(day("2008-03-13")), Some(day("2008-03-14")))
    );
    assert!(
        topic("Stepanakert Airport")
            .aliases
            .contains(&"Khojaly Airport".to_owned())
    );
    let earliest = d
        .topics
        .iter()
        .flat_map(|t| &t.events)
        .filter_map(|e| e.date.start)
        .min()
        .unwrap();
    let latest = d
        .topics
        .iter()
        .flat_map(|t| &t.events)
        .filter_map(|e| e.date.end)
        .max()
        .unwrap();
    assert_eq!((earliest.year(), latest.year()), (1990, 2023));
}

#[test]
fn curation_mistakes_are_named() {
    let wrong_actor = CURATION.replace(
        "actors = [\"Armenia Fund\"]",
        "actors = [\"Atlantis Fund\"]",
    );
    let err = build(SOURCE_TEXT, &wrong_actor).unwrap_err().to_string();
    assert!(err.contains("unknown actor 'Atlantis Fund'"), "{err}");

    let vague = CURATION.replace(
        "at = \"Subsequently, Georgia closed its border\"",
        "at = \"Georgia\"",
    );
    let err = build(SOURCE_TEXT, &vague).unwrap_err().to_string();
    assert!(
        err.contains("statement at 'Georgia' must name words found once"),
        "{err}"
    );

    let err = build(SOURCE_TEXT, "not = [toml").unwrap_err().to_string();
    assert!(err.starts_with("data/curation.toml:"), "{err}");
}

#[test]
fn topics_credit_their_own_article_and_use_only_names_their_text_uses() {
    let d = data();
    for t in &d.topics {
        assert_eq!(t.url, dataset::wikipedia_url(&t.title), "{}", t.title);
        assert!(t.url.starts_with("https://en.wikipedia.org/wiki/"));
    }
    let ganja = d.topics.iter().find(|t| t.line == 50).unwrap();
    assert_eq!(ganja.title, "2020 Ganja missile attacks");
    assert_eq!(
        ganja.url,
        "https://en.wikipedia.org/wiki/2020_Ganja_missile_attacks"
    );
    let relations = d.topics.iter().find(|t| t.line == 55).unwrap();
    assert_eq!(
        relations.url,
        "https://en.wikipedia.org/wiki/Artsakh%E2%80%93United_States_relations"
    );
    assert!(
        d.topics
            .iter()
            .all(|t| t.aliases.iter().all(|a| a != "44-day war")),
        "a name the text never uses"
    );
}

#[test]
fn mentions_roll_up_to_bodies_officials_citizens_and_territory() {
    let d = data();
    let mentions = |n: u16| by_citation(&d, n).mentions.clone();
    // The French Senate's vote, and the notes of protest to the French Ambassador.
    assert!(mentions(227).contains(&"french-senate".to_owned()));
    assert!(mentions(232).contains(&"france".to_owned()));
    assert!(mentions(239).contains(&"france".to_owned()));
    // Places: "the capital Tehran and Tabriz", "Copenhagen, Denmark", "Brussels, Belgium".
    assert!(mentions(161).contains(&"iran".to_owned()));
    assert!(mentions(176).contains(&"denmark".to_owned()));
    assert!(mentions(139).contains(&"belgium".to_owned()));
    // Citizens: "Turks living in the United Kingdom", "Syrian and Libyan fighters".
    assert!(mentions(165).contains(&"united-kingdom".to_owned()));
    assert!(mentions(20).contains(&"libya".to_owned()));
    // A body: "the Honorary Consulate of Azerbaijan in Kharkiv, Ukraine".
    assert!(mentions(158).contains(&"azerbaijan".to_owned()));
    assert!(!mentions(158).is_empty());
    // Named by nobody, tied by the curation (with its reason) to whom it speaks of.
    assert_eq!(mentions(186), ["nurlan-ibrahimov"]);
    // Mentions are never speakers.
    assert_eq!(by_citation(&d, 161).actors, ["azerbaijani-communities"]);
}

#[test]
fn the_check_catches_unreachable_statements_unsupported_dates_and_labels_not_in_the_source() {
    let problems = |d: &Dataset| check_against_source(d, SOURCE_TEXT).problems;

    let mut d = data();
    let s = d
        .statements
        .iter_mut()
        .find(|s| s.citations == [186])
        .unwrap();
    s.mentions.clear();
    assert!(
        problems(&d).iter().any(|p| p.contains("unreachable")),
        "{:?}",
        problems(&d)
    );

    // A date carried over from the sentence before: not in the statement's words.
    let mut d = data();
    let date = by_citation(&d, 167).date.clone();
    let s = d
        .statements
        .iter_mut()
        .find(|s| s.citations == [168])
        .unwrap();
    s.date = date;
    assert!(
        problems(&d)
            .iter()
            .any(|p| p.contains("not supported by its own words")),
        "{:?}",
        problems(&d)
    );
    // A phrase that is there but reads as another day.
    let mut d = data();
    let s = d
        .statements
        .iter_mut()
        .find(|s| s.citations == [123])
        .unwrap();
    s.date.start = Some(day("2020-11-11"));
    s.date.end = Some(day("2020-11-11"));
    assert!(
        problems(&d)
            .iter()
            .any(|p| p.contains("does not read as that date"))
    );

    // Labels: a kind in the bot's words, a topic name its text never uses, a quote
    // not in its line.
    let mut d = data();
    let t = d
        .actors
        .iter_mut()
        .find(|a| a.name == "Transnistria")
        .unwrap();
    t.role = Some("unrecognised state".to_owned());
    assert!(
        problems(&d)
            .iter()
            .any(|p| p.contains("'unrecognised state' is not in the article"))
    );
    let mut d = data();
    d.topics[8].aliases.push("44-day war".to_owned());
    assert!(
        problems(&d)
            .iter()
            .any(|p| p.contains("'44-day war' is not used by its text"))
    );
    let mut d = data();
    d.excerpts[0].text.push_str(" (Pashinyan's words)");
    assert!(
        problems(&d)
            .iter()
            .any(|p| p.contains("is not in that line"))
    );
}
