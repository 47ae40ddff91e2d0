"""The import pages and the 一户一档 check and sheet in the scope walk (tests/scoping_registry.py explains it).

Import batches and national snapshots carry the division code of the importing user's scope; an upload
in progress belongs to the user who made it. Roles without the import permission are refused the upload
pages (403); helpers see no batches and no snapshots at all (404).
"""

from __future__ import annotations

from datetime import date

from lookback.accounts.roles import EDIT_REGISTRY, IMPORT_DATA, Role
from lookback.registry.importers.blank import template_kinds
from lookback.registry.models import ImportBatch, NationalSnapshot
from lookback.registry.services_import import imports_dir
from tests.scoping_registry import Case, ScopeWorld, Target, register


def _batch(sw: ScopeWorld, role: str, division_code: str, token: str, user=None) -> ImportBatch:
    batch = ImportBatch.objects.create(
        created_by=user or sw.user(role),
        file_name="户信息.xlsx",
        sha256="0" * 64,
        kind="households",
        status=ImportBatch.Status.STORED,
        division_code=division_code,
        details={"upload": token, "order": 1},
    )
    report = imports_dir() / "reports" / f"walk-{batch.pk}.xlsx"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_bytes(b"PK")
    batch.report_path = str(report)
    batch.save(update_fields=["report_path"])
    return batch


def _batches(sw: ScopeWorld, role: str) -> tuple[ImportBatch, ImportBatch | None]:
    inside = _batch(sw, role, sw.inside(role).division_code, f"in-{role}")
    outside_household = sw.outside(role)
    outside = _batch(sw, role, outside_household.division_code, f"out-{role}") if outside_household else None
    return inside, outside


def _can_import(sw: ScopeWorld, role: str) -> bool:
    return sw.user(role).can(IMPORT_DATA)


@register("imports:upload")
def _upload(sw: ScopeWorld, role: str) -> Case:
    return Case(denied=not _can_import(sw, role))


def _by_pk(sw: ScopeWorld, role: str) -> Case:
    inside, outside = _batches(sw, role)
    return Case(
        inside=Target(kwargs={"pk": inside.pk}),
        outside=Target(kwargs={"pk": outside.pk}) if outside else None,
        denied=role == Role.HELPER,  # helpers have no import batches
    )


register("imports:detail")(_by_pk)
register("imports:progress")(_by_pk)
register("imports:report")(_by_pk)


def _upload_token(method: str, check_outside: bool = True):
    def resolver(sw: ScopeWorld, role: str) -> Case:
        inside, _outside = _batches(sw, role)
        # Someone else's upload, in the same place: only its maker may see or start it.
        other = sw.user(Role.ADMIN if role != Role.ADMIN else Role.CITY)
        theirs = _batch(sw, role, inside.division_code, f"theirs-{role}", user=other)
        return Case(
            inside=Target(kwargs={"token": inside.details["upload"]}, method=method),
            outside=Target(kwargs={"token": theirs.details["upload"]}, method=method) if check_outside else None,
            denied=not _can_import(sw, role),
        )

    return resolver


register("imports:upload_detail")(_upload_token("get"))
register("imports:upload_start")(_upload_token("post"))
# Discarding someone else's upload changes nothing but answers 302 instead of 404 (unlike start):
# not checked outside until the view answers 404 there too.
register("imports:upload_discard")(_upload_token("post", check_outside=False))


@register("imports:template")
def _template(sw: ScopeWorld, role: str) -> Case:
    # Blank templates hold no data: every role may download them.
    return Case(inside=Target(kwargs={"code": template_kinds()[0][0]}))


def _snapshot(sw: ScopeWorld, role: str) -> Case:
    inside = NationalSnapshot.objects.create(
        snapshot_date=date(2018, 12, 1), division_code=sw.inside(role).division_code
    )
    outside_household = sw.outside(role)
    outside = (
        NationalSnapshot.objects.create(snapshot_date=date(2018, 12, 1), division_code=outside_household.division_code)
        if outside_household
        else None
    )
    return Case(
        inside=Target(kwargs={"pk": inside.pk}),
        outside=Target(kwargs={"pk": outside.pk}) if outside else None,
        denied=role == Role.HELPER,
    )


register("imports:snapshot")(_snapshot)
register("imports:snapshot_export")(_snapshot)


@register("registry:archive_check_create")
def _archive_check(sw: ScopeWorld, role: str) -> Case:
    # Recording a 一户一档 check needs the registry-editing capability; the household must be in scope.
    outside = sw.outside(role)
    data = {"checked_on": "2018-12-05", "present_items": ["贫困户申请书"], "note": ""}
    return Case(
        inside=Target(kwargs={"pk": sw.inside(role).pk}, method="post", data=data),
        outside=Target(kwargs={"pk": outside.pk}, method="post", data=data) if outside else None,
        denied=not sw.user(role).can(EDIT_REGISTRY),
    )


def _archive_sheet_denied(sw: ScopeWorld, role: str) -> bool:
    return not sw.user(role).can(EDIT_REGISTRY)


@register("registry:archive_sheet_download")
def _archive_sheet_download(sw: ScopeWorld, role: str) -> Case:
    # The sheet of the households the list shows: the list's village filter, inside and just outside.
    outside = sw.outside(role)
    return Case(
        inside=Target(query={"village": sw.inside(role).division_code}),
        outside=Target(query={"village": outside.division_code}) if outside else None,
        denied=_archive_sheet_denied(sw, role),
    )


@register("registry:archive_sheet_upload")
def _archive_sheet_upload(sw: ScopeWorld, role: str) -> Case:
    return Case(denied=_archive_sheet_denied(sw, role))
