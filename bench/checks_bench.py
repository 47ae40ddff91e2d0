"""Benchmark: the whole rule catalogue over a generated registry, findings stored, on SQLite or
PostgreSQL; the re-run with nothing changed; and the per-row Django-ORM baseline for eight typical
checks on a sample, extrapolated — all in one invocation.

    .venv/bin/python bench/checks_bench.py                          # SQLite, 300,000 households
    .venv/bin/python bench/checks_bench.py --households 20000       # smaller
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lb_bench .venv/bin/python bench/checks_bench.py

The database named by DATABASE_URL (or a SQLite file under --dir) is dropped and re-created. Each
phase runs in its own process so that its peak memory (ru_maxrss) is its own: generate, check (two
runs), baseline. Goals (issue 4): < 60 s on SQLite, < 30 s on PostgreSQL, < 1 GB, re-run writes 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EIGHT = {
    "R2-01": "income below the line",
    "R2-03": "no basic medical insurance",
    "R2-06": "school-age child not in school",
    "R3-03": "ID number used twice",
    "R3-11": "household size != members",
    "R4-01": "no measure",
    "R4-02": "cause not addressed",
    "R5-04": "no visit in the window",
}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    """CPU time of this process, all threads (SQLite works inside it)."""
    return time.process_time()


class ServerCpu:
    """CPU seconds spent by the PostgreSQL processes serving one database (its backends and their
    parallel workers), sampled from /proc every 0.1 s: the machine is shared, so wall time alone says
    little. A process that ends between two samples loses its last fraction of a second (a slight
    undercount)."""

    def __init__(self, dbname: str) -> None:
        self.dbname = f" {dbname} ".encode()
        self.seen: dict[tuple[int, str], float] = {}
        self.start: dict[tuple[int, str], float] = {}
        self.tick = os.sysconf("SC_CLK_TCK")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> None:
        ours: set[int] = set()
        found: list[tuple[int, bytes, str, float]] = []
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    cmd = f.read()
                if not cmd.startswith(b"postgres:"):
                    continue
                with open(f"/proc/{name}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            seconds = (int(fields[11]) + int(fields[12])) / self.tick
            found.append((int(name), cmd, fields[19], seconds))
            if self.dbname in cmd:
                ours.add(int(name))
        for pid, cmd, started, seconds in found:
            # "postgres: 15/main: parallel worker for PID 1234 ", padded with NULs
            leader = cmd.rstrip(b"\0 ").rsplit(b" ", 1)[-1]
            worker = b"parallel worker for PID" in cmd and leader.isdigit() and int(leader) in ours
            if pid in ours or worker:
                key = (pid, started)
                # a process that appeared since the first sample started during the measurement
                self.start.setdefault(key, 0.0 if self._thread.is_alive() else seconds)
                self.seen[key] = seconds

    def _loop(self) -> None:
        while not self._stop.wait(0.1):
            self._sample()

    def __enter__(self) -> ServerCpu:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def seconds(self) -> float:
        return sum(self.seen[key] - self.start[key] for key in self.seen)


def setup_django() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lookback.settings")
    os.environ.setdefault("LOOKBACK_HTTPS", "0")
    import django

    django.setup()


def fresh_database(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(url.split("sqlite:///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def phase_generate(households: int) -> dict:
    setup_django()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter()
    from bench.checks_data import generate, rows_per_table

    generate(households)
    return {
        "migrate_s": round(migrated - started, 1),
        "generate_s": round(time.perf_counter() - migrated, 1),
        "rows": dict(rows_per_table()),
        "peak_mb": round(peak_mb()),
    }


def phase_check(with_receivers: bool) -> dict:
    setup_django()
    from django.db import connection

    from lookback.campaigns.models import Campaign
    from lookback.checks import engine, signals
    from lookback.checks.engine import run_checks
    from lookback.checks.models import Finding

    if not with_receivers:
        # The engine alone: the ledger's receivers (problems per finding) are measured with --with-receivers.
        for signal in (signals.finding_opened, signals.finding_resolved):
            signal.receivers = []
            signal.sender_receivers_cache.clear()
    announced = [0.0]
    announce = engine._announce

    def timed(*args):
        started = time.perf_counter()
        announce(*args)
        announced[0] += time.perf_counter() - started

    engine._announce = timed
    campaign = Campaign.objects.get(code="fz2018")
    if Finding.objects.exists():
        raise SystemExit("findings left from an earlier run: the reset phase runs first")
    server = None
    if connection.vendor == "postgresql":
        server = lambda: ServerCpu(connection.settings_dict["NAME"])  # noqa: E731
    timings = []
    for _ in range(2):
        meter = server() if server else contextlib.nullcontext()
        cpu, started = cpu_s(), time.perf_counter()
        with meter:
            outcome = run_checks(campaign=campaign)
        timings.append((time.perf_counter() - started, cpu_s() - cpu, meter.seconds if server else None, outcome))
        if len(timings) == 1:
            stored = Finding.objects.count()
    (first_s, first_cpu, first_server, first), (second_s, second_cpu, second_server, second) = timings
    per_rule = {o.rule.code: [round(o.seconds, 3), o.found, o.status] for o in first.outcomes}
    rules_s = first.stage_seconds
    return {
        "rules": len(first.outcomes),
        "first_s": round(first_s, 2),
        "first_cpu_s": round(first_cpu, 2),
        "first_server_cpu_s": None if first_server is None else round(first_server, 2),
        "rules_s": round(rules_s, 2),
        "reconcile_s": round(first.reconcile_seconds, 2),
        "rule_sum_s": round(sum(o.seconds for o in first.outcomes), 2),
        "workers": engine.check_workers(),
        "receivers_s": round(announced[0], 2),
        "findings_stored": stored,
        "second_s": round(second_s, 2),
        "second_cpu_s": round(second_cpu, 2),
        "second_server_cpu_s": None if second_server is None else round(second_server, 2),
        "second_writes": second.reconciliation.writes,
        "eight_s": round(sum(per_rule[c][0] for c in EIGHT), 3),
        "per_rule": per_rule,
        "peak_mb": round(peak_mb()),
    }


def phase_reset() -> dict:
    """A first run from scratch also when the data set is reused (--skip-generate). In a process of its
    own: deleting findings through the ORM loads them, which must not count in the check's peak memory.
    On PostgreSQL the deleted rows are vacuumed away, or the first run would insert past their dead
    index entries."""
    setup_django()
    from django.db import connection

    from lookback.checks.models import Finding

    deleted, _by_model = Finding.objects.all().delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {Finding._meta.db_table}")
    return {"deleted": deleted}


def phase_baseline(sample: int) -> dict:
    """The eight checks as a per-row loop over Django model instances, on the first `sample` households."""
    setup_django()
    import datetime as dt
    from collections import Counter

    from django.db.models import Prefetch

    from lookback.campaigns.models import Campaign
    from lookback.checks.rules.substance import DEFAULT_CAUSE_MEASURES
    from lookback.registry.models import Household, Member

    campaign = Campaign.objects.get(code="fz2018")
    total = Household.objects.count()
    ref = campaign.reference_date
    lines = {line.year: line.amount for line in campaign.poverty_lines.all()}
    before = peak_mb()
    started = time.perf_counter()
    households = list(
        Household.objects.filter(id__lte=sample).prefetch_related(
            Prefetch("members", queryset=Member.objects.order_by("id")), "measures", "visits", "assignments"
        )
    )
    found = Counter()
    ids = Counter(m.id_number for h in households for m in h.members.all() if m.status in ("正常", ""))
    start = dt.datetime.combine(campaign.visit_start, dt.time.min).astimezone()
    end = dt.datetime.combine(campaign.visit_end + dt.timedelta(days=1), dt.time.min).astimezone()
    for h in households:
        members = [m for m in h.members.all() if m.status in ("正常", "")]
        line = lines.get(h.exit_year) or max(lines.values())
        if h.income_per_capita is not None and h.income_per_capita < line:
            found["R2-01"] += 1
        for m in members:
            if not m.has_basic_medical and not m.has_employee_medical:
                found["R2-03"] += 1
            birth = m.id_number[6:14]
            if len(m.id_number) == 18 and birth.isdigit():
                age = (int(ref.strftime("%Y%m%d")) - int(birth)) // 10000
                if 6 <= age <= 15 and m.school_status in ("", "非在校生"):
                    found["R2-06"] += 1
            if ids[m.id_number] > 1:
                found["R3-03"] += 1
        if h.size != len(members):
            found["R3-11"] += 1
        measures = list(h.measures.all())
        if not measures:
            found["R4-01"] += 1
        wanted = DEFAULT_CAUSE_MEASURES.get(h.main_cause)
        if wanted and not any(ms.measure_type in wanted for ms in measures):
            found["R4-02"] += 1
        if not any(start <= v.visited_at < end for v in h.visits.all()):
            found["R5-04"] += 1
    seconds = time.perf_counter() - started
    grown = max(peak_mb() - before, 0)
    factor = total / max(len(households), 1)
    return {
        "sample": len(households),
        "sample_s": round(seconds, 2),
        "extrapolated_s": round(seconds * factor, 1),
        "sample_mb": round(grown),
        "extrapolated_mb": round(grown * factor),
        "found": dict(found),
    }


def run_phase(name: str, args: argparse.Namespace, env: dict) -> dict:
    command = [
        sys.executable,
        __file__,
        "--phase",
        name,
        "--households",
        str(args.households),
        "--sample",
        str(args.sample),
    ]
    out = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.stderr.write(out.stdout + out.stderr)
        raise SystemExit(f"phase {name} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=300_000)
    parser.add_argument("--sample", type=int, default=20_000, help="households in the per-row ORM baseline")
    parser.add_argument("--dir", default="/tmp/lookback-bench", help="data folder (and the SQLite file)")
    parser.add_argument("--phase", choices=["generate", "reset", "check", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--skip-generate", action="store_true", help="reuse the database of a previous run")
    parser.add_argument(
        "--with-receivers", action="store_true", help="keep the ledger's signal receivers connected (timed apart)"
    )
    args = parser.parse_args()

    if args.phase:
        result = {
            "generate": lambda: phase_generate(args.households),
            "reset": phase_reset,
            "check": lambda: phase_check(args.with_receivers),
            "baseline": lambda: phase_baseline(args.sample),
        }[args.phase]()
        print(json.dumps(result, ensure_ascii=False))
        return

    env = dict(os.environ)
    env.setdefault("LOOKBACK_DATA_DIR", args.dir)
    env.setdefault("DATABASE_URL", f"sqlite:///{Path(args.dir) / 'checks-bench.sqlite3'}")
    env.setdefault("LOOKBACK_HTTPS", "0")
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    vendor = "postgresql" if env["DATABASE_URL"].startswith("postgres") else "sqlite"
    print(f"# checks benchmark on {vendor}, {args.households:,} households", flush=True)
    if not args.skip_generate:
        fresh_database(env["DATABASE_URL"])
        generated = run_phase("generate", args, env)
        print(
            f"generate: migrate {generated['migrate_s']} s, data {generated['generate_s']} s, "
            f"peak {generated['peak_mb']} MB",
            flush=True,
        )
        for table, count in generated["rows"].items():
            print(f"  {table:<18} {count:>10,}")
    else:
        run_phase("reset", args, env)
    print(f"load before the check: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} processors", flush=True)
    check = run_phase("check", args, env)

    def cpu(prefix: str) -> str:
        server = check[f"{prefix}_server_cpu_s"]
        return f"CPU {check[f'{prefix}_cpu_s']} s here" + (f" + {server} s in the server" if server is not None else "")

    print(
        f"catalogue: {check['rules']} rules, first run {check['first_s']} s wall, {cpu('first')} "
        f"(rules {check['rules_s']} s on {check['workers']} connections, reconcile {check['reconcile_s']} s, "
        f"signal receivers {check['receivers_s']} s), "
        f"{check['findings_stored']:,} findings stored, peak {check['peak_mb']} MB",
        flush=True,
    )
    print(
        f"re-run, nothing changed: {check['second_s']} s wall, {cpu('second')}, "
        f"findings written: {check['second_writes']}",
        flush=True,
    )
    print(f"load after the check: {os.getloadavg()[0]:.2f} (1 min)", flush=True)
    slow = sorted(check["per_rule"].items(), key=lambda kv: -kv[1][0])[:10]
    print("  slowest rules: " + ", ".join(f"{code} {s}s/{n}" for code, (s, n, _st) in slow))
    base = run_phase("baseline", args, env)
    ratio = base["extrapolated_s"] / max(check["eight_s"], 1e-6)
    print(f"eight typical checks ({', '.join(EIGHT)}):")
    print(f"  set-based SQL in the catalogue run: {check['eight_s']} s")
    print(
        f"  per-row ORM loop: {base['sample_s']} s on {base['sample']:,} households, "
        f"extrapolated {base['extrapolated_s']} s and ~{base['extrapolated_mb']} MB for all "
        f"-> {ratio:.0f}x slower"
    )
    goal = 60 if vendor == "sqlite" else 30
    ok = check["first_s"] < goal and check["peak_mb"] < 1024 and check["second_writes"] == 0
    print(f"goal (< {goal} s, < 1 GB, re-run writes 0): {'met' if ok else 'NOT met'}")
    summary = {"vendor": vendor, "households": args.households, "check": check, "baseline": base}
    (Path(args.dir) / f"checks-bench-{vendor}.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
