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
def restore_threads():
    """Gives the test minigrad.set_num_threads and puts the thread count back afterwards."""
    before = minigrad.get_num_threads()
    yield minigrad.set_num_threads
    minigrad.set_num_threads(before)
