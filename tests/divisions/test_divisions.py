import pytest
from django.core.management import CommandError, call_command

from lookback.divisions.loader import DivisionTableError, load_table
from lookback.divisions.models import Division


@pytest.mark.django_db
def test_migrate_loads_the_fuzhou_table():
    assert Division.objects.count() == 3132
    assert Division.objects.filter(level="village").count() == 2924
    songkou = Division.objects.get(code="350125101000")
    assert songkou.name == "嵩口镇"
    assert songkou.parent.name == "永泰县"
    assert songkou.prefix == "350125101"
    assert songkou.full_name() == "福州市永泰县嵩口镇"


@pytest.mark.django_db
def test_load_divisions_command_loads_another_region(tmp_path):
    table = tmp_path / "ningde.csv"
    table.write_text(
        "code,name,level,parent_code\n"
        "350900000000,宁德市,city,\n"
        "350921000000,霞浦县,county,350900000000\n"
        "350921100000,长春镇,township,350921000000\n"
        "350921100201,长春村委会,village,350921100000\n",
        encoding="utf-8",
    )
    call_command("load_divisions", str(table))
    assert Division.objects.get(code="350921100201").parent.code == "350921100000"
    # Loading again changes nothing.
    before = Division.objects.count()
    call_command("load_divisions", str(table))
    assert Division.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("code,name,level\n", "缺少列"),
        ("code,name,level,parent_code\n35090000000,宁德市,city,\n", "第 2 行"),
        ("code,name,level,parent_code\n350900000000,宁德市,metropolis,\n", "级别"),
        ("code,name,level,parent_code\n350921000000,霞浦县,county,359999000000\n", "上级代码"),
    ],
)
def test_bad_tables_are_rejected_with_the_line(text, message):
    before = Division.objects.count()
    with pytest.raises(DivisionTableError, match=message):
        load_table(text)
    assert Division.objects.count() == before


@pytest.mark.django_db
def test_command_reports_missing_file(tmp_path):
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("load_divisions", str(tmp_path / "nope.csv"))
