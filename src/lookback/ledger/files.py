"""Checking uploaded evidence: an allow-list of types, checked by extension AND by content, and a size limit.

The content check uses `filetype` (magic numbers); Office Open XML files are zip archives, so for those
we also look for the part that makes a zip a workbook or a document.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import filetype
from django.conf import settings
from django.utils.translation import gettext as _

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# extension → (content type we serve it with, the `filetype` extensions its content may be detected as)
ALLOWED: dict[str, tuple[str, frozenset[str]]] = {
    ".jpg": ("image/jpeg", frozenset({"jpg"})),
    ".jpeg": ("image/jpeg", frozenset({"jpg"})),
    ".png": ("image/png", frozenset({"png"})),
    ".webp": ("image/webp", frozenset({"webp"})),
    ".heic": ("image/heic", frozenset({"heic"})),
    ".pdf": ("application/pdf", frozenset({"pdf"})),
    ".xlsx": (XLSX, frozenset({"xlsx", "zip"})),
    ".docx": (DOCX, frozenset({"docx", "zip"})),
    # The old binary Office formats share one container (OLE2); `filetype` may name either.
    ".xls": ("application/vnd.ms-excel", frozenset({"xls", "doc", "ppt", "msi"})),
    ".doc": ("application/msword", frozenset({"xls", "doc", "ppt", "msi"})),
}
_OOXML_PART = {".xlsx": "xl/workbook.xml", ".docx": "word/document.xml"}

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class UploadRejected(ValueError):
    """The file is not accepted; the message says why, in Chinese."""


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    size: int
    sha256: str


def max_bytes() -> int:
    return int(getattr(settings, "LEDGER_EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


def allowed_extensions() -> str:
    return "、".join(ext.lstrip(".") for ext in ALLOWED)


def check_upload(upload: Any) -> CheckedFile:
    """Accept or reject one uploaded file (a Django UploadedFile or any object with name/size/read/seek)."""
    name = Path(str(getattr(upload, "name", "") or "").replace("\x00", "")).name
    if not name:
        raise UploadRejected(_("文件没有名称。"))
    ext = Path(name).suffix.lower()
    if ext not in ALLOWED:
        raise UploadRejected(
            _("文件“%(name)s”的类型不允许上传。允许的类型：%(types)s。") % {"name": name, "types": allowed_extensions()}
        )
    size = int(getattr(upload, "size", 0) or 0)
    if size <= 0:
        raise UploadRejected(_("文件“%(name)s”是空的。") % {"name": name})
    limit = max_bytes()
    if size > limit:
        raise UploadRejected(
            _("文件“%(name)s”太大（%(size).1f MB），单个文件不能超过 %(limit)d MB。")
            % {"name": name, "size": size / 1024 / 1024, "limit": limit // 1024 // 1024}
        )
    content_type, detected_as = ALLOWED[ext]
    upload.seek(0)
    head = upload.read(8192)
    kind = filetype.guess(head)
    if kind is None or kind.extension not in detected_as:
        raise UploadRejected(
            _("文件“%(name)s”的内容与扩展名“%(ext)s”不符，可能已损坏或被改名。") % {"name": name, "ext": ext}
        )
    if ext in _OOXML_PART and not _has_part(upload, _OOXML_PART[ext]):
        raise UploadRejected(_("文件“%(name)s”不是有效的 %(ext)s 文件。") % {"name": name, "ext": ext})
    return CheckedFile(name=name, content_type=content_type, size=size, sha256=sha256_of(upload))


def _has_part(upload: IO[bytes], part: str) -> bool:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            return part in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    finally:
        upload.seek(0)


def sha256_of(stream: IO[bytes]) -> str:
    stream.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1024 * 1024), b""):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()
