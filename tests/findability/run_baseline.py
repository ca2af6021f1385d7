#!/usr/bin/env python3
"""Run every query of queries.toml through a karabakh-reactions binary and check the answers.

    python3 tests/findability/run_baseline.py PATH/TO/BINARY [--queries FILE] [--json OUT] [--locale-option OPT]

For each [[query]] it runs `BINARY ask --all-pages '/<command> <option>:<input> [to:<to>]'` (text output,
every page) and checks it:

- expect = "found":     every number in `cites` appears as `[n]` somewhere in the answer, none of `not_cites`
                         does, and the answer is not a private notice. With `cites = []` (background-only
                         answers, which carry no citations) it only checks the answer is not a private notice;
                         for /topic and /search it also checks that the first «fragment» quoted in `note` appears in
                         the answer.
- expect = "ambiguous": the answer is a private notice and names every entry of `options`
                         (case-, accent- and spacing-insensitive substring match) and none of `not_cites`.
- expect = "none":      the answer is a private notice, shows none of `not_cites`, and, when
                         `suggest_search = true`, mentions /search.

"Private notice" is a heuristic: the console marks a private (ephemeral) answer with the text line
"(a private answer: only you would see it)"; the check looks for "(a private answer". It cannot tell a
deliberate "which one?" from a "did you mean", nor a specific /search suggestion from a generic one.

`locale`: `ask --locale` answers as to a Discord user with that locale; pass `--locale-option=--locale`
(`BINARY ask --locale en-GB --all-pages …` for those entries). Without it such queries run without one (the
bot's default reading, day first) and are marked in the failure table.

Python 3.11+, standard library only.
"""
import argparse
import json
import re
import subprocess
import sys
import tomllib
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

OPTION = {
    "reaction": "actor",
    "search": "query",
    "timeline": "date",
    "onthisday": "date",
    "topic": "name",
    "source": "number",
}
PRIVATE = "(a private answer"
CITE = re.compile(r"\[(\d+)\]")
FRAGMENT = re.compile(r"«([^»]+)»")


def fold(text: str) -> str:
    """Lower case, accents removed, every run of non-alphanumerics (spaces, wraps, box rules) removed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("ı", "i")
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def command_line(q: dict) -> str:
    line = f"/{q['command']} {OPTION[q['command']]}:{q['input']}"
    if q.get("to"):
        line += f" to:{q['to']}"
    return line


def ask(binary: str, line: str, locale_args: list[str]) -> tuple[int, str, str]:
    proc = subprocess.run([binary, "ask", *locale_args, "--all-pages", line], capture_output=True, text=True,
                          timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


def first_line_of_reply(out: str) -> str:
    """The answer's gist, for the failure table: the title and the first non-empty lines after it."""
    keep = []
    for raw in out.splitlines():
        s = raw.strip().lstrip("│").strip()
        if not s or s.startswith("Source: Wikipedia") or s.startswith("Text from Wikipedia"):
            continue
        keep.append(s)
        if len(" ".join(keep)) > 220:
            break
    text = " ".join(keep)
    return text[:220] + ("…" if len(text) > 220 else "")


def check(q: dict, rc: int, out: str, err: str) -> tuple[bool, str]:
    if rc != 0:
        return False, f"exit {rc}: {err.strip()[:160]}"
    shown = {int(n) for n in CITE.findall(out)}
    private = PRIVATE in out
    expect = q["expect"]
    bad = sorted(set(q.get("not_cites", [])) & shown)
    if expect == "found":
        if private:
            return False, "private notice instead of an answer"
        missing = sorted(set(q.get("cites", [])) - shown)
        if missing:
            return False, f"missing {missing}" + (f", shows not_cites {bad}" if bad else "")
        if bad:
            return False, f"shows not_cites {bad}"
        if q["command"] in ("topic", "search") and not q.get("cites"):
            frags = FRAGMENT.findall(q.get("note", ""))
            if frags and fold(frags[0]) not in fold(out):
                return False, "topic text not shown"
        return True, ""
    if expect == "ambiguous":
        if not private:
            return False, "answered publicly instead of asking"
        absent = [o for o in q.get("options", []) if fold(o) not in fold(out)]
        if absent:
            return False, f"does not offer {absent}"
        if bad:
            return False, f"shows not_cites {bad}"
        return True, ""
    if expect == "none":
        if not private:
            return False, "answered publicly" + (f" (shows {sorted(shown)[:6]}{'…' if len(shown) > 6 else ''})" if shown else "")
        if bad:
            return False, f"shows not_cites {bad}"
        if q.get("suggest_search") and "/search" not in out:
            return False, "no /search suggestion"
        return True, ""
    return False, f"unknown expect {expect!r}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("--queries", default=str(Path(__file__).with_name("queries.toml")))
    ap.add_argument("--json", help="write every result (query, pass, reason, reply gist) to this file")
    ap.add_argument("--locale-option", help="the ask option that takes a Discord locale, e.g. --locale (none today)")
    args = ap.parse_args()

    queries = tomllib.loads(Path(args.queries).read_text(encoding="utf-8"))["query"]
    results = []
    for i, q in enumerate(queries, 1):
        line = command_line(q)
        locale_args = [args.locale_option, q["locale"]] if args.locale_option and q.get("locale") else []
        rc, out, err = ask(args.binary, line, locale_args)
        ok, why = check(q, rc, out, err)
        results.append(dict(n=i, line=line, locale=q.get("locale") and (q["locale"] if locale_args else q["locale"] + " (not passed)"), cls=q["class"], command=q["command"],
                            expect=q["expect"], ok=ok, why=why, reply=first_line_of_reply(out or err)))

    by_class = defaultdict(Counter)
    by_command = defaultdict(Counter)
    for r in results:
        by_class[r["cls"]][r["ok"]] += 1
        by_command[r["command"]][r["ok"]] += 1
    total = Counter(r["ok"] for r in results)

    def table(title, groups):
        print(f"\n{title}\n")
        print("| | pass | fail | total | pass rate |\n|---|---:|---:|---:|---:|")
        for k in sorted(groups, key=lambda k: (-sum(groups[k].values()), k)):
            c = groups[k]
            n = c[True] + c[False]
            print(f"| {k} | {c[True]} | {c[False]} | {n} | {100 * c[True] / n:.0f}% |")

    n = total[True] + total[False]
    print(f"{total[True]} of {n} queries pass ({100 * total[True] / n:.1f}%).")
    table("By command", by_command)
    table("By class", by_class)
    print("\nFailures\n")
    print("| # | query | locale | class | expect | check | the bot's answer |\n|---:|---|---|---|---|---|---|")
    for r in results:
        if not r["ok"]:
            cell = lambda s: (s or "").replace("|", "\\|").replace("\n", " ")
            print(f"| {r['n']} | `{cell(r['line'])}` | {r['locale'] or ''} | {r['cls']} | {r['expect']} | "
                  f"{cell(r['why'])} | {cell(r['reply'])} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
