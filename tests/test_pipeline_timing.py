"""Pipeline parallelism in the step time: a request is never split over micro-batches.

Audit: a step cost ``pp`` stage steps on ``1/pp`` of the batch whatever the batch, so a lone
prompt's TTFT fell with PP (Llama-3.1-8B, H100, vLLM, isl 8192, C = 1: 312 / 175 / 109 / 79 ms
at PP 1 / 2 / 4 / 8) and the search favoured PP. A lone request crosses every stage with all
its tokens; only a batch of at least ``pp`` requests fills the pipeline.
"""

from __future__ import annotations

import pytest

from infercast.deployment import Deployment
from infercast.estimation.estimate import estimate
from infercast.estimation.resolve import resolve
from infercast.estimation.timing import StepTimer
from infercast.layers import StepShape
from infercast.parallel.collectives import Collective, collective_time_s

LLAMA = "meta-llama/Llama-3.1-8B-Instruct"  # hidden 4096, 32 layers


def _timer(pp: int) -> StepTimer:
    resolved = resolve(Deployment.of(model=LLAMA, hardware="h100", framework="vllm", pp=pp))
    return resolved.timer.unmemoised()


def _handoff_s(timer: StepTimer, tokens: float) -> float:
    """One p2p of the bf16 hidden states of ``tokens`` tokens (4096 × 2 B each)."""
    eff = timer.params.efficiency
    op = Collective("p2p", 2, tokens * 4096 * 2)
    return collective_time_s(op, timer.hardware, eff.collective, eff.collective_latency_s)


def test_a_lone_prompt_crosses_every_stage_with_all_its_tokens() -> None:
    prompt = StepShape(4096.0, 1.0, 2048.5, 4096.0, 0.0, 0.0)
    one, two, four = _timer(1), _timer(2), _timer(4)
    # the whole model on the whole prompt (the stages' layers add up to the model's; the step
    # overhead is paid once), plus pp − 1 hand-offs of its 4,096 tokens
    assert two.step_s(prompt) == pytest.approx(one.step_s(prompt) + _handoff_s(two, 4096))
    assert four.step_s(prompt) == pytest.approx(one.step_s(prompt) + 3 * _handoff_s(four, 4096))


def test_a_lone_decode_gains_nothing_from_pp() -> None:
    decode = StepShape(0.0, 0.0, 0.0, 0.0, 1.0, 1024.0)
    one, two = _timer(1), _timer(2)
    assert two.step_s(decode) == pytest.approx(one.step_s(decode) + _handoff_s(two, 1))


def test_prompts_ride_in_separate_micro_batches() -> None:
    # Two prompts and 50 decodes in a 2-stage pipeline: each micro-batch carries one prompt
    # and 25 decodes, so the step takes what one prompt beside 25 decodes takes...
    two = _timer(2)
    pair = StepShape(16384.0, 2.0, 4096.5, 8192.0, 50.0, 8256.0)
    single = StepShape(8192.0, 1.0, 4096.5, 8192.0, 50.0, 8256.0)
    assert two.step_s(pair) == pytest.approx(two.step_s(single))
    # ... and decodes alone spread over both: 64 decodes cost 2 stage steps of 32.
    full, half = StepShape(0, 0, 0, 0, 64.0, 8256.0), StepShape(0, 0, 0, 0, 32.0, 8256.0)
    stage_32 = two.stage_time(half).time_s
    overhead = two.params.efficiency.step_overhead_s
    assert two.step_s(full) == pytest.approx(2 * stage_32 - overhead + _handoff_s(two, 32))


def test_ttft_of_a_lone_prompt_does_not_fall_with_pp() -> None:
    ttft = [
        estimate(LLAMA, "h100", framework="vllm", isl=4096, osl=128, concurrency=1, pp=pp).ttft_ms
        for pp in (1, 2, 4, 8)
    ]
    assert ttft == sorted(ttft)  # each hand-off adds; nothing is split
    assert ttft[-1] < ttft[0] * 1.05  # seven hand-offs of 4,096 tokens are a few ms
