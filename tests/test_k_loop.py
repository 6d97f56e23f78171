"""The dense K-loop law (infercast.layers.k_loop): DeepGEMM's dense table, the K0 of each
tensor-core format, hand-derived timed weights of real layers, and that reports keep the
useful FLOPs while the timer charges the timed work."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infercast.dtypes import COMPUTE_CLASS_BYTES, dtype
from infercast.estimation.estimate import prepare
from infercast.hardware import get_hardware
from infercast.hardware.schema import COMPUTE_CLASSES
from infercast.layers import CostContext, StepShape
from infercast.layers.attention import AttentionCost, LatentAttentionCost
from infercast.layers.edges import OutputCost
from infercast.layers.ffn import MLPCost, MoECost
from infercast.layers.k_loop import (
    DENSE_K0_BYTES,
    GROUPED_K0_BYTES,
    k_loop_efficiency,
    timed_weights,
)
from infercast.parallel import ParallelPlan
from infercast.specs.layer_classes import (
    GatedMLPLayerSpecs,
    GroupedQueryAttentionLayerSpecs,
    OutputLayerSpecs,
)
from shapes import DECODE, MLA, MOE, PREFILL_CACHED

_CHUNK = StepShape(prefill_tokens=8192, prefill_seqs=1, prefill_context=4096.5, prefill_chunk=8192)


def _context(
    tp: int = 1, weights: str | None = None, part: str | None = None, experts: str | None = None
) -> CostContext:
    bf16 = dtype("bf16")
    classes = frozenset(get_hardware(part).peak_flops) if part else frozenset()
    return CostContext(
        plan=ParallelPlan.build(tp=tp),
        weight_dtype=dtype(weights) if weights else None,
        moe_dtype=dtype(experts) if experts else None,
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
    assert set(COMPUTE_CLASS_BYTES) == set(COMPUTE_CLASSES)
    assert COMPUTE_CLASS_BYTES["tf32"] == 4.0 and COMPUTE_CLASS_BYTES["int8"] == 1.0


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


def test_gqa_attention_is_timed_for_its_shallow_output_projection() -> None:
    # Llama-3.1-8B's attention (hidden 4096, 32 heads, 8 KV heads, head_dim 128, bf16) at TP8:
    # q, k, v column-parallel (K 4096; N 512 + 128 + 128 = 768), o_proj row-parallel (K 512,
    # N 4096). Useful 768·4096 + 512·4096 = 5242880 per row; timed at K0 400:
    # 768·4496 + 4096·912 = 3452928 + 3735552 = 7188480 (o_proj at 0.56 of the asymptote).
    specs = GroupedQueryAttentionLayerSpecs(
        hidden_size=4096, num_heads=32, num_kv_heads=8, head_dim=128
    )
    cost = AttentionCost(specs, _context(tp=8)).step_cost(_CHUNK)
    assert cost.matmul_flops == 2 * 8192 * 5242880
    assert cost.timed_matmul_flops == 2 * 8192 * 7188480


def test_mla_times_its_latent_up_projection_at_the_latents_depth() -> None:
    # shapes.MLA (hidden 64, 4 heads, q rank 32, kv rank 16, nope 8, rope 4, v 8), bf16
    # (K0 400), one 8-token chunk after 16 cached tokens. Per token: kv_a 20·(64+400) = 9280,
    # q_a 32·464 = 14848, q_b 48·(32+400) = 20736, kv_b 64·(16+400) = 26624, o 64·432 =
    # 27648: 99136 timed (7936 useful). The cached 16 latents are up-projected (kv_b on 16
    # rows): 2·16·16·4·(8+8) = 32768 useful FLOPs, timed at 16/(16+400): ×26 = 851968.
    cost = LatentAttentionCost(MLA, _context()).step_cost(PREFILL_CACHED)
    assert cost.matmul_flops == 2 * 8 * 7936 + 32768  # 159744
    assert cost.timed_matmul_flops == pytest.approx(2 * 8 * 99136 + 851968)  # 2438144


def test_the_lm_head_is_timed_at_the_hiddens_depth() -> None:
    # Four decoding sequences' logits through a 4096 × 128256 bf16 head: useful 2·4·128256·4096,
    # timed at K0 400: 2·4·128256·4496.
    specs = OutputLayerSpecs(hidden_size=4096, vocab_size=128256)
    cost = OutputCost(specs, _context(), None).step_cost(DECODE)
    assert cost.matmul_flops == 2 * 4 * 128256 * 4096
    assert cost.timed_matmul_flops == pytest.approx(2 * 4 * 128256 * 4496)


def test_mxfp4_experts_take_the_k0_of_the_format_the_part_runs() -> None:
    # shapes.MOE's decode step (87.5 executed rows, tests/test_grouped_gemm.py) with mxfp4
    # experts. On H200 they dequantise to bf16 (K0 550/2 = 275): per row 32·339 + 32·339 +
    # 64·307 = 41344, as bf16 experts. On B200 they run fp4 (K0 550/0.5 = 1100): 32·1164 +
    # 32·1164 + 64·1132 = 146944. The bf16 router is 8·(64 + 400) = 3712 per token on both.
    hopper = MoECost(MOE, _context(part="h200", experts="mxfp4")).step_cost(DECODE)
    assert hopper.timed_matmul_flops == pytest.approx(2 * (87.5 * 41344 + 4 * 3712))
    blackwell = MoECost(MOE, _context(part="b200", experts="mxfp4")).step_cost(DECODE)
    assert blackwell.timed_matmul_flops == pytest.approx(2 * (87.5 * 146944 + 4 * 3712))
    assert hopper.matmul_flops == blackwell.matmul_flops == 2 * 4 * (2 * 6144 + 512)
