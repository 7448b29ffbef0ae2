"""fileio.atomic_write: whole or nothing, through links, mode kept, no temporary left behind.

The kills are real: a real ``xl-backprop train`` in a subprocess, signalled while it writes
its CSV (a large run, so the write takes seconds)."""

from __future__ import annotations

import os
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
