"""The English catalogue: complete for every msgid in the code, compiled, and its placeholders intact.

The shipped product reads the committed .mo and needs no gettext at run time; these tests keep the .po,
the .mo and the code in step. When one fails after you added or changed a `_("…")`:

    cd src/lookback && lookback makemessages -l en --no-obsolete --add-location=file
    (translate the new or fuzzy entries of locale/en/LC_MESSAGES/django.po)
    lookback compilemessages -l en
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import polib
import pytest
from django.utils import translation

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "lookback"
PO = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")

# %(name)s-style, %s/%d and %% in python-format strings; {name} in any string.
PERCENT = re.compile(r"%\(\w+\)[-#0 +]?\d*(?:\.\d+)?[sdifr]|%[sdifr]|%%")
BRACES = re.compile(r"\{\w*\}")


def _key(entry: polib.POEntry | polib.MOEntry) -> tuple[str, str, str]:
    return entry.msgctxt or "", entry.msgid, entry.msgid_plural or ""


def _live(po: polib.POFile) -> list[polib.POEntry]:
    return [e for e in po if not e.obsolete and e.msgid]


def _is_translated(entry: polib.POEntry) -> bool:
    if "fuzzy" in entry.flags:
        return False
    if entry.msgid_plural:
        return len(entry.msgstr_plural) == 2 and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def _placeholders(text: str, python_format: bool) -> list[str]:
    found = BRACES.findall(text)
    if python_format:
        found += PERCENT.findall(text)
    return sorted(found)


def test_header_declares_english_and_its_plural_forms():
    po = polib.pofile(str(PO))
    assert po.metadata["Language"] == "en"
    assert po.metadata["Plural-Forms"].replace(" ", "") == "nplurals=2;plural=(n!=1);"
    assert "charset=UTF-8" in po.metadata["Content-Type"]
    # A fuzzy header is left out by msgfmt, and with it the plural rule and the charset.
    assert not po.metadata_is_fuzzy


def test_every_entry_is_translated_and_not_fuzzy():
    problems = [
        f"{'fuzzy (check the guess, then drop the flag)' if 'fuzzy' in e.flags else 'untranslated'}: {e.msgid!r}"
        for e in _live(polib.pofile(str(PO)))
        if not _is_translated(e)
    ]
    assert not problems, "\n".join(problems)


def test_placeholders_are_kept_exactly():
    problems = []
    for entry in _live(polib.pofile(str(PO))):
        python_format = "python-format" in entry.flags
        wanted = _placeholders(entry.msgid, python_format)
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for text in translations:
            if text and _placeholders(text, python_format) != wanted:
                problems.append(f"{entry.msgid!r}: {wanted} → {text!r}")
    assert not problems, "\n".join(problems)


def test_compiled_catalogue_matches_the_po():
    assert MO.exists(), f"{MO} is missing: run `lookback compilemessages -l en` and commit it"
    po = {_key(e): e for e in _live(polib.pofile(str(PO))) if "fuzzy" not in e.flags}
    mo = {_key(e): e for e in polib.mofile(str(MO)) if e.msgid}
    stale = []
    for key in sorted(set(po) | set(mo)):
        p, m = po.get(key), mo.get(key)
        if p is None or m is None:
            stale.append(f"only in the {'mo' if p is None else 'po'}: {key[1]!r}")
        elif (p.msgstr_plural or p.msgstr) != (m.msgstr_plural or m.msgstr):
            stale.append(f"differs: {key[1]!r}")
    assert not stale, "the .mo is out of date; run `lookback compilemessages -l en`:\n" + "\n".join(stale[:30])


def test_django_reads_the_english_catalogue():
    with translation.override("en"):
        assert translation.gettext("问题台帐") == "Problem ledger"
        assert translation.ngettext("共 %(counter)s 户", "共 %(counter)s 户", 2) % {"counter": 2} == "2 households"
    with translation.override("zh-hans"):
        assert translation.gettext("问题台帐") == "问题台帐"


EXTRACT = textwrap.dedent(
    """
    import sys
    import django
    from django.conf import settings

    settings.configure(USE_I18N=True, LOCALE_PATHS=[sys.argv[1]], INSTALLED_APPS=[])
    django.setup()
    from django.core.management import call_command

    call_command("makemessages", locale=["en"], verbosity=0, no_obsolete=True, add_location="never")
    """
)


def _copy_sources(target: Path) -> None:
    # Only what makemessages reads (Python and templates), without the catalogue: it would write into
    # any locale folder above the files it finds.
    for path in PACKAGE.rglob("*"):
        if path.suffix in {".py", ".html", ".txt"} and "locale" not in path.relative_to(PACKAGE).parts:
            destination = target / path.relative_to(PACKAGE)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)


def test_every_msgid_in_the_code_has_a_translation(tmp_path):
    if shutil.which("xgettext") is None:
        pytest.skip("extracting the msgids needs GNU gettext (apt-get install gettext); the run time does not")
    sources, out = tmp_path / "lookback", tmp_path / "locale"
    _copy_sources(sources)
    out.mkdir()
    subprocess.run([sys.executable, "-c", EXTRACT, str(out)], cwd=sources, check=True, timeout=300)
    extracted = {_key(e) for e in _live(polib.pofile(str(out / "en" / "LC_MESSAGES" / "django.po")))}
    assert extracted, "makemessages found no msgids at all"
    translated = {_key(e) for e in _live(polib.pofile(str(PO))) if _is_translated(e)}
    missing = sorted(extracted - translated)
    assert not missing, (
        f"{len(missing)} msgids in the code have no English translation (see this module's docstring):\n"
        + "\n".join(repr(key[1]) for key in missing[:40])
    )
