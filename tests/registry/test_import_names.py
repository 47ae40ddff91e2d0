"""The importer's fast pinyin initials give exactly what `core.text.pinyin_initials` gives."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin.constants import PINYIN_DICT

from lookback.core.text import pinyin_initials
from lookback.registry.importers.names import initials

# Common surname and given-name characters, with heteronyms (长 曾 单 朴 查 解 乐 行 重) on purpose.
COMMON = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑曾单朴查解乐区建华秀英明伟芳丽军强敏静长行重平超洋"
HANZI = [chr(c) for c in range(0x4E00, 0x9FA6) if c in PINYIN_DICT]


def test_every_single_character_agrees():
    assert [c for c in HANZI if initials(c) != pinyin_initials(c)] == []


def test_names_made_of_common_and_rare_characters_agree():
    rng = random.Random(2018)
    names = ["".join(rng.choice(COMMON) for _ in range(rng.choice((2, 3)))) for _ in range(5000)]
    names += ["".join(rng.choice(HANZI) for _ in range(rng.choice((2, 3, 4)))) for _ in range(5000)]
    names += ["欧阳修", "司马光", "长孙无忌", "单雄信", "A王", "王·小明", "李1", ""]
    assert [(n, initials(n), pinyin_initials(n)) for n in names if initials(n) != pinyin_initials(n)] == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(COMMON + "·A1 "), max_size=5))
def test_any_name_agrees(name):
    assert initials(name) == pinyin_initials(name)
