"""How long does "Draw network" take to draw its picture, and how large is the PNG it puts
into the book? Figures, not a test (``make bench``).

Times ``macros.plan_draw_network`` (training to the step, the step's values, the figure, the
PNG) for the course's network at steps 0 and 99, without a phase and at each phase, and for odd
weights whose long labels must be written smaller (``network_picture._place_label``, which
measures each label again per half point); the median of a few runs each. For scale: one frame
of the animation, which draws the same network with its formulas and loss curve.

    python benchmarks/bench_network_picture.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from xl_backprop import animation, macros, network
from xl_backprop.workbook import layout as L

ODD = (1e4, -1e4, 123.456, -0.5, 9.99, -9.99, 0.0, 1e-12)


def timed(repeat: int, make) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = make()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    course = macros.NetworkInputs(network.DEFAULT_INPUTS, network.DEFAULT_TARGETS, network.DEFAULT_WEIGHTS, (0.0, 0.0))
    odd = course._replace(weights=ODD)
    timed(1, lambda: macros.plan_draw_network(macros.DrawInputs(course, 0.5, 0)))  # imports, fonts
    cases = [("course", course, 0, None), ("course", course, 99, None)]
    cases += [("course", course, 3, phase) for phase in range(1, 6)] + [("odd weights", odd, 0, 4)]
    print(f"Draw network, {L.NETWORK_PICTURE.width} x {L.NETWORK_PICTURE.height} px, median of {args.repeat}:")
    base = None
    for name, net, step, phase in cases:
        seconds, plan = timed(
            args.repeat,
            lambda net=net, step=step, phase=phase: macros.plan_draw_network(
                macros.DrawInputs(net, 0.5, step, phase=phase)
            ),
        )
        base = base or seconds
        size = len(plan.pictures[0].png)
        print(
            f"  {name:<11} step {step:>2} phase {phase or '-'}: {1000 * seconds:5.0f} ms "
            f"({seconds / base:4.2f} x the first), PNG {size / 1000:5.1f} kB"
        )
    frames = animation.build_frames(
        1,
        weights=network.DEFAULT_WEIGHTS,
        inputs=network.DEFAULT_INPUTS,
        targets=network.DEFAULT_TARGETS,
        biases=(0.0, 0.0),
        lr=0.5,
    )
    extent = animation.loss_range(frames)
    seconds, _ = timed(args.repeat, lambda: animation.render(frames[3], 1, extent))
    print(
        f"one animation frame ({animation.FRAME_SIZE[0]} x {animation.FRAME_SIZE[1]} px, drawn, not encoded): "
        f"{1000 * seconds:.0f} ms ({seconds / base:.2f} x the picture)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
