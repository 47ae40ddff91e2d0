import os
import secrets
import subprocess
import sys

import pytest
from django.db import connection

from lookback.core import codes
from lookback.core.masking import mask_id_number, mask_phone
from lookback.core.text import pinyin_initials
from lookback.core.yesno import NotYesNo, parse_yes_no


@pytest.mark.parametrize(
    ("code_list", "value", "expected"),
    [
        (codes.POVERTY_CAUSE, "因病", "因病"),
        (codes.POVERTY_CAUSE, "01", "因病"),
        (codes.POVERTY_CAUSE, "1", "因病"),
        (codes.POVERTY_CAUSE, 9, "缺资金"),
        (codes.POVERTY_CAUSE, 9.0, "缺资金"),
        (codes.POVERTY_CAUSE, " 缺劳力 ", "缺劳动力"),
        (codes.POVERTY_CAUSE, "因穷", None),
        (codes.EXIT_STATUS, "已脱贫", "已脱贫（享受政策）"),
        (codes.EXIT_STATUS, "已脱贫(不再享受政策)", "已脱贫（不再享受政策）"),
        (codes.EXIT_STATUS, "4", "已脱贫（不再享受政策）"),
        (codes.HOUSEHOLD_ATTRIBUTE, "五保贫困户", "特困供养贫困户"),
        (codes.HOUSEHOLD_ATTRIBUTE, "05", "一般脱贫户"),
        (codes.HOUSE_GRADE, "C", "C级"),
        (codes.RELATION, "本人", "户主"),
        (codes.EDUCATION, "大专及以上", "大专"),
        (codes.SCHOOL_STATUS, "普通高中一年级", "高中一年级"),
        (codes.SCHOOL_STATUS, "3", "小学"),
        (codes.HEALTH, "大病", "患有大病"),
        (codes.MEASURE_TYPE, "易地扶贫搬迁", "造福工程搬迁"),
        (codes.WORK_STATUS, "乡(镇)内务工", "乡（镇）内务工"),
        (codes.SEX, "", None),
    ],
)
def test_code_lists_accept_labels_codes_and_older_labels(code_list, value, expected):
    assert code_list.normalise(value) == expected


def test_every_code_maps_to_one_of_its_labels():
    for code_list in codes.ALL_LISTS:
        assert set(code_list.codes.values()) <= set(code_list.labels), code_list.name
        assert set(code_list.aliases.values()) <= set(code_list.labels), code_list.name


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("是", True),
        ("否", False),
        ("Y", True),
        ("n", False),
        ("1", True),
        (0, False),
        ("√", True),
        ("×", False),
        ("有", True),
        ("无", False),
        ("", None),
        (None, None),
        ("  ", None),
    ],
)
def test_yes_no(value, expected):
    assert parse_yes_no(value) is expected


@pytest.mark.parametrize("value", ["也许", "2", 3])
def test_yes_no_rejects_other_values(value):
    with pytest.raises(NotYesNo):
        parse_yes_no(value)


def test_masking():
    assert mask_id_number("350125198001011234") == "350125********1234"
    assert mask_id_number("35012580010112X") == "350125*****112X"
    assert mask_id_number("") == ""
    assert mask_phone("13805912345") == "138****2345"


def test_pinyin_initials():
    assert pinyin_initials("王建华") == "wjh"
    assert pinyin_initials("林秀英") == "lxy"
    assert pinyin_initials("") == ""


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        mode = cursor.fetchone()[0]
    # The in-memory test database cannot use WAL; a file database must.
    assert mode in {"wal", "memory"}


def test_deploy_check_is_clean_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "lookback.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "hx.example.gov",
        "DEBUG": "0",
        "LOOKBACK_DATA_DIR": str(tmp_path),
    }
    # Set by the browser tests' conftest for Playwright's event loop; never set in a deployment.
    for name in ("LOOKBACK_HTTPS", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "lookback", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_sqlite_file_database_uses_wal(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "lookback.settings", "LOOKBACK_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    code = (
        "import django; django.setup(); from django.db import connection; c = connection.cursor();"
        "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "wal", result.stderr
