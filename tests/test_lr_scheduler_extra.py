"""ConstantLR ... ChainedScheduler against their closed forms, epoch by epoch."""
import math

import numpy as np
import pytest

import minigrad
from minigrad import optim
from minigrad.optim import lr_scheduler

EPOCHS = 40


def make_optimizer(lr=0.5, cls=optim.SGD, groups=2, **kwargs):
    params = [{"params": [minigrad.zeros(2, requires_grad=True)], "lr": lr * (i + 1)}
              for i in range(groups)]
    return cls(params, lr=lr, **kwargs)


def lrs_over(scheduler, epochs=EPOCHS, optimizer=None):
    """The lr of each group during epochs 0 .. epochs-1 (read before each step)."""
    optimizer = optimizer or scheduler.optimizer
    values = []
    for _ in range(epochs):
        values.append([g["lr"] for g in optimizer.param_groups])
        assert scheduler.get_last_lr() == values[-1]
        optimizer.step()
        scheduler.step()
    return np.array(values)


def closed_form(function, base_lrs=(0.5, 1.0), epochs=EPOCHS):
    return np.array([[function(base, epoch) for base in base_lrs] for epoch in range(epochs)])


def test_constant_lr():
    scheduler = lr_scheduler.ConstantLR(make_optimizer(), factor=0.3, total_iters=4)
    expected = closed_form(lambda base, e: base * (0.3 if e < 4 else 1.0))
    np.testing.assert_allclose(lrs_over(scheduler), expected, rtol=1e-13)


@pytest.mark.parametrize("start, end, total", [(0.2, 0.9, 7), (1.0, 0.1, 10), (1 / 3, 1.0, 5)])
def test_linear_lr(start, end, total):
    scheduler = lr_scheduler.LinearLR(make_optimizer(), start_factor=start, end_factor=end,
                                      total_iters=total)
    expected = closed_form(lambda base, e: base * (start + (end - start) * min(e, total) / total))
    np.testing.assert_allclose(lrs_over(scheduler), expected, rtol=1e-12)


def test_multiplicative_lr_per_group():
    factors = [lambda e: 0.95 if e % 3 else 0.5, lambda e: 1.0 / (1 + 0.1 * e)]
    scheduler = lr_scheduler.MultiplicativeLR(make_optimizer(), lr_lambda=factors)
    expected = np.array([[base * np.prod([f(i) for i in range(1, e + 1)])
                          for base, f in zip((0.5, 1.0), factors)] for e in range(EPOCHS)])
    np.testing.assert_allclose(lrs_over(scheduler), expected, rtol=1e-12)


@pytest.mark.parametrize("total, power", [(11, 2.5), (5, 1.0), (30, 0.5)])
def test_polynomial_lr(total, power):
    scheduler = lr_scheduler.PolynomialLR(make_optimizer(), total_iters=total, power=power)
    expected = closed_form(lambda base, e: base * (1 - min(e, total) / total) ** power)
    np.testing.assert_allclose(lrs_over(scheduler), expected, rtol=1e-12, atol=1e-15)


def warm_restarts(base, epoch, T_0, T_mult, eta_min):
    """SGDR's closed form: find the cycle containing `epoch` (may be fractional)."""
    start, period = 0, T_0
    while epoch >= start + period:
        start, period = start + period, period * T_mult
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * (epoch - start) / period)) / 2


@pytest.mark.parametrize("T_0, T_mult, eta_min", [(5, 1, 0.01), (3, 2, 0.0), (2, 3, 0.05)])
def test_cosine_annealing_warm_restarts(T_0, T_mult, eta_min):
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(make_optimizer(), T_0=T_0, T_mult=T_mult,
                                                         eta_min=eta_min)
    expected = closed_form(lambda base, e: warm_restarts(base, e, T_0, T_mult, eta_min))
    np.testing.assert_allclose(lrs_over(scheduler), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("T_0, T_mult", [(3, 1), (3, 2), (2, 3)])
def test_cosine_annealing_warm_restarts_fractional_epochs(T_0, T_mult):
    optimizer = make_optimizer()
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=T_0, T_mult=T_mult,
                                                         eta_min=0.01)
    batches = 4
    for epoch in range(12):
        for batch in range(batches):
            t = epoch + batch / batches
            scheduler.step(t)
            for group, base in zip(optimizer.param_groups, (0.5, 1.0)):
                assert group["lr"] == pytest.approx(warm_restarts(base, t, T_0, T_mult, 0.01),
                                                    rel=1e-12, abs=1e-15)
            assert scheduler.last_epoch == epoch
    scheduler.step(2.5)   # going back in time is allowed
    assert optimizer.param_groups[0]["lr"] == pytest.approx(warm_restarts(0.5, 2.5, T_0, T_mult,
                                                                          0.01), rel=1e-12)
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        scheduler.step(-1)


def cyclic(t, base, top, up, down, scale):
    """Triangle wave: rises for `up` iterations, falls for `down`, amplitude scaled."""
    position = t % (up + down)
    fraction = position / up if position <= up else 1 - (position - up) / down
    return base + (top - base) * fraction * scale


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclic_lr_modes_and_momentum(mode):
    optimizer = make_optimizer(cls=optim.SGD, momentum=0.9)
    scheduler = lr_scheduler.CyclicLR(optimizer, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=4,
                                      step_size_down=6, mode=mode, gamma=0.97)

    def scale(t):
        cycle = t // 10 + 1
        return {"triangular": 1.0, "triangular2": 1 / 2 ** (cycle - 1), "exp_range": 0.97 ** t}[mode]
    momenta = []
    for t in range(EPOCHS):
        momenta.append([g["momentum"] for g in optimizer.param_groups])
        for group, top in zip(optimizer.param_groups, (0.1, 0.2)):
            assert group["lr"] == pytest.approx(cyclic(t, 0.01, top, 4, 6, scale(t)), rel=1e-12)
        assert scheduler.get_last_lr() == [g["lr"] for g in optimizer.param_groups]
        optimizer.step()
        scheduler.step()
    # momentum moves against the lr: max_momentum - (max - base) * fraction * scale
    expected = [[0.9 - (0.9 - 0.8) * (cyclic(t, 0.0, 1.0, 4, 6, scale(t)))] * 2
                for t in range(EPOCHS)]
    np.testing.assert_allclose(momenta, expected, rtol=1e-12)


def test_cyclic_lr_custom_scale_fn_and_adam_beta1():
    optimizer = make_optimizer(cls=optim.Adam, groups=1)
    scheduler = lr_scheduler.CyclicLR(optimizer, 0.01, 0.1, step_size_up=3,
                                      scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations",
                                      base_momentum=0.5, max_momentum=0.95)
    for t in range(20):
        group = optimizer.param_groups[0]
        assert group["lr"] == pytest.approx(cyclic(t, 0.01, 0.1, 3, 3, 1 / (1 + t)), rel=1e-12)
        assert group["betas"][0] == pytest.approx(0.95 - 0.45 * cyclic(t, 0, 1, 3, 3, 1 / (1 + t)),
                                                  rel=1e-12)
        assert group["betas"][1] == 0.999
        optimizer.step()
        scheduler.step()
    # per cycle: the scale is evaluated at the cycle number (1, 2, ...)
    optimizer = make_optimizer(groups=1)
    scheduler = lr_scheduler.CyclicLR(optimizer, 0.0, 1.0, step_size_up=2, scale_fn=lambda c: c,
                                      cycle_momentum=False)
    assert lrs_over(scheduler, 9)[:, 0].tolist() == pytest.approx(
        [0, 0.5, 1, 0.5, 0, 1, 2, 1, 0])


def test_cyclic_lr_state_dict_drops_functions():
    optimizer = make_optimizer()
    scheduler = lr_scheduler.CyclicLR(optimizer, 0.01, 0.1, step_size_up=3, mode="exp_range",
                                      gamma=0.9, cycle_momentum=False)
    for _ in range(5):
        scheduler.step()
    state = scheduler.state_dict()
    assert "_scale_fn_ref" not in state and state["_scale_fn_custom"] is None
    assert state["last_epoch"] == 5
    other = lr_scheduler.CyclicLR(make_optimizer(), 0.01, 0.1, step_size_up=3, mode="exp_range",
                                  gamma=0.9, cycle_momentum=False)
    other.load_state_dict(state)
    assert other.last_epoch == 5 and other.scale_fn(2) == pytest.approx(0.81)


def test_sequential_lr_warmup_then_decay():
    optimizer = make_optimizer()
    warmup = lr_scheduler.LinearLR(optimizer, start_factor=0.1, end_factor=0.7, total_iters=5)
    decay = lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    scheduler = lr_scheduler.SequentialLR(optimizer, [warmup, decay], milestones=[5])

    def expected(base, e):
        if e < 5:
            return base * (0.1 + 0.6 * e / 5)
        return base * 0.9 ** (e - 5)     # the second scheduler restarts from its base lr
    np.testing.assert_allclose(lrs_over(scheduler), closed_form(expected), rtol=1e-12)


def test_sequential_lr_three_schedulers():
    optimizer = make_optimizer()
    schedulers = [lr_scheduler.ConstantLR(optimizer, factor=0.5, total_iters=3),
                  lr_scheduler.CosineAnnealingLR(optimizer, T_max=10),
                  lr_scheduler.PolynomialLR(optimizer, total_iters=8, power=2.0)]
    scheduler = lr_scheduler.SequentialLR(optimizer, schedulers, milestones=[4, 14])

    def expected(base, e):
        if e < 4:
            return base * (0.5 if e < 3 else 1.0)
        if e < 14:
            return base * (1 + math.cos(math.pi * (e - 4) / 10)) / 2
        return base * (1 - min(e - 14, 8) / 8) ** 2
    np.testing.assert_allclose(lrs_over(scheduler), closed_form(expected), rtol=1e-12, atol=1e-15)
    state = scheduler.state_dict()
    assert state["last_epoch"] == EPOCHS and len(state["_schedulers"]) == 3
    assert state["_schedulers"][2]["last_epoch"] == EPOCHS - 14


def test_chained_scheduler_multiplies_the_factors():
    optimizer = make_optimizer()
    scheduler = lr_scheduler.ChainedScheduler([
        lr_scheduler.ConstantLR(optimizer, factor=0.1, total_iters=2),
        lr_scheduler.ExponentialLR(optimizer, gamma=0.9)])
    expected = closed_form(lambda base, e: base * (0.1 if e < 2 else 1.0) * 0.9 ** e)
    np.testing.assert_allclose(lrs_over(scheduler), expected, rtol=1e-12)

    optimizer = make_optimizer()
    scheduler = lr_scheduler.ChainedScheduler(
        [lr_scheduler.LinearLR(optimizer, 0.5, 1.0, total_iters=4),
         lr_scheduler.MultiplicativeLR(optimizer, lambda e: 0.98)], optimizer=optimizer)
    expected = closed_form(lambda base, e: base * (0.5 + 0.5 * min(e, 4) / 4) * 0.98 ** e)
    np.testing.assert_allclose(lrs_over(scheduler), expected, rtol=1e-12)
    state = scheduler.state_dict()
    assert [s["last_epoch"] for s in state["_schedulers"]] == [EPOCHS, EPOCHS]


def test_state_dict_round_trip_continues_the_schedule():
    def build():
        optimizer = make_optimizer()
        return lr_scheduler.SequentialLR(
            optimizer, [lr_scheduler.LinearLR(optimizer, 0.2, 1.0, total_iters=4),
                        lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=3, T_mult=2)],
            milestones=[6])
    full = build()
    reference = lrs_over(full, 20)
    first = build()
    lrs_over(first, 9)
    saved = first.state_dict()
    resumed = build()
    resumed.load_state_dict(saved)
    for group, lr in zip(resumed.optimizer.param_groups, first.get_last_lr()):
        group["lr"] = lr      # the optimizer's own state_dict carries the lrs
    np.testing.assert_allclose(lrs_over(resumed, 11), reference[9:], rtol=1e-12)


# ---------------------------------------------------------------------- errors
def test_argument_errors():
    optimizer = make_optimizer()
    with pytest.raises(ValueError, match="Constant multiplicative factor expected to be between "
                                         "0 and 1. Got factor=1.5"):
        lr_scheduler.ConstantLR(optimizer, factor=1.5)
    with pytest.raises(ValueError, match="Starting multiplicative factor .* start_factor=0"):
        lr_scheduler.LinearLR(optimizer, start_factor=0)
    with pytest.raises(ValueError, match="Ending multiplicative factor .* end_factor=-0.1"):
        lr_scheduler.LinearLR(optimizer, end_factor=-0.1)
    with pytest.raises(TypeError, match="lr_lambda should be a function, but got int"):
        lr_scheduler.MultiplicativeLR(optimizer, 3)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        lr_scheduler.MultiplicativeLR(optimizer, [lambda e: 1.0])
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=0)
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 2.5"):
        lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=2.5)
    with pytest.raises(ValueError, match="Expected integer T_mult >= 1, but got 0"):
        lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=2, T_mult=0)
    with pytest.raises(ValueError, match="Expected float or int eta_min, but got '0'"):
        lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=2, eta_min="0")
    with pytest.raises(ValueError, match="mode is invalid and scale_fn is None"):
        lr_scheduler.CyclicLR(optimizer, 0.01, 0.1, mode="sine")
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.CyclicLR(make_optimizer(cls=optim.Adagrad), 0.01, 0.1)
    with pytest.raises(ValueError, match="expected 2 values for max_lr, got 3"):
        lr_scheduler.CyclicLR(optimizer, 0.01, [0.1, 0.2, 0.3], cycle_momentum=False)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        lr_scheduler.PolynomialLR([1, 2])


def test_sequential_and_chained_errors():
    optimizer, other = make_optimizer(), make_optimizer()
    a = lr_scheduler.ConstantLR(optimizer)
    b = lr_scheduler.ExponentialLR(optimizer, 0.9)
    foreign = lr_scheduler.ExponentialLR(other, 0.9)
    plateau = lr_scheduler.ReduceLROnPlateau(optimizer)
    with pytest.raises(ValueError, match="SequentialLR expects at least one scheduler"):
        lr_scheduler.SequentialLR(optimizer, [], milestones=[])
    with pytest.raises(ValueError, match="number of schedulers 2 and the number of milestones "
                                         "to be equal to 2"):
        lr_scheduler.SequentialLR(optimizer, [a, b], milestones=[3, 5])
    with pytest.raises(ValueError, match="belong to the same optimizer.*index 1"):
        lr_scheduler.SequentialLR(optimizer, [a, foreign], milestones=[3])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`.*index 1"):
        lr_scheduler.SequentialLR(optimizer, [a, plateau], milestones=[3])
    with pytest.raises(TypeError, match="at index 0 should have `optimizer`"):
        lr_scheduler.ChainedScheduler([object()], optimizer=optimizer)
    with pytest.raises(ValueError, match="ChainedScheduler expects at least one scheduler"):
        lr_scheduler.ChainedScheduler([])
    with pytest.raises(ValueError, match="belong to the same optimizer"):
        lr_scheduler.ChainedScheduler([a, foreign])


def test_exported_names():
    for name in ["ConstantLR", "LinearLR", "MultiplicativeLR", "PolynomialLR",
                 "CosineAnnealingWarmRestarts", "CyclicLR", "SequentialLR", "ChainedScheduler"]:
        assert name in lr_scheduler.__all__ and issubclass(getattr(lr_scheduler, name),
                                                           lr_scheduler.LRScheduler)
