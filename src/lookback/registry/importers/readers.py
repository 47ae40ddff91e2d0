"""Reading files: python-calamine for workbooks, the csv module for CSV.

Rows come out as lists of raw cell values with row 1 of the spreadsheet first, so that a row's index
plus one is the row number the user sees. Workbook sheets are loaded one at a time and dropped when
done: calamine holds a whole sheet in memory, and a 1M-row sheet is most of the memory budget.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import python_calamine
from django.utils.translation import gettext

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
CSV_SUFFIXES = {".csv", ".txt"}
SUFFIXES = WORKBOOK_SUFFIXES | CSV_SUFFIXES


_LOADER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sheet-loader")
# The next sheet is loaded ahead only while the current one has at most this many cells: calamine
# holds a whole sheet in memory (about 95 bytes a cell: 614 MB for 300,000 households of 21 columns,
# 1.5 GB for 1M members of 16), and the current sheet plus a large next one must stay within the
# import's memory budget (2.5 GB). Loading the member sheet of the 300,000-household workbook on the
# other core while its households are stored saves the 15-25 s of that load (peak 2.2 GB).
PRELOAD_MAX_CELLS = 8_000_000
# The same limit before a sheet is loaded, by the size of its XML in the .xlsx (about 55 bytes a cell):
# a small sheet and the next one then load side by side, on two cores, from the start.
XML_BYTES_PER_CELL = 55


class UnreadableFile(Exception):
    """The file cannot be opened as a spreadsheet; the message says why, in Chinese."""


@dataclass
class SheetSource:
    name: str
    path: Path
    index: int  # sheet index in a workbook; 0 for CSV
    encoding: str = ""  # CSV only
    delimiter: str = ","
    visible: bool = True
    total_rows: int = 0  # known once `rows()` has started (for progress)
    then: SheetSource | None = None  # the sheet read after this one (loaded ahead when this one is small)
    xml_bytes: int | None = None  # the size of the sheet's XML, where the file format tells it (.xlsx)
    _loading: Future | None = None

    def preload(self) -> None:
        """Start loading the sheet in a thread: calamine parses without holding the GIL, so the next
        sheet loads on the other core while this one's rows are checked and stored."""
        if not self.encoding and self._loading is None:
            self._loading = _LOADER.submit(_load_sheet, self.path, self.index)

    def rows(self) -> Iterator[list[Any]]:
        small = self.xml_bytes is not None and self.xml_bytes <= XML_BYTES_PER_CELL * PRELOAD_MAX_CELLS
        if small and self.then is not None:
            self.then.preload()
        if self.encoding:
            self.total_rows = self.row_count()
            yield from _csv_rows(self.path, self.encoding, self.delimiter)
            return
        loading, self._loading = self._loading, None
        sheet = loading.result() if loading is not None else _load_sheet(self.path, self.index)
        if not sheet.end:
            if self.then is not None:
                self.then.preload()
            return
        self.total_rows = sheet.end[0] + 1
        start_column = sheet.start[1] if sheet.start else 0
        if self.then is not None and self.total_rows * (sheet.end[1] + 1 - start_column) <= PRELOAD_MAX_CELLS:
            self.then.preload()
        # iter_rows starts at row 1 but at the first used column; pad so column indexes are the sheet's.
        pad = [""] * sheet.start[1] if sheet.start else []
        try:
            if pad:
                for row in sheet.iter_rows():
                    yield pad + row
            else:
                yield from sheet.iter_rows()
        except Exception as exc:
            raise UnreadableFile(gettext("读取工作表时出错（%(error)s）") % {"error": type(exc).__name__}) from exc

    def row_count(self) -> int:
        """Rows in the sheet (for progress), without converting them to Python values."""
        if self.encoding:
            with self.path.open("rb") as fh:
                return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) + 1
        sheet = _load_sheet(self.path, self.index)
        return (sheet.end[0] + 1) if sheet.end else 0


def file_kind(path: Path) -> str:
    """ "workbook" or "csv", by suffix and, failing that, by the file's first bytes."""
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        return "workbook"
    if suffix in CSV_SUFFIXES:
        return "csv"
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK") or head.startswith(b"\xd0\xcf\x11\xe0"):
        return "workbook"
    return "csv"


def open_sheets(path: Path) -> list[SheetSource]:
    """The sheets of a file, in file order. Raises UnreadableFile."""
    if file_kind(path) == "csv":
        encoding = detect_encoding(path)
        return [
            SheetSource(name=path.stem, path=path, index=0, encoding=encoding, delimiter=_delimiter(path, encoding))
        ]
    try:
        workbook = _open_workbook(path)
        sheets = [
            SheetSource(
                name=meta.name, path=path, index=index, visible=meta.visible == python_calamine.SheetVisibleEnum.Visible
            )
            for index, meta in enumerate(workbook.sheets_metadata)
            if meta.typ == python_calamine.SheetTypeEnum.WorkSheet
        ]
        sizes = _xml_sizes(path)
        if sizes is not None and len(sizes) == len(workbook.sheets_metadata):
            for sheet in sheets:
                sheet.xml_bytes = sizes[sheet.index]
    except UnreadableFile:
        raise
    except Exception as exc:  # calamine raises several types for damaged files
        raise UnreadableFile(
            gettext("无法读取该文件（%(error)s）：文件可能已损坏或不是表格文件") % {"error": type(exc).__name__}
        ) from exc
    return sheets


def _xml_sizes(path: Path) -> list[int] | None:
    """The uncompressed size of each sheet's XML in an .xlsx/.xlsm, in the workbook's sheet order (the
    order calamine numbers them in); None for other formats or anything unexpected."""
    try:
        with zipfile.ZipFile(path) as archive:
            sizes = {info.filename: info.file_size for info in archive.infolist()}
            if sizes.get("xl/workbook.xml", 0) + sizes.get("xl/_rels/workbook.xml.rels", 0) > 1 << 20:
                return None  # a sheet list this long is no file of ours; the guess is not worth parsing it
            # Expat (2.4 and newer) refuses entity expansion bombs itself.
            workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return None
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    result = []
    for sheet in workbook.iter(f"{{{_MAIN_NS}}}sheet"):
        target = targets.get(sheet.get(f"{{{_REL_NS}}}id"), "")
        name = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        if name not in sizes:
            return None
        result.append(sizes[name])
    return result


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _open_workbook(path: Path) -> python_calamine.CalamineWorkbook:
    try:
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError as exc:
        raise UnreadableFile(gettext("文件设置了密码，请取消密码后再导入")) from exc
    except Exception as exc:
        raise UnreadableFile(
            gettext("无法读取该文件（%(error)s）：文件可能已损坏或不是表格文件") % {"error": type(exc).__name__}
        ) from exc


def _load_sheet(path: Path, index: int) -> python_calamine.CalamineSheet:
    try:
        return _open_workbook(path).get_sheet_by_index(index)
    except UnreadableFile:
        raise
    except Exception as exc:
        raise UnreadableFile(
            gettext("无法读取第 %(n)s 个工作表（%(error)s）") % {"n": index + 1, "error": type(exc).__name__}
        ) from exc


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as UTF-8, else GB18030 (a superset of GBK)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        head = fh.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        fh.seek(0)
        try:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


def _delimiter(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(64 * 1024)
    try:
        return csv.Sniffer().sniff(sample.split("\n", 20)[0] if sample else ",", delimiters=",\t;").delimiter
    except csv.Error:
        return ","


def _csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[list[Any]]:
    # errors="replace": a stray undecodable byte becomes U+FFFD in its cell rather than failing the file.
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        try:
            yield from csv.reader(fh, delimiter=delimiter)
        except csv.Error as exc:
            raise UnreadableFile(gettext("CSV 格式错误：%(error)s") % {"error": exc}) from exc


def read_head(source: SheetSource, rows: int) -> list[list[Any]]:
    """The first rows of a sheet (for recognition and previews)."""
    head = []
    for row in source.rows():
        head.append(row)
        if len(head) >= rows:
            break
    return head
