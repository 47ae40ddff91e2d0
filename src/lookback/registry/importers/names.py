"""Pinyin initials for a million names, giving exactly what `core.text.pinyin_initials` gives.

pypinyin segments each name into phrases before converting it, which costs around 100 µs a name;
a 1M-member file would spend minutes on it. Its rule is simple, though: a run of characters found in
its phrase table takes the phrase's readings, any other character its first reading. So a name none
of whose substrings is a phrase gets the first letter of each character's first reading, which is a
dictionary lookup per character. Names that contain a phrase, or a character without a reading,
go through `pinyin_initials` itself. (tests/registry/test_import_names.py checks both agree.)
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from pypinyin.constants import PHRASES_DICT, PINYIN_DICT

from lookback.core.text import pinyin_initials

_letters: dict[str, str] = {}  # character → first letter of its first reading ("" when it has none)


def _letter(char: str) -> str:
    readings = PINYIN_DICT.get(ord(char))
    if not readings:
        return ""
    first = unicodedata.normalize("NFD", readings.split(",")[0])[:1].lower()
    return first if first.isascii() and first.isalpha() else ""


@lru_cache(maxsize=500_000)  # names repeat: a county has a few thousand 王建华s
def initials(name: str) -> str:
    if not name:
        return ""
    out = []
    for char in name:
        letter = _letters.get(char)
        if letter is None:
            letter = _letters[char] = _letter(char)
        if not letter:
            return pinyin_initials(name)
        out.append(letter)
    length = len(name)
    for start in range(length - 1):
        for end in range(start + 2, length + 1):
            if name[start:end] in PHRASES_DICT:
                return pinyin_initials(name)
    return "".join(out)
