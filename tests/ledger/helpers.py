"""Builders for ledger tests."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from lookback.campaigns.models import Campaign
from lookback.ledger import services
from lookback.ledger.models import Problem, Source


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A real (tiny, red) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def photo(name: str = "整改照片.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def pdf(name: str = "说明.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", content_type="application/pdf"
    )


def campaign() -> Campaign:
    return Campaign.objects.get(code="fz2018")


def make_problem(user: Any, household: Any = None, *, plan: bool = False, **extra: Any) -> Problem:
    fields: dict[str, Any] = {
        "source": Source.SELF_CHECK,
        "dimension": 2,
        "description": "医疗叠加保险未参保",
        "household": household,
        "campaign": campaign(),
    }
    if household is None:
        fields["division"] = user.scope
    if plan:
        fields.update(
            measures="协助办理参保手续",
            responsible_unit="嵩口镇政府",
            responsible_person="陈晓东",
            deadline=timezone.localdate() + timedelta(days=15),
        )
    fields.update(extra)
    return services.create_problem(user=user, **fields)


def rectified(user: Any, household: Any = None, **extra: Any) -> Problem:
    """A problem with a plan and a photo, marked rectified by `user`."""
    problem = make_problem(user, household, plan=True, **extra)
    services.add_evidence(user=user, problem=problem, upload=photo())
    problem.refresh_from_db()
    return services.mark_rectified(user=user, problem=problem, version=problem.version)
