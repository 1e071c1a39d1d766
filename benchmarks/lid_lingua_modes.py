"""lingua's high- vs low-accuracy mode in the combined identifier: the out-of-source figures of two EVAL.md files.

    .venv/bin/python benchmarks/lid_lingua_modes.py HIGH_EVAL.md LOW_EVAL.md [--memory NOTE]

Each file is written by `python -m tools.lid_report --fit`, lingua built in that mode (high accuracy: main's
`_lingua_detector()`; low: the same with `.with_low_accuracy_mode()`, its outputs cached under their own name):
lingua's outputs recomputed, the trust models refitted leave-one-source-out. NOTE: the memory/CPU figures of
both modes (benchmarks/lid_memory.py), recorded with the comparison. Compares
per source the combined macro F1 (all targets / EU-24) and lingua's own, the claim-check count, the
Serbo-Croatian F1 and the web agreement, against the adoption rule of issue 22: no source's combined macro
F1 (all targets) drops by more than 0.3 points, the claim-check count does not rise, the web agreement does
not drop. Records the comparison in benchmarks/RESULTS.md (section lid_lingua_modes).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._results import write_section  # noqa: E402

MAX_DROP = 0.3


def section(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"## {title}"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start + 1:end]


def table(lines: list[str]) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines
            if line.startswith("|") and not line.startswith("|---")][1:]


def figures(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    head = {r[0]: {"lingua": r[5], "combined": r[6]} for r in table(section(text, "Headline"))}
    claim = re.search(r"\((\d+) items, (\d+) on judge sources\)", "\n".join(section(text, "Claim check")))
    bcms = {(r[0], r[1]): r[6] for r in table(section(text, "Serbo-Croatian"))}
    web = re.search(r"agrees on \*\*(\d+) of (\d+)", "\n".join(section(text, "Web documents")))
    return {"head": head, "claims": int(claim[1]) if claim else 0, "judge_claims": int(claim[2]) if claim else 0,
            "bcms": bcms, "web": (int(web[1]), int(web[2])) if web else None}


def main() -> None:
    args = sys.argv[1:]
    note = args[args.index("--memory") + 1] if "--memory" in args else ""
    paths = [a for a in args if a != "--memory" and a != note]
    if len(paths) != 2:
        sys.exit("usage: benchmarks/lid_lingua_modes.py HIGH_EVAL.md LOW_EVAL.md [--memory NOTE]")
    high, low = (figures(Path(p)) for p in paths)
    lines = ["Out of source (leave-one-source-out over the 7 dev sources), each mode with lingua's outputs "
             "recomputed and the trust models refitted; F1 in %, all targets / EU-24.", "",
             "| source | combined, high | combined, low | change (all targets) | lingua alone, high | lingua alone, low |",
             "|---|---|---|---|---|---|"]
    worst = 0.0
    for src, h in high["head"].items():
        lo = low["head"][src]
        delta = float(lo["combined"].split(" / ")[0]) - float(h["combined"].split(" / ")[0])
        worst = min(worst, delta)
        lines.append(f"| {src} | {h['combined']} | {lo['combined']} | {delta:+.1f} | {h['lingua']} | {lo['lingua']} |")
    lines += ["", "| Serbo-Croatian, combined F1 | high | low |", "|---|---|---|"]
    lines += [f"| {src} {lang} | {v} | {low['bcms'].get((src, lang), '-')} |" for (src, lang), v in high["bcms"].items()
              if lang in ("sr", "hr", "bs")]
    web = {m: f"{f['web'][0]}/{f['web'][1]}" if f["web"] else "?" for m, f in (("high", high), ("low", low))}
    ok = {f"no source's combined macro F1 drops by more than {MAX_DROP} points (worst {worst:+.1f})": worst >= -MAX_DROP,
          f"claim-check items do not rise ({high['claims']} -> {low['claims']}; judge sources "
          f"{high['judge_claims']} -> {low['judge_claims']})": low["claims"] <= high["claims"],
          f"web agreement with the three backends' consensus does not drop ({web['high']} -> {web['low']}; the "
          "consensus is recomputed with lingua in each mode)":
              bool(high["web"] and low["web"]) and low["web"][0] / low["web"][1] >= high["web"][0] / high["web"][1]}
    lines += ["", "Adoption rule (issue 22):", ""]
    lines += [f"- {'met' if v else 'NOT met'}: {k}" for k, v in ok.items()]
    lines += ["", f"Low-accuracy mode {'adopted' if all(ok.values()) else 'not adopted'}. Macro F1 compared as "
              "EVAL.md rounds it (0.1 point)."]
    if note:
        lines += ["", f"Memory and CPU of lingua's first call: {note}"]
    body = "\n".join(lines)
    print(body)
    write_section("lid_lingua_modes", "LID: lingua high- vs low-accuracy mode, out of source", body)


if __name__ == "__main__":
    main()
