"""Name helpers: pinyin initials so that `wjh` finds 王建华."""

from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=65536)
def pinyin_initials(name: str | None) -> str:
    if not name:
        return ""
    # heteronym=False picks the common reading; surnames such as 单 or 曾 may still differ.
    letters = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")
    return "".join(letters).lower()
