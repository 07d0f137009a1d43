import numpy as np
import pytest

import minigrad


@pytest.fixture(autouse=True)
def _seed_everything():
    """Every test starts from the same random state."""
    minigrad.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
