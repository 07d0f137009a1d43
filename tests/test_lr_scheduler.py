"""Learning-rate schedules against their closed forms (PyTorch's values, step by step)."""
import math
from bisect import bisect_right

import numpy as np
import pytest

import minigrad
from minigrad import optim
from minigrad.optim import lr_scheduler


def make_optimizer(lr=0.5, cls=optim.SGD, groups=1, **kwargs):
    params = [{"params": [minigrad.zeros(2, requires_grad=True)], "lr": lr * (i + 1)}
              for i in range(groups)]
    return cls(params, lr=lr, **kwargs)


def lrs_over(scheduler, epochs):
    """The lr of each group during epochs 0 .. epochs-1 (read before each step)."""
    values = []
    for _ in range(epochs):
        values.append([g["lr"] for g in scheduler.optimizer.param_groups])
        assert scheduler.get_last_lr() == values[-1]
        scheduler.optimizer.step()
        scheduler.step()
    return np.array(values)


def test_step_lr():
    opt = make_optimizer(groups=2)
    got = lrs_over(lr_scheduler.StepLR(opt, step_size=3, gamma=0.5), 10)
    base = np.array([0.5, 1.0])
    want = [base * 0.5 ** (e // 3) for e in range(10)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_multi_step_lr_with_repeated_milestone():
    milestones = [2, 5, 5, 8]
    got = lrs_over(lr_scheduler.MultiStepLR(make_optimizer(), milestones, gamma=0.1), 12)
    want = [[0.5 * 0.1 ** bisect_right(milestones, e)] for e in range(12)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_exponential_lr():
    got = lrs_over(lr_scheduler.ExponentialLR(make_optimizer(), gamma=0.9), 15)
    np.testing.assert_allclose(got[:, 0], 0.5 * 0.9 ** np.arange(15), rtol=1e-12)


def test_cosine_annealing_follows_the_cosine_and_comes_back_up():
    t_max, eta_min = 10, 0.01
    got = lrs_over(lr_scheduler.CosineAnnealingLR(make_optimizer(), T_max=t_max, eta_min=eta_min), 35)
    epochs = np.arange(35)
    want = eta_min + (0.5 - eta_min) * (1 + np.cos(np.pi * epochs / t_max)) / 2
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-9, atol=1e-12)
    assert got[t_max, 0] == pytest.approx(eta_min)


def test_lambda_lr_per_group():
    opt = make_optimizer(groups=2)
    scheduler = lr_scheduler.LambdaLR(opt, [lambda e: 1 / (1 + e), lambda e: 0.95 ** e])
    got = lrs_over(scheduler, 8)
    e = np.arange(8)
    np.testing.assert_allclose(got, np.stack([0.5 / (1 + e), 1.0 * 0.95 ** e], 1), rtol=1e-12)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas"):
        lr_scheduler.LambdaLR(make_optimizer(groups=2), [lambda e: 1.0])
    with pytest.raises(TypeError, match="lr_lambda must be callable, got int"):
        lr_scheduler.LambdaLR(make_optimizer(groups=2), [lambda e: 1.0, 3])
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 3"):
        lr_scheduler.MultiplicativeLR(make_optimizer(groups=2), [lambda e: 1.0] * 3)


def one_cycle_formula(step, total, max_lr, div, final_div, pct, strategy):
    """OneCycleLR's lr written out from its definition (two phases)."""
    initial, minimum = max_lr / div, max_lr / div / final_div
    warmup_end = pct * total - 1

    def anneal(start, end, fraction):
        if strategy == "cos":
            return end + (start - end) / 2 * (1 + math.cos(math.pi * fraction))
        return start + (end - start) * fraction
    if step <= warmup_end:
        return anneal(initial, max_lr, step / warmup_end)
    return anneal(max_lr, minimum, (step - warmup_end) / (total - 1 - warmup_end))


@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_one_cycle_lr_and_momentum(strategy):
    total = 50
    opt = make_optimizer(momentum=0.9)
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=2.0, total_steps=total, anneal_strategy=strategy)
    lrs, momenta = [], []
    for _ in range(total):
        lrs.append(opt.param_groups[0]["lr"])
        momenta.append(opt.param_groups[0]["momentum"])
        opt.step()
        if len(lrs) < total:
            scheduler.step()
    want = [one_cycle_formula(s, total, 2.0, 25.0, 1e4, 0.3, strategy) for s in range(total)]
    np.testing.assert_allclose(lrs, want, rtol=1e-12)
    assert lrs[0] == pytest.approx(2.0 / 25) and lrs[14] == pytest.approx(2.0)
    assert lrs[-1] == pytest.approx(2.0 / 25 / 1e4)
    # momentum mirrors the lr: max_momentum at the ends, base_momentum at the peak
    assert momenta[0] == pytest.approx(0.95) and momenta[14] == pytest.approx(0.85)
    assert momenta[-1] == pytest.approx(0.95)
    scheduler.step()
    with pytest.raises(ValueError, match="Tried to step 51 times"):
        scheduler.step()


def test_one_cycle_cycles_adam_beta1_and_three_phase():
    opt = make_optimizer(lr=1e-3, cls=optim.Adam)
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=2, steps_per_epoch=10,
                                        three_phase=True, anneal_strategy="linear")
    lrs, beta1 = [], []
    for _ in range(20):
        lrs.append(opt.param_groups[0]["lr"])
        beta1.append(opt.param_groups[0]["betas"][0])
        opt.step()
        scheduler.step() if len(lrs) < 20 else None
    # phase ends at steps 5 (peak) and 10 (back to initial), then anneal to min_lr at 19
    assert lrs[5] == pytest.approx(0.1) and lrs[10] == pytest.approx(0.1 / 25)
    np.testing.assert_allclose(lrs[:6], np.linspace(0.004, 0.1, 6), rtol=1e-12)
    assert lrs[19] == pytest.approx(0.1 / 25 / 1e4)
    assert beta1[5] == pytest.approx(0.85) and beta1[10] == pytest.approx(0.95)
    assert opt.param_groups[0]["betas"][1] == 0.999


def test_one_cycle_argument_errors():
    with pytest.raises(ValueError, match="total_steps OR"):
        lr_scheduler.OneCycleLR(make_optimizer(momentum=0.9), max_lr=1.0)
    with pytest.raises(ValueError, match="pct_start"):
        lr_scheduler.OneCycleLR(make_optimizer(momentum=0.9), 1.0, total_steps=10, pct_start=1.5)
    with pytest.raises(ValueError, match="momentum or beta1"):
        lr_scheduler.OneCycleLR(make_optimizer(cls=optim.Adagrad), 1.0, total_steps=10)


def test_reduce_lr_on_plateau_patience_cooldown_and_min_lr():
    opt = make_optimizer(lr=1.0)
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1,
                                               min_lr=0.2)
    metrics = [5, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3]
    got = []
    for metric in metrics:
        scheduler.step(metric)
        got.append(opt.param_groups[0]["lr"])
    # 4 at epochs 2, 3, 4 is no improvement: the 3rd bad epoch (> patience) halves the lr;
    # epoch 5 is cooldown (not counted); 6, 7 bad; 3 at epoch 8 improves; 9, 10, 11 bad ->
    # halve; 12 cooldown; 13, 14, 15 bad -> 0.125, clipped to min_lr = 0.2.
    want = [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2]
    np.testing.assert_allclose(got, want)


def test_reduce_lr_on_plateau_max_mode_abs_threshold():
    opt = make_optimizer(lr=1.0)
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, mode="max", threshold=0.1,
                                               threshold_mode="abs", patience=0)
    for accuracy in [0.5, 0.65, 0.7]:       # +0.15 improves, +0.05 is below the threshold
        scheduler.step(accuracy)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="mode"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="lowest")
    with pytest.raises(ValueError, match="Factor"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)


def test_scheduler_state_dict_round_trip(tmp_path):
    opt = make_optimizer()
    scheduler = lr_scheduler.MultiStepLR(opt, [3, 6], gamma=0.5)
    for _ in range(4):
        opt.step()
        scheduler.step()
    minigrad.save({"scheduler": scheduler.state_dict(), "optimizer": opt.state_dict()},
                  tmp_path / "ckpt")
    checkpoint = minigrad.load(tmp_path / "ckpt")

    opt2 = make_optimizer()
    scheduler2 = lr_scheduler.MultiStepLR(opt2, [3, 6], gamma=0.5)
    opt2.load_state_dict(checkpoint["optimizer"])
    scheduler2.load_state_dict(checkpoint["scheduler"])
    for _ in range(4):
        opt.step()
        scheduler.step()
        opt2.step()
        scheduler2.step()
        assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert scheduler2.last_epoch == 8 and opt.param_groups[0]["lr"] == 0.125
