"""profile(): per-op calls, times and FLOPs against closed forms and the wall clock."""
import time

import numpy as np
import pytest

import minigrad
from minigrad import autograd, profiler
from minigrad.autograd import Function


def test_counts_calls_and_matmul_flops_forward_and_backward():
    a = minigrad.randn(8, 5, requires_grad=True)
    b = minigrad.randn(5, 3, requires_grad=True)
    with profiler.profile() as prof:
        y = minigrad.matmul(a, b)
        loss = (y * y).sum()
        loss.backward()
    stats = prof.stats
    assert set(stats) == {"MatMul", "Mul", "Sum"}
    assert stats["MatMul"].calls == 1 and stats["MatMul"].backward_calls == 1
    assert stats["MatMul"].forward_flops == 2 * 8 * 3 * 5
    # Two inputs need a gradient: dA = dY B^T and dB = A^T dY, each 2*m*n*k.
    assert stats["MatMul"].backward_flops == 2 * (2 * 8 * 3 * 5)
    assert stats["Mul"].forward_flops == 8 * 3
    assert stats["Sum"].forward_flops == 8 * 3
    assert prof.total_flops == sum(s.flops for s in stats.values())


def test_no_grad_ops_have_no_backward_flops():
    a, b = minigrad.randn(4, 4), minigrad.randn(4, 4)
    with profiler.profile() as prof:
        minigrad.matmul(a, b)
    assert prof.stats["MatMul"].backward_calls == 0
    assert prof.stats["MatMul"].backward_flops == 0


def test_only_inputs_needing_grad_count_in_backward():
    a = minigrad.randn(6, 4, requires_grad=True)
    b = minigrad.randn(4, 2)                        # constant
    with profiler.profile() as prof:
        minigrad.matmul(a, b).sum().backward()
    assert prof.stats["MatMul"].backward_flops == 2 * 6 * 2 * 4


def test_batched_matmul_flops():
    a, b = minigrad.randn(3, 4, 5), minigrad.randn(3, 5, 6)
    with profiler.profile() as prof:
        minigrad.matmul(a, b)
    assert prof.stats["MatMul"].forward_flops == 2 * 3 * 4 * 6 * 5


def test_unknown_op_counts_zero_and_register_flops():
    class Twice(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = minigrad.ones(10, requires_grad=True)
    with profiler.profile() as prof:
        Twice.apply(x)
    assert prof.stats["Twice"].calls == 1 and prof.stats["Twice"].forward_flops == 0
    profiler.register_flops(Twice, lambda ctx, arrays, result: result.size)
    try:
        with profiler.profile() as prof:
            Twice.apply(x).sum().backward()
        assert prof.stats["Twice"].forward_flops == 10
        assert prof.stats["Twice"].backward_flops == 10
    finally:
        del profiler.FLOP_FORMULAS["Twice"]


def test_conv_flop_formulas_from_shapes():
    """The conv families are matched by class name; FLOPs come from the weight shape."""
    x = np.zeros((2, 6, 9, 9))
    w = np.zeros((8, 3, 3, 3))                      # groups=2: Cin/groups = 3
    out = np.zeros((2, 8, 7, 7))
    assert profiler.flops_of("Conv2d", None, [x, w], out) == 2 * 2 * 8 * 7 * 7 * 3 * 3 * 3
    xt = np.zeros((2, 4, 5, 5))
    wt = np.zeros((4, 3, 3, 3))                     # (Cin, Cout/groups, kh, kw)
    assert profiler.flops_of("ConvTranspose2d", None, [xt, wt], np.zeros((2, 3, 7, 7))) == \
        2 * 2 * 4 * 5 * 5 * 3 * 3 * 3


def test_observer_restored_and_nested_profiles_both_record():
    assert autograd._observer is None
    x = minigrad.rand(3, 3) + 0.5
    with profiler.profile() as outer:
        x.exp()
        with profiler.profile() as inner:
            assert autograd._observer is inner
            x.log()
        assert autograd._observer is outer
    assert autograd._observer is None
    assert set(inner.stats) == {"Log"}
    assert set(outer.stats) == {"Exp", "Log"}
    assert outer.stats["Log"].calls == 1


def test_observer_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with profiler.profile():
            1 / 0
    assert autograd._observer is None


def test_recorded_time_is_within_wall_time_and_covers_a_compute_heavy_step():
    a = minigrad.randn(384, 384, requires_grad=True)
    b = minigrad.randn(384, 384, requires_grad=True)
    start = time.perf_counter()
    with profiler.profile() as prof:
        for _ in range(3):
            loss = minigrad.matmul(minigrad.matmul(a, b).relu(), b).sum()
            loss.backward()
    outside = time.perf_counter() - start
    assert 0 < prof.total_time <= prof.wall_time <= outside
    assert prof.total_time >= 0.5 * prof.wall_time   # most of the step is inside ops
    matmul = prof.stats["MatMul"]
    assert matmul.calls == 6 and matmul.backward_calls == 6
    assert matmul.gflops_per_second == pytest.approx(matmul.flops / matmul.total_time / 1e9)


def test_table_sorting_and_contents():
    a = minigrad.randn(64, 64, requires_grad=True)
    with profiler.profile() as prof:
        for _ in range(3):
            a.exp()
        minigrad.matmul(a, a).sum().backward()
    rows = prof.rows(sort_by="calls")
    assert rows[0]["name"] == "Exp" and rows[0]["calls"] == 3
    times = [r["total_time"] for r in prof.rows()]
    assert times == sorted(times, reverse=True)
    assert [r["name"] for r in prof.rows("name")] == sorted(prof.stats)
    text = prof.table(sort_by="flops", row_limit=2)
    lines = text.splitlines()
    assert lines[1].split()[:2] == ["op", "calls"]
    assert lines[3].split()[0] == "MatMul"         # the most FLOPs first
    assert len([l for l in lines if l.split() and l.split()[0] in prof.stats]) == 2
    assert "wall" in lines[-1]
    with pytest.raises(ValueError, match="sort_by"):
        prof.table(sort_by="speed")


def test_conv_training_step_flops_and_time():
    """A conv-heavy step: conv FLOPs exact, op time within and covering most of the wall time."""
    from minigrad.nn import functional as F
    x = minigrad.randn(4, 8, 32, 32)
    w = minigrad.randn(16, 4, 3, 3, requires_grad=True)      # groups=2: Cin/groups = 4
    b = minigrad.zeros(16, requires_grad=True)
    w2 = minigrad.randn(16, 16, 3, 3, requires_grad=True)
    F.conv2d(x, w, b, padding=1, groups=2)                    # warm up the kernels and BLAS
    with profiler.profile() as prof:
        h = F.conv2d(x, w, b, padding=1, groups=2).relu()
        y = F.conv2d(h, w2, stride=2)
        (y * y).mean().backward()
    conv = next(s for name, s in prof.stats.items() if "Conv" in name and "Transpose" not in name)
    first = 2 * 4 * 16 * 32 * 32 * 4 * 3 * 3
    second = 2 * 4 * 16 * 15 * 15 * 16 * 3 * 3
    assert conv.calls == 2 and conv.backward_calls == 2
    assert conv.forward_flops == first + second
    # the first conv's input needs no gradient: only its weight gradient is computed
    assert conv.backward_flops == first + 2 * second
    assert 0 < prof.total_time <= prof.wall_time
    assert prof.total_time >= 0.5 * prof.wall_time
    assert conv.total_time >= 0.5 * prof.total_time


def test_pool_and_linear_flops():
    from minigrad.nn import functional as F
    x = minigrad.randn(2, 3, 8, 8, requires_grad=True)
    with profiler.profile() as prof:
        F.max_pool2d(x, 2)
        F.avg_pool2d(x, 3, stride=1)
        F.adaptive_avg_pool2d(x, 2)
        F.adaptive_avg_pool2d(x, 1)                        # global pooling is recorded as a Mean
    stats = {name: s.forward_flops for name, s in prof.stats.items()}
    assert stats["MaxPool"] == 2 * 3 * 4 * 4 * (2 * 2)     # one comparison per window element
    assert stats["AvgPool"] == 2 * 3 * 6 * 6 * (3 * 3)     # one add per window element
    assert stats["AdaptiveAvgPool"] == 2 * 3 * 8 * 8       # every input added once
    assert "Mean" in stats

    a = minigrad.randn(5, 7)
    w = minigrad.randn(3, 7, requires_grad=True)
    b = minigrad.zeros(3, requires_grad=True)
    with profiler.profile() as prof:
        F.linear(a, w, b).sum().backward()
    linear = prof.stats["Linear"]
    assert linear.forward_flops == 2 * 5 * 3 * 7 + 5 * 3
    assert linear.backward_flops == linear.forward_flops    # only the weight (of x, W) needs a gradient
