"""minigrad's own float32 GEMM (csrc/gemm.h), used by the convolution kernels."""
import numpy as np
import pytest

import minigrad
from minigrad.kernels import conv_plan
from minigrad.kernels import gemm as gemm_kernels
from minigrad.reference.gemm import gemm as reference_gemm

needs_own_gemm = pytest.mark.skipif(gemm_kernels.PACK_SIZE == 0,
                                    reason="the own GEMM is off (MINIGRAD_GEMM=blas) or not compiled")


def _operand(rng, shape, transposed):
    """A float32 (rows, cols) operand, stored transposed (a strided view) when asked."""
    if transposed:
        return rng.standard_normal(shape[::-1]).astype(np.float32).T
    return rng.standard_normal(shape).astype(np.float32)


def test_reference_gemm_matches_matmul():
    rng = np.random.default_rng(0)
    for m, k, n in [(1, 1, 1), (9, 300, 40), (130, 20, 33)]:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        np.testing.assert_allclose(reference_gemm(a, b), a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4)


@needs_own_gemm
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (8, 256, 32), (7, 5, 31), (64, 576, 1024), (9, 257, 33),
                                   (130, 300, 65), (3, 600, 2100), (200, 64, 3),
                                   (13, 70, 17), (145, 33, 9)])
@pytest.mark.parametrize("transpose_a,transpose_b", [(False, False), (True, False), (False, True),
                                                     (True, True)])
def test_gemm_matches_float64_product(m, k, n, transpose_a, transpose_b, cpu_path):
    # edges of every block size (MR 8/6, NR 32/16/8, KC 256, MC 128/144, NC 2048) and both
    # operand layouts, on every instruction-set path
    rng = np.random.default_rng(m * 1000 + k + n)
    a = _operand(rng, (m, k), transpose_a)
    b = _operand(rng, (k, n), transpose_b)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    result = gemm_kernels.gemm(a, b)
    assert result.shape == (m, n) and result.dtype == np.float32
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4 * np.sqrt(k))
    # the same bytes from either layout of the operands: packing reads them in another
    # order (a transposed A: MR contiguous floats a step), the products do not change
    same = gemm_kernels.gemm(np.ascontiguousarray(a), np.ascontiguousarray(b))
    np.testing.assert_array_equal(result, same)


@needs_own_gemm
def test_gemm_accumulate_adds_to_out_and_overwrite_ignores_it(cpu_path):
    rng = np.random.default_rng(1)
    a, b = _operand(rng, (20, 300), False), _operand(rng, (300, 45), False)
    start = rng.standard_normal((20, 45)).astype(np.float32)
    out = start.copy()
    gemm_kernels.gemm(a, b, out=out, accumulate=True)
    np.testing.assert_allclose(out, start + a.astype(np.float64) @ b, rtol=1e-4, atol=1e-3)
    out[...] = np.nan                                    # overwrite must never read C
    gemm_kernels.gemm(a, b, out=out)
    np.testing.assert_allclose(out, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-3)


@needs_own_gemm
def test_gemm_empty_sum_is_zero(cpu_path):
    out = np.full((3, 4), 7.0, dtype=np.float32)
    gemm_kernels.gemm(np.empty((3, 0), np.float32), np.empty((0, 4), np.float32), out=out)
    assert np.all(out == 0)


@needs_own_gemm
def test_gemm_bitwise_identical_for_any_thread_count(cpu_path, set_threads):
    rng = np.random.default_rng(2)
    a, b = _operand(rng, (70, 600), False), _operand(rng, (600, 1000), True)
    results = []
    for threads in (1, 2, 3):
        set_threads(threads)
        results.append(gemm_kernels.gemm(a, b))
    assert np.array_equal(results[0], results[1]) and np.array_equal(results[0], results[2])


@needs_own_gemm
def test_gemm_rejects_bad_operands():
    a = np.ones((3, 4), np.float32)
    with pytest.raises(ValueError, match="expected a"):
        gemm_kernels.gemm(a, np.ones((5, 2), np.float32))
    with pytest.raises(TypeError, match="float32"):
        gemm_kernels.gemm(a, np.ones((4, 2), np.float64))
    with pytest.raises(ValueError, match="out must be"):
        gemm_kernels.gemm(a, np.ones((4, 2), np.float32), out=np.ones((3, 3), np.float32))


def test_conv_float32_same_with_own_gemm_and_blas(monkeypatch, cpu_path):
    # the convolution kernels give the same numbers through either GEMM
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 6, 11, 9)).astype(np.float32)
    w = rng.standard_normal((10, 6, 3, 3)).astype(np.float32)
    xt, wt = minigrad.tensor(x, requires_grad=True), minigrad.tensor(w, requires_grad=True)
    y = minigrad.nn.functional.conv2d(xt, wt, padding=1, stride=(1, 2))
    y.backward(minigrad.tensor(np.ones(y.shape, np.float32)))
    monkeypatch.setattr(gemm_kernels, "PACK_SIZE", 0)
    assert not conv_plan.uses_own_gemm(np.dtype(np.float32))      # BLAS from here on
    xb, wb = minigrad.tensor(x, requires_grad=True), minigrad.tensor(w, requires_grad=True)
    yb = minigrad.nn.functional.conv2d(xb, wb, padding=1, stride=(1, 2))
    yb.backward(minigrad.tensor(np.ones(yb.shape, np.float32)))
    np.testing.assert_allclose(y.array, yb.array, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(xt.grad.array, xb.grad.array, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(wt.grad.array, wb.grad.array, rtol=1e-5, atol=1e-3)


def test_matmul_uses_numpy_below_the_size_threshold_and_agrees_above():
    rng = np.random.default_rng(4)
    small_a, small_b = _operand(rng, (3, 4), False), _operand(rng, (4, 5), False)
    assert np.array_equal(gemm_kernels.matmul(small_a, small_b), np.matmul(small_a, small_b))
    a, b = _operand(rng, (70, 130), False), _operand(rng, (130, 90), True)
    np.testing.assert_allclose(gemm_kernels.matmul(a, b), a.astype(np.float64) @ b, rtol=1e-4, atol=1e-3)
    a64 = a.astype(np.float64)
    assert np.array_equal(gemm_kernels.matmul(a64, b.astype(np.float64)), a64 @ b.astype(np.float64))


@needs_own_gemm
def test_gemm_tile_follows_the_cpu_path(cpu_path):
    # the tile (and so the packed layout) is the path's; the product is the same to rounding
    from minigrad.reference.gemm import PATH_TILES
    assert gemm_kernels.tile() == PATH_TILES[cpu_path][:2]
    assert gemm_kernels.kernel_paths()["gemm"] == cpu_path


def test_gemm_paths_agree_and_blas_is_reported(monkeypatch):
    from minigrad.kernels import cpu
    rng = np.random.default_rng(5)
    a, b = _operand(rng, (37, 300), False), _operand(rng, (300, 70), True)
    results = []
    for path in cpu.supported_paths() if gemm_kernels.PACK_SIZE else ():     # (off under MINIGRAD_GEMM=blas)
        with cpu.use_cpu_path(path):
            results.append(gemm_kernels.gemm(a, b))
    for result in results[1:]:
        np.testing.assert_allclose(result, results[0], rtol=1e-5, atol=1e-4)
    monkeypatch.setattr(gemm_kernels, "PACK_SIZE", 0)
    assert gemm_kernels.kernel_paths()["gemm"] == "blas"


def test_show_config_names_the_cpu_path_and_each_kernels_path(cpu_path):
    import io

    from minigrad import config
    paths = config.kernel_paths()
    assert paths["gemm"] == paths["implicit_gemm"] == (cpu_path if gemm_kernels.PACK_SIZE else "blas")
    assert paths["col2im"] == cpu_path
    out = io.StringIO()
    minigrad.show_config(file=out)
    text = out.getvalue()
    assert f"CPU path: {cpu_path}" in text and f"gemm {paths['gemm']}" in text


def test_reference_switch_runs_linear_on_the_numpy_gemm(compiled_conv_calls):
    # Linear's products (forward, input and weight gradients) go through
    # gemm.matmul; under the switch they run minigrad/reference/gemm.py
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((70, 80)), rng.standard_normal((90, 80)), rng.standard_normal(90)

    def run():
        X, W, B = (minigrad.tensor(a.astype(np.float32), requires_grad=True) for a in (x, w, b))
        y = minigrad.nn.functional.linear(X, W, B)
        (y * y).sum().backward()
        return y.array, X.grad.array, W.grad.array

    compiled = run()
    compiled_conv_calls.clear()
    with minigrad.use_reference_kernels():
        on_reference = run()
        if gemm_kernels.PACK_SIZE:
            product = gemm_kernels.gemm(x[:, :8].astype(np.float32), w[:8].astype(np.float32))
            np.testing.assert_allclose(product, x[:, :8] @ w[:8], rtol=1e-4, atol=1e-4)
    assert compiled_conv_calls == []
    for fast, slow in zip(compiled, on_reference):
        np.testing.assert_allclose(fast, slow, rtol=1e-4, atol=1e-3)


@needs_own_gemm
def test_fma_loop_counts_the_path_width_and_peak_is_positive(cpu_path):
    # 12 accumulator registers x the path's lanes x 2 FLOPs per fused multiply-add, per round and thread
    from minigrad._C import gemm as gemm_module
    lanes = {"avx512": 16, "avx2": 8, "generic": 4}[cpu_path]
    assert gemm_module.fma_loop(1000, 2) == 2 * 1000 * 12 * lanes * 2
    assert gemm_module.fma_loop(0, 1) == 0
    assert gemm_kernels.fma_peak(threads=1, seconds=0.01) > 0


def test_fma_loop_rejects_bad_arguments():
    from minigrad._C import gemm as gemm_module
    with pytest.raises(ValueError, match="rounds must be >= 0"):
        gemm_module.fma_loop(-1, 1)
    with pytest.raises(ValueError, match="num_threads >= 1"):
        gemm_module.fma_loop(10, 0)
    with pytest.raises(ValueError, match="threads must be >= 1, got 0"):
        gemm_kernels.fma_peak(threads=0)
