"""The rule engine: run a campaign's rules inside the database and reconcile the findings.

Nothing here loops over households in Python. Each rule's query fills a staging table with one
`INSERT … SELECT`. One rule after another, that is a temporary table of this connection. When several
rules run at once on their own connections (outside a transaction, `LOOKBACK_CHECK_WORKERS`), on
PostgreSQL it is an unlogged table of the run that every connection inserts into; on SQLite, which
lets only one connection write at a time, the rules' result rows (the findings, not the households)
are fetched and inserted here. Four set-based statements then reconcile the staging table with the
stored findings:

1. approved waivers whose finding now shows other data lapse;
2. findings that reappear or whose data changed are updated (re-opened when they were fixed, or
   waived with other data);
3. open or waived findings of the rules that ran, inside the run's scope, that no longer appear are
   marked fixed in data, with the date;
4. new subjects are inserted as open findings.

Every statement only touches rows that differ, so a re-run over unchanged data writes no finding.
New and fixed findings are announced with the `finding_opened` / `finding_resolved` signals, which
the problem ledger listens to. What a run opened is counted from the staging tables (new subjects,
and the findings step 2 re-opens, set apart before it runs) rather than read back through an index
on the opening run: each index on the findings cost about a second of a first run's insert. For the
same reason an insert that at least doubles the findings (a campaign's first run) goes in with their
plain indexes dropped and builds them again before the transaction commits.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from lookback.campaigns.models import Campaign
from lookback.checks import signals
from lookback.checks.catalogue import Rule, all_rules, get_rule
from lookback.checks.idcheck import ensure_regions
from lookback.checks.models import CheckRun, Finding, RuleRunStat, Waiver
from lookback.checks.sql import Ctx
from lookback.core.bulkload import build_indexes, constraint_checks_flushed, plain_indexes
from lookback.core.i18n import in_site_language
from lookback.registry.models import DeptListEntry, NationalSnapshot

logger = logging.getLogger(__name__)

STAGE = "checks_stage"
STAGE_NEW = "checks_stage_new"
STAGE_REOPENED = "checks_stage_reopened"
SQLITE_CACHE_KB = 256 * 1024
PG_WORK_MEM = "128MB"
# A run that inserts at least this many findings, and no fewer than the table held, inserts them with
# the findings' plain indexes dropped and builds them again after (see _indexes_deferred).
DEFER_MIN_ROWS = 50_000
FINDING = Finding._meta.db_table
WAIVER = Waiver._meta.db_table

STAGE_COLUMNS = ", ".join(
    (
        "rule_code",
        "topic",
        "dimension",
        "subject_kind",
        "subject_key",
        "household_id",
        "member_id",
        "household_no",
        "division_code",
        "detail",
    )
)
STAGE_DDL = """CREATE {kind} {name} (
    rule_code TEXT NOT NULL, topic TEXT NOT NULL, dimension INTEGER NOT NULL, subject_kind TEXT NOT NULL,
    subject_key TEXT NOT NULL, household_id BIGINT, member_id BIGINT, household_no TEXT, division_code TEXT,
    detail TEXT NOT NULL, PRIMARY KEY (rule_code, subject_key))"""


class UnknownRule(ValueError):
    pass


@dataclass
class RuleOutcome:
    rule: Rule
    status: str = RuleRunStat.Status.OK
    seconds: float = 0.0
    found: int = 0
    opened: int = 0
    fixed: int = 0
    message: str = ""


@dataclass
class Reconciliation:
    lapsed: int = 0
    updated: int = 0
    opened: int = 0
    fixed: int = 0
    # What the run opened, per rule (new and re-opened findings), and where the new ones start: ids only
    # grow, so they are above the largest id before the insert.
    opened_by_rule: dict[str, int] = field(default_factory=dict)
    reopened: int = 0
    last_id_before: int = 0

    @property
    def writes(self) -> int:
        return self.lapsed + self.updated + self.opened + self.fixed


@dataclass
class RunResult:
    run: CheckRun
    outcomes: list[RuleOutcome] = field(default_factory=list)
    reconciliation: Reconciliation = field(default_factory=Reconciliation)
    stage_seconds: float = 0.0  # wall time of the rules (they may run side by side)
    reconcile_seconds: float = 0.0


def select_rules(campaign: Campaign, codes: Iterable[str] | None = None) -> list[Rule]:
    """The named rules, or the campaign's rules (all, minus `parameters["disabled_rules"]`)."""
    if codes:
        chosen = []
        for code in codes:
            rule = get_rule(code.strip().upper())
            if rule is None:
                raise UnknownRule(code)
            if rule not in chosen:
                chosen.append(rule)
        return chosen
    disabled = set((campaign.parameters or {}).get("disabled_rules", []))
    return [rule for rule in all_rules() if rule.code not in disabled]


@in_site_language  # rule messages and the ledger notes its signals write are stored for everyone
def run_checks(
    *,
    campaign: Campaign,
    rule_codes: Iterable[str] | None = None,
    user=None,
    scope_prefix: str = "",
    source: str = CheckRun.Source.CLI,
    run: CheckRun | None = None,
    on_progress: Callable[[RuleOutcome, int, int], None] | None = None,
) -> RunResult:
    """Run the rules and reconcile the findings. Returns the recorded run with per-rule outcomes."""
    if run is None:
        run = CheckRun.objects.create(
            campaign=campaign,
            started_by=user,
            source=source,
            scope_prefix=scope_prefix,
            division_code=scope_prefix,
            rule_codes=list(rule_codes or []),
        )
    rules = select_rules(campaign, run.rule_codes or rule_codes)
    run.status = CheckRun.Status.RUNNING
    run.started_at = timezone.now()
    run.save(update_fields=["status", "started_at"])
    result = RunResult(run=run)
    try:
        _run(result, campaign, rules, on_progress)
    except Exception as exc:
        logger.exception("check run %s failed", run.pk)
        run.status = CheckRun.Status.FAILED
        run.error = str(exc)[:2000]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        raise
    return result


def _run(result: RunResult, campaign: Campaign, rules: list[Rule], on_progress) -> None:
    run = result.run
    ensure_regions()
    loaded = _loaded_lists({kind for rule in rules for kind in rule.requires_lists})
    snapshot_id = NationalSnapshot.objects.order_by("-snapshot_date", "-id").values_list("id", flat=True).first()
    scope_like = (run.scope_prefix or "") + "%"
    sqlite_tuned = connection.vendor == "sqlite" and not connection.in_atomic_block
    workers = check_workers()
    parallel = workers > 1 and not connection.in_atomic_block and len(rules) > 1
    # Rules side by side on PostgreSQL insert straight into one unlogged table of the run (committed, so
    # that their connections see it): their findings never travel through Python.
    shared = parallel and connection.vendor == "postgresql"
    stage = f"{STAGE}_{run.pk}" if shared else STAGE
    with connection.cursor() as cursor:
        if sqlite_tuned:
            # A run reads every registry table several times: a page cache that holds them (instead of
            # SQLite's 2 MB default) and the staging table in memory, for the run only. (temp_store
            # cannot change inside a transaction, e.g. a test's.)
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}")
            cursor.execute("PRAGMA temp_store = MEMORY")
        if connection.vendor == "postgresql":
            _tune_postgresql(cursor)
        cursor.execute(f"DROP TABLE IF EXISTS {stage}")
        ddl = STAGE_DDL.format(kind="UNLOGGED TABLE" if shared else "TEMPORARY TABLE", name=stage)
        if shared:
            # Half a million rows inserted would wake autovacuum on a table that lives for one run, and
            # it would compete with the rules for the processors (the run analyses the table itself).
            ddl += " WITH (autovacuum_enabled = false)"
        cursor.execute(ddl)
    try:
        staged = time.perf_counter()
        if parallel:
            result.outcomes = _stage_parallel(
                run, rules, campaign, loaded, snapshot_id, scope_like, workers, on_progress, stage, shared
            )
        else:
            for index, rule in enumerate(rules, start=1):
                _progress(run, rule, index, len(rules))
                outcome = _stage_rule(rule, campaign, loaded, snapshot_id, scope_like)
                result.outcomes.append(outcome)
                if on_progress:
                    on_progress(outcome, index, len(rules))
        result.stage_seconds = time.perf_counter() - staged
        reconciled = time.perf_counter()
        ran = [o.rule.code for o in result.outcomes if o.status == RuleRunStat.Status.OK]
        if connection.vendor == "postgresql":
            # Temporary tables are never analysed automatically; the reconciling joins need its size.
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {stage}")
                cursor.execute(f"ANALYZE {FINDING}")
        today = timezone.localdate()
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # The commit need not wait for its WAL to reach the disk: findings are derived data, and a
                # crash that lost this last commit loses nothing a re-run would not rebuild.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit = off")
            result.reconciliation = _reconcile(campaign, run, ran, scope_like, today, stage)
            _count_changes(result)
            RuleRunStat.objects.bulk_create(
                [
                    RuleRunStat(
                        run=run,
                        rule_code=o.rule.code,
                        status=o.status,
                        seconds=round(o.seconds, 4),
                        found=o.found,
                        opened=o.opened,
                        fixed=o.fixed,
                        message=o.message[:2000],
                    )
                    for o in result.outcomes
                ]
            )
            run.status = CheckRun.Status.DONE
            run.progress = 100
            run.current_rule = ""
            run.finished_at = timezone.now()
            run.found = sum(o.found for o in result.outcomes)
            run.opened = result.reconciliation.opened
            run.updated = result.reconciliation.updated
            run.fixed = result.reconciliation.fixed
            run.save()
            transaction.on_commit(lambda: _announce(run, result.reconciliation))
        result.reconcile_seconds = time.perf_counter() - reconciled
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {stage}")
            if sqlite_tuned:
                cursor.execute("PRAGMA cache_size = -2000")
                cursor.execute("PRAGMA temp_store = DEFAULT")
            if connection.vendor == "postgresql":
                cursor.execute("RESET work_mem")
                cursor.execute("RESET jit")
                cursor.execute("RESET max_parallel_workers_per_gather")


def _tune_postgresql(cursor) -> None:
    """Hash joins and aggregates over a million members stay in memory (the default work_mem is 4 MB;
    R3-15 hashes every member with the fields it compares, 190 MB, which 64 MB sent to disk in two
    batches: 5.1-5.8 s, in memory 4.5 s; a hash may use twice work_mem, hash_mem_multiplier).
    JIT compilation is off: a rule's query runs once, and compiling its long CASE expressions cost more
    than it saved (measured: the catalogue's backend CPU time fell by a third at 50,000 households).
    No parallel workers inside one query: the rules already run side by side, and a parallel plan
    built its hash tables once per worker (measured at 300,000 households, one rule at a time: 72 s of
    server CPU with them, 52 s without)."""
    cursor.execute(f"SET work_mem = '{PG_WORK_MEM}'")
    cursor.execute("SET jit = off")
    cursor.execute("SET max_parallel_workers_per_gather = 0")


def _loaded_lists(kinds: set[str]) -> set[str]:
    return {kind for kind in kinds if DeptListEntry.objects.filter(kind=kind).exists()}


def check_workers() -> int:
    """How many rules run at once (each on its own database connection). `LOOKBACK_CHECK_WORKERS`
    in the settings or the environment; by default one on SQLite and the number of processors, at most
    4, on PostgreSQL. SQLite works inside this process and lets one connection write at a time, so side
    by side its rules' rows pass through Python and each connection keeps its own page cache: at 300,000
    households on 2 processors one rule after another took 59 s and 684 MB, two at a time 86 s and
    1.3 GB."""
    value = getattr(settings, "LOOKBACK_CHECK_WORKERS", None) or os.environ.get("LOOKBACK_CHECK_WORKERS")
    if value:
        return max(1, int(value))
    if connection.vendor == "sqlite":
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def _progress(run: CheckRun, rule: Rule, index: int, total: int) -> None:
    CheckRun.objects.filter(pk=run.pk).update(current_rule=rule.code, progress=int(90 * (index - 1) / max(total, 1)))


def _skipped(rule: Rule, loaded: set[str], snapshot_id: int | None) -> RuleOutcome | None:
    missing = [kind for kind in rule.requires_lists if kind not in loaded]
    if missing:
        message = _("未导入部门名单：%(kinds)s") % {"kinds": "、".join(missing)}
        return RuleOutcome(rule=rule, status=RuleRunStat.Status.SKIPPED, message=message)
    if rule.requires_snapshot and snapshot_id is None:
        return RuleOutcome(rule=rule, status=RuleRunStat.Status.SKIPPED, message=_("未导入国扶系统快照"))
    return None


def _rule_select(rule: Rule, campaign: Campaign, snapshot_id: int | None, scope_like: str) -> tuple[str, dict]:
    """The rule's query, shaped as staging rows and limited to the run's scope."""
    ctx = Ctx(campaign, snapshot_id=snapshot_id)
    body = rule.query(ctx)
    params = dict(ctx.params)
    params.update(
        {
            "_rule": rule.code,
            "_topic": rule.topic,
            "_dimension": rule.dimension,
            "_kind": rule.subject,
            "_scope": scope_like,
        }
    )
    scoped = scope_like != "%"
    # A run over the whole campaign needs no scope test, and on PostgreSQL its two NULL tests stay on
    # the rule's result rows (OFFSET 0): pushed down, `CAST(m.id AS TEXT) IS NOT NULL` was computed for
    # every member scanned, by each of twenty rules. A scoped run lets the planner push the scope test
    # down to the households it reads.
    fence = " OFFSET 0" if connection.vendor == "postgresql" and not scoped else ""
    sql = (
        f"SELECT %(_rule)s, %(_topic)s, %(_dimension)s, %(_kind)s, x.subject_key, x.household_id, x.member_id, "
        f"x.household_no, x.division_code, x.detail FROM ({body}{fence}) x "
        f"WHERE x.subject_key IS NOT NULL AND x.detail IS NOT NULL"
        + (" AND COALESCE(x.division_code, '') LIKE %(_scope)s" if scoped else "")
    )
    return sql, params


def _stage_rule(rule: Rule, campaign: Campaign, loaded: set[str], snapshot_id: int | None, scope_like: str):
    outcome = _skipped(rule, loaded, snapshot_id) or RuleOutcome(rule=rule)
    if outcome.status != RuleRunStat.Status.OK:
        return outcome
    started = time.perf_counter()
    try:
        select, params = _rule_select(rule, campaign, snapshot_id, scope_like)
        # A savepoint per rule: one broken rule is recorded, the others still run.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {STAGE} ({STAGE_COLUMNS}) {select} ON CONFLICT DO NOTHING", params)
            outcome.found = max(cursor.rowcount, 0)
    except DatabaseError as exc:
        logger.exception("rule %s failed", rule.code)
        outcome.status = RuleRunStat.Status.ERROR
        outcome.message = str(exc)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _fetch_rule(
    rule: Rule, campaign: Campaign, snapshot_id: int | None, scope_like: str, cache_kb: int, stage: str, shared: bool
):
    """In a worker thread, on the thread's own connection: the rule's rows inserted into the shared
    staging table (PostgreSQL), or fetched for the caller to stage (SQLite)."""
    outcome, rows = RuleOutcome(rule=rule), []
    started = time.perf_counter()
    try:
        select, params = _rule_select(rule, campaign, snapshot_id, scope_like)
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(f"PRAGMA cache_size = -{cache_kb}")
            else:
                _tune_postgresql(cursor)
            if shared:
                cursor.execute(f"INSERT INTO {stage} ({STAGE_COLUMNS}) {select} ON CONFLICT DO NOTHING", params)
                outcome.found = max(cursor.rowcount, 0)
            else:
                cursor.execute(select, params)
                rows = cursor.fetchall()
    except DatabaseError as exc:
        logger.exception("rule %s failed", rule.code)
        outcome.status = RuleRunStat.Status.ERROR
        outcome.message = str(exc)
    finally:
        connection.close()
    outcome.seconds = time.perf_counter() - started
    return outcome, rows


def _stage_parallel(
    run, rules, campaign, loaded, snapshot_id, scope_like, workers, on_progress, stage: str, shared: bool
) -> list[RuleOutcome]:
    """Rules run `workers` at a time, each in its own connection (SQLite's WAL and PostgreSQL both let
    readers run side by side). On PostgreSQL each inserts into the shared staging table; on SQLite
    their rows (the findings only) are staged here, in this connection."""
    outcomes: dict[str, RuleOutcome] = {}
    pending = []
    for rule in rules:
        skipped = _skipped(rule, loaded, snapshot_id)
        if skipped:
            outcomes[rule.code] = skipped
        else:
            pending.append(rule)
    # The page cache is shared out among the worker connections, so a run stays well under 1 GB.
    cache_kb = SQLITE_CACHE_KB // workers
    insert = f"INSERT INTO {stage} ({STAGE_COLUMNS}) VALUES ({', '.join(['%s'] * 10)}) ON CONFLICT DO NOTHING"
    done = len(outcomes)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(_fetch_rule, rule, campaign, snapshot_id, scope_like, cache_kb, stage, shared)
            for rule in pending
        ]
        for future in as_completed(futures):
            outcome, rows = future.result()
            if rows:
                with connection.cursor() as cursor:
                    cursor.executemany(insert, rows)
                    cursor.execute(f"SELECT COUNT(*) FROM {stage} WHERE rule_code = %s", [outcome.rule.code])
                    outcome.found = cursor.fetchone()[0]
            outcomes[outcome.rule.code] = outcome
            done += 1
            _progress(run, outcome.rule, done, len(rules))
            if on_progress:
                on_progress(outcome, done, len(rules))
    return [outcomes[rule.code] for rule in rules]


def _reconcile(campaign: Campaign, run: CheckRun, ran: list[str], scope_like: str, today, stage: str) -> Reconciliation:
    rec = Reconciliation()
    now = timezone.now()
    params = {
        "c": campaign.pk,
        "run": run.pk,
        "today": connection.ops.adapt_datefield_value(today),
        "now": connection.ops.adapt_datetimefield_value(now),
        "scope": scope_like,
    }
    match = f"s.rule_code = {FINDING}.rule_code AND s.subject_key = {FINDING}.subject_key"
    with connection.cursor() as cursor:
        # 1. An approved waiver covers the data it was given for; other data lets it lapse.
        cursor.execute(
            f"""UPDATE {WAIVER} SET status = 'lapsed'
            WHERE status = 'approved' AND EXISTS (
                SELECT 1 FROM {FINDING} JOIN {stage} s ON {match}
                WHERE {FINDING}.id = {WAIVER}.finding_id AND {FINDING}.campaign_id = %(c)s
                  AND s.detail <> {WAIVER}.fingerprint)""",
            params,
        )
        rec.lapsed = max(cursor.rowcount, 0)
        # 2. Reappeared or changed findings.
        waived = (
            f"EXISTS (SELECT 1 FROM {WAIVER} w WHERE w.finding_id = {FINDING}.id AND w.status = 'approved' "
            f"AND w.fingerprint = s.detail)"
        )
        new_status = f"(CASE WHEN {FINDING}.status = 'open' THEN 'open' WHEN {waived} THEN 'waived' ELSE 'open' END)"
        reopened = f"({FINDING}.status <> 'open' AND {new_status} = 'open')"
        # The findings this statement re-opens, set apart first: with the new ones, they are what the
        # run opened, counted per rule and announced without an index on opened_run (each index cost
        # about a second of a first run's insert). Only fixed and waived findings can re-open.
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE_REOPENED}")
        cursor.execute(
            f"""CREATE TEMPORARY TABLE {STAGE_REOPENED} AS SELECT {FINDING}.id AS id, {FINDING}.rule_code AS rule_code
            FROM {FINDING} JOIN {stage} s ON {match}
            WHERE {FINDING}.campaign_id = %(c)s AND {FINDING}.status IN ('fixed', 'waived') AND {reopened}""",
            params,
        )
        cursor.execute(
            f"""UPDATE {FINDING} SET
                detail = s.detail,
                household_id = s.household_id,
                member_id = s.member_id,
                household_no = COALESCE(s.household_no, ''),
                division_code = COALESCE(s.division_code, ''),
                opened_on = CASE WHEN {reopened} THEN %(today)s ELSE {FINDING}.opened_on END,
                opened_run_id = CASE WHEN {reopened} THEN %(run)s ELSE {FINDING}.opened_run_id END,
                status = {new_status},
                fixed_on = NULL,
                fixed_run_id = NULL,
                updated_at = %(now)s
            FROM {stage} s
            WHERE {match} AND {FINDING}.campaign_id = %(c)s AND (
                {FINDING}.status = 'fixed'
                OR ({FINDING}.status = 'waived' AND NOT {waived})
                OR s.detail <> {FINDING}.detail
                OR COALESCE(s.division_code, '') <> {FINDING}.division_code
                OR COALESCE(s.household_no, '') <> {FINDING}.household_no
                OR s.household_id IS DISTINCT FROM {FINDING}.household_id
                OR s.member_id IS DISTINCT FROM {FINDING}.member_id)""",
            params,
        )
        rec.updated = max(cursor.rowcount, 0)
        opened_by_rule = dict(_grouped_sql(cursor, STAGE_REOPENED))
        rec.reopened = sum(opened_by_rule.values())
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE_REOPENED}")
        # 3. Gone from the data: fixed, for the rules that ran, inside the run's scope. Before the new
        # subjects go in: those are in the staging table, so never fixed, and the findings' statistics
        # (taken before the reconcile) still describe the table. After a first run's insert they said
        # "empty", and the anti-join probed the staging table once per finding instead of hashing it
        # (2.4 s at 300,000 households in a copy of the tables; under 0.1 s in this order).
        if ran:
            names = {f"r{i}": code for i, code in enumerate(ran)}
            params.update(names)
            in_list = ", ".join(f"%({name})s" for name in names)
            cursor.execute(
                f"""UPDATE {FINDING} SET status = 'fixed', fixed_on = %(today)s, fixed_run_id = %(run)s,
                    updated_at = %(now)s
                WHERE campaign_id = %(c)s AND status IN ('open', 'waived') AND rule_code IN ({in_list})
                  AND division_code LIKE %(scope)s
                  AND NOT EXISTS (SELECT 1 FROM {stage} s WHERE {match})""",
                params,
            )
            rec.fixed = max(cursor.rowcount, 0)
        # 4. New subjects. They are set apart first: a statement that inserted into the findings while
        # probing them (anti-join) could rescan the pages it had just added, once per staged row. A
        # campaign's first run has nothing to tell apart: every staged row is new (copying 550,000 rows
        # aside took 0.6 s).
        cursor.execute(f"SELECT 1 FROM {FINDING} WHERE campaign_id = %(c)s LIMIT 1", params)
        new = stage
        if cursor.fetchone() is not None:
            new = STAGE_NEW
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE_NEW}")
            cursor.execute(
                f"""CREATE TEMPORARY TABLE {STAGE_NEW} AS SELECT s.* FROM {stage} s
                WHERE NOT EXISTS (SELECT 1 FROM {FINDING} f WHERE f.campaign_id = %(c)s
                    AND f.rule_code = s.rule_code AND f.subject_key = s.subject_key)""",
                params,
            )
        for code, n in _grouped_sql(cursor, new):
            opened_by_rule[code] = opened_by_rule.get(code, 0) + n
        rec.opened_by_rule = opened_by_rule
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {FINDING}")
        rec.last_id_before = cursor.fetchone()[0]
        with _indexes_deferred(cursor, sum(opened_by_rule.values()) - rec.reopened, rec.last_id_before):
            cursor.execute(
                f"""INSERT INTO {FINDING} (campaign_id, rule_code, topic, dimension, subject_kind, subject_key,
                    household_id, member_id, household_no, division_code, detail, status, opened_on,
                    opened_run_id, created_at, updated_at)
                SELECT %(c)s, s.rule_code, s.topic, s.dimension, s.subject_kind, s.subject_key, s.household_id,
                    s.member_id, COALESCE(s.household_no, ''), COALESCE(s.division_code, ''), s.detail, 'open',
                    %(today)s, %(run)s, %(now)s, %(now)s
                FROM {new} s""",
                params,
            )
            rec.opened = max(cursor.rowcount, 0)
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE_NEW}")
    return rec


@contextmanager
def _indexes_deferred(cursor, rows: int, largest_id: int) -> Iterator[None]:
    """The findings' plain indexes dropped for an insert that at least doubles the table (a campaign's
    first run) and built again after it, one sort each: at 550,000 findings on PostgreSQL the insert
    with its indexes took 6 s of server time, without them and with the builds 3.2 s. The primary key
    and the unique key stay. Both happen inside the reconciling transaction, so a failed run leaves the
    indexes as they were; on PostgreSQL readers of the findings wait for that transaction meanwhile
    (seconds, and only when there were few findings to read)."""
    if rows < DEFER_MIN_ROWS or rows < largest_id:
        yield
        return
    with constraint_checks_flushed(cursor):
        dropped = plain_indexes(cursor, FINDING)
        for index in dropped:
            cursor.execute(f'DROP INDEX "{index.name}"')
    yield
    build_indexes(cursor, [index.sql for index in dropped])


def _count_changes(result: RunResult) -> None:
    """Per-rule opened (counted by the reconcile) and fixed counts (read back by run id: a partial
    index holds only the findings some run fixed)."""
    rec = result.reconciliation
    if not (rec.opened or rec.updated or rec.fixed):
        return
    fixed = dict(_grouped(Finding.objects.filter(fixed_run=result.run))) if rec.fixed else {}
    for outcome in result.outcomes:
        outcome.opened = rec.opened_by_rule.get(outcome.rule.code, 0)
        outcome.fixed = fixed.get(outcome.rule.code, 0)


def _grouped(qs) -> list[tuple[str, int]]:
    return list(qs.order_by().values("rule_code").annotate(n=Count("id")).values_list("rule_code", "n"))


def _grouped_sql(cursor, table: str) -> list[tuple[str, int]]:
    cursor.execute(f"SELECT rule_code, COUNT(*) FROM {table} GROUP BY rule_code")
    return cursor.fetchall()


def _opened_findings(run: CheckRun, rec: Reconciliation):
    """The findings the run opened or re-opened. New ones are found by primary key, above the largest
    id before the insert (other runs may have inserted there too, hence the run filter); re-opened ones
    are rare and anywhere in the table, so a run that re-opened some reads the table once."""
    opened = Finding.objects.filter(opened_run=run)
    return opened if rec.reopened else opened.filter(id__gt=rec.last_id_before)


def _announce(run: CheckRun, rec: Reconciliation) -> None:
    """Tell listeners (the problem ledger) which findings opened and which were fixed by this run."""
    if (rec.opened or rec.reopened) and signals.finding_opened.has_listeners(Finding):
        ids = list(_opened_findings(run, rec).filter(status=Finding.Status.OPEN).values_list("id", flat=True))
        if ids:
            signals.finding_opened.send(sender=Finding, run=run, finding_ids=ids)
    if rec.fixed and signals.finding_resolved.has_listeners(Finding):
        ids = list(Finding.objects.filter(fixed_run=run).values_list("id", flat=True))
        if ids:
            signals.finding_resolved.send(sender=Finding, run=run, finding_ids=ids)
    signals.check_run_finished.send(sender=CheckRun, run=run)
