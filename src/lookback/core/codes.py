"""The code lists of the national system, in one place.

Each list has its current labels (what we store), the national numeric codes where there are any, and
the older or alternative labels that exports still carry (accepted on import, stored as the current
label). The import format (`spec/import-format.md`, "Code lists") is the contract for all of this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


def _fold(text: str) -> str:
    """Fold full-width brackets and spaces so that `已脱贫（享受政策）` = `已脱贫(享受政策)`."""
    text = text.strip().replace("（", "(").replace("）", ")").replace("\u3000", " ")
    return re.sub(r"\s+", "", text)


@dataclass(frozen=True)
class CodeList:
    """One code list: labels in order, optional numeric codes, and aliases → current label."""

    name: str
    labels: tuple[str, ...]
    codes: dict[str, str] = field(default_factory=dict)  # "01" → label
    aliases: dict[str, str] = field(default_factory=dict)  # older label → current label

    @property
    def choices(self) -> list[tuple[str, str]]:
        return [(label, label) for label in self.labels]

    def code_of(self, label: str) -> str | None:
        for code, value in self.codes.items():
            if value == label:
                return code
        return None

    def normalise(self, value: object) -> str | None:
        """The current label for a label, alias or code; None when the value is not in the list."""
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = _fold(str(value))
        if not text:
            return None
        lookup = self._lookup()
        if text in lookup:
            return lookup[text]
        if text.isdigit() and self.codes:
            return self.codes.get(text.zfill(2))
        return None

    def _lookup(self) -> dict[str, str]:
        cached = _LOOKUPS.get(self.name)
        if cached is None:
            cached = {_fold(label): label for label in self.labels}
            cached.update({_fold(alias): label for alias, label in self.aliases.items()})
            _LOOKUPS[self.name] = cached
        return cached


_LOOKUPS: dict[str, dict[str, str]] = {}

HOUSEHOLD_ATTRIBUTE = CodeList(
    "贫困户属性",
    (
        "一般贫困户",
        "低保贫困户",
        "特困供养贫困户",
        "一般脱贫户",
        "低保脱贫户",
        "特困供养脱贫户",
        "低保特困供养贫困户",
        "低保特困供养户",
    ),
    codes={
        "01": "一般贫困户",
        "02": "低保脱贫户",
        "03": "特困供养脱贫户",
        "04": "低保贫困户",
        "05": "一般脱贫户",
        "06": "特困供养贫困户",
        "07": "低保特困供养贫困户",
        "08": "低保特困供养户",
    },
    aliases={"五保贫困户": "特困供养贫困户", "五保脱贫户": "特困供养脱贫户"},
)

EXIT_STATUS = CodeList(
    "脱贫状态",
    ("未脱贫", "已脱贫（享受政策）", "返贫", "已脱贫（不再享受政策）"),
    codes={"00": "未脱贫", "01": "已脱贫（享受政策）", "03": "返贫", "04": "已脱贫（不再享受政策）"},
    aliases={"已脱贫": "已脱贫（享受政策）"},
)
EXITED_STATUSES = ("已脱贫（享受政策）", "已脱贫（不再享受政策）")

IDENTIFICATION_STANDARD = CodeList("识别标准", ("国家标准", "省定标准", "市定标准"))

POVERTY_CAUSE = CodeList(
    "致贫原因",
    (
        "因病",
        "因残",
        "因学",
        "因灾",
        "缺土地",
        "缺水",
        "缺技术",
        "缺劳动力",
        "缺资金",
        "交通条件落后",
        "自身发展动力不足",
        "因婚",
        "因丧",
        "其他",
    ),
    codes={
        "01": "因病",
        "02": "因残",
        "03": "因学",
        "04": "因灾",
        "05": "缺土地",
        "06": "缺水",
        "07": "缺技术",
        "08": "缺劳动力",
        "09": "缺资金",
        "10": "交通条件落后",
        "11": "自身发展动力不足",
    },
    aliases={"缺劳力": "缺劳动力"},
)

HOUSE_GRADE = CodeList(
    "住房安全等级",
    ("A级", "B级", "C级", "D级"),
    aliases={"A": "A级", "B": "B级", "C": "C级", "D": "D级", "a": "A级", "b": "B级", "c": "C级", "d": "D级"},
)

RENOVATION_STATUS = CodeList("危房改造状态", ("无需改造", "未改造", "改造中", "已改造"))

SEX = CodeList("性别", ("男", "女"), codes={"01": "男", "02": "女"}, aliases={"男性": "男", "女性": "女"})

RELATION = CodeList(
    "与户主关系",
    (
        "户主",
        "配偶",
        "之子",
        "之女",
        "之儿媳",
        "之女婿",
        "之孙子",
        "之孙女",
        "之外孙子",
        "之外孙女",
        "之父",
        "之母",
        "之岳父",
        "之岳母",
        "之公公",
        "之婆婆",
        "之祖父",
        "之祖母",
        "之外祖父",
        "之外祖母",
        "之兄弟姐妹",
        "之曾孙子",
        "之曾孙女",
        "之侄儿",
        "之侄女",
        "之兄弟媳妇",
        "之叔伯",
        "其他",
    ),
    aliases={"本人": "户主", "本人或户主": "户主"},
)

EDUCATION = CodeList(
    "文化程度",
    ("文盲或半文盲", "小学", "初中", "高中", "大专", "本科及以上", "学龄前儿童"),
    aliases={"大专及以上": "大专"},
)

SCHOOL_STATUS = CodeList(
    "在校生状况",
    (
        "非在校生",
        "学前教育",
        "小学",
        "七年级",
        "八年级",
        "九年级",
        "高中一年级",
        "高中二年级",
        "高中三年级",
        "中职一年级",
        "中职二年级",
        "中职三年级",
        "高职一年级",
        "高职二年级",
        "高职三年级",
        "大专及以上",
    ),
    codes={
        "01": "非在校生",
        "02": "学前教育",
        "03": "小学",
        "04": "七年级",
        "05": "八年级",
        "06": "九年级",
        "07": "高中一年级",
        "08": "高中二年级",
        "09": "高中三年级",
        "10": "中职一年级",
        "11": "中职二年级",
        "12": "中职三年级",
        "13": "高职一年级",
        "14": "高职二年级",
        "15": "高职三年级",
        "16": "大专及以上",
    },
    aliases={
        "学龄前儿童": "学前教育",
        "普通高中一年级": "高中一年级",
        "普通高中二年级": "高中二年级",
        "普通高中三年级": "高中三年级",
        "高职高专一年级": "高职一年级",
        "高职高专二年级": "高职二年级",
        "高职高专三年级": "高职三年级",
        "本科一年级": "大专及以上",
        "本科二年级": "大专及以上",
        "本科三年级": "大专及以上",
        "本科四年级": "大专及以上",
        "研究生": "大专及以上",
        "小学一年级": "小学",
        "小学二年级": "小学",
        "小学三年级": "小学",
        "小学四年级": "小学",
        "小学五年级": "小学",
        "小学六年级": "小学",
        "初中一年级": "七年级",
        "初中二年级": "八年级",
        "初中三年级": "九年级",
    },
)
# Grades that mean "in school" for the school-age rules.
PRIMARY_GRADES = ("小学",)
JUNIOR_GRADES = ("七年级", "八年级", "九年级")
SENIOR_GRADES = (
    "高中一年级",
    "高中二年级",
    "高中三年级",
    "中职一年级",
    "中职二年级",
    "中职三年级",
)

HEALTH = CodeList(
    "健康状况",
    ("健康", "长期慢性病", "患有大病", "残疾"),
    aliases={"大病": "患有大病"},
)

LABOUR_SKILL = CodeList("劳动技能", ("普通劳动力", "技能劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力"))
LABOUR_CAPABLE = ("普通劳动力", "技能劳动力")

WORK_STATUS = CodeList(
    "务工状况",
    ("乡（镇）内务工", "乡（镇）外县内务工", "县外省内务工", "省外务工", "其他"),
    codes={"01": "乡（镇）内务工", "02": "乡（镇）外县内务工", "03": "县外省内务工", "04": "省外务工", "05": "其他"},
)

POLITICAL_STATUS = CodeList("政治面貌", ("中共党员", "中共预备党员", "共青团员", "群众"))

MEMBER_STATUS = CodeList("人员状态", ("正常", "死亡", "嫁出", "出国定居", "判刑收监", "其他转出"))

MEASURE_TYPE = CodeList(
    "措施类型",
    (
        "产业扶持",
        "就业帮扶",
        "公益性岗位",
        "技能培训",
        "小额信贷",
        "教育资助",
        "健康扶贫",
        "危房改造",
        "造福工程搬迁",
        "低保兜底",
        "特困供养",
        "资产收益",
        "光伏扶贫",
        "生活救助",
        "其他",
    ),
    aliases={"易地扶贫搬迁": "造福工程搬迁"},
)

MEASURE_STATUS = CodeList("状态", ("计划", "实施中", "已完成"))

VISIT_TYPE = CodeList(
    "走访类型",
    ("了解基本情况", "填写扶贫手册", "制定脱贫计划", "落实资金项目", "宣传扶贫政策", "节日慰问", "其他帮扶活动"),
)

SATISFACTION = CodeList("满意度", ("满意", "基本满意", "不满意"))

LOAN_STATUS = CodeList("贷款状态", ("正常", "逾期", "已结清"))

ALL_LISTS: tuple[CodeList, ...] = (
    HOUSEHOLD_ATTRIBUTE,
    EXIT_STATUS,
    IDENTIFICATION_STANDARD,
    POVERTY_CAUSE,
    HOUSE_GRADE,
    RENOVATION_STATUS,
    SEX,
    RELATION,
    EDUCATION,
    SCHOOL_STATUS,
    HEALTH,
    LABOUR_SKILL,
    WORK_STATUS,
    POLITICAL_STATUS,
    MEMBER_STATUS,
    MEASURE_TYPE,
    MEASURE_STATUS,
    VISIT_TYPE,
    SATISFACTION,
    LOAN_STATUS,
)


def split_multi(value: object) -> list[str]:
    """Split a cell that may hold several values (`残疾,长期慢性病`, `缺技术、缺资金`)."""
    if value is None:
        return []
    return [part for part in re.split(r"[,，、;；/\s]+", str(value).strip()) if part]
