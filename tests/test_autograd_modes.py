"""torch.vmap, torch.autograd.grad_mode / anomaly_mode / variable, the multithreading flag,
the top-level build flags and is_storage."""
import importlib
import threading
import warnings

import numpy as np
import pytest

import minigrad
from minigrad import autograd


def test_vmap_is_func_vmap_and_maps_over_the_batch():
    assert minigrad.vmap is minigrad.func.vmap
    x = minigrad.tensor(np.arange(12.0).reshape(3, 4))
    w = minigrad.tensor(np.array([1.0, -2.0, 0.5, 3.0]))
    out = minigrad.vmap(lambda row: (row * w).sum())(x)
    np.testing.assert_allclose(out.array, np.arange(12.0).reshape(3, 4) @ w.array)


@pytest.mark.parametrize("path,names", [
    ("minigrad.autograd.grad_mode", ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
                                     "set_multithreading_enabled"]),
    ("minigrad.autograd.anomaly_mode", ["detect_anomaly", "set_detect_anomaly"]),
    ("minigrad.autograd.variable", ["Variable"]),
])
def test_submodules_import_by_pytorch_path_and_hold_minigrads_objects(path, names):
    module = importlib.import_module(path)
    assert module is getattr(autograd, path.rsplit(".", 1)[1])
    for name in names:
        assert getattr(module, name) is getattr(autograd, name), name


def test_grad_mode_no_grad_turns_recording_off():
    from minigrad.autograd.grad_mode import enable_grad, no_grad, set_grad_enabled
    x = minigrad.ones(2, requires_grad=True)
    with no_grad():
        assert not (x * 2).requires_grad
        with enable_grad():
            assert (x * 2).requires_grad
    with set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_anomaly_mode_detect_anomaly_names_the_nan():
    from minigrad.autograd.anomaly_mode import detect_anomaly
    x = minigrad.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with detect_anomaly():
            y = (x.sqrt() * 0.0).sum()          # d sqrt / dx at 0 is inf, times 0: nan
            with pytest.raises(RuntimeError, match="nan"):
                y.backward()


def test_variable_returns_the_tensor():
    from minigrad.autograd.variable import Variable
    t = minigrad.ones(3)
    v = Variable(t, requires_grad=True)
    assert v.requires_grad and isinstance(v, Variable)
    with pytest.raises(TypeError, match="Variable data has to be a tensor"):
        Variable([1.0, 2.0])


def test_multithreading_flag_call_context_and_decorator():
    assert autograd.is_multithreading_enabled() is True
    with autograd.set_multithreading_enabled(False):
        assert autograd.is_multithreading_enabled() is False
    assert autograd.is_multithreading_enabled() is True

    setter = autograd.set_multithreading_enabled(False)     # a plain call sets it (as PyTorch)
    assert autograd.is_multithreading_enabled() is False
    setter.__exit__(None, None, None)
    assert autograd.is_multithreading_enabled() is True

    @autograd.grad_mode.set_multithreading_enabled(False)
    def inside():
        return autograd.is_multithreading_enabled()
    # as in PyTorch, building the decorator already set the flag
    assert autograd.is_multithreading_enabled() is False
    autograd.set_multithreading_enabled(True)
    assert inside() is False
    assert autograd.is_multithreading_enabled() is True


def test_multithreading_flag_is_thread_local_and_backward_still_works():
    seen = []
    with autograd.set_multithreading_enabled(False):
        thread = threading.Thread(target=lambda: seen.append(autograd.is_multithreading_enabled()))
        thread.start()
        thread.join()
        x = minigrad.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
    assert seen == [True]
    np.testing.assert_allclose(x.grad.array, [2.0, 4.0])


def test_multithreading_flag_wants_a_bool():
    with pytest.raises(TypeError, match="must be bool, not int"):
        autograd.set_multithreading_enabled(1)
    assert autograd.is_multithreading_enabled() is True


def test_build_flags_are_booleans_answered_for_minigrad():
    from minigrad.kernels.threads import openmp_enabled
    for name in ("has_openmp", "has_lapack", "has_mkl", "has_spectral"):
        assert isinstance(getattr(minigrad, name), bool), name
    assert minigrad.has_openmp == bool(openmp_enabled())
    assert minigrad.has_lapack and minigrad.has_spectral
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    assert minigrad.has_mkl == ("mkl" in blas.lower())


@pytest.mark.parametrize("obj", [minigrad.zeros(3), np.zeros(3), [1, 2], bytearray(4), None])
def test_is_storage_is_false_without_storage_classes(obj):
    assert minigrad.is_storage(obj) is False
