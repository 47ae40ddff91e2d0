"""Reading a large file in a second process: the reader process opens the file, recognises its sheets,
parses every cell (`engine.read_file`) and runs the row checks that need only the sheet itself (an
importer's `build`, where `build_in_reader`: households, with a copy of the division table, and
members), and sends the rows, in batches, to the importing process, which checks them against the
registry and stores them.

Why a process and not a thread: parsing cells and storing rows are both Python, and Python runs one
thread at a time; a 1M-row workbook kept one core busy and the other mostly idle. Split in two
processes, the reading half runs on the other core (300,000 households: see bench/import_bench.py).
Small files are read in the importing process: starting a process costs about a second.

The two talk through a pipe of their own (not stdout, which anything may print to): the request
(file, options, scope, divisions, language) goes in on stdin; each message back is an 8-byte length
and a pickle of a list of events, in the order the reader produced them. A parsed row travels as
`(number, values, extra, failed)` with its values as a tuple in the sheet's column order, a checked
row as `(number, record)`; everything else is a tagged tuple.
If the reader fails or dies, the import fails as an internal error and stores nothing, like any
other failure in the middle of an import.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # Windows: no pipe sizes to set
    fcntl = None  # type: ignore[assignment]

from django.conf import settings
from django.utils import timezone, translation

from lookback.registry.importers.base import Context, Row
from lookback.registry.importers.headers import KindSpec, SheetPlan, recognise
from lookback.registry.importers.places import DivisionResolver, division_rows

# Files at least this big are read in a reader process (a 10,000-household workbook is about 4 MB).
MIN_BYTES = 4_000_000
BATCH_ROWS = 2000
# Messages (batches of BATCH_ROWS rows, about 350 KB each) taken off the pipe ahead of the importer, at most.
QUEUED_MESSAGES = 64
_FRAME = struct.Struct("<Q")
# The reader's writes are buffered to this size, and the pipe widened to hold one (`_widen`); 1 MB is
# Linux's default limit for an unprivileged process (/proc/sys/fs/pipe-max-size).
PIPE_BYTES = 1 << 20
_NO_VALUES: dict[str, Any] = {}  # a row checked in the reader needs no values any more (never changed)
# Django is set up before this module is imported in the reader process (its imports need the apps).
_CHILD = f"import sys, django; django.setup(); from {__name__} import main; main(int(sys.argv[1]))"


class ReaderFailed(RuntimeError):
    """The reader process stopped without finishing the file (an error in it, or it was killed)."""


def wanted(path: Path) -> bool:
    if not settings.IMPORT_READER_PROCESS or not sys.executable:
        return False
    try:
        return path.stat().st_size >= MIN_BYTES
    except OSError:
        return False  # reported by the in-process reader, as for any unreadable file


# the importing side ------------------------------------------------------------------------------------


def read_file(path: Path, ctx: Context, specs: list[KindSpec], out: Any) -> None:
    """Run the reader process on `path` and replay what it finds into `out` (an `engine.SheetOutput`)."""
    read_end, write_end = os.pipe()
    _widen(write_end)
    # The same settings and the same import path as this process (tests run with their own settings).
    path_entries = [entry for entry in sys.path if entry]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
        "PYTHONPATH": os.pathsep.join(path_entries),
    }
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(write_end)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            env=env,
            pass_fds=(write_end,),
        )
    finally:
        os.close(write_end)
    stream = os.fdopen(read_end, "rb", buffering=1 << 20)
    receiver = _Receiver(stream)
    try:
        assert process.stdin is not None
        request = {
            "path": str(path),
            "options": ctx.options,
            "scope_prefix": ctx.scope_prefix,
            "divisions": division_rows(),  # a few thousand rows: households' places are found in the reader
            "language": translation.get_language() or "zh-hans",
        }
        process.stdin.write(pickle.dumps(request))
        process.stdin.close()
        receiver.start()
        _replay(receiver, specs, out)
    finally:
        if process.poll() is None:
            process.kill()
        receiver.stop()
        stream.close()
        process.wait()


def _widen(fd: int) -> None:
    """Let the pipe hold a whole write of the reader (`PIPE_BYTES`, Linux) instead of 64 KB. Each 64 KB
    the reader waits for the receiving thread, which must first get the importing process's GIL back
    from its busy main thread (up to the 5 ms switch interval): with a narrow pipe the reader stood
    still for 6 s of a 1M-row import (py-spy). Where the system refuses, the pipe stays as it is."""
    size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if size is None:
        return
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, size, PIPE_BYTES)


class _Receiver(threading.Thread):
    """Takes the reader's messages off the pipe as they come, so that the reader never waits for the
    importing side: the two work at uneven paces (a chunk of 5,000 rows is stored at once, between
    batches that are only queued), and a pipe holds less than one batch. Without it each side stood
    idle while the other caught up (a quarter of both cores, measured). Reading the pipe lets the
    GIL go; the messages stay pickled until the importing thread takes them."""

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__(name="import-receiver", daemon=True)
        self.stream = stream
        self.messages: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUED_MESSAGES)
        self._stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                header = self.stream.read(_FRAME.size)
                if len(header) < _FRAME.size:
                    break
                (length,) = _FRAME.unpack(header)
                data = self.stream.read(length)
                if len(data) < length:
                    break
                self._put(data)
        except (OSError, ValueError):  # the pipe closed under it: the import is over either way
            pass
        self._put(None)

    def _put(self, message: bytes | None) -> None:
        while not self._stopping.is_set():
            try:
                self.messages.put(message, timeout=0.5)
                return
            except queue.Full:
                continue

    def get(self) -> bytes:
        message = self.messages.get()
        if message is None:
            raise ReaderFailed("the reader process ended without finishing the file")
        return message

    def stop(self) -> None:
        """After the reader process has ended or been killed: the thread ends at the pipe's end."""
        self._stopping.set()
        if self.is_alive():
            self.join(timeout=10)


def _replay(receiver: _Receiver, specs: list[KindSpec], out: Any) -> None:
    fields: list[Any] = []
    accept: Callable[[Row], None] | None = None
    add: Callable[[Row, dict[str, Any]], None] | None = None
    none_failed: frozenset[str] = frozenset()
    while True:
        events = pickle.loads(receiver.get())
        for event in events:
            number = event[0]
            if type(number) is int:  # a row: the common event, first
                if len(event) == 2:  # checked by the importer's `build` in the reader already
                    add(Row(number=number, values=_NO_VALUES, extra=_NO_VALUES, failed=none_failed), event[1])
                    continue
                _, values, extra, failed = event
                if type(values) is tuple:
                    values = dict(zip(fields, values, strict=True))
                accept(Row(number=number, values=values, extra=extra or {}, failed=failed or none_failed))
                continue
            if number == "begin":
                _, index, name, head, total_rows = event
                plan = recognise(name, head, specs)
                fields = _fields(plan)
                accept = None
                out.begin(index, name, head, plan, total_rows)
            elif number == "rows":
                accept, add = out.rows(), out.records()
            elif number == "error":
                out.error(*event[1:])
            elif number == "warn":
                out.warn(*event[1:])
            elif number == "progress":
                out.progress(event[1])
            elif number == "finish":
                out.finish()
            elif number == "touch":  # the places the reader's checked rows lie in
                out.touch(event[1])
            elif number == "sheets":
                out.sheets(event[1])
            elif number == "done":
                return
            elif number == "fail":
                raise ReaderFailed(f"the reader process failed:\n{event[1]}")


def _fields(plan: SheetPlan) -> list[Any]:
    """The keys of a parsed row's values, in the order the row parser makes them."""
    return list(dict.fromkeys(column.field for _, column in plan.mapping))


# the reading side --------------------------------------------------------------------------------------


class _Pipe:
    """`engine.SheetOutput` of the reader process: events batched into the pipe."""

    def __init__(self, stream: IO[bytes], request: dict[str, Any]) -> None:
        self.stream = stream
        self.events: list[tuple] = []
        self.width = 0
        self.ctx = _ReaderContext(self, request)
        self.build: Callable[[Row], dict[str, Any] | None] | None = None

    def send(self) -> None:
        data = pickle.dumps(self.events, protocol=pickle.HIGHEST_PROTOCOL)
        self.stream.write(_FRAME.pack(len(data)))
        self.stream.write(data)
        self.events.clear()

    def sheets(self, count: int) -> None:
        self.events.append(("sheets", count))

    def begin(self, index: int, name: str, head: list[list[Any]], plan: SheetPlan, total_rows: int) -> None:
        from lookback.registry.importers.engine import make_importer

        self.width = len(_fields(plan))
        self.events.append(("begin", index, name, head, total_rows))
        # Importers whose row check needs no database (members) check each row here, on this core.
        importer = make_importer(self.ctx, plan) if plan.recognised else None
        self.build = importer.build if importer is not None and importer.build_in_reader else None

    def error(self, sheet: str, row: int | None, column: str, value: Any, reason: str) -> None:
        self.events.append(("error", sheet, row, column, value, reason))

    def warn(self, sheet: str, row: int | None, column: str, value: Any, reason: str) -> None:
        self.events.append(("warn", sheet, row, column, value, reason))

    def rows(self) -> Callable[[Row], None]:
        self.events.append(("rows",))
        events, width, send, build = self.events, self.width, self.send, self.build
        if build is not None:

            def check(row: Row) -> None:
                record = build(row)  # its errors and warnings are events before it
                if record is not None and not row.failed:
                    events.append((row.number, record))
                    if len(events) >= BATCH_ROWS:
                        send()

            return check

        def accept(row: Row) -> None:
            values = row.values
            events.append(
                (
                    row.number,
                    tuple(values.values()) if len(values) == width else values,
                    row.extra or None,
                    row.failed or None,
                )
            )
            if len(events) >= BATCH_ROWS:
                send()

        return accept

    def progress(self, percent: int) -> None:
        self.events.append(("progress", percent))

    def finish(self) -> None:
        if self.ctx.common_prefix is not None:
            self.events.append(("touch", self.ctx.common_prefix))
        self.events.append(("finish",))
        self.send()


class _ReaderContext(Context):
    """The context an importer's `build` sees in the reader process: its issues go down the pipe."""

    def __init__(self, pipe: _Pipe, request: dict[str, Any]) -> None:
        super().__init__(
            user=None,
            scope_prefix=request["scope_prefix"],
            batch_id=None,
            now=timezone.now(),
            options=request["options"],
        )
        self.pipe = pipe
        self._resolver = DivisionResolver(request["divisions"])

    def error(self, sheet: str, row: int | None, column: str, value: Any, reason: str) -> None:
        self.pipe.error(sheet, row, column, value, reason)

    def warn(self, sheet: str, row: int | None, column: str, value: Any, reason: str) -> None:
        self.pipe.warn(sheet, row, column, value, reason)


def main(fd: int) -> None:
    gc.disable()  # millions of short-lived cells and few cycles, as in the importing process
    request = pickle.load(sys.stdin.buffer)
    with os.fdopen(fd, "wb", buffering=PIPE_BYTES) as stream:
        out = _Pipe(stream, request)
        try:
            translation.activate(request["language"])
            from lookback.registry.importers.engine import candidate_specs, read_file

            read_file(Path(request["path"]), candidate_specs(request["options"]), out)
            out.events.append(("done",))
            out.send()
        except BaseException:
            out.events.clear()
            out.events.append(("fail", traceback.format_exc()))
            out.send()
            raise
