"""One way to write files: whole or not at all, several as a set, never over a file by accident.

Every file xl-backprop writes -- the CLI's CSV and PNG, a workbook from ``xl-backprop run``,
the template, Lite's files -- goes through ``atomic_write`` (one file) or ``atomic_write_all``
(files that belong together): each content is written to a temporary file in its target's
folder, and only when every one is complete are they renamed into place, so a failure or a
kill leaves the old files whole.

- A set lands together or not at all: every temporary is written first; if a later rename
  fails, the files already renamed are put back (the old file restored, or a new one removed).
  SIGTERM, SIGHUP and SIGINT wait while the renames run (where signals can be blocked).
- ``overwrite=False`` claims each final name exclusively (a hard link of the finished
  temporary, or an O_EXCL placeholder where links are not supported): a file that appears
  there meanwhile, say from a second run, is never replaced; ``FileExistsError`` names it.
- ``locked(path)`` holds an advisory lock on a file from reading it to replacing it (flock on
  the file where fcntl has it, else a lock file beside it); passed as ``expect=``, the writer
  checks, just before its rename, that the file is still the one that was read (size,
  mtime_ns, inode) and raises ``ChangedError`` -- writing nothing -- if another program
  changed it.
- Through symbolic links: a link is resolved and the file it points to is replaced; the link
  stays a link (``--in-place`` on a link updates the real workbook).
- Hard links: the rename gives the path a new file, so the other names of the old one keep the
  old content. Writing into the shared file instead would let an interrupted write corrupt
  every name; whole-or-nothing wins. ``Written.detached_links`` counts them so that a face can
  say so.
- The replaced file's permission bits are kept (a new file gets the usual 0666 & ~umask).
- Temporary names fit the folder's NAME_MAX however long the target's name is (the target's
  name is shortened inside them, never the unique suffix), and every error names the user's
  path, never a temporary one.
- SIGTERM and SIGHUP during the write remove the temporary files, then take their usual
  effect. After SIGKILL nothing can clean up: the next write to the same target removes the
  temporaries its predecessors left. Ours are named ``.NAME.xl-backprop-PID-XXXXXXXX.tmp``
  (NAME shortened to fit) and only files of that form, owned by us, whose process is gone (or
  that are older than ``STALE_AFTER`` seconds) are removed.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

try:  # POSIX; absent on Windows (and a stub in Pyodide): a lock file stands in
    import fcntl
except ImportError:  # pragma: no cover - platform
    fcntl = None  # type: ignore[assignment]

#: A temporary older than this (seconds) is stale even if a process with its PID exists: no
#: write of ours takes an hour, so that PID belongs to someone else by now.
STALE_AFTER = 3600
#: How long a file name may be where the folder does not say (os.pathconf is POSIX).
DEFAULT_NAME_MAX = 255
_TAG = "xl-backprop"
_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
#: Held back while a set of files is renamed into place, so that no signal splits the set.
_COMMIT_SIGNALS = {getattr(signal, n) for n in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, n)}
_LOCK_POLL = 0.05  # seconds between tries where a lock file stands in for flock


class Written(NamedTuple):
    """Where ``atomic_write`` wrote: the real file (links resolved), and how many other hard
    links of the replaced file now keep its old content."""

    path: Path
    detached_links: int


class ChangedError(Exception):
    """The file changed (another program wrote it) between reading it and replacing it: nothing
    was written."""

    def __init__(self, path: Path):
        super().__init__(f"{path} changed while this run was working on it; nothing written — run again")
        self.path = path


# ----------------------------------------------------------------------------- names


def name_max(folder: Path) -> int:
    """The longest file name, in bytes, the file system of ``folder`` takes."""
    try:
        n = os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # not POSIX, or the folder does not say
        return DEFAULT_NAME_MAX
    return n if isinstance(n, int) and n > 0 else DEFAULT_NAME_MAX


def _fit(name: str, suffix: str, limit: int) -> str:
    """``.NAME`` + ``suffix``, NAME cut (by whole characters) so the whole fits ``limit`` bytes."""
    stem = name
    while stem and len(os.fsencode(f".{stem}{suffix}")) > limit:
        stem = stem[:-1]
    return f".{stem}{suffix}"


def _temp_name(name: str, pid: int, token: str, limit: int) -> str:
    return _fit(name, f".{_TAG}-{pid}-{token}.tmp", limit)


def temp_path(target: Path) -> Path:
    """A new temporary name for writing ``target``, in its folder, recognisably ours, and short
    enough for the folder's file system whatever the length of ``target``'s name."""
    target = Path(target)
    return target.parent / _temp_name(target.name, os.getpid(), secrets.token_hex(4), name_max(target.parent))


def lock_path(target: Path) -> Path:
    """The lock file that stands in for flock where there is none: ``.NAME.xl-backprop.lock``."""
    target = Path(target)
    return target.parent / _fit(target.name, f".{_TAG}.lock", name_max(target.parent))


_TEMPORARY = re.compile(rf"\..*\.{_TAG}-(\d+)-([0-9a-f]{{8}})\.tmp", re.DOTALL)


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
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    limit = name_max(target.parent)
    for entry in entries:
        m = _TEMPORARY.fullmatch(entry.name)
        if not m or entry.name != _temp_name(target.name, int(m.group(1)), m.group(2), limit):
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


def _real(path: Path) -> Path:
    """What a write to ``path`` replaces: the file a symbolic link points to, else ``path``."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ----------------------------------------------------------------------------- locking


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev


@dataclass
class Held:
    """A file held with ``locked``: the path given, the file it names, that file's state when
    the lock was taken (before it was read), and, once a write with ``expect=`` this has
    replaced it, what that write returned."""

    path: Path
    real: Path
    stat: os.stat_result
    written: Written | None = None

    def check(self) -> None:
        """Raise ``ChangedError`` unless the file is still the one that was locked and read."""
        try:
            now = os.stat(self.real)
        except FileNotFoundError:
            raise ChangedError(self.path) from None
        if _identity(now) != _identity(self.stat):
            raise ChangedError(self.path)


@contextmanager
def locked(path: Path, on_wait: Callable[[], None] | None = None) -> Iterator[Held]:
    """Hold an advisory lock on the file ``path`` names (through symbolic links) for the
    block: another ``locked`` on it, in any process, waits until the block ends. ``on_wait``
    is called once if this one has to wait. Read the file inside the block, and pass the
    ``Held`` to ``atomic_write(expect=...)``: the write then also refuses if a program that
    takes no lock changed the file meanwhile."""
    path = Path(path)
    real = _real(path)
    try:
        release, st = _lock(real, on_wait)
    except OSError as exc:
        raise _named(exc, {str(real): path, str(lock_path(real)): path}) from None
    try:
        yield Held(path, real, st)
    finally:
        release()


def _lock(real: Path, on_wait: Callable[[], None] | None) -> tuple[Callable[[], None], os.stat_result]:
    if fcntl is not None and hasattr(fcntl, "flock"):
        try:
            fd, st = _flock(real, on_wait)
        except OSError as exc:  # a file system without flock: the lock file will do
            if exc.errno not in (errno.ENOSYS, errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                raise
        else:
            return (lambda: os.close(fd)), st  # closing releases the lock
    return _lock_file(real, on_wait)


def _flock(real: Path, on_wait: Callable[[], None] | None) -> tuple[int, os.stat_result]:
    waited = False
    while True:
        # O_NONBLOCK: a FIFO put where the book was does not hang the open
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait is not None and not waited:
                    on_wait()
                waited = True
                fcntl.flock(fd, fcntl.LOCK_EX)
            st = os.fstat(fd)
            try:
                now = os.stat(real)
            except FileNotFoundError:
                now = None
        except BaseException:
            os.close(fd)
            raise
        if now is not None and (now.st_ino, now.st_dev) == (st.st_ino, st.st_dev):
            return fd, now
        os.close(fd)  # the holder replaced the file while we waited: lock the new one


def _lock_file(real: Path, on_wait: Callable[[], None] | None) -> tuple[Callable[[], None], os.stat_result]:
    """The lock without flock: a file beside the target, created exclusively, holding our PID;
    one whose process is gone (or older than STALE_AFTER) is broken. On Windows it is opened
    delete-on-close, so it goes with its process whatever the end."""
    lock = lock_path(real)
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_TEMPORARY", 0)
    waited = False
    while True:
        try:
            fd = os.open(lock, flags, 0o600)
        except (FileExistsError, PermissionError) as exc:  # Windows: PermissionError while delete-pending
            if isinstance(exc, PermissionError) and sys.platform != "win32":
                raise
            if not _break_stale_lock(lock):
                if on_wait is not None and not waited:
                    on_wait()
                waited = True
                time.sleep(_LOCK_POLL)
            continue
        break
    try:
        os.write(fd, str(os.getpid()).encode())
        st = os.stat(real)
    except BaseException:
        _release_lock_file(fd, lock)
        raise
    return (lambda: _release_lock_file(fd, lock)), st


def _release_lock_file(fd: int, lock: Path) -> None:
    if not getattr(os, "O_TEMPORARY", 0):
        lock.unlink(missing_ok=True)
    os.close(fd)


def _break_stale_lock(lock: Path) -> bool:
    """Remove ``lock`` if the run that made it is gone; True: try to take it again now."""
    try:
        st = os.stat(lock)
        pid = int(lock.read_bytes()[:20] or b"0")  # 0: made a moment ago, its PID not yet written
    except FileNotFoundError:
        return True  # released meanwhile
    except (OSError, ValueError):
        return False
    if time.time() - st.st_mtime < STALE_AFTER and (not pid or _alive(pid)):
        return False
    try:
        if (os.stat(lock).st_ino, os.stat(lock).st_mtime_ns) == (st.st_ino, st.st_mtime_ns):
            os.unlink(lock)
    except OSError:
        pass
    return True


# ----------------------------------------------------------------------------- writing


@contextmanager
def _removed_on_signal(cleanup: Callable[[], None]) -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP first call ``cleanup``, then do what they did
    before (by default: end the process, with the signal as its status)."""
    if threading.current_thread() is not threading.main_thread():  # handlers can only be set there
        yield
        return
    previous = {}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def handler(signum, frame):
        cleanup()
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


@contextmanager
def _signals_held() -> Iterator[None]:
    """Delay SIGTERM, SIGHUP and SIGINT until the block ends (where signals can be blocked)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, _COMMIT_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


@dataclass
class _Pending:
    path: Path  # as the user gave it: every message names it
    real: Path  # what is replaced
    write: Callable[[Path], None]
    mode: int
    existing: os.stat_result | None
    tmp: Path
    ours: tuple[int, int] | None = None  # inode and device of the new file
    backup: Path | None = None
    landed: bool = False


def _prepare(path: Path, write: Callable[[Path], None], mode_from: Path | None) -> _Pending:
    path = Path(path)
    real = _real(path)
    remove_stale_temporaries(real)
    try:
        existing = os.stat(real)
    except FileNotFoundError:
        existing = None
    if mode_from is not None:
        mode = stat.S_IMODE(os.stat(mode_from).st_mode)
    elif existing is not None:
        mode = stat.S_IMODE(existing.st_mode)
    else:
        mode = 0o666 & ~_umask()
    return _Pending(path, real, write, mode, existing, temp_path(real))


def _claim(tmp: Path, real: Path) -> None:
    """Put ``tmp`` at ``real`` only if nothing is there: FileExistsError otherwise."""
    try:
        os.link(tmp, real)  # atomic and exclusive: the final name appears complete
        return
    except FileExistsError:
        raise
    except OSError:  # no hard links here (FAT, some network shares): claim with an empty file
        pass
    os.close(os.open(real, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    os.replace(tmp, real)


def _keep_old(p: _Pending) -> None:
    """A second name for the file ``p`` will replace, to put it back if a later file fails."""
    backup = temp_path(p.real)
    try:
        os.link(p.real, backup)
    except FileNotFoundError:
        return  # gone meanwhile: undoing means removing ours
    except OSError:
        shutil.copy2(p.real, backup)
    p.backup = backup


def _undo(p: _Pending) -> None:
    try:
        if p.backup is not None:
            os.replace(p.backup, p.real)
            p.backup = None
        else:
            there = os.stat(p.real)
            if (there.st_ino, there.st_dev) == p.ours:  # still ours: nothing was there before
                os.unlink(p.real)
    except OSError:
        pass  # best effort: the error that made us undo is the one to report


def _commit(pending: Sequence[_Pending], overwrite: bool, expect: Held | None) -> None:
    try:
        if expect is not None:
            expect.check()
        for k, p in enumerate(pending):
            if overwrite:
                if k < len(pending) - 1:  # the last one landing ends the set: nothing to undo
                    _keep_old(p)
                os.replace(p.tmp, p.real)
            else:
                _claim(p.tmp, p.real)
            p.landed = True
    except BaseException:
        for p in reversed(pending):
            if p.landed:
                _undo(p)
        raise


def _named(exc: OSError, names: dict[str, Path]) -> OSError:
    """``exc`` with the user's path in place of a temporary one (or of the resolved one)."""
    for name in (exc.filename, exc.filename2):
        if name is not None and os.fspath(name) in names:
            user = names[os.fspath(name)]
            if isinstance(exc, PermissionError) and exc.filename2 is not None:
                # a refused rename: on Windows, the file is open, typically in Excel
                strerror = f"{exc.strerror} (is it open in another program, such as Excel? Close it and run again)"
            else:
                strerror = exc.strerror
            return OSError(exc.errno, strerror, str(user)) if exc.errno is not None else exc
    return exc


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def atomic_write_all(
    files: Sequence[tuple[Path, Callable[[Path], None]]],
    *,
    overwrite: bool = True,
    expect: Held | None = None,
    mode_from: Path | None = None,
) -> list[Written]:
    """Write a set of files that belong together, whole, and all or none: for each
    ``(path, write)``, ``write(tmp)`` writes the content to a temporary file next to the file
    ``path`` names (through symbolic links); when all are written, they are renamed into place.
    If one fails, the ones already in place are put back as they were.

    ``overwrite=False``: a file already at a path (even one made a moment ago by another
    process) is never replaced; ``FileExistsError`` names it and nothing is written.
    ``expect``: a ``Held`` from ``locked``; ``ChangedError`` if that file changed meanwhile.
    ``mode_from``: the permission bits for every new file; else those of the file it
    replaces, else the usual ones for a new file. Nothing is left behind on an error, SIGTERM
    or SIGHUP, and every error names a path as given, never a temporary one."""
    pending = [_prepare(Path(path), write, mode_from) for path, write in files]
    names: dict[str, Path] = {}
    for p in pending:
        names.update({str(p.real): p.path, str(p.tmp): p.path})

    def cleanup() -> None:
        for p in pending:
            p.tmp.unlink(missing_ok=True)
            if p.backup is not None:
                p.backup.unlink(missing_ok=True)

    with _removed_on_signal(cleanup):
        try:
            for p in pending:
                try:
                    os.close(os.open(p.tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
                    p.write(p.tmp)
                    with open(p.tmp, "r+b") as f:  # on disk before the rename: a crash cannot leave an empty file
                        os.fsync(f.fileno())
                        st = os.fstat(f.fileno())
                except OSError as exc:
                    if exc.filename is None and exc.errno is not None:  # a write on a full disk names no file
                        raise OSError(exc.errno, exc.strerror, str(p.tmp)) from None
                    raise
                p.ours = (st.st_ino, st.st_dev)
                os.chmod(p.tmp, p.mode)
            with _signals_held():
                _commit(pending, overwrite, expect)
        except OSError as exc:
            raise _named(exc, names) from None
        finally:
            cleanup()
    written = [Written(p.real, p.existing.st_nlink - 1 if p.existing is not None and overwrite else 0) for p in pending]
    if expect is not None:
        same = [w for p, w in zip(pending, written, strict=True) if _same_file(p.real, expect.real)]
        expect.written = same[0] if same else None
    return written


def atomic_write(
    path: Path,
    write: Callable[[Path], None],
    *,
    mode_from: Path | None = None,
    overwrite: bool = True,
    expect: Held | None = None,
) -> Written:
    """Call ``write(tmp)`` to write the content to a temporary file next to the file ``path``
    names (through symbolic links), then rename it over that file. The new file takes the
    permission bits of ``mode_from`` if given, else of the file it replaces, else the usual
    ones for a new file. ``overwrite`` and ``expect`` as for ``atomic_write_all``. Nothing is
    left behind on an error, SIGTERM or SIGHUP."""
    return atomic_write_all([(path, write)], overwrite=overwrite, expect=expect, mode_from=mode_from)[0]
