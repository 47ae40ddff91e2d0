"""The demo's problem ledger, built once after the registry data through the ledger's own services, so
every rule of the ledger (scope, plans, evidence checks, maker-checker, reasons) holds in the demo too.

What it holds (random choices from the build's seed; the household picks follow the data set):

- township self-check reports of 永泰县: 嵩口镇 submitted after the deadline (waiting for the county), one
  township's report submitted on time and accepted, another's submitted on time and returned with a
  reason; the other townships have none, which rule R1-02 reports;
- problems entered by hand from every source — 乡镇自查 (demo-township), 入户走访 (demo-helper,
  demo-village), 县级复核 (demo-county), 市级抽查 (demo-city), 群众举报 — in every state: 待整改,
  整改中 with plans, responsible persons and deadlines in every overdue band, 待核验 with photos and
  PDFs, 已销号, some returned once (with the reason) and fixed after, some 立行立改;
- the unit self-check of 嵩口镇 and 永泰县, each "否" a problem;
- a full rule run (every rule of the catalogue, R1-01/R1-02 included), whose findings open problems;
  some of 永泰县's are then worked on;
- accountability records by demo-city, linked to overdue problems.

Who acts: in 嵩口镇 the township (or the village team for its village) works a problem and the county
verifies it; elsewhere in 永泰县 the county works and the city verifies (maker-checker: a different
user at the same or a higher level). Two officers of other 永泰 townships (accounts without a
password, so nobody logs in as them) write those townships' reports. Rule problems are worked
(plans, some marked rectified) but none is signed off in the build (see `_rule_problems`).
Dates: problems entered by hand
were found 30–120 days ago and their timelines are spread from then to today; reports carry the
campaign's dates (deadline 2019-01-10); rule problems are found on the day the demo is built.
"""

from __future__ import annotations

import random
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from lookback.accounts.models import User
from lookback.accounts.roles import Role
from lookback.campaigns.models import Campaign
from lookback.demo.models import DemoBuild
from lookback.divisions.models import Division
from lookback.ledger import services
from lookback.ledger.models import (
    Action,
    Evidence,
    Problem,
    ProblemTransition,
    ReportEvent,
    SelfCheckItem,
    Source,
    State,
    TownshipReport,
    UnitLevel,
)
from lookback.registry.models import Household

SONGKOU = "350125101"
YONGTAI = "350125"

# (dimension, category, description) of problems entered by hand.
MANUAL_TEXTS: dict[str, list[tuple[int, str, str]]] = {
    Source.SELF_CHECK: [
        (2, "医疗保障", "户内成员未参加精准扶贫医疗叠加保险，镇医保站未及时代缴。"),
        (3, "信息采集", "扶贫手册家庭收入栏与系统录入不一致，需重新核实工资性收入。"),
        (4, "帮扶措施", "产业扶持措施只登记了计划，未见实施记录和资金拨付凭证。"),
        (2, "住房安全", "老房屋墙体开裂，尚未进行危房等级鉴定。"),
    ],
    Source.VISIT: [
        (5, "帮扶走访", "户主反映帮扶责任人近三个月未入户，对帮扶措施不了解。"),
        (5, "政策知晓", "家庭成员不清楚教育资助申请渠道，需入户宣传解释。"),
        (2, "就业帮扶", "家中有劳动能力成员返乡后未就业，有外出务工意愿。"),
    ],
    Source.COUNTY_REVIEW: [
        (3, "识别准确", "复核发现户内有成员已于2018年迁出，系统未及时调整家庭人口。"),
        (4, "帮扶措施", "帮扶措施与致贫原因不对应：因病致贫户仅有生活救助措施。"),
        (2, "教育保障", "义务教育阶段学生本学期未见资助发放记录。"),
    ],
    Source.CITY_SPOT_CHECK: [
        (3, "数据质量", "抽查发现户主证件号码录入错误，与户口簿不一致。"),
        (5, "群众认可", "抽查入户时户主对帮扶工作表示不满意，反映产业项目收益未到户。"),
        (6, "项目效益", "村级光伏扶贫项目收益分配方案未公示。"),
    ],
    Source.COMPLAINT: [
        (3, "识别准确", "群众反映该户家中有经营性车辆，收入明显高于登记数。"),
        (5, "帮扶作风", "来信反映帮扶干部走访只拍照签到，未了解实际困难。"),
    ],
}
# Responsible units, named after the problem's place.
UNITS = ("{township}人民政府", "{township}卫生院", "{county}医保局", "{county}教育局", "{county}住建局", "{village}")
PERSONS = ("陈志远", "林秀琴", "黄建明", "张丽华", "郑国强", "吴晓燕", "刘德胜", "王春梅")
MEASURES = (
    "入户核实情况，补办相关手续，并在系统中更正。",
    "落实帮扶责任人每月入户一次，跟踪措施落实。",
    "协调相关部门限期办理，完成后上传佐证材料。",
    "召开村两委会研究整改方案，明确责任人和时限。",
)
RETURN_REASONS = (
    "佐证材料只有照片，缺少相关部门出具的办理凭证，请补充。",
    "整改情况说明过于简单，未说明资金拨付时间和金额。",
    "照片与该户不对应，请重新上传入户核实照片。",
)
# Deadlines relative to today, one of each overdue band and more than 15 days overdue (R1-01).
DEADLINE_DAYS = (-40, -25, -18, -6, 3, 8, 14, 19, 35, 60)
# What happens to a problem entered by hand, weighted towards the states the pages show best.
OUTCOMES = (
    "open",
    "plan",
    "plan",
    "plan",
    "rectified",
    "rectified",
    "closed",
    "closed",
    "returned",
    "returned_fixed",
    "returned_closed",
    "on_the_spot",
)


def png_bytes(seed: int) -> bytes:
    """A small real PNG (a coloured square: each photo differs a little)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    colour = bytes(((seed * 53) % 256, (seed * 97) % 256, (seed * 31) % 256))
    raw = b"".join(b"\x00" + colour * 8 for _ in range(8))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def photo(n: int, name: str = "整改照片.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(n), content_type="image/png")


def pdf(name: str = "整改情况说明.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@dataclass
class Actors:
    city: User
    county: User
    township: User
    village: User
    helper: User
    officers: list[User]  # township officers of other 永泰 townships (no password: nobody logs in as them)


@dataclass
class Story:
    """One problem entered by hand and who does what to it."""

    creator: User
    maker: User
    checker: User | None  # None: nobody verifies (outside the demo users' reach)
    source: str
    household: Household


def build_demo_ledger(build: DemoBuild, users: dict[str, User], log: Callable[[str], None] | None = None) -> bool:
    """Build the ledger once per demo data set (recorded in the build's manifest). Returns whether it was
    built now. One transaction: an interrupted build leaves nothing and is built again next time."""
    if build.manifest.get("ledger"):
        return False
    say = log or (lambda message: None)
    campaign = Campaign.default()
    if campaign is None:
        return False
    started = time.perf_counter()
    rng = random.Random(build.seed)
    with transaction.atomic():
        actors = _actors(users)
        worked = _manual_problems(campaign, actors, rng)
        worked += _self_check(campaign, actors)
        say(f"  手工登记的问题：{time.perf_counter() - started:.1f} 秒")
        t = time.perf_counter()
        reports = _reports(campaign, actors)
        say(f"  自查报告：{time.perf_counter() - t:.1f} 秒")
        t = time.perf_counter()
        rule_problems = _rule_problems(campaign, actors, rng)
        say(f"  规则检查和规则问题：{time.perf_counter() - t:.1f} 秒")
        records = _accountability(campaign, actors)
        _spread_timelines(worked)
        counts = {
            "problems": Problem.objects.filter(campaign=campaign).count(),
            "manual": len(worked),
            "rule": rule_problems,
            "reports": reports,
            "accountability": records,
        }
        build.manifest = {**build.manifest, "ledger": counts}
        build.save(update_fields=["manifest"])
    say(f"问题台帐：{time.perf_counter() - started:.1f} 秒")
    return True


# --- who acts -------------------------------------------------------------------------------------


def _actors(users: dict[str, User]) -> Actors:
    officers = []
    for township in _yongtai_townships()[:2]:
        officer, _created = User.objects.get_or_create(
            username=f"officer-{township.code[:9]}",
            defaults={
                "role": Role.TOWNSHIP,
                "scope": township,
                "unit": f"{township.name}人民政府",
                "last_name": f"{township.name}扶贫专干",
                "password": make_password(None),  # unusable: a person in the story, not a login
            },
        )
        officers.append(officer)
    return Actors(
        city=users["demo-city"],
        county=users["demo-county"],
        township=users["demo-township"],
        village=users["demo-village"],
        helper=users["demo-helper"],
        officers=officers,
    )


def _yongtai_townships() -> list[Division]:
    """永泰 townships other than 嵩口镇 that have demo households, the most households first."""
    from django.db.models import Count
    from django.db.models.functions import Substr

    counts = (
        Household.objects.filter(division_code__startswith=YONGTAI)
        .exclude(division_code__startswith=SONGKOU)
        .annotate(prefix=Substr("division_code", 1, 9))
        .values("prefix")
        .annotate(n=Count("id"))
        .order_by("-n", "prefix")
    )
    codes = [row["prefix"] + "000" for row in counts]
    by_code = {d.code: d for d in Division.objects.filter(code__in=codes, level="township")}
    return [by_code[code] for code in codes if code in by_code]


# --- township reports -------------------------------------------------------------------------------


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=hour, minute=minute))


def _reports(campaign: Campaign, actors: Actors) -> int:
    """嵩口镇 late and waiting for the county; one township on time and accepted; one on time, returned."""
    deadline = campaign.report_deadline
    made = 0
    songkou = services.start_report(user=actors.township, campaign=campaign)
    songkou = services.update_report_text(
        user=actors.township,
        report=songkou,
        version=songkou.version,
        basic_situation=songkou.basic_situation,
        rectification_summary=songkou.rectification_summary,
        next_steps=songkou.next_steps + "\n逾期报送的原因：镇村两级复核入户工作量大，未能在期限前完成。",
    )
    services.submit_report(user=actors.township, report=songkou, version=songkou.version)
    made += 1
    for officer, accepted in zip(actors.officers, (True, False), strict=False):
        report = services.start_report(user=officer, campaign=campaign)
        report = services.submit_report(user=officer, report=report, version=report.version)
        submitted = _local(deadline - timedelta(days=2 if accepted else 1), 16, 30)
        reviewed = _local(deadline + timedelta(days=2), 10, 0)
        if accepted:
            report = services.accept_report(
                user=actors.county, report=report, version=report.version, note="材料齐全，予以接收。"
            )
        else:
            report = services.return_report(
                user=actors.county,
                report=report,
                version=report.version,
                reason="问题台帐缺少县级复核发现的 3 个问题，整改情况未写明完成时限，请补充后重新报送。",
            )
        # The campaign's own dates: these townships reported in January 2019, before the deadline.
        TownshipReport.objects.filter(pk=report.pk).update(
            first_submitted_at=submitted, submitted_at=submitted, is_late=False, reviewed_at=reviewed
        )
        events = list(ReportEvent.objects.filter(report=report).order_by("id"))
        for index, event in enumerate(events):
            event.at = (
                reviewed if event.action in ("accept", "return") else submitted - timedelta(hours=len(events) - index)
            )
        ReportEvent.objects.bulk_update(events, ["at"])
        made += 1
    return made


# --- problems entered by hand ---------------------------------------------------------------------------


def _households(prefix: str, exclude: str | None = None, limit: int = 400) -> list[Household]:
    qs = (
        Household.objects.filter(division_code__startswith=prefix)
        .select_related("village__parent__parent")
        .order_by("id")
    )
    if exclude:
        qs = qs.exclude(division_code__startswith=exclude)
    return list(qs[:limit])


def _stories(actors: Actors, rng: random.Random) -> list[Story]:
    songkou = _households(SONGKOU)
    village = [h for h in songkou if h.division_code == actors.village.scope.code]
    helper_households = list(
        Household.objects.filter(assignments__helper__user=actors.helper)
        .select_related("village__parent__parent")
        .distinct()
    )
    yongtai = _households(YONGTAI, exclude=SONGKOU)
    elsewhere = list(
        Household.objects.exclude(division_code__startswith=YONGTAI)
        .select_related("village__parent__parent")
        .order_by("id")[:400]
    )
    t, c, city = actors.township, actors.county, actors.city
    plan: list[tuple[list[Household], int, User, User, User | None, str]] = [
        # (households, how many, creator, maker, checker, source)
        (songkou, 10, t, t, c, Source.SELF_CHECK),
        (village, 4, actors.village, actors.village, t, Source.VISIT),
        (helper_households, 3, actors.helper, t, c, Source.VISIT),
        (songkou, 4, c, t, c, Source.COUNTY_REVIEW),
        (songkou, 2, city, t, c, Source.CITY_SPOT_CHECK),
        (songkou, 3, t, t, c, Source.COMPLAINT),
        (yongtai, 8, c, c, city, Source.COUNTY_REVIEW),
        (yongtai, 4, city, c, city, Source.CITY_SPOT_CHECK),
        (yongtai, 3, c, c, city, Source.COMPLAINT),
        (elsewhere, 6, city, city, None, Source.CITY_SPOT_CHECK),
        (elsewhere, 2, city, city, None, Source.COMPLAINT),
    ]
    stories = []
    for households, n, creator, maker, checker, source in plan:
        for household in rng.sample(households, min(n, len(households))):
            stories.append(Story(creator, maker, checker, source, household))
    return stories


def _manual_problems(campaign: Campaign, actors: Actors, rng: random.Random) -> list[Problem]:
    today = timezone.localdate()
    problems = []
    for n, story in enumerate(_stories(actors, rng)):
        dimension, category, description = rng.choice(MANUAL_TEXTS[story.source])
        outcome = OUTCOMES[n % len(OUTCOMES)]
        if story.checker is None and outcome not in ("open", "plan"):
            outcome = "plan"
        found_on = today - timedelta(days=rng.randint(45, 120))
        common = {
            "user": story.creator,
            "campaign": campaign,
            "source": story.source,
            "dimension": dimension,
            "category": category,
            "description": description,
            "household": story.household,
            "severity": rng.choice(("normal", "normal", "serious", "critical")),
            "found_on": found_on,
        }
        if outcome == "on_the_spot":
            # Fixed on the spot by the one who found it, who must be able to work problems.
            common["user"] = story.maker
            problem = services.create_problem(
                **common,
                measures="当场协助补办，已完成。",
                responsible_unit=_unit(rng, story.household.village),
                responsible_person=rng.choice(PERSONS),
                deadline=found_on + timedelta(days=3),
                on_the_spot=True,
                evidence_files=[photo(n)],
            )
            if n % 2 and story.checker is not None:
                problem = services.sign_off(user=story.checker, problem=problem, version=problem.version)
            problems.append(problem)
            continue
        problem = services.create_problem(**common)
        if outcome != "open":
            problem = _plan(problem, story, rng, n)
        if outcome in ("rectified", "closed", "returned", "returned_fixed", "returned_closed"):
            problem = _rectify(problem, story.maker, n)
        if outcome.startswith("returned"):
            problem = services.return_problem(
                user=story.checker, problem=problem, version=problem.version, reason=rng.choice(RETURN_REASONS)
            )
            services.add_note(user=story.maker, problem=problem, note="已按退回意见补充材料，重新入户核实。")
            if outcome != "returned":
                problem = _rectify(problem, story.maker, n + 1000, "补充佐证照片.png")
        if outcome in ("closed", "returned_closed"):
            problem = services.sign_off(
                user=story.checker, problem=problem, version=problem.version, note="经核验，整改到位。"
            )
        problems.append(problem)
    return problems


def _plan(problem: Problem, story: Story, rng: random.Random, n: int) -> Problem:
    today = timezone.localdate()
    deadline = max(today + timedelta(days=DEADLINE_DAYS[n % len(DEADLINE_DAYS)]), problem.found_on)
    return services.update_plan(
        user=story.maker,
        problem=problem,
        version=problem.version,
        measures=rng.choice(MEASURES),
        responsible_unit=_unit(rng, story.household.village),
        responsible_person=rng.choice(PERSONS),
        # Half of them name the maker's account: it gets the reminders and the digest entries.
        responsible_user=story.maker if n % 2 else None,
        deadline=deadline,
    )


def _unit(rng: random.Random, village: Division) -> str:
    township = village.parent
    county = township.parent if township else None
    return rng.choice(UNITS).format(
        village=village.name, township=township.name if township else "", county=county.name if county else ""
    )


def _rectify(problem: Problem, maker: User, n: int, name: str = "整改照片.png") -> Problem:
    services.add_evidence(user=maker, problem=problem, upload=photo(n, name), note="入户核实照片")
    if n % 3 == 0:
        services.add_evidence(user=maker, problem=problem, upload=pdf(), note="整改情况说明")
    problem.refresh_from_db()
    return services.mark_rectified(user=maker, problem=problem, version=problem.version, note="已整改完成，请核验。")


def _self_check(campaign: Campaign, actors: Actors) -> list[Problem]:
    """嵩口镇 and 永泰县 answer their unit self-check; the "否" answers become problems."""
    opened: list[Problem] = []
    for user, level, no in ((actors.township, UnitLevel.TOWNSHIP, 2), (actors.county, UnitLevel.COUNTY, 1)):
        items = list(SelfCheckItem.objects.filter(campaign=campaign, unit_level=level, is_active=True))
        if not items:
            continue
        answers = {
            item.pk: (False, "人员调整后尚未重新明确分工") if index >= len(items) - no else (True, "")
            for index, item in enumerate(items)
        }
        opened += services.answer_self_check(user=user, campaign=campaign, answers=answers)
    return opened


# --- rule findings ------------------------------------------------------------------------------------


def _rule_problems(campaign: Campaign, actors: Actors, rng: random.Random) -> int:
    """Run every rule (R1-01 and R1-02 judge the ledger built above), open their problems and work on
    some of 永泰县's: plans by the township or the county, some marked rectified with evidence. None is
    signed off here: the run announces its findings when this transaction commits, and a finding
    whose problem is already closed would get a new one."""
    from lookback.checks.engine import run_checks
    from lookback.checks.models import CheckRun, Finding

    run_checks(campaign=campaign, user=actors.city, source=CheckRun.Source.CLI)
    # The engine announces new findings when its transaction commits; inside this one (and in tests,
    # whose transaction never commits) the problems are opened here. Opening is idempotent.
    ids = list(Finding.objects.filter(campaign=campaign, status=Finding.Status.OPEN).values_list("pk", flat=True))
    for start in range(0, len(ids), 2000):
        services.open_problems_for_findings(Finding.objects.filter(pk__in=ids[start : start + 2000]))
    rule = (
        Problem.objects.filter(campaign=campaign, source=Source.RULE, state=State.OPEN)
        .select_related("division__parent__parent")
        .order_by("id")
    )
    songkou = [p for p in rule.filter(division_code__startswith=SONGKOU) if p.household_id][:40]
    yongtai = [p for p in rule.filter(division_code__startswith=YONGTAI).exclude(division_code__startswith=SONGKOU)]
    yongtai = [p for p in yongtai if p.household_id][:30]
    today = timezone.localdate()
    for n, problem in enumerate(songkou + yongtai):
        maker = actors.township if problem.division_code.startswith(SONGKOU) else actors.county
        problem = services.update_plan(
            user=maker,
            problem=problem,
            version=problem.version,
            measures="核对原始资料，入户核实后在系统中更正或补办。",
            responsible_unit=_unit(rng, problem.division),
            responsible_person=rng.choice(PERSONS),
            responsible_user=maker if n % 3 == 0 else None,
            deadline=today + timedelta(days=(7, 15, 30, 45)[n % 4]),
        )
        if n % 5 == 0:
            _rectify(problem, maker, 5000 + n)
    return Problem.objects.filter(campaign=campaign, source=Source.RULE).count()


# --- accountability -----------------------------------------------------------------------------------


def _accountability(campaign: Campaign, actors: Actors) -> int:
    today = timezone.localdate()
    overdue = list(
        Problem.objects.filter(
            campaign=campaign,
            division_code__startswith=YONGTAI,
            state__in=[State.OPEN, State.IN_PROGRESS],
            deadline__lt=today - timedelta(days=15),
        )
        .exclude(source=Source.RULE)
        .order_by("deadline", "id")
    )
    songkou = Division.objects.get(code=SONGKOU + "000")
    yongtai = Division.objects.get(code=YONGTAI + "000000")
    records = [
        {
            "kind": "interview",
            "person_name": "郑国强",
            "person_position": "副镇长",
            "unit": "嵩口镇人民政府",
            "division": songkou,
            "reason": "分管的问题整改超过时限仍未完成，整改进度滞后。",
            "decided_by": "福州市扶贫开发领导小组办公室",
            "problems": [p for p in overdue if p.division_code.startswith(SONGKOU)][:3],
            "decided_on": today - timedelta(days=6),
        },
        {
            "kind": "notice",
            "person_name": "林秀琴",
            "person_position": "扶贫专干",
            "unit": "嵩口镇人民政府",
            "division": songkou,
            "reason": "乡镇自查书面材料未在规定期限前报送县扶贫办。",
            "decided_by": "永泰县扶贫开发领导小组",
            "problems": [],
            "decided_on": today - timedelta(days=12),
        },
        {
            "kind": "admonish",
            "person_name": "黄建明",
            "person_position": "股长",
            "unit": "永泰县医保局",
            "division": yongtai,
            "reason": "县级复核发现的医疗保障问题整改不力，多次督促仍未按期完成。",
            "decided_by": "中共永泰县纪律检查委员会",
            "problems": [p for p in overdue if not p.division_code.startswith(SONGKOU)][:2],
            "decided_on": today - timedelta(days=3),
        },
    ]
    for record in records:
        services.record_accountability(user=actors.city, campaign=campaign, **record)
    return len(records)


# --- dates ------------------------------------------------------------------------------------------


def _spread_timelines(problems: list[Problem]) -> None:
    """The services stamp everything "now"; a problem found weeks ago gets its steps spread from the day
    it was found to today, in order, during office hours."""
    today = timezone.localdate()
    ids = [p.pk for p in problems]
    transitions: dict[int, list[ProblemTransition]] = {}
    for entry in ProblemTransition.objects.filter(problem_id__in=ids).order_by("at", "id"):
        transitions.setdefault(entry.problem_id, []).append(entry)
    evidence: dict[int, list[Evidence]] = {}
    for item in Evidence.objects.filter(problem_id__in=ids).order_by("id"):
        evidence.setdefault(item.problem_id, []).append(item)
    changed_problems, changed_transitions, changed_evidence = [], [], []
    for problem in Problem.objects.filter(pk__in=ids):
        entries = transitions.get(problem.pk, [])
        # 立行立改: found, photographed and marked rectified on the spot, the same morning.
        same_day = 0
        if problem.on_the_spot:
            same_day = next((i + 1 for i, e in enumerate(entries) if e.action == Action.RECTIFY), 0)
        span = max((today - problem.found_on).days, 1)
        step = span / max(len(entries) - same_day + (1 if same_day else 0), 1)
        files = iter(evidence.get(problem.pk, []))
        for index, entry in enumerate(entries):
            if index < same_day:
                entry.at = _local(problem.found_on, 9, 10 * index)
            else:
                later = index - same_day + (1 if same_day else 0)
                entry.at = _local(
                    problem.found_on + timedelta(days=int(later * step)), 9 + index % 8, (index * 17) % 60
                )
            changed_transitions.append(entry)
            if entry.action == Action.EVIDENCE:
                item = next(files, None)
                if item is not None:
                    item.uploaded_at = entry.at
                    changed_evidence.append(item)
            if entry.action == Action.RECTIFY:
                problem.rectified_at = entry.at
            if entry.action == Action.SIGN_OFF:
                problem.closed_at = entry.at
        changed_problems.append(problem)
    ProblemTransition.objects.bulk_update(changed_transitions, ["at"], batch_size=500)
    Evidence.objects.bulk_update(changed_evidence, ["uploaded_at"], batch_size=500)
    Problem.objects.bulk_update(changed_problems, ["rectified_at", "closed_at"], batch_size=500)
