"""How well the reply classifier reads three sets of replies: figures, not a test.

    python bench/classify_eval.py [--misses] [--batches] [--set fixtures|golden|paraphrase]

For each set (the Service's fixtures in ../shared when present, the golden set in
tests/data/replies, the held-out paraphrase set in tests/data/replies_paraphrase) it prints the
accuracy of each contract field (kind, case_ref, check_date, outcome, needs_review, and
next_steps compared as null / not null), the share of replies right on every field, the
confusion of kinds (rows: expected, columns: got), and the safety count that matters most:
replies that needed a person but were not sent to one. `--misses` lists every wrong field.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from worker.inbox.classify import classify_message  # noqa: E402
from worker.inbox.directory import JsonCaseDirectory  # noqa: E402
from worker.inbox.parse import parse_message  # noqa: E402
from worker.inbox.reply_rules import default_rules  # noqa: E402

FIELDS = ("kind", "case_ref", "check_date", "outcome", "needs_review", "next_steps")
KINDS = ("check_done", "check_requested", "pupil_seen", "other", "auto_reply", "bounce", "loop")
SETS = {
    "fixtures": (REPO.parent / "shared" / "fixtures" / "replies", "[0-9][0-9]-*.eml"),
    "golden": (REPO / "tests" / "data" / "replies", "*.eml"),
    "paraphrase": (REPO / "tests" / "data" / "replies_paraphrase", "*.eml"),
}


def evaluate(folder: Path, pattern: str) -> list[tuple[str, dict, dict]]:
    """(file name, expected, got) for every .eml with an expected .json beside it."""
    directory = JsonCaseDirectory.from_file(folder / "cases.json")
    rules = default_rules()
    out = []
    for path in sorted(folder.glob(pattern)):
        want_path = path.with_suffix(".json")
        if not want_path.exists():
            continue
        expected = json.loads(want_path.read_text(encoding="utf-8"))
        result = classify_message(parse_message(path.read_bytes()), directory, rules, secret=b"test-secret")
        out.append((path.name, expected, result.to_json() | {"review_reasons": result.review_reasons}))
    return out


def field_ok(name: str, expected: dict, got: dict) -> bool:
    if name == "next_steps":
        return (expected["next_steps"] is None) == (got["next_steps"] is None)
    return expected[name] == got[name]


def report(label: str, rows: list[tuple[str, dict, dict]], misses: bool, batches: bool = False) -> None:
    n = len(rows)
    print(f"\n== {label}: {n} replies")
    if not n:
        return
    for name in FIELDS:
        right = sum(field_ok(name, e, g) for _, e, g in rows)
        print(f"  {name:<13} {right:>3}/{n}  {100 * right / n:5.1f}%")
    whole = sum(all(field_ok(f, e, g) for f in FIELDS) for _, e, g in rows)
    print(f"  {'all fields':<13} {whole:>3}/{n}  {100 * whole / n:5.1f}%")
    unsafe = [name for name, e, g in rows if e["needs_review"] and not g["needs_review"]]
    extra = [name for name, e, g in rows if not e["needs_review"] and g["needs_review"]]
    print(f"  missed review (unsafe): {len(unsafe)}   needless review: {len(extra)}")
    confusion = Counter((e["kind"], g["kind"]) for _, e, g in rows)
    kinds = [k for k in KINDS if any(k in pair for pair in confusion)]
    print("  kinds (rows expected, columns got):")
    print("    " + " " * 16 + "".join(f"{k[:12]:>13}" for k in kinds))
    for want in kinds:
        if any(w == want for w, _ in confusion):
            print(f"    {want:<16}" + "".join(f"{confusion.get((want, got), 0) or '.':>13}" for got in kinds))
    if batches:
        groups: dict[str, list[tuple[str, dict, dict]]] = {}
        for row in rows:
            groups.setdefault(row[0][:1], []).append(row)
        for letter, group in sorted(groups.items()):
            right = sum(all(field_ok(f, e, g) for f in FIELDS) for _, e, g in group)
            kind = sum(field_ok("kind", e, g) for _, e, g in group)
            unsafe_n = sum(e["needs_review"] and not g["needs_review"] for _, e, g in group)
            print(f"  batch {letter}*: {len(group):>3} replies, kind {kind}/{len(group)}, all fields {right}/{len(group)}, "
                  f"missed review {unsafe_n}")
    if misses:
        for name, e, g in rows:
            wrong = [f for f in FIELDS if not field_ok(f, e, g)]
            if wrong:
                detail = ", ".join(f"{f}: {g[f]!r} (want {e[f]!r})" for f in wrong)
                print(f"  MISS {name}: {detail}  reasons={g['review_reasons']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every wrong field")
    parser.add_argument("--set", choices=sorted(SETS), action="append", help="only these sets")
    parser.add_argument("--batches", action="store_true", help="figures per file-name letter (the paraphrase batches)")
    args = parser.parse_args()
    for label in args.set or list(SETS):
        folder, pattern = SETS[label]
        if not (folder / "cases.json").exists():
            print(f"\n== {label}: not here ({folder})")
            continue
        report(label, evaluate(folder, pattern), args.misses, args.batches)


if __name__ == "__main__":
    main()
