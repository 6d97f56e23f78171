"""A ceiling on what a plan can reach, from its decode-only step times: what lets a search skip
the bisection of a plan that provably enters neither the top plans nor the Pareto front.

In the closed loop (:mod:`infercast.estimation.serving`) a plan serving ``C`` clients at ``X``
requests/s has ``D = X·(osl−1)·τ`` sequences decoding (``D ≤ C``), and its mean step ``τ``
mixes steps that decode those ``D`` with steps that also carry prompt chunks — none shorter
than the pure decode step ``T(D)`` (a step never gets faster for carrying more tokens, and
``T`` does not fall as ``D`` grows). So, over any range ``a ≤ D ≤ b`` of decoding sequences:

- output tokens/s per GPU ``= X·osl / gpus = D·osl / ((osl−1)·τ·gpus)``, at most
  ``b·osl / ((osl−1)·T(a)·gpus)``;
- tokens/s per user ``= 1/τ ≤ 1/T(a)`` (and at most the plan's speed at C = 1);
- no probe there meets a TPOT limit ``L`` when ``T(a) > L``.

The solver evaluates ``T`` on decode counts rounded to half a sequence, so ``T(a − ½)``
stands in for ``T(a)``; the throughput corner gets :data:`~infercast.planning.prune.SLACK`
for the solver's tolerance. These bounds use the fully loaded step timer, which the estimate
uses once every attention-DP rank holds a request (``C ≥ dp``); below that, Little's law bounds
the throughput at ``C`` by ``C`` times the C = 1 figure (the request cycle does not shorten
with load), at the C = 1 speed per user.

:meth:`Ceiling.harmless` covers ``0 ≤ D ≤ cap`` with such ranges, largest first, and asks the
caller's test of each corner (rate, per-user speed) whether a probe there could matter;
a range whose corner might is split, until every range is cleared (the plan is harmless) or a
range too narrow to split is not (it may matter: solve it), or the step-time budget is spent.
It is asked before each step of a plan's concurrency solve (see :mod:`.prune`), with what the
probes so far tell: the largest passing one (``lo``) and the smallest failing one.
"""

from __future__ import annotations

from collections.abc import Callable

from infercast.planning.adapter import Probe

__all__ = ["MAX_STEP_TIMES", "Ceiling", "Corner"]

MAX_STEP_TIMES = 40
"""New decode step times one verdict may cost (a probe costs a few dozen): past it, go on."""

Corner = Callable[[float, float], bool]
"""``harmless(output tokens/s per GPU, tokens/s per user)``: can no probe at or below this
corner change the search's result?"""


class Ceiling:
    """Bounds on the probes of one plan (see the module docstring).

    ``step_s(D)``: the decode-only step time in seconds with ``D`` sequences decoding;
    ``first``: the plan's C = 1 probe (it met the SLA); ``cap``: the largest concurrency
    the search may probe; ``tpot_limit_ms``: the tightest TPOT the SLA implies, if any.
    """

    def __init__(
        self,
        step_s: Callable[[float], float],
        first: Probe,
        osl: int,
        gpus: int,
        dp: int,
        cap: int,
        tpot_limit_ms: float | None,
        slack: float,
    ):
        self._step_s, self.first, self.cap, self.dp = step_s, first, cap, dp
        self.scale = osl / max(osl - 1, 1) / gpus
        self.limit_s = None if tpot_limit_ms is None else tpot_limit_ms / 1e3
        self.slack = slack
        self.usable = osl > 1  # with one output token nothing decodes: no bound
        self._times: dict[float, float] = {}

    def step_below(self, d: float) -> float:
        """``T(d − ½)`` (memoised): no shorter than any step the solver takes at ``≥ d``."""
        key = d - 0.5
        if not key > 0.0:  # max(d − ½, 0), as the comparison it makes (asked ~70,000 times)
            key = 0.0
        t = self._times.get(key)
        if t is None:
            t = self._times[key] = self._step_s(key)
        return t

    def _over_limit(self, t: float) -> bool:
        return self.limit_s is not None and t > self.limit_s

    def corner(self, a: float, b: float) -> tuple[float, float] | None:
        """The corner of the probes with ``a ≤ D ≤ b``; None when none meets the TPOT limit."""
        t = self.step_below(a)
        if self._over_limit(t):
            return None
        rate = b / t * self.scale * (1.0 + self.slack)
        return rate, min(self.first.tokens_per_s_per_user, 1.0 / t)

    def _ranges(self, top: float) -> list[tuple[float, float]]:
        """``[0, 1], [1, 2], [2, 4], …`` up to ``top``, stopping at the first range whose
        lower end is over the TPOT limit (no probe meets it there or above)."""
        out, a = [], 0.0
        while a < top and not self._over_limit(self.step_below(a)):
            b = min(top, max(1.0, 2.0 * a))
            out.append((a, b))
            a = b
        return out

    def peak(self) -> float:
        """The largest throughput corner over the first cover (an order of promise)."""
        corners = [self.corner(a, b) for a, b in self._ranges(float(self.cap))]
        return max((c[0] for c in corners if c is not None), default=0.0)

    def harmless(self, test: Corner, lo: Probe, below: int) -> bool:
        """Is every probe still to come, at ``lo.C < C < below`` (``lo`` met the SLA), harmless
        to the search? Corners: Little's law from ``lo`` (throughput at most ``C / lo.C``
        times ``lo``'s, speed per user at most ``lo``'s), tightened by the decode ceiling."""
        top = min(self.cap, below - 1)
        if top <= lo.concurrency:
            return True
        per_c = lo.output_tokens_per_s_per_gpu / lo.concurrency * (1.0 + self.slack)
        little, per_user = per_c * top, lo.tokens_per_s_per_user
        if test(little, per_user):
            return True
        if not self.usable:
            return False
        small = min(self.dp - 1, top)  # C < dp: the loaded timer, Little's law only
        if small > lo.concurrency and not test(per_c * small, per_user):
            return False
        if top < self.dp:
            return True
        budget = len(self._times) + MAX_STEP_TIMES
        stack = self._ranges(float(top))  # the largest range is popped first
        while stack:
            if len(self._times) > budget:
                return False
            a, b = stack.pop()
            corner = self.corner(a, b)
            if corner is None or test(min(little, corner[0]), min(per_user, corner[1])):
                continue
            if b - a <= max(0.5, 0.01 * b):
                return False
            mid = (a + b) / 2
            stack += [(a, mid), (mid, b)]
        return True
