"""The rule catalogue against the demo data set's planted problems.

    LOOKBACK_DATA_DIR=/tmp/demo .venv/bin/lookback demo --no-serve
    LOOKBACK_DATA_DIR=/tmp/demo .venv/bin/lookback check
    LOOKBACK_DATA_DIR=/tmp/demo .venv/bin/lookback findings --output /tmp/demo/findings.jsonl
    LOOKBACK_DATA_DIR=/tmp/demo .venv/bin/python bench/checks_demo.py /tmp/demo/findings.jsonl

For every problem the demo planted (its manifest), how many of its subjects the exported findings
name (recall), and per topic how many findings there are beyond the planted ones.
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# manifest key → the topic of the rules that should find it
TOPIC = {
    "dibao_not_on_list": "dibao_mismatch",
    "dibao_not_in_registry": "dibao_mismatch",
    "edu_subsidy_missing": "edu_subsidy",
    "national_missing_in_snapshot": "national_missing",
    "national_missing_in_registry": "national_missing",
}


def main(path: str) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lookback.settings")
    import django

    django.setup()
    from lookback.checks.models import Finding
    from lookback.demo.models import DemoBuild
    from lookback.registry.models import Helper

    build = DemoBuild.objects.order_by("-created_at").first()
    if build is None:
        raise SystemExit("no demo data: run `lookback demo --no-serve` first")
    lines = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    named: dict[str, set[str]] = defaultdict(set)
    per_topic: dict[str, int] = defaultdict(int)
    for line in lines:
        per_topic[line["topic"]] += 1
        for key in ("household_no", "member_no", "id_number"):
            if line.get(key):
                named[line["topic"]].add(line[key])
    # Helper subjects: the export names no helper, so read them from the findings.
    helper_ids = dict(Helper.objects.values_list("id", "id_number"))
    for topic, key in Finding.objects.filter(subject_kind="helper", status="open").values_list("topic", "subject_key"):
        if key.isdigit() and helper_ids.get(int(key)):
            named[topic].add(helper_ids[int(key)])

    print(
        f"{len(lines)} findings exported, {len(per_topic)} topics; "
        f"demo seed {build.seed}, {build.households} households"
    )
    print(f"{'planted problem':<30} {'topic':<26} {'planted':>7} {'found':>6} {'recall':>7}")
    planted_topics = set()
    missing = []
    for key, subjects in sorted(build.manifest.items()):
        if key in ("helpers", "demo_helper") or not isinstance(subjects, list):
            continue
        topic = TOPIC.get(key, key)
        planted_topics.add(topic)
        found = sum(1 for s in subjects if s in named[topic])
        recall = found / len(subjects) if subjects else 1.0
        if found == 0 and subjects:
            missing.append(key)
        print(f"{key:<30} {topic:<26} {len(subjects):>7} {found:>6} {recall:>7.0%}")
    print()
    print("findings per topic (planted topics marked *):")
    for topic, n in sorted(per_topic.items(), key=lambda kv: -kv[1]):
        print(f"  {'*' if topic in planted_topics else ' '} {topic:<26} {n:>6}")
    absent = sorted(planted_topics - set(per_topic))
    print()
    print("every planted topic has findings" if not absent else f"topics planted but without findings: {absent}")
    if missing:
        print(f"planted problems none of whose subjects were found: {missing}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "findings.jsonl")
