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
- the closed loop closes the system: ``C = X·(TTFT + (osl−1)·τ)``, solved for ``X`` by
  regula falsi (Illinois) (the left side is fixed, the right side grows with ``X``).

Sequences beyond what the engine admits (the KV cache's capacity, or its batch cap) wait
outside it; their wait is added to TTFT. ``T(·)`` comes from :mod:`infercast.estimation.timing`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

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


_FIXED_POINT_ITERATIONS = 24
"""Enough for the secant iteration to converge wherever the step times are smooth; where
whole-chunk steps make it oscillate, the last iterate is within a step's rounding."""


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
        self._cache: dict[tuple[int, int], float] = {}
        self._room_floor = min(float(budget), 256.0)

    def step_s(self, decode_seqs: float, prefill_tokens: float) -> float:
        # Memoised on a rounded key: the solver revisits nearly identical shapes many times.
        key = (round(decode_seqs * 2), round(prefill_tokens / 16))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
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
        value = self.timer.step_s(shape)
        self._cache[key] = value
        return value

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

    def state_at(self, x: float, concurrency: float) -> LoopState:
        """The steady state at request throughput ``x``."""
        isl, osl = self.isl, self.osl
        # Always the same start: with steps in T(·) (whole prompt chunks) the iteration can end
        # in different places from different starts, and the root finder needs one function.
        step_s = self.step_s
        tau = step_s(0.0, float(isl))
        decode = 0.0
        # The products below are evaluated as written in the module docstring, left to right
        # ((x·(osl−1))·τ, (x·isl)·τ), and min()/max() are spelled as the comparisons they make
        # (same ties, same NaN handling): this loop is the solver's innermost one.
        x_decoding = x * max(osl - 1, 0)
        x_isl = x * isl
        budget, floor = float(self.budget), self._room_floor
        previous: tuple[float, float] | None = None  # (τ, g(τ) − τ) of the last iterate
        for _ in range(_FIXED_POINT_ITERATIONS):
            decoding = x_decoding * tau
            decode = decoding if decoding < concurrency else concurrency  # min(C, ·)
            room = budget - decode
            room = floor if floor > room else room  # chunk_room(decode)
            arriving = x_isl * tau
            least = room if room < isl else float(isl)  # float(min(isl, room))
            wanted = arriving if arriving > least else least  # max(least, arriving)
            chunk = wanted if wanted < room else room  # min(room, wanted)
            t_mixed = step_s(decode, chunk)
            t_plain = step_s(decode, 0.0) if osl > 1 else t_mixed
            frac = arriving / chunk
            if not frac < 1.0:  # min(1.0, ·)
                frac = 1.0
            new_tau = frac * t_mixed + (1.0 - frac) * t_plain
            if abs(new_tau - tau) <= 1e-9 + 1e-5 * tau:
                tau = new_tau
                break
            # τ = g(τ) by the secant method on g(τ) − τ (a damped step when the secant has no
            # usable slope): g is smooth and nearly linear, so this takes a few iterations.
            gap = new_tau - tau
            step = 0.5 * gap
            if previous is not None and gap != previous[1]:
                secant = -gap * (tau - previous[0]) / (gap - previous[1])
                if tau + secant > 0.0 and abs(secant) <= 4.0 * abs(gap):
                    step = secant
            previous = (tau, gap)
            tau += step
        service = self.prefill_service_s(decode, room, t_mixed)
        # Prefill queue: the engine batches waiting prompts into a step up to its token room,
        # so the server's utilisation is the arriving prompt tokens over that room.
        rho = arriving / room
        wait = math.inf if rho >= 1.0 else rho / (2.0 * (1.0 - rho)) * service
        full = self.step_s(decode, room)
        clustered = self.burstiness * max(concurrency - 1.0, 0.0) * isl / room * full
        ttft = self.request_overhead + 0.5 * tau + service + wait + clustered
        return LoopState(tau, decode, chunk, frac, t_mixed, t_plain, ttft)


def _root(
    f: Callable[[float], float],
    lo: float,
    hi: float,
    rtol: float,
    ftol: float,
    f_lo: float,
    f_hi: float,
) -> float:
    """Root of an increasing ``f`` with ``f_lo = f(lo) < 0 < f(hi) = f_hi``: regula falsi with the
    Anderson–Björck correction, bisecting while the upper end is in the overloaded region.

    Superlinear on the smooth closed-loop curve, and it keeps a bracket, so the steps the
    curve has (whole prefill steps, the cache's rounding) cannot throw it out. Hand-written
    rather than scipy's ``brentq``: importing ``scipy.optimize`` costs the CLI half a second.
    """
    side = 0
    for _ in range(200):
        if f_hi >= _OVERLOADED:
            x = 0.5 * (lo + hi)
        else:
            x = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
            if not lo < x < hi:
                x = 0.5 * (lo + hi)
        fx = f(x)
        if fx < 0:
            if side == -1:  # the same end moved twice: shrink the other end's weight
                m = 1.0 - fx / f_lo
                f_hi *= m if m > 0 else 0.5
            lo, f_lo, side = x, fx, -1
        else:
            if side == 1:
                m = 1.0 - fx / f_hi
                f_lo *= m if m > 0 else 0.5
            hi, f_hi, side = x, fx, 1
        if hi - lo <= rtol * hi or abs(fx) <= ftol:
            if abs(fx) <= ftol:
                return x
            break
    return lo if f_hi >= _OVERLOADED else (lo * f_hi - hi * f_lo) / (f_hi - f_lo)


_OVERLOADED = 1e29
_LITTLE_RTOL = 1e-2
"""Relative gap between the clients in flight at the solver's root, ``X·(TTFT + (osl−1)·τ)``,
and ``C`` beyond which the root is not trusted and TTFT is taken from Little's law (which must
hold to 1 %). Below it the modelled TTFT is kept: it is smooth in the inputs, while ``C/X −
(osl−1)·τ`` amplifies the solver's tolerance by ``(osl−1)·τ / TTFT``."""


def solve_closed_loop(
    timer: StepTimer, isl: int, osl: int, concurrency: int, budget: int, engine_cap: int
) -> ServingPoint:
    """Steady state of ``concurrency`` clients; ``engine_cap`` = sequences the engine admits."""
    engine = _Engine(timer, isl, osl, budget)
    admitted = float(max(1, min(concurrency, engine_cap)))

    def population(x: float) -> float:
        """Clients the loop holds at throughput ``x``: ``X·(TTFT + (osl−1)·τ)``."""
        state = engine.state_at(x, admitted)
        return x * (state.ttft_s + max(osl - 1, 0) * state.tau_s)

    # Upper bracket: prefill saturation (every step full of prompt chunks).
    # Prompts cannot arrive faster than full steps of prompt tokens are processed; past that
    # rate the prefill queue grows without bound. Steps of pure prefill are the fastest there
    # are, so this rate bounds the finite region from above.
    room = float(budget)
    t_full = engine.step_s(0.0, room)
    hi = max(1e-9, 1.02 * room / (isl * max(t_full, 1e-12)))

    def excess(x: float) -> float:
        # Finite everywhere (an overloaded prefill queue is "very many clients"), so the root
        # finder can interpolate; it bisects where the curve has steps or no useful slope.
        return min(population(x), _OVERLOADED * 10) - admitted

    f_hi = excess(hi)
    while f_hi < 0 and hi < 1e12:
        hi *= 2.0
        f_hi = excess(hi)
    x = hi if f_hi <= 0 else _root(excess, 0.0, hi, 1e-5, 1e-4 * admitted, -admitted, f_hi)
    state = engine.state_at(x, admitted)
    tau, ttft = state.tau_s, state.ttft_s
    # Near prefill saturation the M/D/1 wait is arbitrarily steep in X, so the root can land
    # where the modelled TTFT no longer closes the loop (or is infinite). The closed loop itself
    # fixes TTFT there: the clients not decoding are waiting for their first token (Little's
    # law), which also keeps TTFT non-decreasing in C once throughput saturates.
    closed = admitted / x - max(osl - 1, 0) * tau
    in_flight = x * (ttft + max(osl - 1, 0) * tau)
    if not math.isfinite(ttft) or abs(in_flight - admitted) > _LITTLE_RTOL * admitted:
        if closed > 0.0:
            ttft = closed
        elif math.isfinite(ttft) and ttft > 0.0:
            # The population jumps across C at the root (a step in τ, e.g. decode batches
            # leaving the engine's CUDA-graph sizes), so no throughput closes the loop through
            # TTFT. The latencies are those of the regime the loop sits in; Little's law then
            # fixes the throughput those latencies allow: X = C / (TTFT + (osl−1)·τ).
            x = admitted / (ttft + max(osl - 1, 0) * tau)
    if not (math.isfinite(ttft) and ttft > 0.0 and math.isfinite(tau) and tau > 0.0):
        raise InvalidInputError(
            f"isl {isl}, osl {osl}, concurrency {concurrency}: the serving model has no steady "
            "state for this load (check that the inputs make physical sense)"
        )
    queued = max(0.0, concurrency - admitted) / x
    return ServingPoint(
        requests_per_s=x,
        tpot_s=state.tau_s,
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
