#!/usr/bin/env python3
"""Check queries.toml against the source text (not against the bot).

    python3 tests/findability/check_corpus.py [--queries FILE] [--source FILE] [--data FILE]

Every entry's `note` carries its evidence as «fragment» [n] [m] …: a verbatim piece of
data/source/reactions-article.txt, followed by the citation numbers that the source puts after it.
This script checks, for every entry:

- the fields: command, class and expect are known values; found has `cites`, ambiguous has `options`;
  `to` only for /timeline; `locale` is a BCP 47 tag such as en-GB;
- every «fragment» occurs in the source, verbatim;
- the numbers written after a fragment are in the run of citation markers that follows it in the source
  (the first `[n]` after the fragment and the markers directly after that one): the rule the article
  itself uses, "each quote with the citation numbers that follow it";
- every number in `cites` is backed by such a fragment, and no number is in both `cites` and `not_cites`;
- some fragment lies on `source_line` (if the note has fragments); /topic lines are 40–59;
- `suggest_search = true` only when the typed text (or each of its words) occurs in the source, accents and
  case folded, and a /reaction or /topic "none" without it only when it does not; a typo does not occur;
- every `options` name is (part of) an actor name in data/reactions.json.

Exit status 0 when every entry passes. Python 3.11+, standard library only.
"""
import argparse
import json
import re
import sys
import tomllib
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = {"reaction", "search", "timeline", "onthisday", "topic", "source"}
CLASSES = {
    "name", "alias", "demonym", "role", "extra-words", "diacritics", "flag-emoji", "typo", "abbreviation", "metonym",
    "ambiguous", "mention-rollup", "search-plural", "search-spelling", "search-phrase", "search-token",
    "search-stopword", "search-alias", "search-excerpt", "date-numeric", "date-written", "date-range",
    "date-month-precision", "date-year", "onthisday", "topic", "source", "miss",
}
EXPECT = {"found", "ambiguous", "none"}
KEYS = {"command", "input", "to", "locale", "class", "expect", "cites", "not_cites", "options", "suggest_search",
        "source_line", "note"}
EVIDENCE = re.compile(r"«([^»]+)»((?:\s*\[\d+\])*)")
MARK = re.compile(r"\[(\d+)\]")
RUN_NEXT = re.compile(r"\s*\[(\d+)\]")


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).replace("ı", "i")
    return re.sub(r"\s+", " ", text.lower()).strip()


def run_after(line: str, pos: int) -> list[int]:
    m = MARK.search(line, pos)
    if not m:
        return []
    run, p = [int(m.group(1))], m.end()
    while (m := RUN_NEXT.match(line, p)):
        run.append(int(m.group(1)))
        p = m.end()
    return run


def occurrences(lines: list[str], fragment: str):
    for no, line in enumerate(lines, 1):
        start = 0
        while (k := line.find(fragment, start)) >= 0:
            yield no, run_after(line, k + len(fragment))
            start = k + 1


def check(q: dict, lines: list[str], folded_source: str, actor_names: list[str]) -> list[str]:
    errs = []
    unknown = set(q) - KEYS
    if unknown:
        errs.append(f"unknown keys {sorted(unknown)}")
    for key in ("command", "input", "class", "expect", "source_line", "note"):
        if key not in q:
            errs.append(f"missing {key}")
    if errs:
        return errs
    if q["command"] not in COMMANDS:
        errs.append(f"unknown command {q['command']!r}")
    if q["class"] not in CLASSES:
        errs.append(f"unknown class {q['class']!r}")
    if q["expect"] not in EXPECT:
        errs.append(f"unknown expect {q['expect']!r}")
    if "to" in q and q["command"] != "timeline":
        errs.append("`to` is for /timeline only")
    if "locale" in q and not re.fullmatch(r"[a-z]{2}(-[A-Z]{2})?", q["locale"]):
        errs.append(f"odd locale {q['locale']!r}")
    if q["expect"] == "found" and "cites" not in q:
        errs.append("found needs cites")
    if q["expect"] == "ambiguous" and not q.get("options"):
        errs.append("ambiguous needs options")
    if q["command"] == "source" and not (q["input"].isdigit() and 1 <= int(q["input"]) <= 243):
        errs.append("/source takes 1–243 (an integer option in Discord)")
    cites, not_cites = set(q.get("cites", [])), set(q.get("not_cites", []))
    if cites & not_cites:
        errs.append(f"in both cites and not_cites: {sorted(cites & not_cites)}")
    for n in cites | not_cites:
        if not 1 <= n <= 243:
            errs.append(f"no citation [{n}] in the article")
    if not 1 <= q["source_line"] <= len(lines):
        errs.append(f"source_line {q['source_line']} out of range")
    if q["command"] == "topic" and q["expect"] == "found" and not 40 <= q["source_line"] <= 59:
        errs.append("a topic's source_line is one of the background lines 40–59")

    backed, frag_lines = set(), set()
    for frag, marks in EVIDENCE.findall(q["note"]):
        claimed = [int(n) for n in MARK.findall(marks)]
        hits = list(occurrences(lines, frag))
        if not hits:
            errs.append(f"fragment not in the source: «{frag}»")
            continue
        good = [no for no, run in hits if set(claimed) <= set(run)]
        if claimed and not good:
            errs.append(f"«{frag}» is followed by {[run for _, run in hits]}, not {claimed}")
            continue
        frag_lines.update(good or [no for no, _ in hits])
        backed.update(claimed)
    if cites - backed:
        errs.append(f"cites {sorted(cites - backed)} not backed by a «fragment» [n] in the note")
    if frag_lines and q["source_line"] not in frag_lines:
        errs.append(f"source_line {q['source_line']} holds none of the note's fragments (they are on {sorted(frag_lines)})")

    typed = fold(q["input"])
    words = re.findall(r"\w+", typed)
    in_text = typed in folded_source or bool(words) and all(re.search(rf"\b{re.escape(w)}\b", folded_source) for w in words)
    if q.get("suggest_search") and not in_text:
        errs.append("suggest_search, but the typed text is not in the source")
    if q["expect"] == "none" and q["command"] in ("reaction", "topic") and not q.get("suggest_search") and in_text:
        errs.append("the typed text occurs in the source: set suggest_search = true")
    if q["class"] == "typo" and in_text:
        errs.append("a 'typo' that the source itself contains")
    for opt in q.get("options", []):
        if not any(fold(opt) in fold(name) for name in actor_names):
            errs.append(f"option {opt!r} is not an actor name in the dataset")
    return errs


def main() -> int:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", default=str(here / "queries.toml"))
    ap.add_argument("--source", default=str(ROOT / "data/source/reactions-article.txt"))
    ap.add_argument("--data", default=str(ROOT / "data/reactions.json"))
    args = ap.parse_args()

    lines = Path(args.source).read_text(encoding="utf-8").split("\n")
    folded_source = fold(" ".join(lines))
    actor_names = [a["name"] for a in json.loads(Path(args.data).read_text(encoding="utf-8"))["actors"]]
    queries = tomllib.loads(Path(args.queries).read_text(encoding="utf-8"))["query"]

    bad = 0
    for i, q in enumerate(queries, 1):
        errs = check(q, lines, folded_source, actor_names)
        if errs:
            bad += 1
            for e in errs:
                print(f"#{i} /{q.get('command')} {q.get('input')!r}: {e}")
    print(f"{len(queries)} queries, {bad} with problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
