"""A cross-process lock for one history directory, and the change log it guards.

Why: any number of chat-tui processes (TUIs, ``ask``, ``sessions``) may open one
history. Each keeps parsed files in memory; without coordination each would write
its cached copy over the others' changes. Every read-modify-write of a history file
therefore runs while holding an exclusive lock on ``<history>.lock``, next to the
history directory so the directory holds only history files (``fcntl.flock`` on
POSIX, ``msvcrt.locking`` on Windows; the OS drops it when a process dies, even by
SIGKILL).

The lock file also holds a small change log, so a process can tell cheaply and
exactly which session files others wrote since it last looked::

    {"epoch": "<random>", "gen": 812, "recent": ["<stem>", ...]}   (space padded)

``gen`` counts file changes since the log was created; ``recent[-1]`` is the stem
of the session file changed at ``gen``, ``recent[-2]`` at ``gen - 1``, and so on
(the oldest entries drop off). A process whose last seen ``gen`` is still inside the
window re-reads only those files; one that fell behind, or sees another ``epoch``
(the lock file was recreated), rescans every file's stat signature.

The state is rewritten in place (the lock is on the file's descriptor, so it cannot
be renamed over) as exactly one 4 KiB page at offset 0: a write of one page is
not torn by a kill, and the padding means the length never changes, so the file is
always valid JSON. It is not fsynced: after a power loss a garbled state reads as
"unknown", which only costs a full rescan.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from chat_tui.errors import StorageError
from chat_tui.storage.atomic import storage_error

LOCK_SUFFIX = ".lock"
STATE_SIZE = 4096
"""The lock file's fixed length: one page, written with one ``pwrite``."""
LOCK_TIMEOUT_SECONDS = 10.0
_STEM = re.compile(r"[A-Za-z0-9_-]{1,100}")
"""What a session file's stem looks like (see ``schema.session_file_name``)."""
_EPOCH = re.compile(r"[0-9a-f]{1,32}")
MAX_RECENT = 256
"""Stems kept in memory; as many as fit in the page are written (~100 of 32 characters)."""

if sys.platform == "win32":  # pragma: no cover - exercised only on Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, STATE_SIZE, os.SEEK_SET)  # lock a byte past the state, not the state
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, STATE_SIZE, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def is_loggable(stem: str) -> bool:
    """Whether a session file stem can go in the change log (every name we give can)."""
    return _STEM.fullmatch(stem) is not None


def lock_path(history_dir: Path) -> Path:
    """The lock file of a history directory: ``<dir>.lock`` beside it."""
    return history_dir.with_name(history_dir.name + LOCK_SUFFIX)


@dataclass(frozen=True)
class LogState:
    """The change log as read from the lock file.

    Attributes:
        epoch: random id of this log; changes when the lock file is recreated.
        gen: number of the last logged change.
        recent: stems of the last changed session files, oldest first;
            ``recent[-1]`` changed at ``gen``.
    """

    epoch: str
    gen: int
    recent: tuple[str, ...]

    def changed_since(self, epoch: str, gen: int) -> set[str] | None:
        """Stems changed after ``gen`` of ``epoch``, or None when the log cannot tell."""
        if epoch != self.epoch or gen > self.gen:
            return None
        behind = self.gen - gen
        if behind > len(self.recent):
            return None
        return set(self.recent[len(self.recent) - behind :]) if behind else set()

    def advanced(self, stems: list[str]) -> LogState:
        """The state after logging ``stems`` (one generation each).

        Raises:
            ValueError: a stem is not file-name safe (``[A-Za-z0-9_-]``).
        """
        if not all(_STEM.fullmatch(stem) for stem in stems):
            raise ValueError("a session file stem must be file-name safe")
        recent = (self.recent + tuple(stems))[-MAX_RECENT:]
        return LogState(self.epoch, self.gen + len(stems), recent)


def new_log_state(after: int = 0) -> LogState:
    """A fresh log with a new epoch (so nobody mistakes it for the old one)."""
    return LogState(secrets.token_hex(8), after, ())


def _encode(state: LogState) -> bytes:
    """The state as exactly ``STATE_SIZE`` bytes, keeping as many recent stems as fit."""
    head = json.dumps({"epoch": state.epoch, "gen": state.gen}, separators=(",", ":"))
    budget = STATE_SIZE - len(head) - len(',"recent":[]') - 1
    kept: list[str] = []
    for stem in reversed(state.recent):  # stems are file-name safe: no JSON escaping
        budget -= len(stem) + 3
        if budget < 0:
            break
        kept.append(stem)
    body = '","'.join(reversed(kept))
    text = f'{head[:-1]},"recent":[{f"{chr(34)}{body}{chr(34)}" if kept else ""}]}}'
    return text.encode("ascii") + b" " * (STATE_SIZE - len(text) - 1) + b"\n"


def _decode(raw: bytes) -> LogState | None:
    try:
        data = json.loads(raw)
        epoch, gen, recent = data["epoch"], data["gen"], data["recent"]
    except (ValueError, TypeError, KeyError):
        return None
    if (
        not isinstance(epoch, str)
        or _EPOCH.fullmatch(epoch) is None
        or not isinstance(gen, int)
        or isinstance(gen, bool)
        or not 0 <= gen < 1 << 62
        or not isinstance(recent, list)
        or not all(isinstance(stem, str) and _STEM.fullmatch(stem) for stem in recent)
    ):
        return None
    return LogState(epoch, gen, tuple(recent))


class HistoryLock:
    """The exclusive, re-entrant, cross-process lock of one history directory.

    Threads of one process must also serialise among themselves (the repository
    holds its own ``RLock`` around this); the depth count here only makes nested
    :meth:`held` blocks of the same thread cheap.

    Args:
        path: the lock file (created if missing).
        timeout: seconds to wait for another process before giving up.
    """

    def __init__(self, path: Path, *, timeout: float = LOCK_TIMEOUT_SECONDS) -> None:
        self.path = path
        self.timeout = timeout
        self._fd: int | None = None
        self._write_error: OSError | None = None
        """Why the lock file could only be opened read-only, if it was."""
        self._known: tuple[bytes, LogState] | None = None
        """The last state read or written, with its bytes (skips a parse when unchanged)."""
        self._depth = 0
        self._guard = threading.Lock()

    @property
    def available(self) -> bool:
        """Whether the lock file could be opened (False in a read-only, lock-less dir)."""
        return self._fd is not None

    def _open(self) -> None:
        if self._fd is not None:
            return
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._write_error = None
        except FileNotFoundError:
            raise
        except OSError as error:
            self._write_error = error
            try:  # a read-only history: lock for reading, writes will fail anyway
                self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                self._fd = None

    def _same_file(self) -> bool:
        """Whether the open descriptor is still the file at ``path`` (not deleted/replaced)."""
        assert self._fd is not None
        try:
            on_disk = os.stat(self.path)
        except OSError:
            return False
        mine = os.fstat(self._fd)
        return (mine.st_ino, mine.st_dev) == (on_disk.st_ino, on_disk.st_dev)

    def _reopen(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._open()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for the block (re-entrant within the holding thread).

        Raises:
            StorageError: another process held it for longer than ``timeout``, or
                the lock file cannot be created.
        """
        with self._guard:
            nested = self._depth > 0
            self._depth += 1
        if nested:
            try:
                yield
            finally:
                with self._guard:
                    self._depth -= 1
            return
        try:
            self._acquire()
            try:
                yield
            finally:
                if self._fd is not None:
                    _unlock(self._fd)
        finally:
            with self._guard:
                self._depth -= 1

    def _acquire(self) -> None:
        try:
            self._open()
        except OSError as error:
            raise storage_error("create the history lock", self.path, error) from None
        deadline = time.monotonic() + self.timeout
        pause = 0.0005
        while self._fd is not None:
            if _try_lock(self._fd):
                if self._same_file():
                    return
                _unlock(self._fd)  # someone deleted or replaced the lock file: use the new one
                self._reopen()
                continue
            if time.monotonic() > deadline:
                raise StorageError(
                    f"Another chat-tui process has held the history lock {self.path} for "
                    f"{self.timeout:.0f} s; close it or try again."
                )
            time.sleep(pause)  # waiting for another process: back off up to 10 ms
            pause = min(pause * 2, 0.01)

    def read_state(self) -> LogState | None:
        """The change log (call with the lock held), or None when absent or garbled."""
        if self._fd is None:
            return None
        try:
            os.lseek(self._fd, 0, os.SEEK_SET)  # not pread: Windows has none
            raw = os.read(self._fd, STATE_SIZE + 1)
        except OSError:
            return None
        if self._known is not None and raw == self._known[0]:
            return self._known[1]
        state = _decode(raw) if raw.strip() else None
        if state is not None:
            self._known = (raw, state)
        return state

    def write_state(self, state: LogState) -> None:
        """Store the change log (call with the lock held).

        Raises:
            OSError: the lock file is read-only or the disk refused the write.
        """
        if self._write_error is not None:
            raise OSError(self._write_error.errno, self._write_error.strerror)
        if self._fd is None:
            raise PermissionError(13, "the history lock file cannot be opened")
        payload = _encode(state)
        os.lseek(self._fd, 0, os.SEEK_SET)
        written = os.write(self._fd, payload)
        if written != len(payload):
            raise OSError(28, "short write to the history lock file")
        if os.fstat(self._fd).st_size > STATE_SIZE:  # someone wrote a longer file
            os.ftruncate(self._fd, STATE_SIZE)
        self._known = (payload, state)

    def close(self) -> None:
        """Close the lock file (releasing the lock if held)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


__all__ = ["HistoryLock", "LogState", "is_loggable", "lock_path", "new_log_state"]
