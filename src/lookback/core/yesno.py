"""Yes/no cells as exports write them; an empty cell is "unknown", never "no"."""

_YES = {"是", "y", "yes", "1", "√", "✓", "有", "true", "对"}
_NO = {"否", "n", "no", "0", "×", "✗", "x", "无", "false", "不"}


class NotYesNo(ValueError):
    pass


def parse_yes_no(value: object) -> bool | None:
    """True, False, or None for an empty cell; raises NotYesNo for anything else."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if value in (0, 1):
            return bool(value)
        raise NotYesNo(str(value))
    text = str(value).strip().lower()
    if text == "":
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise NotYesNo(str(value))


def yes_no_label(value: bool | None) -> str:
    return "" if value is None else ("是" if value else "否")
