//! Golden-image tests with a tolerance.
//!
//! Each fixture is rendered, decoded and compared pixel by pixel with the
//! committed PNG in `tests/golden/`. The comparison forgives what a new font
//! rasteriser or encoder would change, and nothing a reader would notice:
//!
//! * a pixel matches if the other image has, within one pixel of the same
//!   place, a pixel whose channels all differ by at most `CHANNEL_TOL`
//!   (anti-aliasing shades, glyphs moved by a pixel), checked both ways;
//! * at most `MAX_DIFFERING` pixels (0.01% of a chart) may fail to match.
//!
//! A bar one statement taller (about 10 × 12 px) already fails, as the
//! `tolerance_*` tests below prove.
//!
//! `UPDATE_GOLDEN=1 cargo test --test golden` rewrites the goldens and the
//! `preview-*.png` files (each chart at embed size on Discord's dark and
//! light backgrounds). On a failure the actual image and a diff are written
//! under the target directory.

mod common;

use std::path::{Path, PathBuf};

use jiff::civil::date;
use karabakh_chart::{Chart, TimelineInput};

const CHANNEL_TOL: u8 = 48;
const MAX_DIFF_FRACTION: f64 = 0.0001;

struct Image {
    w: usize,
    h: usize,
    rgb: Vec<u8>,
}

fn decode(png_bytes: &[u8]) -> Image {
    let mut dec = png::Decoder::new(std::io::Cursor::new(png_bytes));
    dec.set_transformations(png::Transformations::EXPAND);
    let mut reader = dec.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("a sane size")];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    buf.truncate(info.buffer_size());
    assert_eq!(
        info.color_type,
        png::ColorType::Rgb,
        "palette expands to RGB"
    );
    Image {
        w: info.width as usize,
        h: info.height as usize,
        rgb: buf,
    }
}

fn encode(img: &Image) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, img.w as u32, img.h as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut wr = enc.write_header().unwrap();
    wr.write_image_data(&img.rgb).unwrap();
    wr.finish().unwrap();
    out
}

impl Image {
    fn px(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.w + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }
}

/// Pixels of `a` with no close match within one pixel in `b`.
fn unmatched(a: &Image, b: &Image, mask: &mut [bool]) -> usize {
    let close = |p: [u8; 3], q: [u8; 3]| p.iter().zip(q).all(|(x, y)| x.abs_diff(y) <= CHANNEL_TOL);
    let mut n = 0;
    for y in 0..a.h {
        for x in 0..a.w {
            let p = a.px(x, y);
            if close(p, b.px(x, y)) {
                continue;
            }
            let mut found = false;
            'search: for ny in y.saturating_sub(1)..=(y + 1).min(b.h - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(b.w - 1) {
                    if close(p, b.px(nx, ny)) {
                        found = true;
                        break 'search;
                    }
                }
            }
            if !found {
                n += 1;
                mask[y * a.w + x] = true;
            }
        }
    }
    n
}

/// The number of pixels that differ beyond the tolerance (the larger of
/// the two directions), and a mask of them.
fn differing(a: &Image, b: &Image) -> (usize, Vec<bool>) {
    assert_eq!((a.w, a.h), (b.w, b.h), "image sizes differ");
    let mut mask = vec![false; a.w * a.h];
    let ab = unmatched(a, b, &mut mask);
    let ba = unmatched(b, a, &mut mask);
    (ab.max(ba), mask)
}

fn max_differing(img: &Image) -> usize {
    (img.w as f64 * img.h as f64 * MAX_DIFF_FRACTION).floor() as usize
}

fn matches(a: &Image, b: &Image) -> bool {
    differing(a, b).0 <= max_differing(a)
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v != "0" && !v.is_empty())
}

/// A preview: the chart at embed size (halved, box filter) on Discord's
/// dark (#313338) and light (#FFFFFF) message backgrounds, side by side.
fn preview(chart: &Image) -> Image {
    let (cw, ch) = (chart.w / 2, chart.h / 2);
    let pad = 24;
    let (w, h) = (2 * (cw + 2 * pad), ch + 2 * pad);
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let half = x / (cw + 2 * pad);
            let bg = if half == 0 {
                [0x31, 0x33, 0x38]
            } else {
                [0xFF, 0xFF, 0xFF]
            };
            let lx = x % (cw + 2 * pad);
            let p = if lx >= pad && lx < pad + cw && y >= pad && y < pad + ch {
                let (sx, sy) = (2 * (lx - pad), 2 * (y - pad));
                let mut acc = [0u32; 3];
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let q = chart.px(sx + dx, sy + dy);
                    for c in 0..3 {
                        acc[c] += u32::from(q[c]);
                    }
                }
                acc.map(|v| ((v + 2) / 4) as u8)
            } else {
                bg
            };
            rgb.extend_from_slice(&p);
        }
    }
    Image { w, h, rgb }
}

fn check(name: &str, chart: &Chart) {
    let actual = decode(&chart.png);
    let path = golden_dir().join(format!("{name}.png"));
    if updating() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, &chart.png).unwrap();
        std::fs::write(
            golden_dir().join(format!("preview-{name}.png")),
            encode(&preview(&actual)),
        )
        .unwrap();
        return;
    }
    let golden_bytes = std::fs::read(&path).unwrap_or_else(|_| {
        panic!(
            "no golden {}; run `UPDATE_GOLDEN=1 cargo test --test golden` and look at it",
            path.display()
        )
    });
    let golden = decode(&golden_bytes);
    let (n, mask) = differing(&actual, &golden);
    if n > max_differing(&actual) {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("golden-diff");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join(format!("{name}.actual.png")), &chart.png).unwrap();
        let diff = Image {
            w: actual.w,
            h: actual.h,
            rgb: mask
                .iter()
                .enumerate()
                .flat_map(|(i, &bad)| {
                    if bad {
                        [255, 0, 255]
                    } else {
                        let g = actual.rgb[i * 3..i * 3 + 3]
                            .iter()
                            .map(|&v| u32::from(v))
                            .sum::<u32>()
                            / 3;
                        let g = (g / 2 + 128) as u8;
                        [g, g, g]
                    }
                })
                .collect(),
        };
        std::fs::write(out.join(format!("{name}.diff.png")), encode(&diff)).unwrap();
        panic!(
            "{name}: {n} pixels differ from {} (at most {} may); see {}",
            path.display(),
            max_differing(&actual),
            out.display()
        );
    }
}

#[test]
fn golden_timeline_war() {
    check("timeline-war", &common::war_timeline().render().unwrap());
}

#[test]
fn golden_timeline_october() {
    check(
        "timeline-october",
        &common::october_timeline().render().unwrap(),
    );
}

#[test]
fn golden_timeline_2021_weekly() {
    check(
        "timeline-2021",
        &common::year_2021_timeline().render().unwrap(),
    );
}

#[test]
fn golden_timeline_empty() {
    let input = TimelineInput {
        start: date(2021, 10, 1),
        end: date(2021, 10, 31),
        dates: common::war_dates(),
        marked: vec![],
        title: None,
    };
    check("timeline-empty", &input.render().unwrap());
}

#[test]
fn golden_strip() {
    check("strip-turkey", &common::strip_input().render().unwrap());
}

#[test]
fn golden_coverage() {
    check("coverage", &common::coverage_input().render().unwrap());
}

// ---- the tolerance itself ----

fn war() -> Image {
    decode(&common::war_timeline().render().unwrap().png)
}

#[test]
fn tolerance_accepts_the_same_picture() {
    let a = war();
    assert_eq!(differing(&a, &war()).0, 0);
}

#[test]
fn tolerance_accepts_a_one_pixel_shift_and_shade_noise() {
    // what a different glyph rasteriser or quantiser might do
    let a = war();
    let mut shifted = Image {
        w: a.w,
        h: a.h,
        rgb: a.rgb.clone(),
    };
    for y in 0..a.h {
        for x in (1..a.w).rev() {
            let (d, s) = ((y * a.w + x) * 3, (y * a.w + x - 1) * 3);
            shifted.rgb.copy_within(s..s + 3, d);
        }
    }
    assert!(
        matches(&a, &shifted),
        "{} differ",
        differing(&a, &shifted).0
    );
    let mut noisy = Image {
        w: a.w,
        h: a.h,
        rgb: a.rgb.clone(),
    };
    for (i, v) in noisy.rgb.iter_mut().enumerate() {
        let delta = (i * 7919 % 61) as i32 - 30; // -30 ..= 30
        *v = (i32::from(*v) + delta).clamp(0, 255) as u8;
    }
    assert!(matches(&a, &noisy), "{} differ", differing(&a, &noisy).0);
}

#[test]
fn tolerance_rejects_one_bar_one_statement_taller() {
    let mut input = common::war_timeline();
    // 30 October is an ordinary (unmarked) day: one more statement on it
    input.dates.push(date(2020, 10, 30));
    let changed = decode(&input.render().unwrap().png);
    let (n, _) = differing(&war(), &changed);
    eprintln!(
        "one statement more: {n} pixels differ, {} allowed",
        max_differing(&changed)
    );
    assert!(
        n > max_differing(&changed),
        "only {n} pixels differ: the tolerance hides a taller bar"
    );
}

#[test]
fn tolerance_rejects_a_moved_mark() {
    let mut input = common::war_timeline();
    input.marked = vec![date(2020, 9, 27), date(2020, 10, 11), date(2020, 11, 10)];
    let changed = decode(&input.render().unwrap().png);
    assert!(!matches(&war(), &changed));
}

#[test]
fn tolerance_rejects_a_moved_strip_mark() {
    let a = decode(&common::strip_input().render().unwrap().png);
    let mut input = common::strip_input();
    let i = input
        .dates
        .iter()
        .position(|d| *d == date(2020, 10, 5))
        .unwrap();
    input.dates[i] = date(2020, 10, 6);
    let b = decode(&input.render().unwrap().png);
    assert!(!matches(&a, &b));
}
