"""Serving-model consistency (issue 11, item 10): the closed-loop solve of ``estimation/serving.py``
gives one steady state per load, so latencies never fall as the load grows and Little's law holds.

The regression case is checked against the module's equations by hand, with the step times
taken from the step timer (how the serving model combines them is what is under test).
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from functools import cache

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import infercast
from infercast.estimation.estimate import Resolved, prepare, serving_point
from infercast.estimation.serving import ServingPoint
from infercast.estimation.timing import StepTimer
from infercast.layers import StepShape

LLAMA_8B = "meta-llama/Llama-3.1-8B-Instruct"

DEPLOYMENTS: dict[str, tuple[str, str, dict]] = {
    "llama-8b h100 tp2 vllm": (LLAMA_8B, "h100", {"tp": 2, "framework": "vllm"}),
    "llama-8b h100 tp1 dp2 vllm": (LLAMA_8B, "h100", {"dp": 2, "framework": "vllm"}),
    "gpt-oss-20b mi300x tp2 dp8": ("openai/gpt-oss-20b", "mi300x", {"tp": 2, "dp": 8}),
    "gpt-oss-120b b200 tp4 trtllm": (
        "openai/gpt-oss-120b",
        "b200",
        {"tp": 4, "framework": "trtllm"},
    ),
    "qwen3-32b h200 tp2 sglang": ("Qwen/Qwen3-32B", "h200", {"tp": 2, "framework": "sglang"}),
    "qwen3-30b-a3b h100 tp2 pp2 vllm": (
        "Qwen/Qwen3-30B-A3B",
        "h100",
        {"tp": 2, "pp": 2, "framework": "vllm"},
    ),
}

REL = 1e-6
"""Slack of "non-decreasing": the root is solved to 1e-10 of C, far below any real change."""


@cache
def _prepared(name: str) -> Resolved:
    model, hardware, plan = DEPLOYMENTS[name]
    return prepare(model, hardware, **plan)


def _point(name: str, isl: int, osl: int, concurrency: int) -> ServingPoint:
    return serving_point(_prepared(name), isl, osl, concurrency)


def _in_flight(p: ServingPoint, osl: int) -> float:
    """Little's law as docs/PERFORMANCE_MODEL.md states it: C = X·(TTFT + (osl − 1)·TPOT)."""
    return p.requests_per_s * (p.ttft_s + (osl - 1) * p.tpot_s)


# --- the reported case: Llama-3.1-8B-Instruct, 2×H100, vLLM, isl 748, osl 200 ---------------


@pytest.mark.parametrize("plan", [{"tp": 2}, {"tp": 1, "dp": 2}])
def test_the_reported_llama_sweep_never_lowers_ttft(plan: dict) -> None:
    # Reported: TP2 gave TTFT 235.8 ms at C = 200, 224 at 250, 83.6 at 296, 390 at 350.
    results = [
        infercast.estimate(
            LLAMA_8B, "h100", isl=748, osl=200, concurrency=c, framework="vllm", **plan
        )
        for c in range(200, 351, 2)
    ]
    for a, b in itertools.pairwise(results):
        assert b.ttft_ms >= a.ttft_ms * (1 - REL), (a.concurrency, a.ttft_ms, b.ttft_ms)
        assert b.tpot_ms >= a.tpot_ms * (1 - REL), (a.concurrency, a.tpot_ms, b.tpot_ms)
    for r in results:
        in_flight = r.requests_per_s * (r.ttft_ms + 199 * r.tpot_ms) / 1e3
        assert in_flight == pytest.approx(r.concurrency, rel=REL)


@pytest.mark.parametrize("concurrency", [200, 250, 296, 350])
def test_the_reported_llama_state_solves_the_serving_equations(concurrency: int) -> None:
    dep = _prepared("llama-8b h100 tp2 vllm")
    isl, osl, budget = 748, 200, 8192
    p = serving_point(dep, isl, osl, concurrency)
    eff, burstiness = dep.params.efficiency, dep.params.burstiness
    x, tau, d = p.requests_per_s, p.tpot_s, p.decode_seqs

    def step(prefill: float) -> float:
        shape = StepShape(
            prefill_tokens=prefill,
            prefill_seqs=prefill / isl,
            prefill_context=(isl + 1) / 2.0,
            prefill_chunk=min(isl, prefill),
            decode_seqs=d,
            decode_context=isl + osl / 2.0,
        )
        return dep.timer.step_time(shape).time_s

    # Little's law on the decode phase: D = X·(osl − 1)·τ sequences decode.
    assert d == pytest.approx(x * (osl - 1) * tau, rel=1e-6)
    assert 0 < d < concurrency
    # Prompt tokens arrive at X·isl per second, X·isl·τ per step. A step that carries prompt
    # tokens carries a whole prompt (748 tokens fit the 8192 − D room) or, once more than one
    # prompt arrives per step, every step carries them all: P = max(isl, X·isl·τ), f = X·isl·τ/P.
    arriving = x * isl * tau
    chunk = max(isl, arriving)
    room = budget - d
    assert chunk < room and p.prefill_chunk_tokens == pytest.approx(chunk, rel=1e-6)
    f = arriving / chunk
    assert p.prefill_fraction == pytest.approx(f, rel=1e-6)
    # τ = f·T(D, P) + (1 − f)·T(D, 0).
    t_mixed, t_plain = step(chunk), step(0.0)
    assert tau == pytest.approx(f * t_mixed + (1 - f) * t_plain, rel=1e-6)
    # TTFT = overhead + τ/2 + own prefill (one step: the prompt fits the room) + M/D/1 wait
    # with ρ = arriving / room + burstiness·(C − 1) prompts of full-step work.
    rho = arriving / room
    wait = rho / (2 * (1 - rho)) * t_mixed
    clustered = burstiness * (concurrency - 1) * isl / room * step(room)
    ttft = eff.request_overhead_s + 0.5 * tau + t_mixed + wait + clustered
    assert p.ttft_s == pytest.approx(ttft, rel=1e-6)
    # And the loop closes: C = X·(TTFT + (osl − 1)·τ).
    assert _in_flight(p, osl) == pytest.approx(concurrency, rel=1e-6)


def test_the_saturated_gpt_oss_case_grows_with_concurrency() -> None:
    # The second case: gpt-oss-20b, MI300X TP2 × DP8, isl 4096, osl 16 fell from 172 s
    # to 16 s between C = 1024 and 2048. Past prefill saturation throughput is flat, so the
    # clients not decoding wait in line: TTFT ≈ C/X, doubling with C.
    points = [_point("gpt-oss-20b mi300x tp2 dp8", 4096, 16, c) for c in (512, 1024, 2048)]
    for a, b in itertools.pairwise(points):
        assert b.ttft_s > a.ttft_s
        assert b.requests_per_s == pytest.approx(a.requests_per_s, rel=0.02)
    assert points[2].ttft_s / points[1].ttft_s == pytest.approx(2.0, rel=0.02)


# --- the busiest DP rank holds a whole prompt chunk ------------------------------------------


@pytest.mark.parametrize(
    ("dp", "cp", "concurrency", "chunks", "ranks"),
    [
        (8, 1, 8, 1, 1.0),  # one chunk: on one rank, however many the load spans
        (8, 1, 8, 4, 4.0),  # four chunks: four ranks
        (8, 1, 8, 16, 8.0),  # more chunks than ranks: the even share
        (8, 1, 2, 16, 2.0),  # two requests occupy two ranks
        (8, 2, 8, 1, 2.0),  # context parallelism splits a chunk over its cp group
    ],
)
def test_prompt_work_divides_by_the_ranks_its_chunks_fill(
    dp: int, cp: int, concurrency: int, chunks: int, ranks: float
) -> None:
    dep = prepare(LLAMA_8B, "h100", dp=dp, cp=cp)
    ctx = replace(dep.ctx, concurrency=float(concurrency))
    chunk = 4096.0
    shape = StepShape(chunks * chunk, float(chunks), (chunk + 1) / 2, chunk, 0.0, 0.0)
    assert ctx.prefill_ranks(shape) == ranks
    assert ctx.local_tokens(shape) == chunks * chunk / ranks


def test_a_lone_prompt_costs_a_dp_rank_the_same_whoever_else_is_served() -> None:
    # TP1 × DP2: one 16000-token prompt beside no decodes, with the load spanning one rank
    # (C = 1) or both (C = 2): the rank that holds the prompt does the same work.
    dep = prepare(LLAMA_8B, "h100", dp=2, framework="vllm")
    shape = StepShape(8192.0, 8192 / 16000, 16001 / 2, 8192.0, 0.0, 0.0)
    times = []
    for c in (1, 2):
        ctx = replace(dep.ctx, concurrency=float(c))
        times.append(StepTimer(dep.spec, dep.hardware, ctx, dep.params).step_s(shape))
    assert times[1] == pytest.approx(times[0], rel=1e-12)


# --- properties over a few deployments of the built-in catalog ------------------------------

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LOADS = {
    "name": st.sampled_from(sorted(DEPLOYMENTS)),
    "concurrency": st.integers(1, 2048),
    "isl": st.integers(1, 16384),
    "osl": st.integers(1, 4096),
}


def _not_lower(later: ServingPoint, earlier: ServingPoint, osl: int, tpot: bool = True) -> None:
    assert later.ttft_s >= earlier.ttft_s * (1 - REL)
    if tpot and osl > 1:  # a request of one output token has no time per output token
        assert later.tpot_s >= earlier.tpot_s * (1 - REL)


@PROPERTY
@given(more=st.integers(1, 2048), **LOADS)
@example(name="llama-8b h100 tp2 vllm", concurrency=250, more=46, isl=748, osl=200)
@example(name="llama-8b h100 tp2 vllm", concurrency=296, more=54, isl=748, osl=200)
# A second client on TP1 × DP2 took the other DP rank, and a lone prompt's attention was
# charged as if split over both: TTFT fell 5 % from C = 1 to C = 2.
@example(name="llama-8b h100 tp1 dp2 vllm", concurrency=1, more=1, isl=16000, osl=200)
def test_latencies_never_fall_as_concurrency_grows(
    name: str, concurrency: int, more: int, isl: int, osl: int
) -> None:
    _not_lower(_point(name, isl, osl, concurrency + more), _point(name, isl, osl, concurrency), osl)


@PROPERTY
@given(longer=st.integers(1, 16384), **LOADS)
@example(name="llama-8b h100 tp2 vllm", concurrency=296, isl=700, longer=48, osl=200)
def test_latencies_never_fall_as_prompts_grow(
    name: str, concurrency: int, isl: int, longer: int, osl: int
) -> None:
    base = _point(name, isl, osl, concurrency)
    longer_prompts = _point(name, isl + longer, osl, concurrency)
    # TPOT may fall once the KV cache admits fewer sequences (the rest wait outside the
    # engine, in TTFT); while every request is admitted it cannot.
    admitted = base.queued_outside_s == 0 and longer_prompts.queued_outside_s == 0
    _not_lower(longer_prompts, base, osl, tpot=admitted)


@PROPERTY
@given(more=st.integers(1, 2048), **LOADS)
def test_request_latency_never_falls_as_outputs_grow(
    name: str, concurrency: int, isl: int, osl: int, more: int
) -> None:
    # A longer answer brings fewer prompts per second (TTFT may fall) and longer contexts
    # (TPOT may rise or fall with the prefill share): the request's own end-to-end latency,
    # TTFT + (osl − 1)·TPOT, never falls.
    short, long = _point(name, isl, osl, concurrency), _point(name, isl, osl + more, concurrency)
    short_e2e = short.ttft_s + (osl - 1) * short.tpot_s
    assert long.ttft_s + (osl + more - 1) * long.tpot_s >= short_e2e * (1 - REL)


@PROPERTY
@given(**{**LOADS, "concurrency": st.integers(1, 100_000)})
@example(name="llama-8b h100 tp2 vllm", concurrency=296, isl=748, osl=200)
def test_littles_law_holds_to_one_percent(name: str, concurrency: int, isl: int, osl: int) -> None:
    p = _point(name, isl, osl, concurrency)
    assert p.ttft_s > 0 and p.tpot_s > 0 and p.requests_per_s > 0
    assert _in_flight(p, osl) == pytest.approx(concurrency, rel=0.01)
