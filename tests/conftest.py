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
