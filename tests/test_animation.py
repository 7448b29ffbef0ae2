"""``xl-backprop animate`` and xl_backprop/animation.py: the frames, the numbers they print
against the engine's training loop and the published step, the GIF, and bad input."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from PIL import Image

from xl_backprop import animation, cli, examples, network
from xl_backprop.palette import PATH_COLORS

from .published import COURSE_E_TOTAL, MAZUR, MAZUR_LR, MAZUR_STEP

W, I, T = network.DEFAULT_WEIGHTS, network.DEFAULT_INPUTS, network.DEFAULT_TARGETS
COURSE = dict(weights=W, inputs=I, targets=T, biases=(0.0, 0.0))


def run(argv, capsys):
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def shown(label: str, name: str) -> float:
    """The number printed after ``name = `` in a label."""
    return float(re.search(rf"(?:^|\n|\s){re.escape(name)} = (\S+)", label).group(1))


def to_4_figures(shown_value: float, value: float) -> bool:
    unit = 10.0 ** (math.floor(math.log10(abs(value))) - 3)
    return abs(shown_value - value) <= 0.5 * unit * (1 + 1e-9)


def test_frame_count_is_steps_times_phases():
    for steps in (1, 3, 7):
        frames = animation.build_frames(steps, lr=0.5, **COURSE)
        assert len(frames) == steps * 5 == animation.frame_count(steps)
        assert [f.phase for f in frames[:5]] == ["forward", "error", "output gradients", "hidden gradients", "update"]
        assert [f.step for f in frames] == [s for s in range(steps) for _ in range(5)]


def test_first_and_last_frames_print_the_engines_numbers():
    """The first frame against one forward pass; the last against the compiled training loop
    (network.train, which shares no code with the frames' path through explain.step_values)."""
    steps, lr = 6, 0.8
    frames = animation.build_frames(steps, lr=lr, **COURSE)
    first = animation.frame_labels(frames[0], steps)
    f = network.forward(W, inputs=I, targets=T)
    for u in ("h1", "h2", "o1", "o2"):
        assert to_4_figures(shown(first[f"node {u}"], u), float(getattr(f, u))), u
        assert to_4_figures(shown(first[f"node {u}"], f"a_{u}"), float(getattr(f, f"a_{u}"))), u
    assert "δo1" not in first["node o1"] and "E1" not in first["target t1"]  # later phases: not shown yet
    assert first["title"] == "Step 0 (update 1 of 6), learning rate 0.8"
    assert first["formulas"].splitlines()[0] == "h1 = w1·i1 + w2·i2 = 0.1500·0.05000 + 0.2000·0.1000 = 0.02750"

    trained = network.train([lr], steps + 1, record=True, **COURSE)
    last = animation.frame_labels(frames[-1], steps)
    for k in range(8):
        before, after = re.fullmatch(r"w\d: (\S+)\n→ (\S+)", last[f"edge w{k + 1}"]).groups()
        assert to_4_figures(float(before), trained.weights[steps - 1, 0, k])
        assert to_4_figures(float(after), trained.weights[steps, 0, k])
    assert to_4_figures(shown(last["loss"], "E_total"), trained.loss[steps - 1, 0])
    assert frames[-1].losses == pytest.approx(trained.loss[:steps, 0], rel=1e-12)
    assert frames[1].losses == (pytest.approx(COURSE_E_TOTAL, abs=1e-15),)  # the curve starts at the error phase


def test_mazurs_step_in_the_update_frame():
    frames = animation.build_frames(1, lr=MAZUR_LR, **MAZUR)
    labels = animation.frame_labels(frames[-1], 1)
    for k in range(8):
        after = float(labels[f"edge w{k + 1}"].split("→ ")[1])
        assert to_4_figures(after, MAZUR_STEP[k])
    assert labels["biases"] == "biases b1 = 0.3500 (into h1, h2), b2 = 0.6000 (into o1, o2)"
    gradients = animation.frame_labels(frames[2], 1)
    assert shown(gradients["edge w5"], "∂E/∂w5") == 0.08217  # Mazur: 0.082167041


def test_gradient_phases_colour_by_sign_and_size():
    frames = animation.build_frames(1, lr=0.5, **COURSE)
    g = network.gradients(W, inputs=I, targets=T)
    out = animation._edge_looks(frames[2])
    for k in range(4, 8):
        assert out[k][0] == ("tab:red" if g[k] > 0 else "tab:blue")
        assert out[k][2] == "backward"
    assert max(range(4, 8), key=lambda k: out[k][1]) == int(np.argmax(np.abs(g[4:]))) + 4
    hidden = animation._edge_looks(frames[3])
    # the two paths into h1, in the Backprop sheet's colours: w5 carries the path through o1 (E1), w7 through o2
    assert (hidden[4][0], hidden[6][0]) == (PATH_COLORS["E1"], PATH_COLORS["E2"])
    assert all(look[2] == "forward" for look in animation._edge_looks(frames[0]))


def test_animate_writes_a_gif_of_every_frame(tmp_path, capsys):
    out = tmp_path / "backprop.gif"
    rc, stdout, err = run(["animate", "--steps", "2", "--fps", "5", "--out", str(out)], capsys)
    assert (rc, err) == (0, "")
    assert stdout == f"wrote {out} (10 frames, 5 a second)\n"
    with Image.open(out) as gif:
        assert gif.format == "GIF" and gif.n_frames == 10 and gif.size == animation.FRAME_SIZE
        assert gif.info["duration"] == 200 and gif.info["loop"] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backprop.gif"]  # no temporary left


def test_frames_of_n_examples_show_one_example_a_step_and_the_batch_update():
    """With the half-adder's 4 examples, step n shows example n mod 4 (its forward pass against
    network.forward), and every update is the compiled loop's full-batch step: the weights of
    each row and the mean E_total curve against network.train."""
    X = examples.preset("half-adder")
    net = dict(weights=W, inputs=X[:, :2], targets=X[:, 2:], biases=(0.0, 0.0))
    steps, lr = 6, 2.0
    frames = animation.build_frames(steps, lr=lr, hidden_activation="tanh", **net)
    trained = network.train([lr], steps + 1, record=True, hidden_activation="tanh", **net)
    assert [f.example for f in frames[::5]] == [0, 1, 2, 3, 0, 1]
    for step in range(steps):
        e = step % 4
        forward = animation.frame_labels(frames[5 * step], steps)
        assert forward["title"].endswith(f", example {e + 1} of 4")
        f = network.forward(trained.weights[step, 0], inputs=X[e, :2], targets=X[e, 2:], hidden_activation="tanh")
        assert to_4_figures(shown(forward["node o1"], "a_o1"), float(f.a_o1))
        update = frames[5 * step + 4]
        got = [update.values[f"new_w{k}"] for k in range(1, 9)]
        np.testing.assert_allclose(got, trained.weights[step + 1, 0], rtol=1e-12, atol=0)
        assert "the mean over the 4 examples" in animation.frame_labels(update, steps)["phase"]
    assert frames[-1].losses == pytest.approx(trained.loss[:steps, 0], rel=1e-12)
    assert animation.frame_labels(frames[-1], steps)["loss"].startswith("mean over 4 examples: E_total = ")


def test_animate_data_writes_a_gif(tmp_path, capsys):
    out = tmp_path / "xor.gif"
    rc, stdout, err = run(["animate", "--data", "half-adder", "--steps", "1", "--out", str(out)], capsys)
    assert (rc, err) == (0, "")
    with Image.open(out) as gif:
        assert gif.n_frames == 5


HELP = " (see xl-backprop animate --help)"  # what argparse's own checks add
BAD = [
    (["--steps", "401"], "--steps: expected at most 400 steps (2,000 frames of 5 phases), got 401"),
    (["--steps", "0"], "--steps: expected a whole number >= 1, got '0'" + HELP),
    (["--steps", "2.5"], "--steps: expected a whole number >= 1, got '2.5'" + HELP),
    (["--fps", "0"], "--fps: expected a positive number, got '0'" + HELP),
    (["--fps", "51"], "--fps: expected at most 50 frames a second, got 51"),
    (["--lr", "-1"], "--lr: expected a positive number, got '-1'" + HELP),
    (["--lr", "nan"], "--lr: expected a positive number, got 'nan'" + HELP),
    (["--weights", "1", "2"], "--weights: expected 8 numbers, got 2"),
    (["--inputs", "0.05", "x"], "--inputs: expected 2 numbers, got 'x'"),
    (["--data", "half-adder", "--targets", "0", "1"], "--data: expected either --data or --inputs/--targets, got both"),
    (["--data", "xor"], "--data: expected course, half-adder, and-or or a CSV file, xor is neither"),
    (
        ["--weights", *["1e308"] * 8, "--inputs", "1e308", "1e308"],
        "overflow: h1 at step 0 is not a finite number; try a smaller --lr or smaller --weights, --inputs or --targets",
    ),
]


@pytest.mark.parametrize(("extra", "message"), BAD, ids=[m[:40] for _, m in BAD])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, extra, message):
    out = tmp_path / "backprop.gif"
    rc, stdout, err = run(["animate", "--out", str(out), *extra], capsys)
    assert rc == 2 and stdout == ""
    assert err == f"xl-backprop animate: error: {message}\n"
    assert list(tmp_path.iterdir()) == []


def test_out_is_checked_and_never_overwritten_without_force(tmp_path, capsys):
    rc, _, err = run(["animate", "--out", str(tmp_path / "a.png")], capsys)
    assert rc == 2 and err.endswith(f"--out: expected a .gif path, got {tmp_path / 'a.png'}\n")
    rc, _, err = run(["animate", "--out", str(tmp_path / "missing" / "a.gif")], capsys)
    assert rc == 2 and "--out: expected an existing folder" in err
    rc, _, err = run(["animate"], capsys)
    assert rc == 2 and "the following arguments are required: --out" in err
    existing = tmp_path / "mine.gif"
    existing.write_bytes(b"the user's own file")
    rc, _, err = run(["animate", "--steps", "1", "--out", str(existing)], capsys)
    assert rc == 2 and err.endswith("already exists; use --force to overwrite it\n")
    assert existing.read_bytes() == b"the user's own file"


def test_a_failure_while_drawing_leaves_the_old_file_whole(tmp_path, capsys, monkeypatch):
    existing = tmp_path / "mine.gif"
    existing.write_bytes(b"the user's own file")
    calls = []

    def broken(frame, steps, extent):
        calls.append(frame)
        if len(calls) > 6:
            raise RuntimeError("drawing failed")
        return Image.new("RGB", animation.FRAME_SIZE, "white")

    monkeypatch.setattr(animation, "render", broken)
    rc, _, err = run(["animate", "--steps", "2", "--out", str(existing), "--force"], capsys)
    assert rc == 1 and "drawing failed" in err and len(calls) == 7
    assert existing.read_bytes() == b"the user's own file"
    assert [p.name for p in tmp_path.iterdir()] == ["mine.gif"]


def test_progress_is_reported_frame_by_frame(tmp_path):
    frames = animation.build_frames(1, lr=0.5, **COURSE)
    seen: list[float] = []
    animation.write_gif(tmp_path / "a.gif.tmp", frames, 1, 4.0, seen.append)  # any name: GIF whatever the suffix
    assert seen == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    with Image.open(tmp_path / "a.gif.tmp") as gif:
        assert gif.format == "GIF" and gif.n_frames == 5


def test_every_gif_frame_is_the_drawn_frame(tmp_path, monkeypatch):
    """The GIF, decoded by Pillow, holds each frame as drawn (in its palette), pixel for pixel:
    the frame-by-frame writer loses nothing. Stand-in frames keep this quick: two colours that
    change in a small rectangle, and frames identical to the one before."""
    colours = ["white", "white", "tab:red", "tab:red", "tab:blue"]

    def drawn(frame, steps, extent):
        image = Image.new("RGB", animation.FRAME_SIZE, "white")
        k = animation.PHASES.index(frame.phase)
        x = 10 * max(k - 1, 0)  # the first two phases alike: a frame that changes nothing
        image.paste((200, 30, 30) if "red" in colours[k] else (30, 30, 200), (x, 20, x + 40, 60))
        return image

    monkeypatch.setattr(animation, "render", drawn)
    frames = animation.build_frames(2, lr=0.5, **COURSE)
    expected = [im.convert("RGB") for im in animation.images(frames, 2)]
    animation.write_gif(tmp_path / "a.gif", frames, 2, 10.0)
    with Image.open(tmp_path / "a.gif") as gif:
        assert gif.n_frames == 10 and gif.info["loop"] == 0
        for k in range(10):
            gif.seek(k)
            assert gif.info["duration"] == 100
            assert np.array_equal(np.asarray(gif.convert("RGB")), np.asarray(expected[k])), k
