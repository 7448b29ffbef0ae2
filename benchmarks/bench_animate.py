"""How fast is ``xl-backprop animate``, and how much memory does it take? Figures, not a test
(``make bench``).

Runs ``xl-backprop animate --steps N`` in a fresh child process for two step counts and prints
the wall time, the time per frame, the GIF's size and the child's peak memory (ru_maxrss);
the difference between the two runs, per frame, is what each further frame costs, from which
the largest animation (``limits.ANIMATION_MAX_FRAMES``) is extrapolated. The frames are drawn
and written one at a time (``animation.write_gif``), so the peak memory should not grow with
the frame count: the two runs show whether it does.

    python benchmarks/bench_animate.py [--steps 4 40]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from xl_backprop.animation import FRAME_SIZE, frame_count
from xl_backprop.limits import ANIMATION_MAX_FRAMES

CHILD = """
import json, resource, sys, time
from xl_backprop import cli
t = time.perf_counter()
rc = cli.main(["animate", "--steps", sys.argv[1], "--out", sys.argv[2], "--force", "--quiet"])
seconds = time.perf_counter() - t
print(json.dumps({"rc": rc, "seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(steps: int, out: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(steps), str(out)], capture_output=True, text=True, check=True
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["rc"] == 0, proc.stderr
    result["bytes"] = out.stat().st_size
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs=2, default=(4, 40), metavar=("FEW", "MORE"))
    args = parser.parse_args(argv)
    few, more = args.steps
    with tempfile.TemporaryDirectory() as tmp:
        results = {n: run(n, Path(tmp) / f"a{n}.gif") for n in (few, more)}
    for n, r in results.items():
        frames = frame_count(n)
        print(
            f"--steps {n:>3}: {frames:>4} frames in {r['seconds']:6.1f} s ({1000 * r['seconds'] / frames:5.0f} ms a "
            f"frame), GIF {r['bytes'] / 1e6:5.2f} MB, peak memory {r['peak_mb']:6.0f} MB"
        )
    extra = frame_count(more) - frame_count(few)
    per_frame_s = (results[more]["seconds"] - results[few]["seconds"]) / extra
    growth = results[more]["peak_mb"] - results[few]["peak_mb"]
    print(f"each further frame: {1000 * per_frame_s:.0f} ms; peak memory {growth:+.0f} MB over {extra} more frames")
    largest = ANIMATION_MAX_FRAMES - frame_count(more)
    print(
        f"extrapolated to {ANIMATION_MAX_FRAMES:,} frames: {results[more]['seconds'] + largest * per_frame_s:.0f} s "
        f"(a frame's pixels: {FRAME_SIZE[0] * FRAME_SIZE[1] / 1e6:.2f} MB, never all held at once)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
