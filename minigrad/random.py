"""One source of randomness for all of minigrad.

``minigrad.manual_seed(seed)`` makes every random draw reproducible: tensor
creation (randn, rand, randint), weight initialisation, dropout, data
shuffling and augmentation all draw from ``generator()``.
"""
import numpy as np

_generator = np.random.default_rng()
_seed = None


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
