"""Fixtures shared by the test files: seeding, a NumPy generator, CPU paths, thread counts."""
import numpy as np
import pytest

import minigrad
from minigrad.kernels import cpu


@pytest.fixture(autouse=True)
def _seed_everything():
    """Every test starts from the same random state."""
    minigrad.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(params=cpu.supported_paths())
def cpu_path(request):
    """Runs the test once per instruction-set path this CPU supports
    (generic, avx2, avx512: minigrad.kernels.cpu), the kernels on that path."""
    with cpu.use_cpu_path(request.param):
        yield request.param


@pytest.fixture
def set_threads():
    """Gives the test minigrad.set_num_threads and puts the thread count back afterwards."""
    before = minigrad.get_num_threads()
    yield minigrad.set_num_threads
    minigrad.set_num_threads(before)


class _CompiledModuleSpy:
    """Stands in for a compiled module (minigrad._C.*): records every call into it, then makes it."""

    def __init__(self, module, calls):
        self._module = module
        self._calls = calls

    def __getattr__(self, name):
        attribute = getattr(self._module, name)
        if not callable(attribute):
            return attribute

        def recorded(*args, **kwargs):
            self._calls.append(name)
            return attribute(*args, **kwargs)
        return recorded


@pytest.fixture
def compiled_conv_calls(monkeypatch):
    """The names of the calls into the compiled convolution and GEMM modules
    (minigrad._C.conv, .depthwise, .gemm) made from the kernel boundary, in order."""
    from minigrad.kernels import conv, conv_plan, gemm
    calls = []
    for owner in (conv, conv_plan):
        for name in ("_conv", "_depthwise"):
            monkeypatch.setattr(owner, name, _CompiledModuleSpy(getattr(owner, name), calls))
    monkeypatch.setattr(gemm, "_kernel", _CompiledModuleSpy(gemm._kernel, calls))
    return calls
