"""Steady-state model of a closed-loop serving benchmark with continuous batching.

``C`` requests are always in flight; each needs a prefill of ``isl`` tokens and ``osl`` output
tokens. The engine runs steps; each step decodes one token for every decoding sequence and may
carry prompt chunks (chunked prefill: a step's budget ``B`` tokens covers the decode tokens and
the chunks). At throughput ``X`` requests/s and mean step time ``τ``:

- Little's law on the decode phase: ``D = X·(osl−1)·τ`` sequences are decoding;
- prompt tokens arrive at ``X·isl`` per second, so a fraction ``f = X·isl·τ / P`` of the steps
  carry a prefill chunk of ``P = min(B − D, max(isl, X·isl·τ))`` tokens — those steps take
  ``T(D, P)``, the others ``T(D, 0)``: ``τ = f·T(D, P) + (1 − f)·T(D, 0)``. Decode steps are
  slowed by the prefills that share them; that is why TPOT grows with ``isl·C/osl``;
- TTFT = the request's fixed overhead outside the engine steps (``request_overhead_s``: HTTP,
  tokenisation, admission, streaming the first token) + half a step (a new request waits for
  the running step) + its own
  prefill: ``⌊isl / (B − D)⌋`` full steps and one step of the remainder (charged at the
  remainder's cost) + queueing behind other prefills: M/D/1 with
  utilisation ``ρ = X·isl·τ / (B − D)`` (arriving prompt tokens over the room a step has for
  them, since waiting prompts are batched into one step; ``ρ/(2(1−ρ))`` of a prefill
  service) for random arrivals, plus
  ``burstiness·(C−1)`` other prompts' prefill work for the clustering of closed-loop arrivals
  (clients that started together and produce equal output lengths come back together);
- the closed loop closes the system: ``C = X·(TTFT + (osl−1)·τ)``.

The unknown solved for is the prompt load ``a = X·isl·τ`` (prompt tokens per step), not ``X``:
given ``a``, ``D = a·(osl−1)/isl`` (the two Little's laws divided), ``P``, ``f = a/P`` and so
``τ`` are explicit — no fixed point in ``τ`` (one whose slope nears 1 where every step carries
a prompt chunk, and which has no solution past it) — and then ``X = a/(isl·τ)`` and TTFT. The
clients the loop holds, ``N(a) = X·TTFT + D``, grow with ``a`` from 0 to the pole of the M/D/1
wait at ``ρ = 1``, so ``N(a) = C`` has one root, found by a bracketed regula falsi, that grows
with C: TTFT and τ never fall as C grows, and Little's law holds at the root. Where a step in
``T(·)`` makes ``N`` jump across ``C``, the loop is the time-weighted mix of the two states
beside the step that closes it.

Sequences beyond what the engine admits (the KV cache's capacity, or its batch cap) wait
outside it; their wait is added to TTFT. ``T(·)`` comes from :mod:`infercast.estimation.timing`.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass

from infercast.errors import InvalidInputError
from infercast.estimation.timing import StepTimer
from infercast.layers import StepShape

__all__ = ["LoopState", "ServingPoint", "solve", "solve_closed_loop"]


@dataclass(frozen=True)
class ServingPoint:
    requests_per_s: float
    tpot_s: float
    ttft_s: float
    decode_seqs: float
    prefill_chunk_tokens: float
    prefill_step_s: float
    decode_step_s: float
    prefill_fraction: float
    queued_outside_s: float


@dataclass(frozen=True)
class LoopState:
    """The engine's steady state at one request throughput ``X`` (module docstring)."""

    tau_s: float
    """Mean step time τ."""
    decode_seqs: float
    """Sequences decoding, D."""
    chunk_tokens: float
    """Prompt tokens in a prefill-carrying step, P."""
    prefill_fraction: float
    """Share of the steps that carry a prefill chunk, f."""
    mixed_step_s: float
    """T(D, P)."""
    plain_step_s: float
    """T(D, 0)."""
    ttft_s: float
    """Time to first token, queueing inside the engine included."""
    requests_per_s: float
    """Request throughput X = a / (isl·τ)."""


class _Engine:
    def __init__(self, timer: StepTimer, isl: int, osl: int, budget: int):
        self.timer = timer
        self.burstiness = timer.params.burstiness
        self.request_overhead = timer.params.efficiency.request_overhead_s
        self.isl = isl
        self.osl = osl
        self.budget = budget
        self.decode_context = isl + osl / 2.0
        self.prefill_context = (isl + 1) / 2.0
        self._room_floor = min(float(budget), 256.0)
        self.decodes_per_prompt_token = max(osl - 1, 0) / isl
        """D / a: decoding sequences per prompt token a step carries (module docstring)."""

    def step_s(self, decode_seqs: float, prefill_tokens: float) -> float:
        """T(D, P) on the exact shape (the timer memoises exact shapes only: a rounded key
        would hand one shape the time of whichever nearby shape was asked first)."""
        if prefill_tokens:
            chunk = min(float(self.isl), prefill_tokens)
            seqs = prefill_tokens / self.isl
        else:
            chunk = seqs = 0.0
        shape = StepShape(
            prefill_tokens,
            seqs,
            self.prefill_context,
            chunk,
            decode_seqs,
            self.decode_context,
        )
        return self.timer.step_s(shape)

    def chunk_room(self, decode_seqs: float) -> float:
        room = float(self.budget) - decode_seqs
        floor = self._room_floor
        return floor if floor > room else room  # max(room, floor), ties and NaN alike

    def prefill_service_s(self, decode_seqs: float, room: float, t_mixed: float) -> float:
        """Engine time of one request's own prefill: a prompt that fits the step's room rides
        one prefill-carrying step (``t_mixed``); a longer one takes ``⌊isl/room⌋`` full steps
        and one more step for the remainder only, charged at the remainder's cost (not as a
        full step: a prompt of exactly one token budget beside ``D`` decodes costs
        ``T(D, B − D) + T(D, D)``, not ``2·T(D, B − D)``)."""
        if self.isl <= room:
            return t_mixed
        full = math.floor(self.isl / room)
        rest = self.isl - full * room
        service = full * self.step_s(decode_seqs, room)
        if rest > 0.0:
            service += self.step_s(decode_seqs, rest)
        return service

    def saturation_load(self) -> float:
        """The prompt tokens per step ``a`` at which they fill the step's room (``ρ = 1``):
        ``a = max(B − a·(osl−1)/isl, floor)``, i.e. ``max(B·isl/(isl + osl − 1), floor)``."""
        unfloored = self.budget / (1.0 + self.decodes_per_prompt_token)
        return max(unfloored, self._room_floor)

    def state_at_load(self, load: float, concurrency: float) -> LoopState:
        """The steady state in which steps carry ``load`` prompt tokens on average (``a``)."""
        isl, osl = self.isl, self.osl
        decode = load * self.decodes_per_prompt_token
        room = self.chunk_room(decode)
        least = room if room < isl else float(isl)  # min(isl, room)
        chunk = min(room, max(least, load))
        frac = min(1.0, load / chunk)
        t_mixed = self.step_s(decode, chunk)
        t_plain = self.step_s(decode, 0.0) if osl > 1 else t_mixed
        tau = frac * t_mixed + (1.0 - frac) * t_plain
        service = self.prefill_service_s(decode, room, t_mixed)
        # Prefill queue: the engine batches waiting prompts into a step up to its token room,
        # so the server's utilisation is the arriving prompt tokens over that room.
        rho = load / room
        wait = math.inf if rho >= 1.0 else rho / (2.0 * (1.0 - rho)) * service
        others = self.burstiness * max(concurrency - 1.0, 0.0)
        if others > 0.0:  # a lone client (or no burstiness) waits for no other prompt
            full = t_mixed if chunk == room else self.step_s(decode, room)
            clustered = others * isl / room * full
        else:
            clustered = 0.0
        ttft = self.request_overhead + 0.5 * tau + service + wait + clustered
        x = load / (isl * tau)
        return LoopState(tau, decode, chunk, frac, t_mixed, t_plain, ttft, x)


def _mix(low: LoopState, high: LoopState, w: float) -> LoopState:
    """``(1 − w)·low + w·high``, field by field: the loop spending a share ``w`` of its time in
    the regime of ``high`` (where a step in T(·) leaves no single state that closes it)."""
    if w <= 0.0:
        return low
    if w >= 1.0:
        return high
    mixed = [(1.0 - w) * a + w * b for a, b in zip(astuple(low), astuple(high), strict=True)]
    return LoopState(*mixed)


_OVERLOADED = 1e29
_ROOT_FTOL = 1e-10
"""Relative gap ``|N(a) − C| / C`` at which the root is taken as exact."""
_ROOT_ATOL = 1e-13
"""Relative width of the bracket on ``a`` at which it is a point (a step of N across C)."""


def _close_loop(engine: _Engine, admitted: float, hi: float) -> tuple[LoopState, LoopState, float]:
    """The load where ``N(a) = C``, as two states bracketing it and the weight of the upper
    one: regula falsi with the Anderson–Björck correction on ``N(a) − C``, bisecting while
    the upper end is in the overloaded region (``N`` has a pole at saturation).

    ``N`` grows with ``a``, so the bracket closes on the one root and the root grows with C.
    Hand-written rather than scipy's ``brentq``: importing ``scipy.optimize`` costs the CLI
    half a second, and the two end states are what a step of ``N`` across ``C`` needs.
    """

    def excess(state: LoopState) -> float:
        population = state.requests_per_s * state.ttft_s + state.decode_seqs
        if not population < _OVERLOADED:  # an overloaded queue (or NaN): "very many clients"
            population = 10 * _OVERLOADED
        return population - admitted

    # The state at no load is needed only if the bracket's lower end never moves: built then
    # (a pure function of the load, so building it late changes nothing).
    s_lo: LoopState | None = None
    s_hi = engine.state_at_load(hi, admitted)
    f_lo, f_hi = -admitted, excess(s_hi)
    if f_hi <= 0.0:  # the decode phase holds every client before the prompts saturate
        return s_hi, s_hi, 0.0
    lo, side = 0.0, 0
    g_lo, g_hi = f_lo, f_hi  # the Anderson–Björck-weighted ends
    for _ in range(300):
        if g_hi >= _OVERLOADED:
            x = 0.5 * (lo + hi)
        else:
            x = (lo * g_hi - hi * g_lo) / (g_hi - g_lo)
            if not lo < x < hi:
                x = 0.5 * (lo + hi)
        state = engine.state_at_load(x, admitted)
        fx = excess(state)
        if abs(fx) <= _ROOT_FTOL * admitted:
            return state, state, 0.0
        if fx < 0:
            if side == -1:  # the same end moved twice: shrink the other end's weight
                m = 1.0 - fx / g_lo
                g_hi *= m if m > 0 else 0.5
            lo, s_lo, f_lo, g_lo, side = x, state, fx, fx, -1
        else:
            if side == 1:
                m = 1.0 - fx / g_hi
                g_lo *= m if m > 0 else 0.5
            hi, s_hi, f_hi, g_hi, side = x, state, fx, fx, 1
        if hi - lo <= _ROOT_ATOL * hi:
            break
    if s_lo is None:
        s_lo = engine.state_at_load(0.0, admitted)
    if f_hi >= _OVERLOADED:
        return s_lo, s_lo, 0.0
    return s_lo, s_hi, -f_lo / (f_hi - f_lo)


def solve_closed_loop(
    timer: StepTimer, isl: int, osl: int, concurrency: int, budget: int, engine_cap: int
) -> ServingPoint:
    """Steady state of ``concurrency`` clients; ``engine_cap`` = sequences the engine admits."""
    engine = _Engine(timer, isl, osl, budget)
    admitted = float(max(1, min(concurrency, engine_cap)))
    # The load is bounded by prefill saturation (ρ = 1, the M/D/1 pole) and by the load at
    # which every client decodes (D = C, where N ≥ C already).
    hi = engine.saturation_load()
    if engine.decodes_per_prompt_token > 0.0:
        hi = min(hi, admitted / engine.decodes_per_prompt_token)
    low, high, w = _close_loop(engine, admitted, hi)
    state = _mix(low, high, w)
    tau, ttft = state.tau_s, state.ttft_s
    if not (math.isfinite(ttft) and ttft > 0.0 and math.isfinite(tau) and tau > 0.0):
        raise InvalidInputError(
            f"isl {isl}, osl {osl}, concurrency {concurrency}: the serving model has no steady "
            "state for this load (check that the inputs make physical sense)"
        )
    # Little's law fixes the throughput of the state that closes the loop (equal to the
    # state's own a/(isl·τ) at a root, and the time-weighted mix at a step of N across C).
    x = admitted / (ttft + max(osl - 1, 0) * tau)
    queued = max(0.0, concurrency - admitted) / x
    return ServingPoint(
        requests_per_s=x,
        tpot_s=tau,
        ttft_s=ttft + queued,
        decode_seqs=state.decode_seqs,
        prefill_chunk_tokens=state.chunk_tokens,
        prefill_step_s=state.mixed_step_s,
        decode_step_s=state.plain_step_s,
        prefill_fraction=state.prefill_fraction,
        queued_outside_s=queued,
    )


def solve(
    timer: StepTimer, budget: int, isl: int, osl: int, concurrency: int, cap: int
) -> ServingPoint:
    """Stage 3 of an estimate — solve: the closed loop for the admitted load (``osl ≥ 1``)."""
    return solve_closed_loop(timer, isl, max(osl, 1), concurrency, budget, cap)
