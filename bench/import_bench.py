"""Import benchmark: the full import (read, validate, store) of the generated registry on SQLite and
PostgreSQL, against the bare read of the same file by python-calamine and by pandas+openpyxl.

    .venv/bin/python bench/import_bench.py --households 5000              # smoke test, ~1 minute
    .venv/bin/python bench/import_bench.py --households 300000            # the full run (~1M members)
    .venv/bin/python bench/import_bench.py --households 300000 --databases sqlite --baselines calamine
    .venv/bin/python bench/import_bench.py --households 300000 --formats xlsx --pandas-households 30000

(the last: pandas+openpyxl timed on a 30,000-household file and scaled by rows, said so in the output)

Every measurement runs in its own process, so its peak memory (ru_maxrss) is its own. The import is
timed from the call of the import service to its return (a fresh migrated database; the Django
start-up and migrations are not counted), then again, in a new process, on the same file into the
same database, where it must find every row unchanged. pandas and openpyxl are only needed for
their baseline (`pip install -e .[bench]`).
Results are printed as a table and written to `results.json` in the data folder. Wall time is the
goal; CPU time of the measuring process is printed beside it because on a shared machine it is the
steadier figure for the ratio (it leaves out PostgreSQL's own work, which runs in the server).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measured(started: float, cpu: float, rows: int) -> dict[str, Any]:
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return {"seconds": seconds, "cpu": cpu_seconds, "rows": rows, "rss_mb": _rss_mb()}


# children ----------------------------------------------------------------------------------------------


def child_calamine(paths: list[Path]) -> dict[str, Any]:
    import python_calamine

    started, cpu = time.perf_counter(), time.process_time()
    rows = 0
    for path in paths:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        for index in range(len(workbook.sheet_names)):
            sheet = workbook.get_sheet_by_index(index)
            for _ in sheet.iter_rows():
                rows += 1
            del sheet
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "rows": rows,
        "rss_mb": _rss_mb(),
    }


def child_pandas(paths: list[Path]) -> dict[str, Any]:
    import pandas

    started, cpu = time.perf_counter(), time.process_time()
    rows = 0
    for path in paths:
        if path.suffix == ".csv":
            rows += len(pandas.read_csv(path, dtype=str))
        else:
            frames = pandas.read_excel(path, sheet_name=None, engine="openpyxl")
            rows += sum(len(f) for f in frames.values())
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "rows": rows,
        "rss_mb": _rss_mb(),
    }


def child_csv(paths: list[Path]) -> dict[str, Any]:
    import csv

    started, cpu = time.perf_counter(), time.process_time()
    rows = 0
    for path in paths:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for _ in csv.reader(fh):
                rows += 1
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "rows": rows,
        "rss_mb": _rss_mb(),
    }


def child_import(paths: list[Path]) -> dict[str, Any]:
    """One import of the files into the database of DATABASE_URL (migrated first, not timed)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lookback.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from lookback.registry.models import Household, Member
    from lookback.registry.services_import import import_files

    started, cpu = time.perf_counter(), time.process_time()
    batches = import_files(paths=paths)
    result = _measured(started, cpu, 0)
    # A large file is read by a reader process (registry/importers/reader_process.py): its CPU time and
    # peak memory are added, the memory as if both peaks were at the same moment (an upper bound).
    reader = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["reader_cpu"] = reader.ru_utime + reader.ru_stime
    result["reader_rss_mb"] = reader.ru_maxrss / 1024
    result["importer_cpu"], result["importer_rss_mb"] = result["cpu"], result["rss_mb"]
    result["cpu"] += result["reader_cpu"]
    result["rss_mb"] += result["reader_rss_mb"] if result["reader_cpu"] else 0
    result.update(
        status=[b.status for b in batches],
        new=sum(b.rows_new for b in batches),
        updated=sum(b.rows_updated for b in batches),
        unchanged=sum(b.rows_unchanged for b in batches),
        errors=[e for b in batches for e in b.errors[:3]],
        households=Household.objects.count(),
        members=Member.objects.count(),
        history_rows=Household.history.count() + Member.history.count(),
    )
    return result


CHILDREN = {"calamine": child_calamine, "pandas": child_pandas, "csv": child_csv, "import": child_import}


# the runner --------------------------------------------------------------------------------------------


def run_child(mode: str, paths: list[Path], env: dict[str, str] | None = None) -> dict[str, Any]:
    command = [PYTHON, str(Path(__file__).resolve()), "--child", mode, *map(str, paths)]
    completed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=ROOT)
    if completed.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _generated(folder: Path, households: int, formats: list[str]) -> dict[str, list[Path]]:
    """The data set's files per format, generated where missing."""
    files = {"xlsx": [folder / "registry.xlsx"], "csv": [folder / "households.csv", folder / "members.csv"]}
    missing = [f for f in formats if not all(p.exists() for p in files[f])]
    if missing:
        print(f"generating {households:,} households ({','.join(missing)}) in {folder} …", flush=True)
        subprocess.run(
            [PYTHON, str(ROOT / "bench/import_generate.py"), "--households", str(households), "--out", str(folder),
             "--formats", ",".join(missing)],
            check=True,
        )  # fmt: skip
    return files


def fresh_postgres(url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(url + "/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{url}/{name}"


def settle_postgres(url: str) -> None:
    """Flush the server's earlier writes before an import is timed: one import writes more WAL than the
    server's max_wal_size (1 GB here), and the checkpoint it forces would otherwise fall, spread out,
    inside the next import measured."""
    import psycopg

    with psycopg.connect(url + "/postgres", autocommit=True) as connection:
        try:
            connection.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            print("    (no CHECKPOINT: not a superuser; the server may flush an earlier import meanwhile)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("LOOKBACK_BENCH_DIR", "/tmp/lookback-bench")))
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--formats", default="xlsx,csv")
    parser.add_argument("--baselines", default="calamine,pandas,csv")
    parser.add_argument(
        "--pandas-households",
        type=int,
        default=0,
        help="run the pandas baseline on a data set of this many households and scale its time by rows "
        "(pandas+openpyxl needs minutes for the full file); 0 = on the full file",
    )
    parser.add_argument("--pg", default=os.environ.get("LOOKBACK_BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--pg-db", default="lookback_import_bench", help="dropped and created afresh")
    parser.add_argument("--child", default="")
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args.paths)))
        return

    folder = args.data / f"h{args.households}"
    formats = args.formats.split(",")
    files = _generated(folder, args.households, formats)
    sample = args.pandas_households if 0 < args.pandas_households < args.households else 0
    sample_files = _generated(args.data / f"h{sample}", sample, formats) if sample else files

    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} processors)", flush=True)
    results: dict[str, Any] = {"households": args.households, "runs": [], "load_start": load}
    baselines = [b for b in args.baselines.split(",") if b]
    for fmt in formats:
        paths = files[fmt]
        size = sum(p.stat().st_size for p in paths) / 1e6
        for baseline in baselines:
            if (baseline == "calamine" and fmt == "csv") or (baseline == "csv" and fmt != "csv"):
                continue
            print(f"[{fmt}] baseline {baseline} …", flush=True)
            if baseline == "pandas" and sample:
                # Measured on the sample, scaled by rows to the full file (its peak memory is the sample's).
                measured = run_child(baseline, sample_files[fmt])
                full_rows = next((r["rows"] for r in results["runs"] if r["format"] == fmt and "rows" in r), 0)
                full_rows = full_rows or run_child("calamine" if fmt != "csv" else "csv", paths)["rows"]
                scale = full_rows / max(measured["rows"], 1)
                outcome = {
                    **measured,
                    "seconds": measured["seconds"] * scale,
                    "cpu": measured["cpu"] * scale,
                    "rows": full_rows,
                    "sample_rows": measured["rows"],
                    "sample_seconds": measured["seconds"],
                }
                what = f"read: pandas (extrapolated ×{scale:.1f} from {measured['rows']:,} rows)"
                print(
                    f"    measured on {sample:,} households: {measured['seconds']:.1f}s wall, "
                    f"{measured['cpu']:.1f}s CPU, {measured['rows']:,} rows, peak {measured['rss_mb']:.0f} MB; "
                    f"extrapolated ×{scale:.2f} by rows",
                    flush=True,
                )
            else:
                outcome = run_child(baseline, paths)
                what = f"read: {baseline}"
            results["runs"].append({"format": fmt, "what": what, "mb": size, **outcome})
            seconds, rows, peak = outcome["seconds"], outcome["rows"], outcome["rss_mb"]
            print(f"    {seconds:.1f}s wall, {outcome['cpu']:.1f}s CPU, {rows:,} rows, peak {peak:.0f} MB", flush=True)
        for number, database in enumerate(args.databases.split(",")):
            if number and "calamine" in baselines and fmt != "csv":
                # The machine's speed drifts within a run (the same reader work has taken 55 s of CPU in one
                # import and 81 s in the next): each database's imports are also compared with a bare
                # read made just before them.
                print(f"[{fmt}] baseline calamine again, before {database} …", flush=True)
                outcome = run_child("calamine", paths)
                results["runs"].append(
                    {"format": fmt, "what": f"read: calamine (before {database})", "mb": size, **outcome}
                )
                print(f"    {outcome['seconds']:.1f}s wall, {outcome['cpu']:.1f}s CPU", flush=True)
            work = folder / f"run-{database}-{fmt}"
            work.mkdir(parents=True, exist_ok=True)
            for old in work.glob("lookback.sqlite3*"):
                old.unlink()
            env = {"LOOKBACK_DATA_DIR": str(work), "LOOKBACK_HTTPS": "0", "DJANGO_SETTINGS_MODULE": "lookback.settings"}
            if database == "postgres":
                env["DATABASE_URL"] = fresh_postgres(args.pg, args.pg_db)
            else:
                env["DATABASE_URL"] = f"sqlite:///{work / 'lookback.sqlite3'}"
            for label in ("first", "again"):
                print(f"[{fmt}] import into {database} ({label}) …", flush=True)
                if database == "postgres":
                    settle_postgres(args.pg)
                o = run_child("import", paths, env)  # "again": the same file into the same database
                rows = o["households"] + o["members"]
                results["runs"].append(
                    {
                        "format": fmt,
                        "what": f"import → {database}" + (" (re-import, unchanged)" if label == "again" else ""),
                        "mb": size,
                        **o,
                        "rows": rows,
                    }
                )
                print(
                    f"    {o['seconds']:.1f}s wall, {o['cpu']:.1f}s CPU ({rows / o['seconds']:,.0f} rows/s), "
                    f"peak {o['rss_mb']:.0f} MB"
                    + (
                        f" (importer {o['importer_cpu']:.1f}s CPU, {o['importer_rss_mb']:.0f} MB; reader process "
                        f"{o['reader_cpu']:.1f}s CPU, {o['reader_rss_mb']:.0f} MB)"
                        if o.get("reader_cpu")
                        else ""
                    )
                    + f", {o['status']} new {o['new']:,} updated {o['updated']:,} "
                    f"unchanged {o['unchanged']:,}, history rows {o['history_rows']:,}",
                    flush=True,
                )

    print()
    print(
        "| file | what | wall s | rows/s | × calamine (wall) | × calamine just before (wall) | CPU s "
        "| × calamine (CPU) | peak MB |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for fmt in formats:
        runs = [r for r in results["runs"] if r["format"] == fmt]
        base = next((r for r in runs if r["what"] == "read: calamine"), None)
        nearest = None  # the latest bare calamine read before the row
        for r in runs:
            if r["what"].startswith("read: calamine"):
                nearest = r
            wall = f"{r['seconds'] / base['seconds']:.2f}" if base else "—"
            adjacent = f"{r['seconds'] / nearest['seconds']:.2f}" if nearest else "—"
            cpu = f"{r['cpu'] / base['cpu']:.2f}" if base else "—"
            print(
                f"| {fmt} ({r['mb']:.0f} MB) | {r['what']} | {r['seconds']:.1f} | {r['rows'] / r['seconds']:,.0f} | "
                f"{wall} | {adjacent} | {r['cpu']:.1f} | {cpu} | {r['rss_mb']:.0f} |"
            )
    print(
        "(CPU: the measuring process's own plus its reader process's; PostgreSQL's server time is not in it. "
        "Peak MB of an import with a reader process: the two processes' peaks added. The machine is shared.)"
    )
    load = os.getloadavg()
    results["load_end"] = load
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    (folder / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"\nresults: {folder / 'results.json'}")


if __name__ == "__main__":
    main()
