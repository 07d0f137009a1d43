"""Thread control and show_config (the compiled threads module)."""
import io
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy

import minigrad as mg
from minigrad.kernels import threads

# Whether the kernels were compiled with OpenMP (a MINIGRAD_NO_OPENMP=1 build, or a
# compiler without it, gives serial kernels: the tests then check that fallback).
OPENMP_BUILT = threads.openmp_enabled()


def test_set_and_get_num_threads(set_threads):
    mg.set_num_threads(1)
    assert mg.get_num_threads() == 1
    mg.set_num_threads(np.int64(3))
    assert mg.get_num_threads() == 3 and type(mg.get_num_threads()) is int


@pytest.mark.parametrize("bad", [0, -2])
def test_set_num_threads_below_one_is_a_value_error(bad, set_threads):
    with pytest.raises(ValueError, match=f">= 1, got {bad}"):
        mg.set_num_threads(bad)


def test_set_num_threads_needs_an_int(set_threads):
    with pytest.raises(TypeError, match="int"):
        mg.set_num_threads(2.0)


def default_threads_in_a_fresh_process(omp_num_threads):
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    if omp_num_threads is not None:
        env["OMP_NUM_THREADS"] = omp_num_threads
    code = "import minigrad; print(minigrad.get_num_threads())"
    repo_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=repo_root,
                            capture_output=True, text=True, check=True)
    return int(result.stdout.strip())


def test_default_comes_from_omp_num_threads():
    assert default_threads_in_a_fresh_process("3") == 3
    assert default_threads_in_a_fresh_process("5,2") == 5
    assert default_threads_in_a_fresh_process(None) == len(os.sched_getaffinity(0))


def test_show_config():
    buffer = io.StringIO()
    mg.show_config(file=buffer)
    text = buffer.getvalue()
    assert f"minigrad {mg.__version__}" in text
    assert f"numpy:    {np.__version__}" in text
    assert f"scipy:    {scipy.__version__}" in text
    assert "Cython:" in text
    assert f"threads:  {mg.get_num_threads()}" in text
    assert "BLAS:" in text
    if OPENMP_BUILT:
        assert "OpenMP:   yes" in text
    else:
        assert "OpenMP:   no (kernels run serially)" in text


def test_show_config_prints_to_stdout(capsys):
    mg.show_config()
    assert "OpenMP:" in capsys.readouterr().out


@pytest.mark.skipif(OPENMP_BUILT, reason="built with OpenMP")
def test_a_serial_build_runs_every_parallel_region_on_one_thread():
    assert threads.threads_used(2) == 1
    assert threads.threads_used(1) == 1
    with pytest.raises(ValueError, match="got 0"):
        threads.threads_used(0)


@pytest.mark.skipif(not OPENMP_BUILT, reason="built without OpenMP")
def test_openmp_runs_a_parallel_region_on_the_requested_threads():
    assert threads.openmp_enabled()
    assert threads.threads_used(2) == 2
    assert threads.threads_used(1) == 1
    with pytest.raises(ValueError, match="got 0"):
        threads.threads_used(0)
