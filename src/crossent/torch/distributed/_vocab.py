"""Cross-entropy over a vocabulary split across the ranks of a process group (tensor parallelism).

A column-parallel output layer leaves rank r with the logits of the classes
``[start_r, stop_r)`` only, ``logits_shard [..., C_r]``; every rank holds the same rows and the
same targets (global class ids). The softmax couples all C classes, so the ranks reduce a few
per-row numbers over the group, after which each holds the same loss and differentiates it with
respect to its own columns, locally:

1. **MAX** of the row maxima, m = max_c z_c over every shard (z the logits after soft-capping):
   no rank exponentiates a large logit.
2. **SUM** of the per-row statistics, stacked in one buffer, each shifted by m: S = Σ_c e^{z_c - m},
   the target's z_y - m (0 on the ranks that do not hold y) and, with label smoothing,
   Σ_c w_c (z_c - m). Then on every rank ``LSE = m + log S``, ``log p_y = (z_y - m) - log S`` and
   the smoothing term ``Σ_c w_c (LSE - z_c) = W log S - Σ_c w_c (z_c - m)``, W = Σ_c w_c, of terms
   that do not cancel: finite and exact at logits of ±1e4 (Σ_c z_c p_c would not be).
3. Focal γ > 0 *with* label smoothing only: a second **SUM**, of Σ_c w_c f(p_c) and
   Σ_c w_c u(p_c) (f(p) = -(1 - p)^γ log p, u = p f'(p)). These are sums of a function of
   p_c = e^{z_c - LSE}, known only once step 2 has given the LSE: a third collective, for this
   combination alone. Without smoothing focal needs f(p_y) only, which step 2 gives.

Both buffers carry two numbers more, to check the shards: the MAX takes (C, -C), so that every
rank sees whether the ranks agree on C, the SUM each shard's width, which must add up to C.

The backward pass is :mod:`crossent.losses._categorical`'s closed form on the rank's own columns,
from the global LSE (and, for focal with smoothing, the global Σ_c w_c u(p_c)) that the forward
pass saved: no collective. It needs the same ``grad_output`` on every rank, which is what every
rank gets when each backpropagates its (identical) loss the same way.

The loss goes through a ``torch.autograd.Function`` rather than autograd through collectives:
``torch.distributed.all_reduce`` has no gradient path (a rank then differentiates the others'
statistics as constants), and ``torch.distributed.nn.functional.all_reduce`` sums the incoming
gradients of every rank in its backward pass, so that W ranks backpropagating the same loss get
W times the gradient (2.0× at W = 2). Label smoothing spreads ε over the global C, against the
global mean of the log-probabilities (Megatron-LM's uses the shard's C and mean: NVIDIA/Megatron-LM#737).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, NamedTuple

import torch
import torch.distributed as dist

from crossent import _checks
from crossent._xp import is_concrete, namespace
from crossent.losses._math import power, power_minus_one, sech2

__all__ = ["LAYOUTS", "VocabShard", "vocab_parallel_cross_entropy"]

LAYOUTS = ("balanced", "ceil", "equal")
"""How :meth:`VocabShard.from_group` cuts C classes over W ranks: ``"balanced"``, sizes that differ
by at most one (the first C mod W ranks one more); ``"ceil"``, ceil(C / W) each, the last ranks
shorter or empty (Megatron-LM's per-rank size, without its padding); ``"equal"``, C / W each, C a
multiple of W."""


def _bounds(num_classes: int, world_size: int, rank: int, layout: str) -> tuple[int, int]:
    """[start, stop) of rank ``rank`` among ``world_size`` under ``layout``."""
    if layout == "balanced":
        size, extra = divmod(num_classes, world_size)
        start = rank * size + min(rank, extra)
        return start, start + size + (rank < extra)
    if layout == "ceil":
        size = -(-num_classes // world_size)
        start = min(rank * size, num_classes)
        return start, min(start + size, num_classes)
    if num_classes % world_size:
        raise ValueError(f"layout='equal' needs num_classes divisible by the world size, got num_classes="
                         f"{num_classes} and a world size of {world_size}; layout='balanced' or 'ceil' cut any C")
    size = num_classes // world_size
    return rank * size, (rank + 1) * size


def _membership(group: Any) -> tuple[int, int]:
    """(world size, rank) of this process in ``group`` (None: the default group)."""
    if not (dist.is_available() and dist.is_initialized()):
        raise RuntimeError("crossent.torch.distributed needs an initialized process group: call "
                           "torch.distributed.init_process_group first (a 1-rank group runs on one process)")
    rank = dist.get_rank(group)
    if rank < 0:
        raise ValueError(f"this process is not a member of the group {group!r}")
    return dist.get_world_size(group), rank


@dataclasses.dataclass(frozen=True)
class VocabShard:
    """This rank's slice ``[start, stop)`` of the ``num_classes`` classes, over ``group``.

    ``group`` is the process group the classes are split over (None: the default group), the
    tensor-parallel group of a model. ``layout`` is the rule that cut the slice
    (:data:`LAYOUTS`; :meth:`from_group` sets it), or None for a slice given by hand. With a layout,
    the loss checks that the slice is that layout's for the group's rank and world size at the
    time of the call; without one, it checks (in its collectives) that the group's slices add up
    to ``num_classes``.

    >>> VocabShard(6, 11, 11)
    VocabShard(start=6, stop=11, num_classes=11, group=None, layout=None)
    >>> VocabShard(6, 11, 11).size
    5
    """

    start: int
    stop: int
    num_classes: int
    group: Any = None
    layout: str | None = dataclasses.field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        num_classes = _checks.integer("num_classes", self.num_classes, low=1)
        start = _checks.integer("start", self.start)
        stop = _checks.integer("stop", self.stop)
        if not 0 <= start <= num_classes:
            raise ValueError(f"start must be in [0, num_classes] = [0, {num_classes}], got {start}")
        if not start <= stop <= num_classes:
            raise ValueError(f"stop must be in [start, num_classes] = [{start}, {num_classes}], got {stop}")
        if self.group is not None and not (dist.is_available() and isinstance(self.group, dist.ProcessGroup)):
            raise TypeError(f"group must be a torch.distributed.ProcessGroup or None, got {self.group!r}")
        if self.layout is not None and self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(map(repr, LAYOUTS))} or None, got {self.layout!r}")
        object.__setattr__(self, "start", start)  # (a NumPy integer becomes an int)
        object.__setattr__(self, "stop", stop)
        object.__setattr__(self, "num_classes", num_classes)

    @classmethod
    def from_group(cls, num_classes: int, group: Any = None, layout: str = "balanced") -> VocabShard:
        """The slice of this process's rank in ``group`` (None: the default group), cut by
        ``layout`` (:data:`LAYOUTS`). Needs an initialized process group."""
        num_classes = _checks.integer("num_classes", num_classes, low=1)
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(map(repr, LAYOUTS))}, got {layout!r}")
        world_size, rank = _membership(group)
        start, stop = _bounds(num_classes, world_size, rank, layout)
        return cls(start, stop, num_classes, group, layout=layout)

    @property
    def size(self) -> int:
        """The number of classes of this slice, ``stop - start`` (the width of ``logits_shard``)."""
        return self.stop - self.start

    @property
    def rank(self) -> int:
        """This process's rank in ``group``."""
        return _membership(self.group)[1]

    @property
    def world_size(self) -> int:
        """The number of ranks of ``group``."""
        return _membership(self.group)[0]


def _check_shard(shard: Any, width: int, what: str) -> None:
    """``shard`` is a VocabShard of ``width`` classes (those of ``what``), consistent with its
    group (no collective)."""
    if not isinstance(shard, VocabShard):
        raise TypeError(f"shard must be a crossent.torch.distributed.VocabShard, got {shard!r}")
    world_size, rank = _membership(shard.group)
    if shard.layout is not None:
        expected = _bounds(shard.num_classes, world_size, rank, shard.layout)
        if expected != (shard.start, shard.stop):
            raise ValueError(f"shard [{shard.start}, {shard.stop}) is not layout={shard.layout!r}'s slice of "
                             f"{shard.num_classes} classes for rank {rank} of the group's {world_size}, which is "
                             f"[{expected[0]}, {expected[1]}): the shard was made for another rank or world size")
    elif world_size == 1 and (shard.start, shard.stop) != (0, shard.num_classes):
        raise ValueError(f"shard [{shard.start}, {shard.stop}) of {shard.num_classes} classes: a group of one "
                         f"rank holds every class, [0, {shard.num_classes})")
    if width != shard.size:
        raise ValueError(f"{what} holds {width} classes, but shard [{shard.start}, {shard.stop}) has {shard.size}")


def _check_labels(labels: torch.Tensor, num_classes: int, ignore_index: int | None) -> bool:
    """Every label is in [0, num_classes) or ignore_index; False where the values cannot be read
    without waiting for a device (CUDA, fake and meta tensors: such labels give NaN rows)."""
    if labels.numel() == 0:
        return True
    if labels.device.type != "cpu" or not is_concrete(labels):
        return False
    counted = labels if ignore_index is None else labels[labels != ignore_index]
    if counted.numel() == 0:
        return True
    low, high = int(counted.min()), int(counted.max())
    if low < 0 or high >= num_classes:
        bad = low if low < 0 else high
        what = "" if ignore_index is None else f" or ignore_index={ignore_index}"
        hint = " (PyTorch marks ignored samples -100: pass ignore_index=-100)" if bad == -100 and \
            ignore_index is None else ""
        raise ValueError(f"target contains the label {bad}, outside [0, {num_classes}){what}: targets are global "
                         f"class ids, in [0, shard.num_classes){hint}")
    return True


def _denominator(value: Any, reduction: str, like: torch.Tensor) -> torch.Tensor | None:
    """The given total weight of "mean" as a 0-d tensor of ``like``'s dtype and device, or None."""
    value = _checks.denominator(value, reduction)
    if value is None:
        return None
    _constant("denominator", value)
    return torch.as_tensor(value, dtype=like.dtype, device=like.device)


def _constant(name: str, value: Any) -> None:
    if isinstance(value, torch.Tensor) and value.requires_grad and torch.is_grad_enabled():
        raise ValueError(f"{name} requires grad, but the loss does not differentiate it; pass {name}.detach()")


class _Spec(NamedTuple):
    """One call's shard and options, after validation."""

    start: int
    stop: int
    num_classes: int
    group: Any
    ignore_index: int | None
    smoothing: float
    z_loss: float
    softcap: float | None
    gamma: float
    log_base: float | None
    reduction: str


class _Rows(NamedTuple):
    """What each row needs from its label and weights, known on every rank without a collective."""

    coef: torch.Tensor  # [n] sᵢ, 0 for an ignored row
    target_weight: torch.Tensor  # [n] w_{yᵢ} (1 without class weights, and for an ignored row)
    owner: torch.Tensor  # [n] bool: yᵢ is one of this shard's classes
    local: torch.Tensor  # [n] yᵢ - start where owner, else 0: a column of the shard
    class_weight: torch.Tensor | None  # [C_r] the shard's w_c
    total_weight: float | torch.Tensor  # W = Σ_c w_c over all C classes
    invalid: torch.Tensor | None  # [n] labels out of range that could not be checked: NaN rows


def _rows(labels: torch.Tensor, class_weight: torch.Tensor | None, sample_weight: torch.Tensor | None,
          spec: _Spec, dtype: torch.dtype, *, checked: bool) -> _Rows:
    valid = None if spec.ignore_index is None else labels != spec.ignore_index
    in_range = (labels >= 0) & (labels < spec.num_classes)
    invalid = None if checked else (~in_range if valid is None else valid & ~in_range)
    coef = torch.ones(labels.shape, dtype=dtype, device=labels.device) if valid is None else valid.to(dtype)
    if sample_weight is not None:
        coef = coef * sample_weight
    counted = in_range if valid is None else valid & in_range
    local_weight: torch.Tensor | None = None
    total: float | torch.Tensor = float(spec.num_classes)
    if class_weight is None:
        target_weight = torch.ones(labels.shape, dtype=dtype, device=labels.device)
    else:
        target_weight = torch.where(counted, class_weight[torch.where(counted, labels, 0)], 1.0)
        local_weight, total = class_weight[spec.start:spec.stop], class_weight.sum()
    owner = counted & (labels >= spec.start) & (labels < spec.stop)
    return _Rows(coef, target_weight, owner, torch.where(owner, labels - spec.start, 0), local_weight, total,
                 invalid)


def _capped(x: torch.Tensor, softcap: float | None) -> torch.Tensor:
    return x if softcap is None else softcap * torch.tanh(x / softcap)


def _weighted_sum(values: torch.Tensor, class_weight: torch.Tensor | None) -> torch.Tensor:
    """Σ_c w_c values_c over the shard's columns (a class of weight 0 adds 0, even an infinite value)."""
    if class_weight is not None:
        values = torch.where(class_weight != 0, values * class_weight, 0.0)
    return values.sum(dim=1)


def _focal_terms(log_p: torch.Tensor, gamma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """f(p) = -(1 - p)^γ log p and u(p) = p f'(p) = γ (1 - p)^{γ-1} p log p - (1 - p)^γ."""
    p = torch.exp(log_p)
    q = -torch.expm1(log_p)  # 1 - p to its last digit where p is near 1
    positive = p > 0
    p_log_p = torch.where(positive, p * torch.where(positive, log_p, 0.0), 0.0)  # (0 at p = 0, not 0 · -inf)
    q_gamma = power(q, gamma, torch)
    return -q_gamma * log_p, power_minus_one(q, gamma, torch) * p_log_p - q_gamma


class _Global(NamedTuple):
    """The per-row results of the collectives, the same on every rank."""

    loss: torch.Tensor  # [n] weighted per-row losses, in nats
    lse: torch.Tensor  # [n] log Σ_c e^{z_c} over all C classes
    log_p_target: torch.Tensor  # [n] log p_y
    focal_u: torch.Tensor | None  # [n] Σ_c w_c u(p_c) over all C classes (focal with smoothing)
    coverage: torch.Tensor  # [3] (max C, max -C, Σ widths) over the group: the shards' check


def _forward(x: torch.Tensor, rows: _Rows, spec: _Spec) -> _Global:
    """The per-row losses of the logits shard ``x [n, C_r]`` (the compute dtype), by the
    collectives of the module docstring: MAX, SUM (and SUM for focal with smoothing)."""
    n, width = x.shape
    z = _capped(x, spec.softcap)
    c = spec.num_classes
    # 1. MAX: the row maxima over every shard (an empty shard's is -inf), and (C, -C) to compare
    local_max = z.amax(dim=1) if width else z.new_full((n,), -math.inf)
    maxima = torch.cat([local_max, z.new_tensor([c, -c])])
    dist.all_reduce(maxima, op=dist.ReduceOp.MAX, group=spec.group)
    top = maxima[:n]
    top = torch.where(top == -math.inf, 0.0, top)  # (a row of -inf logits everywhere: e^{-inf} = 0)
    d = z - top[:, None]  # ≤ 0
    # 2. SUM: S = Σ e^{z - m}, z_y - m from the rank that holds y, Σ w_c (z_c - m) for smoothing; the width
    target = torch.where(rows.owner, d.gather(1, rows.local[:, None])[:, 0], 0.0) if width else d.new_zeros(n)
    statistics = [torch.exp(d).sum(dim=1), target]
    if spec.smoothing:
        statistics.append(_weighted_sum(d, rows.class_weight))
    sums = torch.cat([torch.stack(statistics).reshape(-1), z.new_tensor([width])])
    dist.all_reduce(sums, op=dist.ReduceOp.SUM, group=spec.group)
    coverage = torch.cat([maxima[n:], sums[-1:]])
    sums = sums[:-1].reshape(len(statistics), n)
    log_s = torch.log(sums[0])
    lse = top + log_s
    log_p_target = sums[1] - log_s
    w_y = rows.target_weight
    f_target = _focal_terms(log_p_target, spec.gamma)[0] if spec.gamma else -log_p_target
    loss = torch.where(w_y != 0, w_y * f_target, 0.0)  # (an infinite -log p_y of a class of weight 0 adds 0)
    focal_u = None
    if spec.smoothing:
        if spec.gamma:  # 3. SUM of Σ_c w_c f(p_c), Σ_c w_c u(p_c): functions of p_c = e^{z_c - LSE}
            f, u = _focal_terms(d - log_s[:, None], spec.gamma)
            focal = torch.stack([_weighted_sum(f, rows.class_weight), _weighted_sum(u, rows.class_weight)])
            dist.all_reduce(focal, op=dist.ReduceOp.SUM, group=spec.group)
            uniform, focal_u = focal[0], focal[1]
        else:  # Σ_c w_c (-log p_c) = W log S - Σ_c w_c (z_c - m)
            uniform = rows.total_weight * log_s - sums[2]
        uniform = (spec.smoothing / c) * uniform
        loss = uniform if spec.smoothing == 1 else (1 - spec.smoothing) * loss + uniform
    loss = torch.where(rows.coef != 0, rows.coef * loss, 0.0)
    if spec.z_loss:  # λ s LSE² (an ignored row's LSE may be -inf)
        loss = loss + torch.where(rows.coef != 0, (spec.z_loss * rows.coef) * lse * lse, 0.0)
    return _Global(loss, lse, log_p_target, focal_u, coverage)


def _check_coverage(coverage: torch.Tensor, spec: _Spec, world_size: int) -> torch.Tensor | None:
    """Raise if the group's shards do not tile [0, C) (read where that costs no device sync);
    else None, or a 0-d bool tensor, True where the check failed (the loss is then NaN)."""
    c = spec.num_classes
    bad = (coverage[0] != c) | (coverage[1] != -c) | (coverage[2] != c)
    if coverage.device.type != "cpu" or not is_concrete(coverage):
        return bad
    high, low, total = float(coverage[0]), -float(coverage[1]), float(coverage[2])
    if high != low:
        raise ValueError(f"shard: the group's {world_size} ranks disagree on num_classes, from {low:.0f} to "
                         f"{high:.0f}")
    if total != c:
        raise ValueError(f"shard: the slices of the group's {world_size} ranks hold {total:.0f} classes in all, "
                         f"not num_classes={c}: each rank's VocabShard must be its own part of [0, {c}) "
                         f"(VocabShard.from_group cuts them)")
    return None


def _gradient(x: torch.Tensor, rows: _Rows, lse: torch.Tensor, log_p_target: torch.Tensor | None,
              focal_u: torch.Tensor | None, spec: _Spec, scale: torch.Tensor) -> torch.Tensor:
    """∂/∂x of Σᵢ scaleᵢ ℓᵢ on the shard's columns, local.

    With a_c = s w_c ỹ_c and h_c = a_c u(p_c) (u = -1 for cross-entropy), the softmax Jacobian
    gives ∂ℓ/∂z_j = h_j - p_j Σ_c h_c (losses/_categorical.py), where Σ_c h_c over all C is
    ``-s [(1 - ε) w_y + ε W / C]`` for cross-entropy, ``s [(1 - ε) w_y u(p_y) + ε/C Σ_c w_c u(p_c)]``
    for focal; h_j itself is local. The z-loss adds 2λ s LSE p_j; soft-capping multiplies by
    sech²(x / c). ``log_p_target`` is needed for focal only."""
    width = x.shape[1]
    z = _capped(x, spec.softcap)
    lse_finite = torch.where(lse == -math.inf, 0.0, lse)  # (a row of -inf logits: p = 0, not NaN)
    log_p = z - lse_finite[:, None]
    p = torch.exp(log_p)
    eps, c, coef = spec.smoothing, spec.num_classes, rows.coef
    keep = 1 - eps  # the target's share of ỹ
    if spec.gamma:
        assert log_p_target is not None
        u_target = _focal_terms(log_p_target, spec.gamma)[1]
        at_target = keep * coef * rows.target_weight * u_target  # h_y
        total = at_target if focal_u is None else at_target + (eps / c) * coef * focal_u  # Σ_c h_c
        g = -p * total[:, None]
        if eps:
            u = _focal_terms(log_p, spec.gamma)[1]
            g = g + (eps / c) * coef[:, None] * (u if rows.class_weight is None else
                                                 torch.where(rows.class_weight != 0, u * rows.class_weight, 0.0))
    else:
        at_target = -keep * coef * rows.target_weight
        g = p * (coef * (keep * rows.target_weight + (eps / c) * rows.total_weight))[:, None]
        if eps:
            g = g - (eps / c) * coef[:, None] * (1.0 if rows.class_weight is None else rows.class_weight)
    if width:
        g = g.scatter_add(1, rows.local[:, None], torch.where(rows.owner, at_target, 0.0)[:, None])
    if spec.z_loss:
        g = g + ((2 * spec.z_loss) * torch.where(coef != 0, coef * lse, 0.0))[:, None] * p
    g = g * scale[:, None]
    if spec.softcap is not None:
        g = g * sech2(x / spec.softcap, torch)  # dz/dx of z = c tanh(x / c)
    return g


def _reduce(loss: torch.Tensor, per_sample_weight: torch.Tensor, denominator: torch.Tensor | None,
            spec: _Spec) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The reduced value (in ``base``), and the mean's divisor (None for "none" and "sum")."""
    total = None
    if spec.reduction == "none":
        value = loss
    elif spec.reduction == "sum":
        value = loss.sum()
    else:
        total = per_sample_weight.sum() if denominator is None else denominator
        positive = total > 0
        value = torch.where(positive, loss.sum() / torch.where(positive, total, 1.0), 0.0)
    return value if spec.log_base is None else value / spec.log_base, total


def _row_scale(grad_output: torch.Tensor, n: int, total: torch.Tensor | None, spec: _Spec,
               dtype: torch.dtype) -> torch.Tensor:
    """The factor of each row's gradient: ``grad_output`` (one per row for "none"), divided by
    the mean's divisor (0 where it is 0) and by ln(base)."""
    scale = grad_output.to(dtype).reshape(-1).expand(n) if grad_output.numel() == 1 else \
        grad_output.to(dtype).reshape(n)
    if total is not None:
        positive = total > 0
        scale = torch.where(positive, scale / torch.where(positive, total, 1.0), 0.0)
    return scale if spec.log_base is None else scale / spec.log_base


class _VocabParallelCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, logits: torch.Tensor, labels: torch.Tensor, class_weight: torch.Tensor,
                sample_weight: torch.Tensor, denominator: torch.Tensor, spec: _Spec, world_size: int,
                checked: bool) -> torch.Tensor:
        compute = torch.float64 if logits.dtype == torch.float64 else torch.float32
        x = logits.to(compute)
        weights = (None if class_weight.numel() == 0 else class_weight,
                   None if sample_weight.numel() == 0 else sample_weight)
        rows = _rows(labels, *weights, spec, compute, checked=checked)
        result = _forward(x, rows, spec)
        bad = _check_coverage(result.coverage, spec, world_size)
        loss = result.loss
        if rows.invalid is not None:  # labels that could not be read: NaN rows, not a wrong answer
            loss = torch.where(rows.invalid, math.nan, loss)
        value, total = _reduce(loss, rows.coef * rows.target_weight,
                               None if denominator.numel() == 0 else denominator, spec)
        if bad is not None:
            value = torch.where(bad, math.nan, value)
        empty = x.new_empty(0)
        ctx.spec, ctx.checked = spec, checked
        ctx.save_for_backward(logits, labels, class_weight, sample_weight, result.lse, result.log_p_target,
                              empty if result.focal_u is None else result.focal_u,
                              empty if total is None else total)
        return value

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        if not ctx.needs_input_grad[0]:
            return (None,) * 8
        logits, labels, class_weight, sample_weight, lse, log_p_target, focal_u, total = ctx.saved_tensors
        spec = ctx.spec
        compute = lse.dtype
        rows = _rows(labels, None if class_weight.numel() == 0 else class_weight,
                     None if sample_weight.numel() == 0 else sample_weight, spec, compute, checked=ctx.checked)
        scale = _row_scale(grad_output, labels.shape[0], None if spec.reduction != "mean" else total, spec, compute)
        g = _gradient(logits.to(compute), rows, lse, log_p_target, None if focal_u.numel() == 0 else focal_u,
                      spec, scale)
        return g.to(logits.dtype), None, None, None, None, None, None, None


def vocab_parallel_cross_entropy(
    logits_shard: torch.Tensor, target: torch.Tensor, /, *, shard: VocabShard,
    weight: torch.Tensor | None = None, ignore_index: int | None = None, label_smoothing: float = 0.0,
    z_loss: float = 0.0, logit_softcap: float | None = None, gamma: float = 0.0, reduction: str = "mean",
    sample_weight: torch.Tensor | None = None, base: float | None = None, denominator: Any = None,
) -> torch.Tensor:
    """:func:`crossent.cross_entropy` (or :func:`crossent.focal_loss`, ``gamma`` > 0) of logits split
    over the classes across the ranks of ``shard.group``: this rank holds the columns
    ``[shard.start, shard.stop)``.

    .. math:: \\ell_i = s_i \\sum_{c=1}^{C} w_c\\, \\tilde y_{ic} \\left[-(1 - p_{ic})^\\gamma \\log p_{ic}\\right]
        + s_i \\lambda \\operatorname{LSE}(z_i)^2, \\qquad \\tilde y = y (1 - \\epsilon) + \\epsilon / C

    over all C = ``shard.num_classes`` classes, z the logits after soft-capping: the value of the
    unsharded loss of the concatenated logits, the same (bitwise) on every rank. Its gradient is
    the slice of the unsharded gradient for this rank's columns, computed locally. The forward
    pass takes two collectives on ``shard.group``, an all_reduce MAX of ``[N + 2]`` and an
    all_reduce SUM of ``[k N + 1]`` (k = 2, 3 with label smoothing; N rows), and a third, SUM of
    ``[2 N]``, for focal with label smoothing only; the backward pass none (module docstring).

    Args:
        logits_shard: ``[..., C_r]`` this rank's logits, C_r = ``shard.size``, any float dtype
            (float16 and bfloat16 computed in float32).
        target: ``[...]`` integer labels, global class ids in ``[0, C)`` or ``ignore_index``, the
            same on every rank.
        shard: this rank's :class:`VocabShard`.
        weight: per-class weights, the global ``[C]`` on every rank (as ``cross_entropy``'s; each
            rank reads its slice and Σ_c w_c); in the numerator and in the mean's denominator.
        ignore_index, label_smoothing, z_loss, logit_softcap, reduction, sample_weight, base:
            as :func:`crossent.cross_entropy`; ε spreads over the global C.
        gamma: the focal exponent γ ≥ 0 of :func:`crossent.focal_loss` (0: cross-entropy); with
            label smoothing each class's term is focal, as in ``focal_loss``.
        denominator: "mean" divides the sum by this total weight, a number or a 0-d tensor,
            instead of Σᵢ sᵢ w_{yᵢ} (no host sync; 0 gives 0 and a zero gradient); reduction="mean" only.

    ``weight``, ``sample_weight`` and ``denominator`` are constants (they must not require grad).
    A masked class (a -inf logit) in a row that has finite logits is exact; unlike
    ``cross_entropy``, which gives their limits, a +inf logit and a counted row of -inf logits only
    give NaN (an ignored one gives 0).
    Needs an initialized process group (one rank will do). Returns float32 (float64 for float64
    logits); the gradient has the logits' dtype.

    >>> import torch, torch.distributed as dist
    >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    >>> shard = VocabShard.from_group(3)
    >>> round(float(vocab_parallel_cross_entropy(torch.zeros(2, 3), torch.tensor([0, 2]), shard=shard)), 4)
    1.0986
    >>> dist.destroy_process_group()
    """
    if not isinstance(logits_shard, torch.Tensor) or not logits_shard.is_floating_point() or logits_shard.ndim < 1:
        raise TypeError(f"logits_shard must be a floating torch.Tensor [..., C_r], got {_describe(logits_shard)}")
    _check_shard(shard, logits_shard.shape[-1], "logits_shard's last dimension")
    world_size = dist.get_world_size(shard.group)
    batch = tuple(logits_shard.shape[:-1])
    if not isinstance(target, torch.Tensor) or target.is_floating_point() or target.is_complex() \
            or target.dtype == torch.bool:
        raise TypeError(f"target must be a torch.Tensor of integer labels, got {_describe(target)}")
    if tuple(target.shape) != batch:
        raise ValueError(f"target must have logits_shard's shape without its last dimension, {batch}, "
                         f"got {tuple(target.shape)}")
    smoothing = _checks.number("label_smoothing", label_smoothing, low=0, high=1)
    z_loss = _checks.number("z_loss", z_loss, low=0)
    gamma = _checks.number("gamma", gamma, low=0)
    softcap = None if logit_softcap is None else _checks.number("logit_softcap", logit_softcap, low=0, low_open=True)
    reduction = _checks.reduction(reduction)
    ignore_index = _checks.index_option("ignore_index", ignore_index)
    log_base = _checks.log_base(base)
    compute = torch.float64 if logits_shard.dtype == torch.float64 else torch.float32
    like = logits_shard.new_empty(0, dtype=compute)
    given = _denominator(denominator, reduction, like)
    _constant("weight", weight)
    _constant("sample_weight", sample_weight)
    labels = target.reshape(-1).to(torch.int64)
    checked = _check_labels(labels, shard.num_classes, ignore_index)
    class_weight = like
    if weight is not None:
        class_weight = torch.as_tensor(weight, dtype=compute, device=like.device)
        if tuple(class_weight.shape) != (shard.num_classes,):
            raise ValueError(f"weight must have one entry per class of all the shards ({shard.num_classes}), "
                             f"got shape {tuple(class_weight.shape)}")
        if class_weight.device.type == "cpu":
            _checks.nonnegative("weight", class_weight, namespace(class_weight))
    s = like
    if sample_weight is not None:
        s = torch.as_tensor(sample_weight, dtype=compute, device=like.device)
        _checks.broadcastable("sample_weight", tuple(s.shape), batch, "the per-sample loss")
        if s.device.type == "cpu":
            _checks.nonnegative("sample_weight", s, namespace(s))
        s = s.broadcast_to(batch).reshape(-1)
    spec = _Spec(shard.start, shard.stop, shard.num_classes, shard.group, ignore_index, smoothing, z_loss, softcap,
                 gamma, log_base, reduction)
    loss = _VocabParallelCrossEntropy.apply(logits_shard.reshape(math.prod(batch), shard.size), labels, class_weight, s,
                                            like if given is None else given, spec, world_size, checked)
    return loss.reshape(batch) if reduction == "none" else loss


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return repr(value)
