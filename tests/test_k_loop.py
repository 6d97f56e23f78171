"""The dense K-loop law (infercast.layers.k_loop): DeepGEMM's dense table, the K0 of each
tensor-core format, hand-derived timed weights of real layers, and that reports keep the
useful FLOPs while the timer charges the timed work."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infercast.dtypes import dtype
from infercast.estimation.estimate import prepare
from infercast.hardware import get_hardware
from infercast.hardware.schema import COMPUTE_CLASSES
from infercast.layers import CostContext, StepShape
from infercast.layers.base import TENSOR_CLASS_BYTES
from infercast.layers.ffn import MLPCost
from infercast.layers.k_loop import (
    DENSE_K0_BYTES,
    GROUPED_K0_BYTES,
    k_loop_efficiency,
    timed_weights,
)
from infercast.parallel import ParallelPlan
from infercast.specs.layer_classes import GatedMLPLayerSpecs

_CHUNK = StepShape(prefill_tokens=8192, prefill_seqs=1, prefill_context=4096.5, prefill_chunk=8192)


def _context(tp: int = 1, weights: str | None = None, part: str | None = None) -> CostContext:
    bf16 = dtype("bf16")
    classes = frozenset(get_hardware(part).peak_flops) if part else frozenset()
    return CostContext(
        plan=ParallelPlan.build(tp=tp),
        weight_dtype=dtype(weights) if weights else None,
        moe_dtype=None,
        kv_dtype=bf16,
        activation_dtype=bf16,
        default_dtype=bf16,
        tensor_classes=classes,
    )


def _llama8b_mlp(tp: int, weights: str | None = None) -> MLPCost:
    """Llama-3.1-8B's gated MLP (hidden 4096, intermediate 14336, bf16 checkpoint) at ``tp``."""
    specs = GatedMLPLayerSpecs(hidden_size=4096, intermediate_size=14336)
    return MLPCost(specs, _context(tp, weights))


def test_dense_k0_reproduces_deepgemms_dense_table() -> None:
    # DeepGEMM README (H800, fp8, M = 4096, N = 7168): 1358 TFLOPS at K 16384, 1025 at K 2048.
    # 2048/2848 = 0.719101 and 16384/17184 = 0.953445: ratio 0.754214 against 1025/1358 =
    # 0.754786.
    assert DENSE_K0_BYTES == 800.0 and GROUPED_K0_BYTES == 550.0
    fp8 = DENSE_K0_BYTES  # 1 byte per element: 800 elements
    assert k_loop_efficiency(800, fp8) == 0.5
    assert k_loop_efficiency(2048, fp8) == pytest.approx(0.719101, abs=1e-6)
    assert k_loop_efficiency(16384, fp8) == pytest.approx(0.953445, abs=1e-6)
    ratio = k_loop_efficiency(2048, fp8) / k_loop_efficiency(16384, fp8)
    assert ratio == pytest.approx(1025 / 1358, abs=1e-3)
    # The table's other M = 4096 rows from the 1358 one: K 512 (N 32768) 1358 · 0.390244 /
    # 0.953445 = 555.8 against 590 measured; K 1536 (N 24576) 1358 · 0.657534 / 0.953445 =
    # 936.5 against 990: within 6 %.
    asymptote = 1358 / k_loop_efficiency(16384, fp8)
    assert asymptote == pytest.approx(1424.3, abs=0.1)
    assert asymptote * k_loop_efficiency(512, fp8) == pytest.approx(555.8, abs=0.1)
    assert asymptote * k_loop_efficiency(1536, fp8) == pytest.approx(936.5, abs=0.1)
    assert k_loop_efficiency(0, fp8) == 0.0


def test_the_format_a_part_runs_sets_the_element_width() -> None:
    # K0 is bytes of K per row: a format's K0 in elements is 800 / its bytes per element, for
    # the tensor-core format the part really runs. mxfp4 weights run as fp4 on Blackwell
    # (0.5 B) and dequantise to bf16 on Hopper (2 B); int4 weight-only always runs bf16.
    h200, b200, anything = _context(part="h200"), _context(part="b200"), _context()
    assert h200.run_format_bytes(dtype("fp8")) == 1.0
    assert h200.run_format_bytes(dtype("bf16")) == 2.0
    assert h200.run_format_bytes(dtype("mxfp4")) == 2.0
    assert b200.run_format_bytes(dtype("mxfp4")) == 0.5
    assert b200.run_format_bytes(dtype("nvfp4")) == 0.5
    assert b200.run_format_bytes(dtype("int4")) == 2.0
    assert anything.run_format_bytes(dtype("nvfp4")) == 0.5  # no part: the format's own
    # Every tensor-core class a part may declare has a width (a user's part cannot miss one).
    assert set(TENSOR_CLASS_BYTES) == set(COMPUTE_CLASSES)
    assert TENSOR_CLASS_BYTES["tf32"] == 4.0 and TENSOR_CLASS_BYTES["int8"] == 1.0


def test_timed_weights_add_k0_per_output_column() -> None:
    # Σ K·N / (K/(K + K0)) = Σ N·(K + K0): (4096, 6144) at K0 800 and (4096, 4096) at K0 400:
    # 6144·4896 + 4096·4496 = 30081024 + 18415616 = 48496640.
    assert timed_weights([(4096, 6144, 800.0), (4096, 4096, 400.0)]) == 48496640
    assert timed_weights([(0, 10, 800.0)]) == 0.0


@given(
    k=st.floats(min_value=1.0, max_value=1e6),
    more=st.floats(min_value=0.0, max_value=1e6),
    k0=st.sampled_from([275.0, 400.0, 550.0, 800.0, 1600.0]),
)
def test_efficiency_is_below_one_and_grows_with_depth(k: float, more: float, k0: float) -> None:
    low, high = k_loop_efficiency(k, k0), k_loop_efficiency(k + more, k0)
    assert 0.0 < low <= high < 1.0


def test_a_tp8_gated_mlp_is_timed_for_its_shallow_down_projection() -> None:
    # Llama-3.1-8B's MLP (hidden 4096, intermediate 14336) at TP8: gate_up K 4096, N 3584;
    # down K 1792, N 4096. Useful weights 4096·3584 + 1792·4096 = 22020096. In bf16
    # (K0 = 800/2 = 400): timed 3584·4496 + 4096·2192 = 16113664 + 8978432 = 25092096
    # (1.140× the useful).
    cost = _llama8b_mlp(tp=8).step_cost(_CHUNK)
    assert cost.matmul_flops == 2 * 8192 * 22020096
    assert cost.timed_matmul_flops == 2 * 8192 * 25092096
    assert cost.matmul_work == cost.timed_matmul_flops
    # In fp8 (K0 800): 3584·4896 + 4096·2592 = 17547264 + 10616832 = 28164096 (1.279×).
    fp8 = _llama8b_mlp(tp=8, weights="fp8").step_cost(_CHUNK)
    assert fp8.timed_matmul_flops == 2 * 8192 * 28164096
    # At TP1 the down projection is deep (K 14336), bf16: 28672·4496 + 4096·14736 =
    # 128909312 + 60358656 = 189267968 against 176160768 useful (1.074×).
    assert _llama8b_mlp(tp=1).step_cost(_CHUNK).timed_matmul_flops == 2 * 8192 * 189267968


def test_an_estimate_charges_the_timed_work_at_the_fitted_efficiency() -> None:
    # Llama-3.1-8B-Instruct on H100 TP1 (bf16), one 8192-token prefill chunk: the MLP layer
    # type (32 instances) is timed for 2 · 8192 · 189267968 FLOPs each at compute × peak.
    dep = prepare("meta-llama/Llama-3.1-8B-Instruct", "h100", framework="vllm")
    layers = dep.timer.step_time(_CHUNK, detail=True).layers
    mlp = next(t for t in layers if t.name == "feedforward")
    rate = dep.hardware.peak_flops_for("bf16", "bf16")[0] * dep.params.efficiency.compute
    assert mlp.cost.timed_matmul_flops == 2 * 8192 * 189267968
    assert mlp.compute_s == pytest.approx(32 * 2 * 8192 * 189267968 / rate, rel=1e-12)
    assert mlp.cost.matmul_flops == 2 * 8192 * 176160768
