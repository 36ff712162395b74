"""Every implementation, through the very callable the benchmarks time, against float64."""
import math
from functools import partial

import numpy as np
import pytest
import torch

from benchmarks.common import parse_shape, require_device, to_torch, uniform_matrix
from benchmarks.impls import (
    ACCUMULATIONS,
    AXIS_LIBRARIES,
    GELU_MODES,
    SUMS,
    error_bound,
    prepare_axis_sum,
    prepare_gelu,
    prepare_sum,
)

SIZES = [1, 7, 100, 1023, 10_000, 100_003]


def _sequential32(n):
    return error_bound("float32 sequential", n)


def _blocked32(n):
    return error_bound("float32 blocked", n)


# The error bound of each kind of accumulation an implementation declares in the registry.
ERROR_BOUND = {kind: partial(error_bound, kind) for kind in ACCUMULATIONS}


def sum_tolerance():
    """impl -> error bound, from the accumulation each registered implementation declares."""
    return {name: ERROR_BOUND[impl.accumulation] for name, impl in SUMS.items()}


SUM_TOLERANCE = sum_tolerance()


def _uniform(n, seed=0):
    return np.random.default_rng(seed).random(n, dtype=np.float32)


def test_every_accumulation_kind_has_a_bound():
    assert set(ERROR_BOUND) == set(ACCUMULATIONS)
    assert set(SUM_TOLERANCE) == set(SUMS)


@pytest.mark.parametrize("impl", list(SUMS))
@pytest.mark.parametrize("n", SIZES)
def test_sum_matches_float64_reference(impl, n):
    x = _uniform(n)
    expected = math.fsum(x.astype(np.float64))
    got = float(prepare_sum(impl, x)())
    assert abs(got - expected) <= SUM_TOLERANCE[impl](n) * expected, (got, expected)


def test_naive_float32_sum_error_is_real_and_bounded():
    # Every element 0.1: a float32 running total drifts, a pairwise sum does not. Guards the
    # tolerances above against being so loose that they accept anything.
    x = np.full(1_000_000, 0.1, dtype=np.float32)
    expected = math.fsum(x.astype(np.float64))
    loose = abs(float(prepare_sum("numba_np_sum", x)()) - expected) / expected
    tight = abs(float(prepare_sum("numpy_sum", x)()) - expected) / expected
    assert loose > 1e-3
    assert tight <= _blocked32(x.size)


AXIS_SHAPES = [(1, 1), (7, 3), (3, 7), (64, 129), (1023, 5)]


@pytest.mark.parametrize("library", AXIS_LIBRARIES)
@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("axis", ["rows", "cols"])
@pytest.mark.parametrize("shape", AXIS_SHAPES)
def test_axis_sum_matches_float64_reference(library, layout, axis, shape):
    a = np.random.default_rng(1).random(shape, dtype=np.float32)
    a = np.asfortranarray(a) if layout == "F" else np.ascontiguousarray(a)
    dim = -1 if axis == "rows" else 0
    expected = a.astype(np.float64).sum(axis=dim)
    got = np.asarray(prepare_axis_sum(library, a, axis)(), dtype=np.float64)
    assert got.shape == expected.shape
    # Either library may add along a strided axis one element at a time: sequential bound.
    n = shape[dim]
    np.testing.assert_allclose(got, expected, rtol=_sequential32(n), atol=0)


@pytest.fixture(scope="module")
def gelu_input():
    # Wide range, both signs, including zero; odd length.
    x = np.random.default_rng(2).standard_normal(1023, dtype=np.float32) * 4
    x[0] = 0.0
    return x


def _gelu_reference(x):
    x64 = x.astype(np.float64)
    erf = np.vectorize(math.erf)
    return x64 * 0.5 * (1.0 + erf(x64 / math.sqrt(2.0)))


@pytest.mark.parametrize("mode", GELU_MODES)
def test_gelu_matches_float64_erf_reference(mode, gelu_input):
    got = prepare_gelu(mode, gelu_input)().numpy().astype(np.float64)
    # float32: a handful of rounded ops plus erf's few-ulp error stay below ~1e-6 relative;
    # the seed's 1.41421 for sqrt(2) (2.5e-6 relative) moves erf's argument by up to ~3e-6 of
    # the output. rtol 1e-5 covers both; atol covers outputs that underflow towards 0 (x << 0).
    np.testing.assert_allclose(got, _gelu_reference(gelu_input), rtol=1e-5, atol=1e-6)


def test_uniform_matrix_layouts_hold_the_same_kind_of_data_without_float64():
    c = uniform_matrix(30, 20, "C")
    f = uniform_matrix(30, 20, "F")
    assert c.dtype == f.dtype == np.float32
    assert c.flags.c_contiguous and f.flags.f_contiguous and f.shape == (30, 20)
    assert 0 <= f.min() and f.max() < 1
    uniform_matrix.cache_clear()
    np.testing.assert_array_equal(uniform_matrix(30, 20, "F"), f)  # fixed seed


def test_torch_view_of_fortran_array_keeps_its_strides():
    f = uniform_matrix(30, 20, "F")
    t = to_torch(f, "cpu")
    assert t.stride() == (1, 30) and t.data_ptr() == f.ctypes.data  # no copy


def test_parse_shape():
    assert parse_shape("100000x100") == (100_000, 100)


def test_cpu_only_impls_refuse_cuda_with_a_skip():
    with pytest.raises(NotImplementedError):
        prepare_sum("numpy_sum", _uniform(10), "cuda")
    with pytest.raises(NotImplementedError):
        prepare_axis_sum("numpy", uniform_matrix(3, 3, "C"), "rows", "cuda")


def test_unknown_choices_are_explained():
    with pytest.raises(ValueError, match="unknown impl 'nope'"):
        prepare_sum("nope", _uniform(10))
    with pytest.raises(ValueError, match="unknown mode"):
        prepare_gelu("fast", _uniform(10))
    with pytest.raises(ValueError, match="unknown device"):
        require_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has cuda")
def test_missing_cuda_is_a_skip_not_a_failure():
    with pytest.raises(NotImplementedError, match="cuda is not available"):
        require_device("cuda")


def test_gelu_compile_failure_is_a_skip(monkeypatch, gelu_input):
    # A backend that fails stands in for a machine without a working inductor toolchain.
    import functools

    import torch._dynamo

    def broken_backend(gm, example_inputs):
        raise RuntimeError("no C++ compiler")

    torch._dynamo.reset()
    monkeypatch.setattr(torch, "compile", functools.partial(torch.compile, backend=broken_backend))
    with pytest.raises(NotImplementedError, match="torch.compile cannot compile here"):
        prepare_gelu("compiled", gelu_input)
    torch._dynamo.reset()
