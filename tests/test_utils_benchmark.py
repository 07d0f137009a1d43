"""minigrad.utils.benchmark: Timer, Measurement and Compare (PyTorch's formats)."""
import itertools
import re

import numpy as np
import pytest

import minigrad
from minigrad.utils.benchmark import Compare, Measurement, TaskSpec, Timer, select_unit


class FakeClock:
    """A timer that advances `tick` seconds per call of the statement (counted through globals)."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def ticking_timer(seconds_per_run, **kwargs):
    clock = FakeClock()

    def run():
        clock.now += seconds_per_run

    return Timer("run()", globals={"run": run}, timer=clock, **kwargs)


def test_timeit_is_one_measurement_of_number_runs():
    m = ticking_timer(2e-6).timeit(number=500)
    assert isinstance(m, Measurement) and m.number_per_run == 500
    assert m.raw_times == pytest.approx([500 * 2e-6])
    assert m.times == pytest.approx([2e-6]) and m.median == pytest.approx(2e-6) and m.mean == pytest.approx(2e-6)


def test_blocked_autorange_grows_the_block_then_fills_min_run_time():
    # 1 ms per run: blocks of 1, 10, 100: 100 runs take 0.1 s > min_run_time / 1000 and the
    # fake timer has no overhead, so the block is 1 run (1 ms >= 0.2 s / 1000); 200 blocks fill 0.2 s.
    m = ticking_timer(1e-3).blocked_autorange(min_run_time=0.2)
    assert m.number_per_run == 1
    assert len(m.raw_times) == pytest.approx(200, abs=1)
    assert m.median == pytest.approx(1e-3)
    # 1 us per run needs a block of 1000 runs to reach 0.2 ms.
    m = ticking_timer(1e-6).blocked_autorange(min_run_time=0.2)
    assert m.number_per_run == 1000 and m.median == pytest.approx(1e-6)
    seen = []
    ticking_timer(1e-3).blocked_autorange(callback=lambda number, t: seen.append((number, t)), min_run_time=0.01)
    assert len(seen) >= 9 and all(n == 1 for n, _ in seen)


def test_real_statement_and_setup_and_globals():
    m = Timer("y = x @ x", setup="x = minigrad.ones(8, 8)", label="mm").timeit(number=20)
    assert m.median > 0 and m.label == "mm" and m.stmt == "y = x @ x"
    m = Timer("torch.ones(3)").timeit(number=3)   # `torch` is minigrad inside a Timer
    assert m.number_per_run == 3
    m = Timer("""
        a = b + 1
    """, globals={"b": 2}).timeit(number=2)
    assert m.stmt == "a = b + 1"   # dedented, the first newline dropped
    adaptive = ticking_timer(1e-4).adaptive_autorange(threshold=0.1, min_run_time=0.001)
    assert adaptive.median == pytest.approx(1e-4) and len(adaptive.raw_times) > 3


def test_num_threads_is_set_during_the_run_only():
    before = minigrad.get_num_threads()
    seen = []
    Timer("seen.append(minigrad.get_num_threads())", globals={"seen": seen}, num_threads=3).timeit(number=4)
    assert set(seen) == {3} and len(seen) == 6   # 2 warm-up runs and 4 timed
    assert minigrad.get_num_threads() == before


def test_measurement_statistics_and_repr():
    raw = [float(v) for v in np.linspace(1e-3, 2e-3, 9)]   # 100 runs each: 10 to 20 us per run
    m = Measurement(100, raw, TaskSpec(stmt="x + y", setup="pass", label="add", sub_label="4x4",
                                       description="float32", num_threads=2))
    per_run = np.array(raw) / 100
    assert m.times == pytest.approx(list(per_run))
    assert m.median == pytest.approx(np.median(per_run)) and m.mean == pytest.approx(per_run.mean())
    assert m.iqr == pytest.approx(np.percentile(per_run, 75) - np.percentile(per_run, 25))
    text = re.sub(r"at 0x[0-9a-f]+", "at 0x", repr(m))
    assert text == ("<minigrad.utils.benchmark.Measurement object at 0x>\n"
                    "add: 4x4\n"
                    "float32\n"
                    "  Median: 15.00 us\n"
                    "  IQR:    5.00 us (12.50 to 17.50)\n"
                    "  9 measurements, 100 runs per measurement, 2 threads\n"
                    "  WARNING: Interquartile range is 33.3% of the median measurement.\n"
                    "           This suggests significant environmental influence.")
    single = Measurement(10, [2.5e-3], TaskSpec(stmt="f(x)", setup="x = 1"))
    assert re.sub(r"at 0x[0-9a-f]+", "at 0x", repr(single)) == (
        "<minigrad.utils.benchmark.Measurement object at 0x>\nf(x)\nsetup: x = 1\n  250.00 us\n"
        "  1 measurement, 10 runs , 1 thread")
    assert select_unit(3e-9) == ("ns", 1e-9) and select_unit(3e-5) == ("us", 1e-6)
    assert select_unit(0.3) == ("ms", 1e-3) and select_unit(3.0) == ("s", 1)
    merged = Measurement.merge([m, Measurement(50, [1e-3], m.task_spec)])
    assert len(merged) == 1 and merged[0].number_per_run == 1 and len(merged[0].times) == 10


def test_compare_table():
    times = itertools.count(1)

    def measurement(sub_label, description, threads=1, label="add"):
        base = next(times) * 1e-6
        return Measurement(1, [base, base * 1.01, base * 0.99, base], TaskSpec(
            stmt="x + y", setup="pass", label=label, sub_label=sub_label, description=description,
            num_threads=threads))

    results = [measurement("4x4", "a"), measurement("4x4", "b"), measurement("8x8", "a"),
               measurement("8x8", "b"), measurement("4x4", "a", threads=4), measurement(None, "a", label="mul")]
    assert str(Compare(results)) == (
        "[--------- add ---------]\n"
        "           |   a   |   b \n"
        "1 threads: --------------\n"
        "      4x4  |  1.0  |  2.0\n"
        "      8x8  |  3.0  |  4.0\n"
        "4 threads: --------------\n"
        "      4x4  |  5.0  |     \n"
        "\n"
        "Times are in microseconds (us).\n"
        "\n"
        "[------ mul ------]\n"
        "             |   a \n"
        "1 threads: --------\n"
        "      x + y  |  6.0\n"
        "\n"
        "Times are in microseconds (us).\n")
    colored = Compare(results)
    colored.colorize()
    assert "\033[92m" in str(colored)   # the best of each column in green
    with pytest.raises(ValueError, match="Expected an instance of `Measurement`"):
        Compare([1.0])


def test_errors():
    with pytest.raises(ValueError, match="Currently only a `str` stmt is supported."):
        Timer(lambda: None)
    with pytest.raises(ValueError, match="global_setup is C\\+\\+ only"):
        Timer("pass", global_setup="int x;")
    with pytest.raises(ValueError, match="Python statements only"):
        Timer("pass", language="cpp")
    with pytest.raises(ValueError, match="num_threads must be a positive int, got 0"):
        Timer("pass", num_threads=0)
    with pytest.raises(NotImplementedError, match="See `Timer.blocked_autorange.`"):
        Timer().repeat()
    with pytest.raises(NotImplementedError, match="See `Timer.blocked_autorange.`"):
        Timer().autorange()
