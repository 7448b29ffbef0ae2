"""fileio.atomic_write: whole or nothing, through links, mode kept, no temporary left behind.

The kills are real: a real ``xl-backprop train`` in a subprocess, signalled while it writes
its CSV (a large run, so the write takes seconds)."""

from __future__ import annotations

import errno
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xl_backprop import fileio

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX links, modes and signals")


def leftovers(folder: Path) -> list[str]:
    return sorted(f.name for f in folder.iterdir() if f.name.endswith(".tmp"))


def test_writes_whole_and_leaves_nothing(tmp_path):
    target = tmp_path / "a.csv"
    written = fileio.atomic_write(target, lambda p: p.write_text("new"))
    assert target.read_text() == "new" and written == (target, 0)
    assert leftovers(tmp_path) == []


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "a.csv"
    target.write_text("old")

    def fail(p: Path) -> None:
        p.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        fileio.atomic_write(target, fail)
    assert target.read_text() == "old" and leftovers(tmp_path) == []


@posix_only
def test_through_a_symbolic_link_the_real_file_is_replaced(tmp_path):
    real = tmp_path / "real" / "book.xlsm"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.xlsm"
    link.symlink_to(real)
    written = fileio.atomic_write(link, lambda p: p.write_text("new"))
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new" and written.path == real
    assert leftovers(tmp_path) == [] and leftovers(real.parent) == []


@posix_only
def test_a_hard_link_is_detached_and_counted(tmp_path):
    """Replacing, not writing in place: the other name keeps the old content (documented)."""
    book, other = tmp_path / "book.xlsm", tmp_path / "other.xlsm"
    book.write_text("old")
    os.link(book, other)
    written = fileio.atomic_write(book, lambda p: p.write_text("new"))
    assert written.detached_links == 1
    assert book.read_text() == "new" and other.read_text() == "old"
    assert os.stat(book).st_nlink == 1


@posix_only
def test_mode_of_the_replaced_file_is_kept_and_a_new_file_gets_the_umask(tmp_path):
    target = tmp_path / "a.csv"
    target.write_text("old")
    os.chmod(target, 0o640)
    fileio.atomic_write(target, lambda p: p.write_text("new"))
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    fresh = tmp_path / "b.csv"
    mask = os.umask(0o022)
    try:
        fileio.atomic_write(fresh, lambda p: p.write_text("x"))
    finally:
        os.umask(mask)
    assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o644
    source = tmp_path / "src"
    source.write_text("s")
    os.chmod(source, 0o600)
    fileio.atomic_write(fresh, lambda p: p.write_text("y"), mode_from=source)
    assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o600


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@posix_only
def test_only_our_own_stale_temporaries_are_removed(tmp_path):
    target = tmp_path / "book.xlsm"
    dead = _dead_pid()
    stale = tmp_path / f".book.xlsm.xl-backprop-{dead}-0123abcd.tmp"
    live = tmp_path / f".book.xlsm.xl-backprop-{os.getppid()}-0123abcd.tmp"  # a live process: a write in progress
    old_live = tmp_path / f".book.xlsm.xl-backprop-{os.getppid()}-89abcdef.tmp"
    not_ours = [
        tmp_path / n
        for n in (
            f".book.xlsm.{dead}.tmp",  # another program's naming
            f".other.xlsm.xl-backprop-{dead}-0123abcd.tmp",  # another target's
            f".book.xlsm.xl-backprop-{dead}-0123abcd.tmp.keep",
            "book.xlsm.xl-backprop-1-0123abcd.tmp",
        )
    ]
    for f in (stale, live, old_live, *not_ours):
        f.write_text("partial")
    hour_ago = time.time() - fileio.STALE_AFTER - 1
    os.utime(old_live, (hour_ago, hour_ago))
    folder = tmp_path / f".book.xlsm.xl-backprop-{dead}-fedcba98.tmp"  # a folder: never ours
    folder.mkdir()
    link = tmp_path / f".book.xlsm.xl-backprop-{dead}-00000000.tmp"  # a link: never followed nor removed
    link.symlink_to(tmp_path / "elsewhere")

    removed = fileio.remove_stale_temporaries(target)
    assert sorted(removed) == sorted([stale, old_live])
    assert not stale.exists() and not old_live.exists()
    assert live.exists() and folder.is_dir() and link.is_symlink() and all(f.exists() for f in not_ours)


def _slow_train(out_dir: Path) -> subprocess.Popen:
    """A real run whose CSV write takes seconds: 400,000 steps x 5 learning rates."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "xl_backprop",
            "train",
            "--iterations",
            "400000",
            "--lrs",
            "0.1:2:5",
            "--no-plot",
            "--quiet",
            "--force",
            "--out-dir",
            str(out_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_temporary(proc: subprocess.Popen, folder: Path, size: int = 1 << 20) -> Path:
    """The run's temporary CSV, once it holds ``size`` bytes: the kill lands mid-write."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        tmps = [f for f in folder.iterdir() if f.name.endswith(".tmp")]
        if tmps and tmps[0].exists() and tmps[0].stat().st_size >= size:
            return tmps[0]
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("the write never started")


@posix_only
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_mid_save_leaves_the_old_file_and_no_temporary(tmp_path, signum):
    csv = tmp_path / "loss_curves.csv"
    csv.write_text("old results\n")
    proc = _slow_train(tmp_path)
    tmp = _wait_for_temporary(proc, tmp_path)
    assert tmp.name.startswith(".loss_curves.csv.xl-backprop-")
    proc.send_signal(signum)
    proc.communicate(timeout=60)
    assert proc.returncode == -signum  # the signal's usual effect, after the clean-up
    assert csv.read_text() == "old results\n"
    assert leftovers(tmp_path) == []


@posix_only
def test_after_sigkill_mid_save_the_next_run_removes_the_temporary(tmp_path, capsys):
    csv = tmp_path / "loss_curves.csv"
    csv.write_text("old results\n")
    proc = _slow_train(tmp_path)
    tmp = _wait_for_temporary(proc, tmp_path)
    proc.kill()
    proc.communicate(timeout=60)
    assert csv.read_text() == "old results\n"
    assert leftovers(tmp_path) == [tmp.name]  # nothing can clean up after SIGKILL...
    from xl_backprop.cli import main

    assert main(["train", "--no-plot", "--quiet", "--force", "--out-dir", str(tmp_path)]) == 0
    assert leftovers(tmp_path) == []  # ...but the next run does
    assert csv.read_text().startswith("step,lr=0.1,")


@posix_only
def test_signal_handlers_are_restored_after_the_write(tmp_path):
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    seen = {}

    def write(p: Path) -> None:
        seen.update({s: signal.getsignal(s) for s in before})
        p.write_text("x")

    fileio.atomic_write(tmp_path / "a", write)
    assert all(seen[s] is not before[s] for s in before)  # ours during the write
    assert {s: signal.getsignal(s) for s in before} == before


def _big_book(path: Path, iterations: int = 50_000) -> Path:
    """The template with its iteration count raised, so that saving the trained book takes seconds."""
    from xl_backprop.ooxml import Workbook
    from xl_backprop.workbook import layout as L

    pkg = Workbook.read(Path(__file__).resolve().parents[1] / "workbook_template.xlsm")
    pkg.write_cells(L.SHEET_LRS, *L.rowcol(L.IN_ITERATIONS.cell), [[iterations]])
    pkg.save(path)
    return path


@posix_only
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_a_kill_while_run_saves_in_place_keeps_the_book_whole(tmp_path, signum):
    """``xl-backprop run train-lrs BOOK --in-place``, killed while it saves: BOOK is unchanged;
    after SIGTERM no temporary is left, after SIGKILL the next run removes it."""
    book = _big_book(tmp_path / "book.xlsm")
    before = book.read_bytes()
    proc = subprocess.Popen(
        [sys.executable, "-m", "xl_backprop", "run", "train-lrs", str(book), "--in-place"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    tmp = _wait_for_temporary(proc, tmp_path, size=0)
    assert tmp.name.startswith(".book.xlsm.xl-backprop-")
    proc.send_signal(signum)
    proc.communicate(timeout=60)
    assert proc.returncode == -signum
    assert book.read_bytes() == before
    if signum == signal.SIGKILL:
        assert leftovers(tmp_path) == [tmp.name]
        small = _big_book(tmp_path / "small.xlsm", iterations=3)
        from xl_backprop.cli import main

        assert main(["run", "reset", str(small), "--out", str(book), "--force"]) == 0
    assert leftovers(tmp_path) == []


# ----------------------------------------------------------------------------- long names


def _name_of(length: int, char: str = "a", ext: str = ".xlsm") -> str:
    """A file name of exactly ``length`` bytes (UTF-8) ending in ``ext``."""
    width = len(char.encode())
    stem = char * ((length - len(ext)) // width)
    return "b" * (length - len(ext) - len(stem.encode())) + stem + ext


@posix_only
@pytest.mark.parametrize("length", [220, 235, 254, 255])
@pytest.mark.parametrize("char", ["a", "é", "語"])
def test_any_name_the_file_system_takes_can_be_written(tmp_path, length, char):
    """A 220-255-byte name: the temporary name is shortened to fit NAME_MAX, keeps its unique
    suffix, and the file is written (before: ENAMETOOLONG naming the temporary)."""
    limit = fileio.name_max(tmp_path)
    if length > limit:
        pytest.skip(f"this file system takes names of at most {limit} bytes")
    target = tmp_path / _name_of(length, char)
    assert len(os.fsencode(target.name)) == length
    target.write_bytes(b"old")  # the file system takes the name
    seen = []
    written = fileio.atomic_write(target, lambda p: (seen.append(p), p.write_bytes(b"new")))
    assert target.read_bytes() == b"new" and written.path == target
    tmp = seen[0]
    assert tmp.parent == tmp_path and len(os.fsencode(tmp.name)) <= limit
    assert re.fullmatch(rf"\..+\.xl-backprop-{os.getpid()}-[0-9a-f]{{8}}\.tmp", tmp.name)
    stem = tmp.name[1:].rsplit(".xl-backprop-", 1)[0]
    assert target.name.startswith(stem) and len(stem.encode()) >= 190  # recognisably the target's
    assert leftovers(tmp_path) == []


@posix_only
def test_a_shortened_stale_temporary_is_recognised_and_only_its_own(tmp_path):
    long_a = tmp_path / _name_of(255)
    long_b = tmp_path / ("c" + _name_of(254))  # another long name: a different shortened stem
    dead = _dead_pid()
    limit = fileio.name_max(tmp_path)
    stale_a = tmp_path / fileio._temp_name(long_a.name, dead, "0123abcd", limit)
    stale_b = tmp_path / fileio._temp_name(long_b.name, dead, "0123abcd", limit)
    for f in (stale_a, stale_b):
        f.write_text("partial")
    assert fileio.remove_stale_temporaries(long_a) == [stale_a]
    assert stale_b.exists()


def test_a_name_too_long_for_the_file_system_is_named_as_given(tmp_path):
    target = tmp_path / ("x" * (fileio.name_max(tmp_path) + 1))
    with pytest.raises(OSError) as err:
        fileio.atomic_write(target, lambda p: p.write_bytes(b"x"))
    assert err.value.errno == errno.ENAMETOOLONG and err.value.filename == str(target)
    assert leftovers(tmp_path) == []


def test_a_failed_write_is_named_by_the_users_path(tmp_path):
    target = tmp_path / "a.csv"

    def full(p: Path) -> None:
        p.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device", str(p))

    with pytest.raises(OSError) as err:
        fileio.atomic_write(target, full)
    assert (err.value.errno, err.value.filename) == (errno.ENOSPC, str(target))
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- sets of files


def _failing_replace(monkeypatch, fail_for: str):
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst).name == fail_for:
            raise OSError(errno.EIO, "Input/output error", str(src), None, str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(fileio.os, "replace", replace)


@pytest.mark.parametrize("old", [True, False])
def test_a_set_lands_whole_or_the_first_is_put_back(tmp_path, monkeypatch, old):
    a, b = tmp_path / "a.csv", tmp_path / "b.png"
    if old:
        a.write_text("old a")
        b.write_text("old b")
    _failing_replace(monkeypatch, "b.png")
    with pytest.raises(OSError) as err:
        fileio.atomic_write_all([(a, lambda p: p.write_text("new a")), (b, lambda p: p.write_text("new b"))])
    assert err.value.filename == str(b)
    if old:
        assert (a.read_text(), b.read_text()) == ("old a", "old b")
        assert sorted(f.name for f in tmp_path.iterdir()) == ["a.csv", "b.png"]
    else:
        assert list(tmp_path.iterdir()) == []


def test_a_failed_second_content_leaves_nothing(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.png"

    def full(p: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(p))

    with pytest.raises(OSError) as err:
        fileio.atomic_write_all([(a, lambda p: p.write_text("new a")), (b, full)], overwrite=False)
    assert (err.value.errno, err.value.filename) == (errno.ENOSPC, str(b))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("links", [True, False])
def test_without_overwrite_a_file_that_appears_meanwhile_is_kept(tmp_path, monkeypatch, links):
    """Another run makes b.png after our check and before our rename: it stays, a.csv is taken
    back, FileExistsError names b.png. Also where hard links are not supported (FAT)."""
    if not links:

        def no_links(src, dst, **kwargs):
            raise OSError(errno.EPERM, "Operation not permitted", str(src), None, str(dst))

        monkeypatch.setattr(fileio.os, "link", no_links)
    a, b = tmp_path / "a.csv", tmp_path / "b.png"

    def write_b(p: Path) -> None:
        p.write_text("ours")
        b.write_text("theirs")  # the other run lands first

    with pytest.raises(FileExistsError) as err:
        fileio.atomic_write_all([(a, lambda p: p.write_text("ours")), (b, write_b)], overwrite=False)
    assert err.value.filename == str(b)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["b.png"] and b.read_text() == "theirs"

    written = fileio.atomic_write_all([(tmp_path / "c", lambda p: p.write_text("c"))], overwrite=False)
    assert written == [(tmp_path / "c", 0)] and (tmp_path / "c").read_text() == "c"
    assert leftovers(tmp_path) == []


def test_a_full_disk_leaves_neither_file(small_disk):
    a, b = small_disk / "a.csv", small_disk / "b.png"
    with pytest.raises(OSError) as err:
        fileio.atomic_write_all(
            [(a, lambda p: p.write_bytes(b"x" * 8192)), (b, lambda p: p.write_bytes(b"y" * 100_000))],
            overwrite=False,
        )
    assert (err.value.errno, err.value.filename) == (errno.ENOSPC, str(b))
    assert list(small_disk.iterdir()) == []


# ----------------------------------------------------------------------------- locks


def test_a_book_changed_by_another_program_is_not_written(tmp_path):
    book = tmp_path / "book.xlsm"
    book.write_bytes(b"read")
    with fileio.locked(book) as held:
        assert book.read_bytes() == b"read"
        other = tmp_path / "other"
        other.write_bytes(b"theirs")
        os.replace(other, book)  # a program that takes no lock saves the book
        with pytest.raises(fileio.ChangedError) as err:
            fileio.atomic_write(book, lambda p: p.write_bytes(b"ours"), expect=held)
    assert str(err.value) == f"{book} changed while this run was working on it; nothing written — run again"
    assert book.read_bytes() == b"theirs" and leftovers(tmp_path) == []


def test_a_book_rewritten_in_place_of_the_same_size_is_noticed(tmp_path):
    book = tmp_path / "book.xlsm"
    book.write_bytes(b"read")
    with fileio.locked(book) as held:
        st = book.stat()
        with open(book, "r+b") as f:  # same inode, same size: only the time tells
            f.write(b"READ")
        os.utime(book, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
        with pytest.raises(fileio.ChangedError):
            fileio.atomic_write(book, lambda p: p.write_bytes(b"ours"), expect=held)
    assert book.read_bytes() == b"READ"


_APPEND = """
import sys, time
from pathlib import Path
from xl_backprop import fileio
if sys.argv[2] == "lockfile":
    fileio.fcntl = None
print("ready", flush=True)
for line in sys.stdin:  # one book per line: append our tag to it under the lock
    book, waited = Path(line.rstrip("\\n")), []
    with fileio.locked(book, on_wait=lambda: waited.append(1)) as held:
        content = book.read_bytes()
        time.sleep(0.05)  # read, not yet written: a second writer without the lock loses this one
        fileio.atomic_write(book, lambda p: p.write_bytes(content + sys.argv[1].encode()), expect=held)
    print("waited" if waited else "done", flush=True)
"""


@posix_only
@pytest.mark.parametrize("kind", ["flock", "lockfile"])
def test_locked_writers_in_two_processes_lose_nothing(tmp_path, kind):
    """Two real processes append to one file under ``locked`` at the same moment, 10 times:
    both appends are always there (the second waits, then reads what the first wrote)."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _APPEND, tag, kind], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for tag in "AB"
    ]
    try:
        for p in procs:
            assert p.stdout.readline() == "ready\n"
        waits = 0
        for trial in range(10):
            book = tmp_path / f"book{trial}"
            book.write_bytes(b"-")
            for p in procs:
                p.stdin.write(f"{book}\n")
                p.stdin.flush()
            answers = [p.stdout.readline() for p in procs]
            assert sorted(book.read_bytes().decode()) == ["-", "A", "B"], (trial, answers)
            waits += answers.count("waited\n")
        assert sorted(f.name for f in tmp_path.iterdir() if f.name.startswith(".")) == []
        assert waits >= 5  # the race did happen: most trials had a writer waiting
    finally:
        for p in procs:
            p.stdin.close()
            p.wait(timeout=60)
    assert [p.returncode for p in procs] == [0, 0]


def test_a_stale_lock_file_is_broken(tmp_path, monkeypatch):
    monkeypatch.setattr(fileio, "fcntl", None)
    book = tmp_path / "book.xlsm"
    book.write_bytes(b"x")
    fileio.lock_path(book).write_text(str(_dead_pid()))  # left by a killed run
    with fileio.locked(book) as held:
        assert held.real == book and fileio.lock_path(book).read_text() == str(os.getpid())
    assert not fileio.lock_path(book).exists()


@posix_only
def test_a_locked_write_tells_the_holder_what_it_detached(tmp_path):
    book, other = tmp_path / "book.xlsm", tmp_path / "other.xlsm"
    book.write_text("old")
    os.link(book, other)
    with fileio.locked(book) as held:
        assert held.written is None
        fileio.atomic_write(book, lambda p: p.write_text("new"), expect=held)
    assert held.written == (book, 1) and other.read_text() == "old"
