"""Cost models of feed-forward layers: MLP, gated MLP and Mixture-of-Experts.

Dense MLPs are split ``tp`` ways (column-parallel up/gate, row-parallel down, one all-reduce).
MoE experts are split ``moe_tp × ep`` over the same GPUs as attention: ``ep`` places whole
experts, ``moe_tp`` slices each one. A step's weight traffic counts only the experts its tokens
touch: with ``T`` tokens each choosing ``k`` of ``E`` experts uniformly, an expert is touched
with probability ``1 − (1 − k/E)^T`` — so decode at small batch reads a fraction of the experts
and a large batch reads them all. Routing is assumed balanced.

Tokens per GPU follow the placement rule of :mod:`infercast.layers.base` (a long prompt under
context parallelism: ``1/cp`` of its tokens per rank). Sequence parallelism turns the dense
MLP's all-reduce (and that of the MoE at ``dp = ep = 1``) into a reduce-scatter + all-gather;
the expert all-to-alls already dispatch each token from one GPU only, and are unchanged.
"""

from __future__ import annotations

from infercast.layers.base import CostContext, Price, StepShape, StepTerms, tp_reduce
from infercast.layers.engine import OpsCost, TokenLinearsCost
from infercast.layers.grouped_gemm import executed_rows, k_loop_efficiency, m_tile
from infercast.layers.routing import BusiestRank
from infercast.parallel.shards import local_features
from infercast.specs.classes.mlp import MLPLayerSpecs
from infercast.specs.classes.moe import MoELayerSpecs

__all__ = ["MLPCost", "MoECost", "expected_experts_touched"]


def expected_experts_touched(num_experts: int, top_k: int, tokens: float) -> float:
    """Expected distinct experts ``tokens`` tokens route to (uniform, independent routing)."""
    if tokens <= 0:
        return 0.0
    return num_experts * (1.0 - (1.0 - top_k / num_experts) ** tokens)


class MLPCost(TokenLinearsCost):
    """2-projection and gated (3-projection) MLPs."""

    specs: MLPLayerSpecs

    def __init__(self, specs: MLPLayerSpecs, ctx: CostContext):
        super().__init__(specs, ctx)
        self.wdtype = self.placed.formats["dense"]
        self.projections = len(self.placed.linears)
        self.inner = self.placed.local_out(self.placed.linears[0])  # intermediate / tp
        self.matmul_dtype = self.wdtype
        self.weight_bytes = self.stored_weight_bytes()
        self.activation_width = 2 * specs.hidden_size + 2 * self.projections * self.inner
        self.act_bpe = ctx.activation_dtype.bytes_per_element

    def _gemm_rows(self, shape: StepShape) -> dict[str, float]:
        return {"token": self.ctx.local_tokens(shape)}

    def activation_peak_bytes(self, tokens: float) -> float:
        width = self.specs.hidden_size + (self.projections - 1) * self.inner
        return self.ctx.activation_dtype.nbytes(tokens * width)

    def step_terms(self, shape: StepShape, tokens: float, price: Price) -> StepTerms:
        return (
            2 * tokens * self.matmul_timed,
            0.0,
            self.weight_bytes,
            0.0,
            tokens * self.activation_width * self.act_bpe,
            self.placed.reduce_partial_sums(price, 0.0, tokens),
        )


class MoECost(OpsCost):
    """Routed experts (moe_tp × ep), shared experts (tp) and the router (replicated)."""

    specs: MoELayerSpecs

    def __init__(self, specs: MoELayerSpecs, ctx: CostContext):
        super().__init__(specs, ctx)
        plan, placed = ctx.plan, self.placed
        # The router is never quantized (checkpoints and vLLM/SGLang keep the gate in 16 bits,
        # whatever the weight_dtype); shared experts are dense weights (the weight_dtype
        # override applies) stored as the layer's checkpoint format says (DeepSeek-V3 keeps
        # them in fp8 like its other linears). The roles are declared by the ops.
        self.edtype = placed.formats["expert"]
        self.router_dtype = placed.formats["router"]
        self.shared_dtype = placed.formats["shared"]
        self.local_experts = specs.num_experts / plan.ep
        self.expert_params = placed.stored_params("expert") / self.local_experts
        self.expert_matmul = placed.matmul_weights(experts=True)
        run_bytes = ctx.run_format_bytes(self.edtype)
        self.expert_timed = sum(
            k * n / k_loop_efficiency(k, run_bytes)
            for k, n in (local_features(op, plan) for op in placed.linears if op.shard == "expert")
        )
        """One executed row's expert weights, each matrix divided by its K-loop efficiency
        (:mod:`.grouped_gemm`): ``2 · rows · this`` is the work timed at ``moe_compute``."""
        self.num_experts = specs.num_experts
        self.tiles = (
            m_tile(self.edtype, 1, specs.num_experts),
            m_tile(self.edtype, specs.num_experts + 1, specs.num_experts),
        )
        """The grouped kernel's M tile in decode-sized (tokens ≤ E) and larger steps."""
        self.dense_matmul = placed.matmul_weights()
        self.dense_timed = placed.timed_matmul_weights()
        """Shared experts and router at the dense K-loop efficiency (:mod:`.k_loop`)."""
        self.shared_params = placed.stored_params("shared")
        self.router_params = placed.stored_params("router")
        self.dense_bytes = self.shared_dtype.nbytes(self.shared_params) + self.router_dtype.nbytes(
            self.router_params
        )
        """Shared experts (split ``tp`` ways) and the router (replicated): read every step."""
        # Activation elements of one token-expert pair: its input and output (``2·hidden``) and
        # the gate, up and down intermediates of this GPU's slice.
        self.pair_width = 2 * specs.hidden_size + 3 * specs.expert_intermediate_size / plan.moe_tp
        self.matmul_dtype = self.edtype
        self.hidden_size, self.top_k = specs.hidden_size, specs.num_experts_per_tok
        self.ep, self.group = plan.ep, plan.group
        self.busiest = BusiestRank(
            specs.num_experts, specs.num_experts_per_tok, plan.ep, ctx.expert_skew
        )
        """The busiest EP rank's experts and token-expert pairs (:mod:`.routing`)."""
        self.act_bpe = ctx.activation_dtype.bytes_per_element
        self.expert_bpe = self.edtype.bytes_per_element  # edtype.nbytes(n) = n · this

    def _dense_bytes(self) -> float:
        return self.dense_bytes

    def stored_weight_bytes(self) -> float:
        return self.edtype.nbytes(self.local_experts * self.expert_params) + self._dense_bytes()

    def _gemm_rows(self, shape: StepShape) -> dict[str, float]:
        """Dense parts on this GPU's DP-rank tokens; experts on the pairs landing on the
        busiest EP rank (which sets the step, see :mod:`infercast.layers.routing`)."""
        pairs = self.busiest.pairs(shape.tokens)
        return {"token": self.ctx.local_tokens(shape), "expert": pairs}

    def useful_matmul_flops(self, shape: StepShape, tokens: float) -> float:
        """``2·M·N·K`` of the routed pairs the busiest rank computes and of the dense parts
        (what reports count; :meth:`step_terms` times the padded rows instead)."""
        pairs = self.busiest.pairs(shape.prefill_tokens + shape.decode_seqs)
        return 2 * (pairs * self.expert_matmul + tokens * self.dense_matmul)

    def activation_peak_bytes(self, tokens: float) -> float:
        """``tokens`` of this GPU's DP rank; the token-expert pairs landing on this GPU hold
        their input (``hidden``) and the gate and up outputs (``expert_intermediate/moe_tp``
        each)."""
        s, plan = self.specs, self.ctx.plan
        pairs = tokens * plan.dp * s.num_experts_per_tok / plan.ep
        width = s.hidden_size + 2 * s.expert_intermediate_size / plan.moe_tp
        return self.ctx.activation_dtype.nbytes(pairs * width)

    def experts_touched_per_gpu(self, group_tokens: float) -> float:
        """Distinct experts the busiest EP rank reads (the ranks run in lockstep)."""
        return self.busiest.experts(group_tokens)

    def step_terms(self, shape: StepShape, tokens: float, price: Price) -> StepTerms:
        bpe, h, k = self.act_bpe, self.hidden_size, self.top_k
        ep, group = self.ep, self.group
        group_tokens = shape.prefill_tokens + shape.decode_seqs  # the replica's stage tokens
        routed_pairs = group_tokens * k / ep  # token-expert pairs landing on this GPU
        busiest_pairs = self.busiest.pairs(group_tokens)  # … on the busiest EP rank (the step's)
        busiest_experts = self.busiest.experts(group_tokens)
        tile = self.tiles[group_tokens > self.num_experts]  # m_tile(edtype, tokens, E)
        rows = executed_rows(busiest_pairs, busiest_experts, tile)
        share = group_tokens / group  # tokens each GPU dispatches (no duplicates)
        comm = 0.0
        if ep > 1:
            dispatch = share * k * h * bpe
            comm += price("all_to_all", group, dispatch)
            comm += price("all_to_all", group, dispatch)
        elif group > 1:
            plan = self.ctx.plan
            if plan.dp == 1:
                comm = tp_reduce(price, comm, plan.tp, tokens * h * bpe, plan.sp)
            else:
                gathered = group_tokens * h * bpe
                comm += price("all_gather", group, gathered)
                comm += price("reduce_scatter", group, gathered)
        return (
            2 * (rows * self.expert_timed + tokens * self.dense_timed),
            0.0,
            busiest_experts * self.expert_params * self.expert_bpe + self.dense_bytes,
            0.0,
            (2 * tokens * h + routed_pairs * self.pair_width) * bpe,
            comm,
        )
