"""On/off switches read from environment variables, spelt one way for all of them.

    MINIGRAD_MALLOC_TUNING=0          (minigrad/allocator.py)
    MINIGRAD_REFERENCE_KERNELS=1      (minigrad/reference/__init__.py)

On: 1, true, yes, on. Off: 0, false, no, off. Case and surrounding spaces
don't matter; unset or empty means the switch's default. Anything else
warns (RuntimeWarning) and leaves the default.
"""
import os
import warnings

TRUE_SPELLINGS = ("1", "true", "yes", "on")
FALSE_SPELLINGS = ("0", "false", "no", "off")


def env_flag(name, default, meaning_of_default):
    """The on/off value of environment variable `name`: `default` when it is unset, empty or
    not a known spelling (meaning_of_default says what the default does, for the warning)."""
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in TRUE_SPELLINGS:
        return True
    if value in FALSE_SPELLINGS:
        return False
    warnings.warn(f"{name}={value!r} is not 0 or 1 (on: {', '.join(TRUE_SPELLINGS)}; off: "
                  f"{', '.join(FALSE_SPELLINGS)}); {meaning_of_default}", RuntimeWarning, stacklevel=3)
    return default
