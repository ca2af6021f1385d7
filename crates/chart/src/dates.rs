//! Day numbers, calendar boundaries and English date formatting.
//!
//! Everything inside the crate works on *day numbers* (days since
//! 1970-01-01, proleptic Gregorian), which makes binning and pixel mapping
//! plain integer arithmetic. Month names are English, from jiff's formatting:
//! no locale, no clock.

use jiff::civil::Date;

/// The English name of month 1–12 ("September"), from jiff's formatting: no table
/// of our own.
pub(crate) fn month_long(m: u32) -> String {
    month_date(m).strftime("%B").to_string()
}

/// The month's three-letter abbreviation ("Sep").
pub(crate) fn month_short(m: u32) -> String {
    month_date(m).strftime("%b").to_string()
}

fn month_date(m: u32) -> Date {
    Date::new(2000, m.clamp(1, 12) as i8, 1).expect("the first of a month in 2000")
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u32; // [0, 399]
    let mp = (m + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + d - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe as i32 - 719_468
}

/// The civil date (year, month 1–12, day 1–31) of a day number.
pub(crate) fn civil_from_days(n: i32) -> (i32, u32, u32) {
    let z = n + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u32;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe as i32 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub(crate) fn day_number(d: Date) -> i32 {
    days_from_civil(i32::from(d.year()), d.month() as u32, d.day() as u32)
}

/// Monday = 0 … Sunday = 6 (1970-01-01 was a Thursday).
pub(crate) fn weekday_mon0(n: i32) -> i32 {
    (n + 3).rem_euclid(7)
}

pub(crate) fn year_of(n: i32) -> i32 {
    civil_from_days(n).0
}

pub(crate) fn month_start(n: i32) -> i32 {
    let (y, m, _) = civil_from_days(n);
    days_from_civil(y, m, 1)
}

pub(crate) fn next_month_start(n: i32) -> i32 {
    let (y, m, _) = civil_from_days(n);
    if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    }
}

pub(crate) fn year_start(n: i32) -> i32 {
    days_from_civil(year_of(n), 1, 1)
}

pub(crate) fn next_year_start(n: i32) -> i32 {
    days_from_civil(year_of(n) + 1, 1, 1)
}

pub(crate) fn week_start(n: i32) -> i32 {
    n - weekday_mon0(n)
}

/// "27 September 2020"
pub(crate) fn fmt_long(n: i32) -> String {
    let (y, m, d) = civil_from_days(n);
    format!("{d} {} {y}", month_long(m))
}

/// "27 Sep 2020"
pub(crate) fn fmt_medium(n: i32) -> String {
    let (y, m, d) = civil_from_days(n);
    format!("{d} {} {y}", month_short(m))
}

/// "27 Sep"
pub(crate) fn fmt_short(n: i32) -> String {
    let (_, m, d) = civil_from_days(n);
    format!("{d} {}", month_short(m))
}

/// "Sep"
pub(crate) fn fmt_month_short(n: i32) -> String {
    month_short(civil_from_days(n).1)
}

/// "September 2020"
pub(crate) fn fmt_month_long(n: i32) -> String {
    let (y, m, _) = civil_from_days(n);
    format!("{} {y}", month_long(m))
}

/// "Sep 2020"
pub(crate) fn fmt_month_medium(n: i32) -> String {
    let (y, m, _) = civil_from_days(n);
    format!("{} {y}", month_short(m))
}

fn is_whole_month(first: i32, last: i32) -> bool {
    first == month_start(first) && last + 1 == next_month_start(first)
}

fn is_whole_year(first: i32, last: i32) -> bool {
    first == year_start(first) && last + 1 == next_year_start(first)
}

/// A compact range for a subtitle: "27 Sep – 10 Nov 2020", "October 2020",
/// "2021", "27 Sep 2020", "27 Dec 2020 – 3 Jan 2021".
pub(crate) fn fmt_range_compact(first: i32, last: i32) -> String {
    if first == last {
        return fmt_medium(first);
    }
    if is_whole_month(first, last) {
        return fmt_month_long(first);
    }
    if is_whole_year(first, last) {
        return year_of(first).to_string();
    }
    if first == month_start(first) && last + 1 == next_month_start(last) {
        // whole months: "Sep – Nov 2020" / "Sep 2020 – Jan 2021"
        return if year_of(first) == year_of(last) {
            format!("{} – {}", fmt_month_short(first), fmt_month_medium(last))
        } else if first == year_start(first) && last + 1 == next_year_start(last) {
            format!("{} – {}", year_of(first), year_of(last))
        } else {
            format!("{} – {}", fmt_month_medium(first), fmt_month_medium(last))
        };
    }
    if year_of(first) == year_of(last) {
        format!("{} – {}", fmt_short(first), fmt_medium(last))
    } else {
        format!("{} – {}", fmt_medium(first), fmt_medium(last))
    }
}

/// A range for a sentence, with its preposition: "on 27 September 2020",
/// "in October 2020", "in 2021", "from 27 September to 10 November 2020",
/// "from 27 December 2020 to 3 January 2021".
pub(crate) fn fmt_range_sentence(first: i32, last: i32) -> String {
    if first == last {
        return format!("on {}", fmt_long(first));
    }
    if is_whole_month(first, last) {
        return format!("in {}", fmt_month_long(first));
    }
    if is_whole_year(first, last) {
        return format!("in {}", year_of(first));
    }
    if first == year_start(first) && last + 1 == next_year_start(last) {
        return format!("from {} to {}", year_of(first), year_of(last));
    }
    if first == month_start(first) && last + 1 == next_month_start(last) {
        return if year_of(first) == year_of(last) {
            format!(
                "from {} to {}",
                month_long(civil_from_days(first).1),
                fmt_month_long(last)
            )
        } else {
            format!("from {} to {}", fmt_month_long(first), fmt_month_long(last))
        };
    }
    if year_of(first) == year_of(last) {
        let (_, m, d) = civil_from_days(first);
        format!("from {d} {} to {}", month_long(m), fmt_long(last))
    } else {
        format!("from {} to {}", fmt_long(first), fmt_long(last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip_and_match_jiff() {
        for n in [-800_000, -1, 0, 1, 18_532, 18_576, 19_000, 2_000_000] {
            let (y, m, d) = civil_from_days(n);
            assert_eq!(days_from_civil(y, m, d), n);
        }
        let war = jiff::civil::date(2020, 9, 27);
        let epoch = jiff::civil::date(1970, 1, 1);
        let days = epoch.until(war).unwrap().get_days();
        assert_eq!(day_number(war), days);
        assert_eq!(civil_from_days(day_number(war)), (2020, 9, 27));
        // 27 September 2020 was a Sunday, 28 September a Monday.
        assert_eq!(weekday_mon0(day_number(war)), 6);
        assert_eq!(week_start(day_number(war)), day_number(war) - 6);
    }

    #[test]
    fn ranges_read_naturally() {
        let d = |y, m, dd| days_from_civil(y, m, dd);
        assert_eq!(
            fmt_range_compact(d(2020, 9, 27), d(2020, 11, 10)),
            "27 Sep – 10 Nov 2020"
        );
        assert_eq!(
            fmt_range_compact(d(2020, 10, 1), d(2020, 10, 31)),
            "October 2020"
        );
        assert_eq!(fmt_range_compact(d(2021, 1, 1), d(2021, 12, 31)), "2021");
        assert_eq!(
            fmt_range_compact(d(1991, 1, 1), d(2023, 12, 31)),
            "1991 – 2023"
        );
        assert_eq!(
            fmt_range_compact(d(2020, 12, 27), d(2021, 1, 3)),
            "27 Dec 2020 – 3 Jan 2021"
        );
        assert_eq!(
            fmt_range_sentence(d(2020, 9, 27), d(2020, 11, 10)),
            "from 27 September to 10 November 2020"
        );
        assert_eq!(
            fmt_range_sentence(d(2020, 10, 1), d(2020, 10, 31)),
            "in October 2020"
        );
        assert_eq!(
            fmt_range_sentence(d(2021, 1, 1), d(2021, 12, 31)),
            "in 2021"
        );
        assert_eq!(
            fmt_range_sentence(d(2021, 1, 5), d(2021, 1, 5)),
            "on 5 January 2021"
        );
        assert_eq!(
            fmt_range_sentence(d(1991, 1, 1), d(2023, 12, 31)),
            "from 1991 to 2023"
        );
        assert_eq!(
            fmt_range_sentence(d(2020, 9, 1), d(2021, 12, 31)),
            "from September 2020 to December 2021"
        );
        assert_eq!(
            fmt_range_sentence(d(2020, 9, 1), d(2020, 11, 30)),
            "from September to November 2020"
        );
    }
}
