"""One source of randomness for all of minigrad.

``minigrad.manual_seed(seed)`` makes every random draw reproducible: tensor
creation (randn, rand, randint), weight initialisation, dropout, data
shuffling and augmentation all draw from ``generator()``.
"""
import numpy as np

_seed = int(np.random.SeedSequence().entropy % (2 ** 63))  # a fresh seed each run, as in PyTorch
_generator = np.random.default_rng(_seed)


def manual_seed(seed):
    """Seed minigrad's generator; returns the seed."""
    global _generator, _seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
    _seed = int(seed)
    _generator = np.random.default_rng(_seed)
    return _seed


def initial_seed():
    return _seed


def generator():
    """The np.random.Generator every random draw in minigrad uses."""
    return _generator


def get_rng_state():
    return _generator.bit_generator.state


def set_rng_state(state):
    _generator.bit_generator.state = state


class Generator:
    """torch.Generator: a separate random stream, passed as ``generator=`` to random functions."""

    def __init__(self, device="cpu"):
        from minigrad.devices import check_device
        self.device = check_device(device)
        self._seed = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.numpy_generator = np.random.default_rng(self._seed)

    def manual_seed(self, seed):
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
        self._seed = int(seed)
        self.numpy_generator = np.random.default_rng(self._seed)
        return self

    def seed(self):
        """Reseed from fresh entropy; returns the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % (2 ** 63)))
        return self._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self.numpy_generator.bit_generator.state

    def set_state(self, state):
        self.numpy_generator.bit_generator.state = state
        return self


def numpy_generator(generator_or_none):
    """The np.random.Generator a draw uses: the given minigrad.Generator's, else the global one."""
    if generator_or_none is None:
        return _generator
    if not isinstance(generator_or_none, Generator):
        raise TypeError(f"generator must be a minigrad.Generator, got {type(generator_or_none).__name__}")
    return generator_or_none.numpy_generator


# --- shapefns ---
def seed():
    """Seed minigrad's generator from fresh entropy; returns the new seed (initial_seed() gives it too)."""
    return manual_seed(int(np.random.SeedSequence().entropy % (2 ** 63)))
