"""Generate the import benchmark's data set in the format of `spec/import-format.md`.

    .venv/bin/python bench/import_generate.py --households 300000 --out /tmp/lb_import/bench

writes `registry.xlsx` (a household sheet with a title row above its header, and a member sheet)
and the same rows as `households.csv` + `members.csv`. About 3.3 members per household, real
Fuzhou villages (from the shipped division table, no database needed), valid ID numbers, codes
written sometimes as labels and sometimes as codes, yes/no as 是/否 and √/×, money with thousands
separators now and then — the variety the importer must absorb. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import time
from pathlib import Path

import xlsxwriter
from stdnum.cn import ric

DIVISIONS = Path(__file__).resolve().parents[1] / "src/lookback/divisions/data/fuzhou-divisions-2018.csv"

HOUSEHOLD_HEADERS = [
    "县", "乡镇", "行政村", "户编号", "户主姓名", "户主证件号码", "家庭人口数", "贫困户属性", "脱贫状态", "脱贫年度",
    "识别标准", "主要致贫原因", "其他致贫原因", "人均纯收入（元）", "工资性收入（元）", "生产经营性收入（元）",
    "转移性收入（元）", "住房安全等级", "是否造福工程搬迁户", "饮水是否安全", "联系电话",
]  # fmt: skip
MEMBER_HEADERS = [
    "户编号", "人编号", "姓名", "性别", "证件号码", "与户主关系", "民族", "文化程度", "在校生状况", "健康状况",
    "劳动技能", "务工状况", "是否参加城乡居民基本医疗保险", "是否参加大病保险", "是否享受低保", "人员状态",
]  # fmt: skip

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜"
    "崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严欧莫孔向常汤康易乔赖文"
)
GIVEN = "建华秀英明伟芳丽军强敏静磊洋艳勇杰娟涛超霞平刚桂兰玉梅国志春海金荣德福生文清水永长"
CAUSE_CODES = {"因病": "01", "因残": "02", "因学": "03", "因灾": "04", "缺土地": "05", "缺技术": "07", "缺劳动力": "08",
               "缺资金": "09", "交通条件落后": "10", "自身发展动力不足": "11"}  # fmt: skip
CAUSES = list(CAUSE_CODES)
ATTRIBUTES = ["一般脱贫户", "低保脱贫户", "特困供养脱贫户", "05", "02"]
RELATIONS = ["配偶", "之子", "之女", "之儿媳", "之孙子", "之孙女", "之父", "之母"]
EDUCATION = ["文盲或半文盲", "小学", "初中", "高中", "大专"]
HEALTH = ["健康", "健康", "健康", "长期慢性病", "患有大病", "残疾", "残疾,长期慢性病"]
LABOUR = ["普通劳动力", "技能劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力"]
WORK = ["", "", "乡（镇）内务工", "乡（镇）外县内务工", "县外省内务工", "省外务工", "03"]
YES = ["是", "√", "1"]
NO = ["否", "×", "0"]


def villages() -> list[tuple[str, str, str, str]]:
    """(county, township, village name, village code) of every village in the shipped table."""
    rows = list(csv.DictReader(DIVISIONS.open(encoding="utf-8")))
    names = {r["code"]: r["name"] for r in rows}
    parents = {r["code"]: r["parent_code"] for r in rows}
    result = []
    for r in rows:
        if r["level"] == "village":
            township = parents[r["code"]]
            county = parents[township]
            result.append((names[county], names[township], r["name"], r["code"]))
    return result


def _bare(name: str) -> str:
    for suffix in ("社区居委会", "村委会", "居委会", "社区", "村"):
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def bare_unique(places: list[tuple[str, str, str, str]]) -> set[str]:
    """Village codes whose name without suffix is unique in its township (a bare name finds them)."""
    counts: dict[tuple[str, str], int] = {}
    for _, _, village, code in places:
        counts[(code[:9], _bare(village))] = counts.get((code[:9], _bare(village)), 0) + 1
    return {code for _, _, village, code in places if counts[(code[:9], _bare(village))] == 1}


def id_number(rng: random.Random, region: str, born: dt.date) -> str:
    body = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def money(rng: random.Random, low: int, high: int) -> str:
    value = rng.randint(low, high)
    return f"{value:,}" if rng.random() < 0.2 else str(value)


def generate(households: int, seed: int = 2018) -> tuple[list[list[str]], list[list[str]]]:
    rng = random.Random(seed)
    places = villages()
    unique = bare_unique(places)
    household_rows: list[list[str]] = []
    member_rows: list[list[str]] = []
    member_seq = 0
    for n in range(households):
        county, township, village, code = places[n % len(places)]
        # exports often drop the suffix: 邹湖村委会 → 邹湖村, or 邹湖 where that is unambiguous
        if village.endswith("村委会") and rng.random() < 0.3:
            village = village.removesuffix("村委会") + ("" if code in unique and rng.random() < 0.5 else "村")
        number = f"{code}{n // len(places) + 1:05d}"
        size = rng.choices((1, 2, 3, 4, 5, 6), weights=(10, 18, 25, 25, 14, 8))[0]
        head_born = dt.date(rng.randint(1940, 1990), rng.randint(1, 12), rng.randint(1, 28))
        head_name = name(rng)
        head_id = id_number(rng, code[:6], head_born)
        cause = rng.choice(CAUSES)
        household_rows.append(
            [
                county,
                township,
                village,
                number,
                head_name,
                head_id,
                str(size),
                rng.choice(ATTRIBUTES),
                rng.choice(("已脱贫（享受政策）", "已脱贫", "1")),
                str(rng.choice((2014, 2015, 2016, 2017, 2018))),
                rng.choice(("国家标准", "省定标准", "")),
                rng.choice((cause, cause, CAUSE_CODES[cause])),
                rng.choice(("", "", "缺技术", "缺资金、缺技术")),
                money(rng, 3000, 15000),
                money(rng, 0, 30000),
                money(rng, 0, 20000),
                money(rng, 0, 8000),
                rng.choice(("A级", "B级", "B", "C级", "")),
                rng.choice(NO * 5 + YES),
                rng.choice(YES * 5 + NO + [""]),
                f"13{rng.randrange(10**9):09d}",
            ]
        )
        for i in range(size):
            member_seq += 1
            if i == 0:
                born, member_name, ident, relation = head_born, head_name, head_id, rng.choice(("户主", "本人"))
            else:
                born = dt.date(rng.randint(1935, 2017), rng.randint(1, 12), rng.randint(1, 28))
                member_name, relation = name(rng), rng.choice(RELATIONS)
                ident = id_number(rng, code[:6], born)
            age = 2018 - born.year
            member_rows.append(
                [
                    number,
                    f"{number}{i + 1:02d}",
                    member_name,
                    rng.choice(("男", "女")),
                    ident,
                    relation,
                    "汉族" if rng.random() < 0.95 else "畲族",
                    rng.choice(EDUCATION) if age >= 7 else "",
                    ("小学" if 7 <= age <= 12 else "七年级" if 13 <= age <= 15 else "非在校生") if age >= 6 else "",
                    rng.choice(HEALTH),
                    rng.choice(LABOUR) if 16 <= age <= 65 else "无劳动力",
                    rng.choice(WORK) if 16 <= age <= 60 else "",
                    rng.choice(YES * 20 + NO),
                    rng.choice(YES * 20 + NO),
                    rng.choice(NO * 6 + YES),
                    "" if rng.random() < 0.98 else rng.choice(("死亡", "嫁出")),
                ]
            )
    return household_rows, member_rows


def write_xlsx(path: Path, households: list[list[str]], members: list[list[str]]) -> None:
    # constant_memory writes row by row; strings are inline, as many exporting systems write them.
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    sheet = workbook.add_worksheet("贫困户信息")
    sheet.write_string(0, 0, "福州市建档立卡贫困户信息（脱贫户）")
    sheet.write_row(1, 0, HOUSEHOLD_HEADERS)
    for index, row in enumerate(households, start=2):
        sheet.write_row(index, 0, row)
    sheet = workbook.add_worksheet("家庭成员信息")
    sheet.write_row(0, 0, MEMBER_HEADERS)
    for index, row in enumerate(members, start=1):
        sheet.write_row(index, 0, row)
    workbook.close()


def write_csv(path: Path, headers: list[str], rows: list[list[str]], encoding: str = "utf-8-sig") -> None:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=300_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/lookback-bench"))
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--formats", default="xlsx,csv")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    households, members = generate(args.households, args.seed)
    print(f"generated {len(households):,} households, {len(members):,} members in {time.perf_counter() - started:.1f}s")
    formats = args.formats.split(",")
    if "csv" in formats:
        write_csv(args.out / "households.csv", HOUSEHOLD_HEADERS, households)
        write_csv(args.out / "members.csv", MEMBER_HEADERS, members)
        print(f"csv written ({time.perf_counter() - started:.1f}s)")
    if "xlsx" in formats:
        write_xlsx(args.out / "registry.xlsx", households, members)
        print(f"xlsx written ({time.perf_counter() - started:.1f}s)")


if __name__ == "__main__":
    main()
