"""Devices: minigrad runs on the CPU and accepts PyTorch's device arguments."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def test_device_objects_parse_and_compare_like_pytorch():
    assert repr(mg.device("cpu")) == "device(type='cpu')"
    assert repr(mg.device("cpu:0")) == "device(type='cpu', index=0)"
    assert repr(mg.device("cuda", 1)) == "device(type='cuda', index=1)"
    assert str(mg.device("cuda:1")) == "cuda:1"
    assert mg.device("cpu") == mg.device(mg.device("cpu"))
    assert mg.device("cpu") != mg.device("cpu", 0)
    assert mg.device("cuda").type == "cuda" and mg.device("cuda").index is None
    with pytest.raises(RuntimeError, match="device type at start of device string: gpu"):
        mg.device("gpu")


def test_tensors_live_on_the_cpu():
    x = mg.zeros(2, 3)
    assert x.device == mg.device("cpu") and str(x.device) == "cpu"
    assert x.is_cuda is False
    assert x.cpu() is x
    assert x.to("cpu") is x and x.to(mg.device("cpu:0")) is x
    assert x.to("cpu", copy=True) is not x
    assert x.to("cpu", mg.float64).dtype == mg.float64
    assert x.to(device="cpu", dtype=mg.float64, non_blocking=True).dtype == mg.float64
    assert x.to(mg.zeros(1, dtype=mg.float64)).dtype == mg.float64


@pytest.mark.parametrize("use", [
    lambda: mg.zeros(2).to("cuda"),
    lambda: mg.zeros(2).to(mg.device("cuda", 0)),
    lambda: mg.zeros(2).cuda(),
    lambda: mg.zeros(2, device="cuda"),
    lambda: mg.tensor([1.0], device="mps"),
    lambda: mg.randn(3, device="cuda:0"),
    lambda: nn.Linear(2, 2).to("cuda"),
    lambda: nn.Linear(2, 2).cuda(),
])
def test_using_an_accelerator_is_a_clear_error(use):
    with pytest.raises(RuntimeError, match="minigrad runs on the CPU only"):
        use()


def test_every_creation_function_takes_device():
    for make in (lambda d: mg.zeros(2, device=d), lambda d: mg.ones(2, device=d),
                 lambda d: mg.empty(2, device=d), lambda d: mg.full((2,), 1.0, device=d),
                 lambda d: mg.arange(3, device=d), lambda d: mg.linspace(0, 1, 3, device=d),
                 lambda d: mg.eye(2, device=d), lambda d: mg.rand(2, device=d),
                 lambda d: mg.randn(2, device=d), lambda d: mg.randint(0, 3, (2,), device=d),
                 lambda d: mg.randperm(3, device=d), lambda d: mg.tensor([1], device=d),
                 lambda d: mg.zeros_like(mg.ones(2), device=d)):
        assert make("cpu").device == mg.device("cpu")
        with pytest.raises(RuntimeError, match="CPU only"):
            make("cuda")


def test_availability_queries_match_a_cpu_only_pytorch():
    assert mg.cuda.is_available() is False
    assert mg.cuda.device_count() == 0
    assert mg.accelerator.is_available() is False
    assert mg.accelerator.current_accelerator() is None
    assert mg.backends.mps.is_available() is False
    mg.backends.cudnn.benchmark = True  # accepted, as scripts set it
    mg.cuda.manual_seed_all(0)
    device = mg.device("cuda" if mg.cuda.is_available() else "cpu")
    assert mg.ones(1).to(device).device == device


def test_module_to_device_and_dtype():
    model = nn.Linear(3, 2)
    assert model.to("cpu") is model and model.cpu() is model
    model.to(mg.device("cpu"), mg.float64)
    assert model.weight.dtype == mg.float64
    model.to(mg.zeros(1, dtype=mg.float32))
    assert model.weight.dtype == mg.float32
    np.testing.assert_equal(model(mg.ones(1, 3)).shape, (1, 2))
