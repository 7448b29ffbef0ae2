"""A real ``xl-backprop`` process for the race tests: started once (imports paid once), it runs
``cli.main(argv)`` for each JSON argv line it reads on stdin and answers one JSON line
``{"rc": ..., "out": ..., "err": ...}``. Two of them, sent a line at the same moment, race.

    python -m tests.cli_race [--pause-after-read SECONDS] [--pause-before-write SECONDS] [--no-flock]

``--pause-after-read``: sleep after ``ooxml.Workbook.read`` returns (a run that has read BOOK
and not yet written it: the window where a second writer loses the first one's result).
``--pause-before-write``: sleep before ``train`` writes its CSV (after its exists-check).
``--no-flock``: ``fileio`` as where fcntl is missing (the lock file beside the book).
The pauses are set here, in the child, by monkeypatching: the package reads no environment.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pause-after-read", type=float, default=0.0)
    parser.add_argument("--pause-before-write", type=float, default=0.0)
    parser.add_argument("--no-flock", action="store_true")
    args = parser.parse_args()

    from xl_backprop import cli, fileio
    from xl_backprop.ooxml import Workbook

    if args.pause_after_read:
        read = Workbook.read

        def slow_read(cls, path):
            book = read(path)
            time.sleep(args.pause_after_read)
            return book

        Workbook.read = classmethod(slow_read)
    if args.pause_before_write:
        write_csv = cli.write_csv

        def slow_write_csv(*a, **k):
            time.sleep(args.pause_before_write)
            return write_csv(*a, **k)

        cli.write_csv = slow_write_csv
    if args.no_flock:
        fileio.fcntl = None
    print(json.dumps("ready"), flush=True)
    for line in sys.stdin:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = cli.main(json.loads(line))
        print(json.dumps({"rc": rc, "out": out.getvalue(), "err": err.getvalue()}), flush=True)


if __name__ == "__main__":
    main()
