"""minigrad.optim.swa_utils: averages against their closed forms, SWALR, update_bn."""
import math

import numpy as np
import pytest

import minigrad
from minigrad import nn, optim
from minigrad.optim import swa_utils
from minigrad.optim.swa_utils import SWALR, AveragedModel, update_bn


def make_model():
    minigrad.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).double()


def set_weights(model, seed):
    """Fill every parameter and buffer with values of `seed`; returns them by name."""
    rng = np.random.default_rng(seed)
    values = {}
    for name, tensor in model.state_dict().items():
        if tensor.array.dtype.kind == "f":
            tensor.array[...] = rng.standard_normal(tensor.shape)
        else:
            tensor.array[...] = rng.integers(0, 20)
        values[name] = tensor.array.copy()
    return values


def averaged_over(averaged, model, seeds):
    history = []
    for seed in seeds:
        history.append(set_weights(model, seed))
        averaged.update_parameters(model)
    return history


PARAMETERS = ["0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"]
BUFFERS = ["1.running_mean", "1.running_var", "1.num_batches_tracked"]


def test_swa_is_the_mean_and_buffers_follow_the_model():
    model = make_model()
    averaged = AveragedModel(model)
    history = averaged_over(averaged, model, range(5))
    state = averaged.state_dict()
    assert list(state) == ["n_averaged"] + ["module." + name for name in model.state_dict()]
    assert list(state)[:3] == ["n_averaged", "module.0.weight", "module.0.bias"]
    assert set(state) == {"n_averaged"} | {"module." + name for name in PARAMETERS + BUFFERS}
    assert int(state["n_averaged"].array) == 5
    for name in PARAMETERS:
        np.testing.assert_allclose(state["module." + name].array,
                                   np.mean([h[name] for h in history], axis=0), rtol=1e-12)
    for name in BUFFERS:   # not averaged: the last model's
        np.testing.assert_array_equal(state["module." + name].array, history[-1][name])


def test_swa_with_buffers_averages_them_too():
    model = make_model()
    averaged = AveragedModel(model, use_buffers=True)
    history = averaged_over(averaged, model, range(6))
    state = averaged.state_dict()
    for name in PARAMETERS + BUFFERS[:2]:
        np.testing.assert_allclose(state["module." + name].array,
                                   np.mean([h[name] for h in history], axis=0), rtol=1e-12)
    # the integer counter is averaged in floating point and truncated at each update
    count = history[0][BUFFERS[2]]
    for k, h in enumerate(history[1:], start=1):
        count = np.trunc(count + (h[BUFFERS[2]] - count) / (k + 1))
    assert state["module." + BUFFERS[2]].array == count
    assert state["module." + BUFFERS[2]].array.dtype == np.int64


@pytest.mark.parametrize("how", ["multi", "single"])
def test_ema_closed_form(how):
    decay = 0.8
    model = make_model()
    if how == "multi":
        averaged = AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(decay))
    else:
        averaged = AveragedModel(model, avg_fn=swa_utils.get_ema_avg_fn(decay))
    history = averaged_over(averaged, model, range(7))
    k = len(history)
    for name in PARAMETERS:
        # e_k = decay^(k-1) w_1 + sum_{j>=2} (1 - decay) decay^(k-j) w_j
        expected = decay ** (k - 1) * history[0][name] + sum(
            (1 - decay) * decay ** (k - j) * history[j - 1][name] for j in range(2, k + 1))
        np.testing.assert_allclose(averaged.state_dict()["module." + name].array, expected,
                                   rtol=1e-12)


def test_single_tensor_swa_function_and_custom_avg_fn():
    model = make_model()
    averaged = AveragedModel(model, avg_fn=swa_utils.get_swa_avg_fn())
    history = averaged_over(averaged, model, range(4))
    np.testing.assert_allclose(averaged.module[0].weight.array,
                               np.mean([h["0.weight"] for h in history], axis=0), rtol=1e-12)

    seen = []

    def halfway(average, current, n_averaged):
        seen.append(int(n_averaged.array))
        assert isinstance(average, minigrad.Tensor) and not average.requires_grad
        return 0.5 * average + 0.5 * current
    model = make_model()
    averaged = AveragedModel(model, avg_fn=halfway)
    history = averaged_over(averaged, model, range(3))
    np.testing.assert_allclose(averaged.module[2].bias.array,
                               0.25 * history[0]["2.bias"] + 0.25 * history[1]["2.bias"]
                               + 0.5 * history[2]["2.bias"], rtol=1e-12)
    assert seen == [1] * len(PARAMETERS) + [2] * len(PARAMETERS)   # not called on the first copy


def test_multi_avg_fn_is_called_once_per_dtype():
    model = nn.Sequential(nn.Linear(2, 3, dtype=minigrad.float32), nn.Linear(3, 1).double())
    calls = []

    def record(averages, currents, n_averaged):
        calls.append({a.array.dtype for a in averages} | {c.array.dtype for c in currents})
        swa_utils.get_swa_multi_avg_fn()(averages, currents, n_averaged)
    averaged = AveragedModel(model, multi_avg_fn=record)
    averaged.update_parameters(model)
    assert calls == []
    averaged.update_parameters(model)
    assert calls == [{np.dtype(np.float32)}, {np.dtype(np.float64)}]
    assert averaged.module[0].weight.array.dtype == np.float32


def test_the_copy_is_independent_and_forward_delegates():
    model = make_model()
    averaged = AveragedModel(model)
    assert averaged.module[0].weight is not model[0].weight
    model[0].weight.array[...] += 1.0
    assert not np.allclose(averaged.module[0].weight.array, model[0].weight.array)
    averaged.update_parameters(model)
    model.eval()
    averaged.eval()
    x = minigrad.tensor(np.random.default_rng(0).standard_normal((5, 3)))
    np.testing.assert_allclose(averaged(x).array, model(x).array, rtol=1e-12)


def test_state_dict_round_trip():
    model = make_model()
    averaged = AveragedModel(model)
    averaged_over(averaged, model, range(3))
    restored = AveragedModel(make_model())
    restored.load_state_dict(averaged.state_dict())
    assert int(restored.n_averaged.array) == 3
    np.testing.assert_array_equal(restored.module[2].weight.array, averaged.module[2].weight.array)


def test_errors():
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        AveragedModel(make_model(), avg_fn=swa_utils.get_swa_avg_fn(),
                      multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    for factory in (swa_utils.get_ema_avg_fn, swa_utils.get_ema_multi_avg_fn):
        with pytest.raises(ValueError, match=r"Invalid decay value 1.5 provided. .*\[0,1\]"):
            factory(1.5)
    optimizer = optim.SGD(make_model().parameters(), lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', "
                                         "instead got 'step'"):
        SWALR(optimizer, swa_lr=0.05, anneal_strategy="step")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0, got -1"):
        SWALR(optimizer, swa_lr=0.05, anneal_epochs=-1)


# ---------------------------------------------------------------------- SWALR
@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 5])
def test_swalr_anneals_to_swa_lr(strategy, anneal_epochs):
    params = [{"params": [minigrad.zeros(2, requires_grad=True)], "lr": 0.5},
              {"params": [minigrad.zeros(2, requires_grad=True)], "lr": 0.2}]
    optimizer = optim.SGD(params, lr=0.1)
    scheduler = SWALR(optimizer, swa_lr=[0.05, 0.01], anneal_epochs=anneal_epochs,
                      anneal_strategy=strategy)

    def alpha(t):
        return t if strategy == "linear" else (1 - math.cos(math.pi * t)) / 2
    for step in range(12):
        progress = 1.0 if anneal_epochs == 0 else min(1.0, step / anneal_epochs)
        for group, base, swa in zip(optimizer.param_groups, (0.5, 0.2), (0.05, 0.01)):
            assert group["lr"] == pytest.approx(swa * alpha(progress) + base * (1 - alpha(progress)),
                                                rel=1e-12)
        assert scheduler.get_last_lr() == [g["lr"] for g in optimizer.param_groups]
        optimizer.step()
        scheduler.step()
    state = scheduler.state_dict()
    assert "anneal_func" not in state and state["_anneal_strategy"] == strategy
    other = SWALR(optim.SGD([minigrad.zeros(1, requires_grad=True)], lr=1.0), swa_lr=0.1,
                  anneal_strategy="linear" if strategy == "cos" else "cos")
    other.load_state_dict(state)
    assert other.anneal_func(0.5) == pytest.approx(alpha(0.5))


# -------------------------------------------------------------------- update_bn
def test_update_bn_recomputes_equal_weight_statistics():
    model = make_model()
    set_weights(model, 1)
    model[1].momentum = 0.3
    model.eval()
    rng = np.random.default_rng(2)
    batches = [rng.standard_normal((6, 3)) for _ in range(4)]
    loader = [(minigrad.tensor(x), 0) for x in batches[:2]] + [minigrad.tensor(x)
                                                               for x in batches[2:]]
    update_bn(loader, model)
    w, b = model[0].weight.array, model[0].bias.array
    hidden = [x @ w.T + b for x in batches]            # (6, 4) each: what the BatchNorm sees
    np.testing.assert_allclose(model[1].running_mean.array,
                               np.mean([h.mean(axis=0) for h in hidden], axis=0), rtol=1e-12)
    np.testing.assert_allclose(model[1].running_var.array,
                               np.mean([h.var(axis=0, ddof=1) for h in hidden], axis=0), rtol=1e-12)
    assert int(model[1].num_batches_tracked.array) == 4
    assert model[1].momentum == 0.3 and not model.training


def test_update_bn_on_an_averaged_model_and_without_batch_norm():
    model = make_model()
    averaged = AveragedModel(model)
    averaged_over(averaged, model, range(3))
    x = minigrad.tensor(np.random.default_rng(3).standard_normal((8, 3)))
    update_bn([x], averaged)
    h = x.array @ averaged.module[0].weight.array.T + averaged.module[0].bias.array
    np.testing.assert_allclose(averaged.module[1].running_mean.array, h.mean(axis=0), rtol=1e-12)
    assert averaged.training

    plain = nn.Linear(3, 2)
    before = plain.weight.array.copy()
    update_bn([x], plain)
    np.testing.assert_array_equal(plain.weight.array, before)
