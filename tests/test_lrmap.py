"""The learning-rate map (lrmap.py, sweep.py, ``xl-backprop map``) against a plain per-layer
reference (tests/scalar_reference.py), and the same map cut up in different ways."""

import math
import re

import numpy as np
import pytest

import xl_backprop as xb
from xl_backprop import cli, examples, lrmap

from . import scalar_reference as ref

NET = (xb.DEFAULT_WEIGHTS, xb.DEFAULT_INPUTS, xb.DEFAULT_TARGETS)
GRID = np.geomspace(0.01, 1e5, 6)  # 36 pairs: every class on the course's example
STEPS = 300
THRESHOLD = 1e-4


def reference_pair(lr_h, lr_o, steps, threshold, bound=lrmap.SATURATION_BOUND, drop=lrmap.FALLING_MIN_DROP):
    """One network, plain Python, the map's rules as its docstring states them: (E_final,
    steps_run, class name)."""
    w, i, t = list(NET[0]), NET[1], NET[2]
    E_half = math.nan
    for n in range(steps + 1):
        f = ref.forward(w, i, t)
        E = f["E_total"]
        if n == steps // 2:
            E_half = E
        if not abs(f["h1"]) + abs(f["h2"]) + abs(f["o1"]) + abs(f["o2"]) <= bound:
            return E, n, "diverged"
        if n == steps:
            break
        gw, _ = ref.gradients(w, i, t)
        w = [w[k] - (lr_h if k < 4 else lr_o) * gw[k] for k in range(8)]
    if E < threshold:
        return E, steps, "converged"
    return E, steps, "falling" if E < (1 - drop) * E_half else "stalled"


@pytest.fixture(scope="module")
def course_map():
    return lrmap.lr_map(GRID, GRID, STEPS, threshold=THRESHOLD)


def test_map_equals_the_plain_reference(course_map):
    m = course_map
    seen = set()
    for i, a in enumerate(GRID):
        for j, b in enumerate(GRID):
            E, run, name = reference_pair(a, b, STEPS, THRESHOLD)
            assert lrmap.CLASSES[m.cls[i, j]] == name, (a, b)
            assert m.steps_run[i, j] == run, (a, b)
            assert abs(m.E_final[i, j] - E) <= 1e-12 * E, (a, b, m.E_final[i, j], E)
            seen.add(name)
    assert seen == set(lrmap.CLASSES)  # the grid reaches every class


def test_one_rate_for_both_equals_train_curves():
    lrs = np.array(xb.DEFAULT_LRS)
    m = lrmap.lr_map(lrs, lrs, 50, threshold=THRESHOLD)
    curves = xb.train_curves(lrs, 51)
    np.testing.assert_allclose(np.diag(m.E_final), curves[-1], rtol=1e-12, atol=0)
    np.testing.assert_array_equal(np.diag(m.steps_run), 50)


PAIRS_GRID = np.array([0.05, 0.5, 3.0])


@pytest.mark.parametrize(
    ("data", "act_h", "act_o"),
    [
        ("course", "tanh", "tanh"),
        ("course", "relu", "linear"),
        ("half-adder", "sigmoid", "sigmoid"),
        ("half-adder", "tanh", "sigmoid"),
        ("and-or", "leaky_relu", "relu"),
        ("half-adder", "linear", "tanh"),
    ],
)
def test_map_with_activations_and_examples_equals_train(data, act_h, act_o):
    """Each pair's final E_total is network.train's for the same rates, activations and examples
    (the mean over the examples, one full-batch step per row), to 1e-12 relative."""
    X = examples.preset(data)
    acts = dict(hidden_activation=act_h, output_activation=act_o)
    steps = 120
    m = lrmap.lr_map(PAIRS_GRID, PAIRS_GRID, steps, inputs=X[:, :2], targets=X[:, 2:], **acts)
    lr_h = np.repeat(PAIRS_GRID, PAIRS_GRID.size)
    lr_o = np.tile(PAIRS_GRID, PAIRS_GRID.size)
    loss = xb.train(lr_h, steps + 1, inputs=X[:, :2], targets=X[:, 2:], lr_output=lr_o, **acts).loss
    want = loss[-1].reshape(m.E_final.shape)
    kept = m.cls != lrmap.CLASSES.index("diverged")
    assert kept.sum() >= 6, m.cls  # most pairs are compared
    np.testing.assert_allclose(m.E_final[kept], want[kept], rtol=1e-12, atol=0)
    np.testing.assert_array_equal(m.steps_run[kept], steps)


def test_one_example_of_n_rows_is_the_course_map():
    """inputs (1, 2) and targets (1, 2) are the course's one example: the same map, to the bit."""
    a = lrmap.lr_map(PAIRS_GRID, PAIRS_GRID, 60)
    b = lrmap.lr_map(PAIRS_GRID, PAIRS_GRID, 60, inputs=[xb.DEFAULT_INPUTS], targets=[xb.DEFAULT_TARGETS])
    np.testing.assert_array_equal(a.E_final, b.E_final)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(hidden_activation="softmax"), "hidden_activation: expected one of sigmoid, tanh, relu"),
        (dict(output_activation=3), "output_activation: expected one of"),
        (dict(inputs=[[0, 1], [1, 0]], targets=[[1, 0]]), "targets: expected 2 rows (t1, t2)"),
        (dict(inputs=[0, 1, 2]), "inputs: expected 2 values (i1, i2)"),
        (dict(biases=[0.1]), "biases: expected 2 numbers"),
    ],
)
def test_lr_map_bad_activation_or_examples_is_one_line(kwargs, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)) as info:
        lrmap.lr_map([0.1], [0.1], 5, **kwargs)
    assert "\n" not in str(info.value)


def libm_sigma(v):
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def test_sigma_of_the_map_is_within_2e_14_of_libm():
    """Within 2e-14 relative up to |x| = EXP_CLAMP (measured: 1.4e-14 at worst); beyond, the
    tail below e^-64 = 1.6e-28 is flattened (an absolute difference under 1.7e-28)."""
    from xl_backprop import sweep

    x = np.concatenate([np.linspace(-64, 64, 20001), [-1e-300, 0.0, 1e-300, 700.0, 1e300]])
    got = np.array([sweep.sigmoid(v) for v in x])
    np.testing.assert_allclose(got, [libm_sigma(v) for v in x], rtol=2e-14, atol=0)
    far = np.array([-65.0, -100.0, -700.0, -1e300])
    got = np.array([sweep.sigmoid(v) for v in far])
    assert np.all(np.abs(got - [libm_sigma(v) for v in far]) < 1.7e-28)


def csv_text(tmp_path, name, m):
    path = tmp_path / name
    lrmap.write_csv(path, m)
    return path.read_bytes()


def test_any_tile_and_thread_count_gives_the_same_csv(tmp_path, course_map):
    want = csv_text(tmp_path, "want.csv", course_map)
    for tile, threads, batch in [(1, 1, None), (7, 2, 14), (5, None, 5), (1000, 2, None)]:
        m = lrmap.lr_map(GRID, GRID, STEPS, threshold=THRESHOLD, tile=tile, threads=threads, batch=batch)
        assert csv_text(tmp_path, f"t{tile}.csv", m) == want, (tile, threads, batch)


def test_csv_rows(tmp_path, course_map):
    lines = csv_text(tmp_path, "m.csv", course_map).decode().splitlines()
    assert lines[0] == "lr_hidden,lr_output,E_final,steps_run,class"
    assert len(lines) == 1 + GRID.size**2
    first = lines[1].split(",")
    assert float(first[0]) == GRID[0] and float(first[1]) == GRID[0] and first[4] in lrmap.CLASSES
    second = lines[2].split(",")  # lr_output varies fastest
    assert float(second[0]) == GRID[0] and float(second[1]) == GRID[1]


def run_cli(argv, capsys):
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_map_writes_png_and_csv(tmp_path, capsys):
    png, csv = tmp_path / "m.png", tmp_path / "m.csv"
    argv = ["map", "--lr-hidden", "0.01:1e5:6", "--lr-output", "0.01:1e5:6", "--steps", str(STEPS)]
    code, out, err = run_cli([*argv, "--threshold", str(THRESHOLD), "--out", str(png), "--csv", str(csv)], capsys)
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    m = lrmap.lr_map(GRID, GRID, STEPS, threshold=THRESHOLD)
    assert csv.read_bytes() == csv_text(tmp_path, "api.csv", m)
    assert "diverged" in out and f"wrote {png}" in out
    code, out, err = run_cli([*argv, "--out", str(png)], capsys)  # no --force: refused
    assert code == 2 and "already exists" in err


def test_cli_map_with_data_and_activations(tmp_path, capsys):
    """--data FILE.csv and the activation options reach lr_map: the CSV is the API's for the same
    examples and activations; the summary names them."""
    data = tmp_path / "xor.csv"
    data.write_text("i1,i2,t1,t2\n0,0,0,0\n0,1,1,0\n1,0,1,0\n1,1,0,1\n")
    csv = tmp_path / "m.csv"
    argv = ["map", "--lr-hidden", "0.1:10:4", "--lr-output", "0.1:10:3", "--steps", "80", "--data", str(data)]
    argv += ["--hidden-activation", "tanh", "--output-activation", "linear", "--out", str(tmp_path / "m.png")]
    code, out, err = run_cli([*argv, "--csv", str(csv)], capsys)
    assert code == 0, err
    X = examples.preset("half-adder")
    acts = dict(hidden_activation="tanh", output_activation="linear")
    m = lrmap.lr_map(np.geomspace(0.1, 10, 4), np.geomspace(0.1, 10, 3), 80, inputs=X[:, :2], targets=X[:, 2:], **acts)
    assert csv.read_bytes() == csv_text(tmp_path, "api.csv", m)
    assert "tanh hidden, linear output, 4 examples" in out
    other = lrmap.lr_map(np.geomspace(0.1, 10, 4), np.geomspace(0.1, 10, 3), 80)
    assert not np.array_equal(m.E_final, other.E_final)  # the options changed the map


@pytest.mark.parametrize(
    "args,message",
    [
        (["--lr-hidden", "1:0.5:10"], "--lr-hidden: expected A < B"),
        (["--lr-hidden", "1:1:10"], "--lr-hidden: expected A < B"),
        (["--lr-output", "0.1:1:0"], "--lr-output: expected a whole COUNT >= 1"),
        (["--lr-output", "-1:1:5"], "--lr-output: expected positive learning rates"),
        (["--lr-hidden", "0:1:5"], "--lr-hidden: expected positive learning rates"),
        (["--lr-hidden", "a:1:5"], "--lr-hidden: expected A:B:N"),
        (["--lr-hidden", "0.1:1"], "--lr-hidden: expected A:B:N"),
        (["--lr-hidden", "0.1:1:2.5"], "--lr-hidden: expected a whole COUNT"),
        (["--lr-hidden", "0.1:1:5000", "--lr-output", "0.1:1:5000"], "expected at most 16,777,216 pairs"),
        (["--lr-hidden", "0.1:1:1000", "--lr-output", "0.1:1:1000", "--steps", "200000"], "network steps"),
        (["--steps", "0"], "--steps: expected a whole number >= 1"),
        (["--weights", "1", "2"], "--weights: expected 8 numbers"),
        (["--data", "half-adder", "--inputs", "1", "2"], "--data: expected either --data or --inputs/--targets"),
        (["--data", "no-such.csv"], "--data: expected course, half-adder, and-or or a CSV file"),
        (["--hidden-activation", "softplus"], "--hidden-activation: invalid choice: 'softplus'"),
    ],
)
def test_cli_map_bad_input_one_line_exit_2_nothing_written(tmp_path, capsys, args, message):
    png = tmp_path / "m.png"
    code, out, err = run_cli(["map", *args, "--out", str(png), "--csv", str(tmp_path / "m.csv")], capsys)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []


def test_cli_map_interrupted_leaves_no_file(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(lrmap, "write_csv", interrupted)
    code, out, err = run_cli(
        ["map", "--lr-hidden", "0.1:1:3", "--lr-output", "0.1:1:3", "--steps", "5", "--out", str(tmp_path / "m.png")]
        + ["--csv", str(tmp_path / "m.csv")],
        capsys,
    )
    assert code == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("data", "act_h", "act_o"),
    [("course", "sigmoid", "sigmoid"), ("half-adder", "sigmoid", "sigmoid"), ("half-adder", "relu", "leaky_relu")],
)
def test_the_numpy_steps_for_lite_give_the_compiled_loops_bits(data, act_h, act_o):
    """Where numba is missing (xlwings Lite), sweep.run_steps_arrays runs the tile: the same
    operations in the same order, so the same numbers to the last bit."""
    from xl_backprop import activations, examples, kernel, sweep

    if not kernel.COMPILED:
        pytest.skip("needs the compiled loop to compare with")
    m = 40
    rates = np.geomspace(0.01, 1e5, m)
    X = examples.preset(data)
    net = np.array([0.35, 0.6, THRESHOLD, lrmap.SATURATION_BOUND])
    codes = activations.ACTIVATIONS[act_h].code, activations.ACTIVATIONS[act_o].code
    results = []
    for run in (sweep.map_serial, _map_serial_arrays):
        out = np.zeros((5, m))
        run(rates, rates[::-1].copy(), 16, 200, 100, np.array(xb.DEFAULT_WEIGHTS), X, net, *codes, *out)
        results.append(out)
    np.testing.assert_array_equal(results[0], results[1])
    assert 0 < results[0][4].sum() < m  # some networks diverged, some did not


def _map_serial_arrays(*args):
    """sweep.map_serial run as Python, its tiles' steps by sweep.run_steps_arrays (numpy)."""
    from xl_backprop import sweep

    saved = sweep.run_steps, sweep.map_tile
    sweep.run_steps, sweep.map_tile = sweep.run_steps_arrays, sweep.map_tile.py_func
    try:
        sweep.map_serial.py_func(*args)
    finally:
        sweep.run_steps, sweep.map_tile = saved


def test_a_large_map_is_drawn_from_every_kth_rate(tmp_path):
    from xl_backprop.figures import png_bytes
    from xl_backprop.map_figure import DRAW_MAX, map_figure

    m = lrmap.lr_map(np.geomspace(0.1, 100, DRAW_MAX + 1), [0.5, 50.0], 5)
    fig = map_figure(m, "test")
    title = fig.axes[0].get_title()
    assert f"{DRAW_MAX + 1:,} x 2 networks" in title and "1 rate in 2 across, 1 in 1 up" in title
    assert png_bytes(fig)[:4] == b"\x89PNG"
