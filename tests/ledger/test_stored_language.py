"""What a user causes to be stored for others is in the site's language, even when that user reads English."""

from __future__ import annotations

import io

import docx
import pytest
from django.utils import translation

from lookback.accounts.roles import Role
from lookback.ledger import services
from lookback.ledger.models import Notification, NotificationKind
from tests.ledger.helpers import campaign, make_problem, rectified

pytestmark = pytest.mark.django_db


def test_notification_and_timeline_written_by_an_english_user_are_chinese(world):
    township, county = world.users[Role.TOWNSHIP], world.users[Role.COUNTY]
    problem = rectified(township, world.songkou)
    with translation.override("en"):
        # The English catalogue really translates this message: without the site-language rule it would be stored so.
        assert translation.gettext("问题 #%(id)s 被退回：%(reason)s") != "问题 #%(id)s 被退回：%(reason)s"
        services.return_problem(user=county, problem=problem, version=problem.version, reason="缺凭证")
    note = Notification.objects.get(user=township, kind=NotificationKind.RETURNED)
    assert note.message == f"问题 #{problem.pk} 被退回：缺凭证"


def test_stored_text_ignores_the_active_language_and_in_site_language_restores_it():
    from lookback.core.i18n import in_site_language, stored_text

    with translation.override("en"):
        assert translation.gettext("立行立改") != "立行立改"
        assert stored_text("立行立改") == "立行立改"
        assert stored_text("规则 %(code)s 比对发现", {"code": "R2-01"}) == "规则 R2-01 比对发现"
        assert in_site_language(translation.get_language)() == "zh-hans"
        assert translation.get_language() == "en"


def test_township_report_is_chinese_when_the_officer_reads_english(world):
    township = world.users[Role.TOWNSHIP]
    make_problem(township, world.songkou, dimension=2)
    with translation.override("en"):
        report = services.start_report(user=township, campaign=campaign())
        report = services.submit_report(user=township, report=report, version=report.version)
    with report.docx_file.open("rb") as handle:
        document = docx.Document(io.BytesIO(handle.read()))
    text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    )
    assert "自查报告" in text and "合计" in text
    assert "Total" not in text
