"""ID-number validation as SQL, faithful to python-stdnum's `stdnum.cn.ric.validate`.

stdnum is the reference (a test compares the two over generated numbers), but calling it per member
is a Python loop over a million rows. The same checks are expressed in SQL instead: length 18, 17
digits, the ISO 7064 MOD 11-2 check character, a real birth date, and a region code that stdnum's
table knows. The region table is copied from stdnum into `IdRegion` the first time a run needs it
(and again when stdnum's table changes size).

One deliberate difference: stdnum also rejects a region code that was not yet (or no longer) in use
in the birth year. ID numbers were issued from 1985 on, long after most members were born, so that
test would reject nearly everyone born in 永泰县 (code 350125, in use since 1983) before 1983. We
accept any region code stdnum knows.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import transaction

from lookback.checks.models import IdRegion

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# sum mod 11 → check character
CHECK_CHARS = "10X98765432"


@lru_cache(maxsize=1)
def stdnum_regions() -> tuple[str, ...]:
    """Every six-digit region code in stdnum's table."""
    from stdnum import numdb

    rows: set[str] = set()

    def walk(prefixes, head: str, props: dict) -> None:
        for length, low, high, own, children in prefixes:
            merged = {**props, **own}
            for value in range(int(low), int(high) + 1):
                code = head + str(value).zfill(length)
                if children:
                    walk(children, code, merged)
                elif len(code) == 6 and merged.get("county"):
                    rows.add(code)

    walk(numdb.get("cn/loc").prefixes, "", {})
    return tuple(sorted(rows))


def ensure_regions() -> None:
    rows = stdnum_regions()
    if IdRegion.objects.count() == len(rows):
        return
    with transaction.atomic():
        IdRegion.objects.all().delete()
        IdRegion.objects.bulk_create([IdRegion(code=code) for code in rows], batch_size=2000)
