"""One way to write a file: whole or not at all.

Every file xl-backprop writes -- the CLI's CSV and PNG, a workbook from ``xl-backprop run``,
the template -- goes through ``atomic_write``: the content is written to a temporary file in
the target's folder and renamed over the target at the end, so a failure or a kill leaves the
old file whole.

- Through symbolic links: a link is resolved and the file it points to is replaced; the link
  stays a link (``--in-place`` on a link updates the real workbook).
- Hard links: the rename gives the path a new file, so the other names of the old one keep the
  old content. Writing into the shared file instead would let an interrupted write corrupt
  every name; whole-or-nothing wins. ``atomic_write`` returns how many names were detached so
  that a face can say so.
- The replaced file's permission bits are kept (a new file gets the usual 0666 & ~umask).
- SIGTERM and SIGHUP during the write remove the temporary file, then take their usual effect.
  After SIGKILL nothing can clean up: the next write to the same target removes the
  temporaries its predecessors left. Ours are named ``.NAME.xl-backprop-PID-XXXXXXXX.tmp``
  and only files of that form, owned by us, whose process is gone (or that are older than
  ``STALE_AFTER`` seconds) are removed.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

#: A temporary older than this (seconds) is stale even if a process with its PID exists: no
#: write of ours takes an hour, so that PID belongs to someone else by now.
STALE_AFTER = 3600
_TAG = "xl-backprop"
_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Written(NamedTuple):
    """Where ``atomic_write`` wrote: the real file (links resolved), and how many other hard
    links of the replaced file now keep its old content."""

    path: Path
    detached_links: int


def temp_path(target: Path) -> Path:
    """A new temporary name for writing ``target``, in its folder, recognisably ours."""
    return target.parent / f".{target.name}.{_TAG}-{os.getpid()}-{secrets.token_hex(4)}.tmp"


def _ours(target: Path) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(target.name)}\.{_TAG}-(\d+)-[0-9a-f]{{8}}\.tmp")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate it there: trust the age alone
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but not ours to signal
        return True
    return True


def remove_stale_temporaries(target: Path, now: float | None = None) -> list[Path]:
    """Remove the temporaries an earlier, killed write to ``target`` left behind; return them.
    Only regular files named as ``temp_path`` names them, owned by this user, whose process is
    gone or which are older than STALE_AFTER."""
    target = Path(target)
    pattern = _ours(target)
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if not m:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
            continue
        if _alive(int(m.group(1))) and now - st.st_mtime < STALE_AFTER:
            continue  # a write in progress, in another process
        try:
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def _removed_on_signal(tmp: Path) -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP first remove ``tmp``, then do what they did
    before (by default: end the process, with the signal as its status)."""
    if threading.current_thread() is not threading.main_thread():  # handlers can only be set there
        yield
        return
    previous = {}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def handler(signum, frame):
        Path(tmp).unlink(missing_ok=True)
        restore()
        before = previous[signum]
        if callable(before):
            before(signum, frame)
            raise SystemExit(128 + signum)  # the temporary is gone: this write cannot finish
        signal.raise_signal(signum)  # the default action, now that nothing is left behind
        raise SystemExit(128 + signum)  # not reached unless the signal was blocked

    for signum in _SIGNALS:
        before = signal.getsignal(signum)
        if before is signal.SIG_IGN or before is None:  # ignored (nohup), or not set from Python
            continue
        previous[signum] = before
        signal.signal(signum, handler)
    try:
        yield
    finally:
        restore()


def atomic_write(path: Path, write: Callable[[Path], None], *, mode_from: Path | None = None) -> Written:
    """Call ``write(tmp)`` to write the content to a temporary file next to the file ``path``
    names (through symbolic links), then rename it over that file. The new file takes the
    permission bits of ``mode_from`` if given, else of the file it replaces, else the usual
    ones for a new file. Nothing is left behind on an error, SIGTERM or SIGHUP."""
    path = Path(path)
    real = Path(os.path.realpath(path)) if path.is_symlink() else path
    remove_stale_temporaries(real)
    existing = real.stat() if real.exists() else None
    if mode_from is not None:
        mode = stat.S_IMODE(os.stat(mode_from).st_mode)
    elif existing is not None:
        mode = stat.S_IMODE(existing.st_mode)
    else:
        mode = 0o666 & ~_umask()
    tmp = temp_path(real)
    with _removed_on_signal(tmp):
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            write(tmp)
            with open(tmp, "r+b") as f:  # on disk before the rename, so a crash cannot leave an empty file
                os.fsync(f.fileno())
            os.chmod(tmp, mode)
            try:
                os.replace(tmp, real)
            except PermissionError as exc:  # on Windows: the file is open, typically in Excel
                raise PermissionError(
                    exc.errno,
                    f"{exc.strerror} (is it open in another program, such as Excel? Close it and run again)",
                    str(path),
                ) from None
        finally:
            tmp.unlink(missing_ok=True)
    return Written(real, existing.st_nlink - 1 if existing is not None else 0)
