"""Cross-entropy of a linear layer's logits, ``hidden @ weight.T + bias``, never materialized whole.

For a vocabulary of V classes and N tokens the logits are N × V: at N = 8192, V = 128 Ki in
float32 that is 4 GiB, and autograd keeps it (and the softmax) for the backward pass. Here the
forward pass walks the tokens a chunk at a time. For each chunk it computes the logits, the
per-row losses and their gradient ``G = ∂loss/∂logits`` in one pass of a fused kernel (Numba on
the CPU, Triton on CUDA), which writes G over the logits; where no kernel covers the chunk, with
crossent's closed form (``value_and_grad(cross_entropy, ...)``, the same core as
:func:`crossent.cross_entropy`). G is folded at once into the gradients of the inputs::

    grad_hidden[chunk] = G @ W        grad_weight += G.T @ hidden[chunk]        grad_bias += Σ_rows G

so that at any time only one chunk's logits and their temporaries are alive: the extra memory
is O(chunk × V) besides the gradients themselves (N × H, V × H, V). The backward pass scales
those gradients by the incoming scalar, in place, and hands them over (so a second backward
through the same loss raises). With ``reduction="none"`` the incoming gradient
is one factor per row, which cannot scale ``grad_weight`` after the fact, so the forward pass
computes the losses only and the backward pass recomputes the chunks with their rows scaled
(twice the matmuls, the same memory).

The "mean" denominator Σᵢ sᵢ·class_weight[yᵢ] (0 for ``ignore_index``) is computed over all
the rows before the first chunk, on the tensors' device, and each chunk's G is divided by it
(or by ``denominator=``, the total weight of a whole step, where given).

**Vocabulary-parallel** (``shard=``, a :class:`crossent.torch.distributed.VocabShard`): ``weight``
is this rank's rows ``[start, stop)`` of the projection, so each chunk's logits are the shard's
columns. Each chunk reduces its rows' statistics over the shard's group, as
:func:`crossent.torch.distributed.vocab_parallel_cross_entropy` does (an all_reduce MAX of
``[rows + 2]`` and a SUM of ``[2 rows + 1]``, ``[3 rows + 1]`` with label smoothing), and its G
is the closed form of that module on the shard's columns; the fused kernels, which hold whole
rows, are not used there. Chunk by chunk rather than in two passes over all the rows (one MAX,
one SUM): a two-pass design would compute every chunk's logits twice, a third more matmuls, to
save 2 small collectives per chunk (one chunk, ``chunk_size`` ≥ N, takes 2 in all). G is local,
so are the gradients of the weight and bias shards; the hidden state's, Σ over the shards of
G @ W_shard, is the rank's partial sum, all-reduced (SUM of ``[N, H]``) once in the backward
pass, or left partial with ``reduce_hidden_grad=False`` for a caller whose column-parallel layer
reduces it (as Megatron-LM's does). With ``reduction="none"`` the forward pass keeps each row's
LSE, so that the backward recomputation needs no statistics collective.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

import torch
import torch.distributed as dist

from crossent import _checks
from crossent._xp import namespace
from crossent.kernels import numba_kernels, triton_kernels
from crossent.losses import cross_entropy, value_and_grad

if TYPE_CHECKING:
    from crossent.torch.distributed import VocabShard

__all__ = ["CHUNK_BYTES", "default_chunk_size", "linear_cross_entropy"]

CHUNK_BYTES = 64 * 2**20
"""Budget for one chunk's float32 logits (chunk × V × 4 bytes) when ``chunk_size`` is None. With a
fused kernel (Numba on the CPU, Triton on CUDA) the chunk's gradient is written over its logits,
so the peak beyond the inputs and their gradients is about one CHUNK_BYTES: 369 MiB in all
against 3108 MiB for the naive loss at N=4096, H=1024, V=65536 on the CPU, where the gradient of
the weight alone is 256 MiB (``crossent bench --cases linear``). Without one (float64 on CUDA, or
Numba not installed) the generic core holds several chunk-sized tensors at once (the one-hot
target, the log-softmax, the softmax, the gradient): about 8 × CHUNK_BYTES."""


def default_chunk_size(num_classes: int) -> int:
    """The number of rows whose float32 logits fit in :data:`CHUNK_BYTES` (at least 1)."""
    return max(1, CHUNK_BYTES // (4 * max(1, num_classes)))


class _Options(NamedTuple):
    ignore_index: int | None
    label_smoothing: float
    z_loss: float
    logit_softcap: float | None
    base: float | None
    reduction: str
    chunk_size: int
    has_class_weight: bool
    has_sample_weight: bool
    matmul_dtype: torch.dtype | None = None  # torch.autocast's dtype for the matmuls, where it is on
    shard: Any = None  # crossent.torch.distributed._vocab._Spec: the vocabulary-parallel path
    world_size: int = 1  # of the shard's group
    reduce_hidden_grad: bool = True
    labels_checked: bool = True  # (False: labels on a device, unread; out-of-range rows give NaN)
    has_bias: bool = False  # (an empty shard's bias is a real bias of no element)


def linear_cross_entropy(
    hidden: torch.Tensor, weight: torch.Tensor, target: torch.Tensor, /, *,
    bias: torch.Tensor | None = None, class_weight: torch.Tensor | None = None,
    ignore_index: int | None = None, label_smoothing: float = 0.0, z_loss: float = 0.0,
    logit_softcap: float | None = None, reduction: str = "mean",
    sample_weight: torch.Tensor | None = None, base: float | None = None,
    chunk_size: int | None = None, denominator: Any = None, shard: VocabShard | None = None,
    reduce_hidden_grad: bool = True,
) -> torch.Tensor:
    """:func:`crossent.cross_entropy` of ``hidden @ weight.T + bias`` against integer labels,
    without materializing the ``[..., V]`` logits.

    Equal, to rounding, to ``crossent.cross_entropy(hidden @ weight.T + bias, target, ...)`` in
    value and in the gradients of ``hidden``, ``weight`` and ``bias``, with at most
    ``chunk_size`` rows of logits alive at a time.

    Args:
        hidden: ``[..., H]`` features (the last hidden state of a language model, say).
        weight: ``[V, H]`` the projection to V classes (``nn.Linear(H, V).weight``); with
            ``shard``, this rank's rows ``[shard.start, shard.stop)`` of it.
        target: integer labels ``[...]`` in ``[0, V)`` or ``ignore_index`` (global ids with ``shard``).
        bias: ``[V]`` or None (the shard's ``[stop - start]`` with ``shard``).
        class_weight: per-class weights ``[V]``, :func:`crossent.cross_entropy`'s ``weight``
            (renamed: ``weight`` is the projection here); the global ``[shard.num_classes]`` with
            ``shard``.
        ignore_index, label_smoothing, z_loss, logit_softcap, reduction, sample_weight, base:
            as :func:`crossent.cross_entropy`. ``class_weight`` and ``sample_weight`` are
            constants: they must not require grad.
        chunk_size: rows per chunk; None picks :func:`default_chunk_size` (V, or the shard's size).
        denominator: "mean" divides the sum by this total weight, a number or a 0-d tensor
            (constant), instead of the rows' own Σᵢ sᵢ class_weight[yᵢ]; 0 gives 0 and a zero
            gradient. reduction="mean" only.
        shard: a :class:`crossent.torch.distributed.VocabShard`: the vocabulary-parallel loss over
            its group (module docstring), equal on every rank to the unsharded loss of the
            concatenated logits; ``weight``'s gradient is this rank's slice of the full one.
        reduce_hidden_grad: with ``shard``, all-reduce ``hidden``'s gradient over the group in
            the backward pass (True), or leave each rank its own partial sum (False).

    Half-precision inputs (float16, bfloat16) are computed in float32, logits included; the loss
    is float32 (float64 for float64 inputs) and each gradient has its input's dtype.

    >>> import torch
    >>> hidden, weight = torch.zeros(3, 4), torch.zeros(5, 4)
    >>> round(float(linear_cross_entropy(hidden, weight, torch.tensor([0, 1, 4]))), 4)  # log 5
    1.6094
    """
    if not isinstance(hidden, torch.Tensor) or not hidden.is_floating_point() or hidden.ndim < 1:
        raise TypeError(f"hidden must be a floating torch.Tensor [..., H], got {_describe(hidden)}")
    if not isinstance(weight, torch.Tensor) or not weight.is_floating_point() or weight.ndim != 2:
        raise TypeError(f"weight must be a floating torch.Tensor [V, H], got {_describe(weight)}")
    width, features = weight.shape
    num_classes = width
    if shard is not None:
        from crossent.torch.distributed import _vocab  # (imported here: it imports nothing of crossent.torch)

        _vocab._check_shard(shard, width, "weight's first dimension")
        num_classes = shard.num_classes
    if hidden.shape[-1] != features:
        raise ValueError(f"hidden's last dimension ({hidden.shape[-1]}) must equal weight's second "
                         f"({features}): weight is [V, H]")
    batch = tuple(hidden.shape[:-1])
    if not isinstance(target, torch.Tensor) or target.is_floating_point() or target.dtype == torch.bool:
        raise TypeError(f"target must be a torch.Tensor of integer labels, got {_describe(target)}")
    if tuple(target.shape) != batch:
        raise ValueError(f"target must have hidden's shape without its last dimension, {batch}, "
                         f"got {tuple(target.shape)}")
    if bias is not None and (not isinstance(bias, torch.Tensor) or tuple(bias.shape) != (width,)):
        raise ValueError(f"bias must be a tensor of shape ({width},), got {_describe(bias)}")
    for name, value in (("class_weight", class_weight), ("sample_weight", sample_weight)):
        if isinstance(value, torch.Tensor) and value.requires_grad and torch.is_grad_enabled():
            raise ValueError(f"{name} requires grad, but linear_cross_entropy does not differentiate "
                             f"it; pass {name}.detach()")
    if class_weight is not None and tuple(class_weight.shape) != (num_classes,):
        raise ValueError(f"class_weight must have one entry per class ({num_classes}), "
                         f"got shape {tuple(class_weight.shape)}")
    if chunk_size is None:
        chunk_size = default_chunk_size(width)
    else:
        try:
            chunk_size = _checks.integer("chunk_size", chunk_size, low=1)
        except (TypeError, ValueError):
            raise ValueError(f"chunk_size must be a positive int or None, got {chunk_size!r}") from None
    reduction = _checks.reduction(reduction)
    ignore_index = _checks.index_option("ignore_index", ignore_index)
    if not isinstance(reduce_hidden_grad, bool):
        raise TypeError(f"reduce_hidden_grad must be True or False, got {reduce_hidden_grad!r}")
    given = _checks.denominator(denominator, reduction)
    if isinstance(given, torch.Tensor) and given.requires_grad and torch.is_grad_enabled():
        raise ValueError("denominator requires grad, but linear_cross_entropy does not differentiate it; "
                         "pass denominator.detach()")

    labels = target.reshape(-1)
    compute = _compute_dtype(hidden, weight, bias)
    spec, world_size, checked = None, 1, True
    if shard is None:
        _checks.labels_in_range(labels, num_classes, ignore_index, namespace(labels))
    else:
        labels = labels.to(torch.int64)
        checked = _vocab._check_labels(labels, num_classes, ignore_index)
        world_size = dist.get_world_size(shard.group)
        spec = _vocab._Spec(
            shard.start, shard.stop, num_classes, shard.group, ignore_index,
            _checks.number("label_smoothing", label_smoothing, low=0, high=1), _checks.number("z_loss", z_loss, low=0),
            None if logit_softcap is None else _checks.number("logit_softcap", logit_softcap, low=0, low_open=True),
            0.0, _checks.log_base(base), reduction)
    if sample_weight is not None:
        sample_weight = torch.as_tensor(sample_weight, dtype=compute, device=hidden.device)
        _checks.broadcastable("sample_weight", tuple(sample_weight.shape), batch, "the per-sample loss")
        sample_weight = sample_weight.broadcast_to(batch).reshape(-1)
    if class_weight is not None:
        class_weight = class_weight.to(compute)
    # under torch.autocast the matmuls run in its dtype (as autocast runs h @ w.T), the loss and the
    # gradient buffers in the compute dtype (as autocast runs cross_entropy in float32)
    device_type = hidden.device.type
    matmul_dtype = torch.get_autocast_dtype(device_type) if torch.is_autocast_enabled(device_type) else None
    options = _Options(ignore_index, label_smoothing, z_loss, logit_softcap, base, reduction, chunk_size,
                       class_weight is not None, sample_weight is not None, matmul_dtype, spec, world_size,
                       reduce_hidden_grad, checked, bias is not None)
    empty = hidden.new_empty(0, dtype=compute)  # stands for an absent optional tensor
    loss = _LinearCrossEntropy.apply(
        hidden.reshape(-1, features), weight, empty if bias is None else bias, labels,
        empty if class_weight is None else class_weight,
        empty if sample_weight is None else sample_weight,
        empty if given is None else torch.as_tensor(given, dtype=compute, device=hidden.device), options)
    return loss.reshape(batch) if reduction == "none" else loss


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return repr(value)


def _compute_dtype(*tensors: torch.Tensor | None) -> torch.dtype:
    """float64 if any input is float64, else float32 (crossent's rule: halves compute in float32)."""
    return torch.float64 if any(t is not None and t.dtype == torch.float64 for t in tensors) else torch.float32


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                labels: torch.Tensor, class_weight: torch.Tensor, sample_weight: torch.Tensor,
                denominator: torch.Tensor, options: _Options) -> torch.Tensor:
        needs = tuple(ctx.needs_input_grad[:3])
        has_bias = options.has_bias
        ctx.options, ctx.has_bias = options, has_bias
        ctx.dtypes = (hidden.dtype, weight.dtype, bias.dtype)
        scale = None
        if options.reduction == "mean":
            scale = denominator if denominator.numel() else _row_weights(
                labels, class_weight, sample_weight, options, _compute_dtype(hidden, weight, bias)).sum()
        eager = options.reduction != "none" and any(needs)
        rows, grads, lse = _chunks(hidden, weight, bias if has_bias else None, labels, class_weight,
                                   sample_weight, options, needs=needs if eager else (False, False, False),
                                   divide_by=scale)
        value = rows if options.reduction == "none" else rows.sum()
        if scale is not None:
            positive = scale > 0
            value = torch.where(positive, value / torch.where(positive, scale, torch.ones_like(scale)),
                                torch.zeros_like(value))
        if eager:  # kept on ctx, not saved for backward, so that backward can hand them over uncopied
            ctx.gradients = grads
            ctx.recompute = False
        else:  # (with a shard, each row's LSE too: the recomputation needs no collective)
            ctx.save_for_backward(hidden, weight, bias, labels, class_weight, sample_weight,
                                  rows.new_empty(0) if lse is None else lse)
            ctx.recompute = True
        return value

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        needs = tuple(ctx.needs_input_grad[:3])
        if ctx.recompute:  # reduction="none": one factor per row
            hidden, weight, bias, labels, class_weight, sample_weight, lse = ctx.saved_tensors
            _, grads, _ = _chunks(hidden, weight, bias if ctx.has_bias else None, labels, class_weight,
                                  sample_weight, ctx.options, needs=needs, row_scale=grad_output,
                                  lse=lse if lse.numel() else None)
        else:
            grads, ctx.gradients = ctx.gradients, None
            if grads is None:
                raise RuntimeError("a second backward through linear_cross_entropy: its gradients went to "
                                   "the first one; recompute the loss to backward again")
            # scaled in place: a second copy of grad_weight (V × H) would double the peak memory
            grads = tuple(None if g is None else g.mul_(grad_output.to(g.dtype)) for g in grads)
        shard = ctx.options.shard
        if shard is not None and ctx.options.reduce_hidden_grad and grads[0] is not None:
            # Σ over the shards of G @ W_shard: the one collective of the backward pass
            dist.all_reduce(grads[0], op=dist.ReduceOp.SUM, group=shard.group)
        out = [None if g is None else g.to(dtype) for g, dtype in zip(grads, ctx.dtypes, strict=True)]
        if not ctx.has_bias:
            out[2] = None
        return (*out, None, None, None, None, None)


def _row_weights(labels: torch.Tensor, class_weight: torch.Tensor, sample_weight: torch.Tensor,
                 options: _Options, dtype: torch.dtype) -> torch.Tensor:
    """wᵢ = sᵢ · class_weight[yᵢ], 0 where yᵢ is ignore_index: the terms of the mean's denominator."""
    if options.ignore_index is None:
        valid = torch.ones_like(labels, dtype=torch.bool)
    else:
        valid = labels != options.ignore_index
    w = valid.to(dtype)
    if options.has_class_weight:
        w = w * class_weight[torch.where(valid, labels, torch.zeros_like(labels))]
    if options.has_sample_weight:
        w = w * sample_weight
    return w


def _chunks(hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
            labels: torch.Tensor, class_weight: torch.Tensor, sample_weight: torch.Tensor,
            options: _Options, *, needs: tuple[bool, ...], divide_by: torch.Tensor | None = None,
            row_scale: torch.Tensor | None = None, lse: torch.Tensor | None = None,
            ) -> tuple[torch.Tensor, tuple[torch.Tensor | None, ...], torch.Tensor | None]:
    """The per-row losses [N], and the gradients (hidden, weight, bias) of their sum — divided by
    ``divide_by`` (0 where it is 0), rows scaled by ``row_scale`` — where ``needs`` asks. With
    ``row_scale`` (the backward pass of reduction="none") only the gradients are meant. With a
    shard, also each row's global LSE [N]; given as ``lse`` (the backward pass) it spares the
    statistics' collectives."""
    with torch.autocast(hidden.device.type, enabled=False):  # (its dtype is options.matmul_dtype)
        return _chunk_loop(hidden, weight, bias, labels, class_weight, sample_weight, options, needs=needs,
                           divide_by=divide_by, row_scale=row_scale, lse=lse)


def _chunk_loop(hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                labels: torch.Tensor, class_weight: torch.Tensor, sample_weight: torch.Tensor,
                options: _Options, *, needs: tuple[bool, ...], divide_by: torch.Tensor | None,
                row_scale: torch.Tensor | None, lse: torch.Tensor | None,
                ) -> tuple[torch.Tensor, tuple[torch.Tensor | None, ...], torch.Tensor | None]:
    compute = _compute_dtype(hidden, weight, bias)
    mm = options.matmul_dtype or compute
    w = weight.to(compute)  # no copy for float32 and float64 weights
    w_mm = w if mm == compute else weight.to(mm)
    b = None if bias is None else bias.to(compute)
    n = hidden.shape[0]
    rows = torch.empty(n, dtype=compute, device=hidden.device)
    grad_hidden = torch.empty(hidden.shape, dtype=compute, device=hidden.device) if needs[0] else None
    grad_weight = torch.zeros(w.shape, dtype=compute, device=w.device) if needs[1] else None
    grad_bias = torch.zeros(w.shape[0], dtype=compute, device=w.device) if needs[2] and b is not None else None
    if divide_by is not None:
        positive = divide_by > 0
        safe = torch.where(positive, divide_by, torch.ones_like(divide_by))
    given_lse = lse
    if options.shard is not None and lse is None:
        lse = torch.empty(n, dtype=compute, device=hidden.device)
    kwargs: dict[str, Any] = {
        "weight": class_weight if options.has_class_weight else None, "ignore_index": options.ignore_index,
        "label_smoothing": options.label_smoothing, "z_loss": options.z_loss,
        "logit_softcap": options.logit_softcap, "base": options.base, "reduction": "none"}
    cpu = None
    for start in range(0, n, options.chunk_size):
        stop = min(start + options.chunk_size, n)
        h = hidden[start:stop].to(mm)
        logits = h @ w_mm.T if b is None else torch.addmm(b.to(mm), h, w_mm.T)
        logits = logits.to(compute)  # (no copy without autocast)
        y = labels[start:stop]
        if options.has_sample_weight:
            kwargs["sample_weight"] = sample_weight[start:stop]
        if options.shard is not None and lse is not None:  # vocabulary-parallel: the group's statistics, then G
            rows[start:stop], shard_g = _shard_chunk(
                logits, y, class_weight, sample_weight, options, divide_by, row_scale, lse, start, stop,
                need_grad=any(needs), lse_known=given_lse is not None)
            del logits
            if shard_g is None:
                continue
            g = shard_g
        elif not any(needs):
            rows[start:stop] = cross_entropy(logits, y, **kwargs)
            continue
        elif (cpu := cpu or numba_kernels(logits)) is not None:  # the fused CPU kernel, G over the logits
            rows[start:stop], g = _kernel_chunk(cpu, logits, y, kwargs, options, divide_by, row_scale, start, stop)
            del logits  # (g is its buffer)
        elif (gpu := triton_kernels(logits)) is not None:  # the Triton kernel, likewise, with no host sync
            rows[start:stop], g = _triton_chunk(gpu, logits, y, kwargs, options, divide_by, row_scale, start, stop)
            del logits
        else:
            value, g = value_and_grad(cross_entropy, logits, y, **kwargs)
            rows[start:stop] = value
            del logits, value
            if divide_by is not None:
                g = torch.where(positive, g / safe, torch.zeros_like(g))
            if row_scale is not None:
                g = g * row_scale[start:stop, None].to(compute)
        if mm != compute:  # autocast: the gradient's matmuls in its dtype too, accumulated in compute's
            g_mm = g.to(mm)
            if grad_hidden is not None:
                grad_hidden[start:stop] = g_mm @ w_mm
            if grad_weight is not None:
                grad_weight += g_mm.T @ h
        else:
            if grad_hidden is not None:
                torch.mm(g, w, out=grad_hidden[start:stop])
            if grad_weight is not None:
                grad_weight.addmm_(g.T, h)
        if grad_bias is not None:
            grad_bias += g.sum(0)
        del g  # freed before the next chunk's logits are made
    return rows, (grad_hidden, grad_weight, grad_bias), lse


def _shard_chunk(logits: torch.Tensor, labels: torch.Tensor, class_weight: torch.Tensor,
                 sample_weight: torch.Tensor, options: _Options, divide_by: torch.Tensor | None,
                 row_scale: torch.Tensor | None, lse: torch.Tensor, start: int, stop: int, *, need_grad: bool,
                 lse_known: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(per-row losses in ``base``, G or None) of one chunk of a shard's logits, by
    ``distributed._vocab``: its MAX and SUM over the group, which write the rows' LSE into
    ``lse[start:stop]``; or, where ``lse_known`` (the backward pass), G from it with no collective.
    G is the gradient of Σ rows divided by ``divide_by`` (0 where it is 0), rows scaled by ``row_scale``."""
    from crossent.torch.distributed import _vocab

    spec = options.shard
    rows = _vocab._rows(labels, class_weight if options.has_class_weight else None,
                        sample_weight[start:stop] if options.has_sample_weight else None, spec, logits.dtype,
                        checked=options.labels_checked)
    if lse_known:
        loss = logits.new_zeros(labels.shape)  # (the backward pass: only G is meant)
    else:
        result = _vocab._forward(logits, rows, spec)
        lse[start:stop] = result.lse
        loss = result.loss
        if rows.invalid is not None:  # labels that could not be read: NaN rows
            loss = torch.where(rows.invalid, math.nan, loss)
        bad = _vocab._check_coverage(result.coverage, spec, options.world_size)
        if bad is not None:  # (on a device, unread: the shards do not tile [0, C) where it is True)
            loss = torch.where(bad, math.nan, loss)
        if spec.log_base is not None:
            loss = loss / spec.log_base
    if not need_grad:
        return loss, None
    scale = torch.ones_like(loss) if row_scale is None else row_scale[start:stop].to(logits.dtype)
    if divide_by is not None:
        positive = divide_by > 0
        scale = torch.where(positive, scale / torch.where(positive, divide_by, 1.0), 0.0)
    if spec.log_base is not None:
        scale = scale / spec.log_base
    return loss, _vocab._gradient(logits, rows, lse[start:stop], None, None, spec, scale)


def _triton_chunk(gpu: Any, logits: torch.Tensor, labels: torch.Tensor, kwargs: dict[str, Any],
                  options: _Options, divide_by: torch.Tensor | None, row_scale: torch.Tensor | None,
                  start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`_kernel_chunk` by the Triton kernel (``kernels._triton``) on a CUDA chunk: the
    gradient over the logits, the mean's divisor read by the kernel from device memory."""
    sample_weight = kwargs.get("sample_weight")
    if row_scale is not None:
        scale = row_scale[start:stop].to(logits.dtype)
        sample_weight = scale if sample_weight is None else sample_weight * scale
    grad_scale: Any = 1.0 if options.base is None else 1 / math.log(options.base)
    if divide_by is not None:
        positive = divide_by > 0
        grad_scale = torch.where(positive, grad_scale / torch.where(positive, divide_by, torch.ones_like(divide_by)),
                                 torch.zeros_like(divide_by)).to(torch.float32)
    loss, _, g = gpu.softmax_cross_entropy(
        logits, labels, sample_weight=sample_weight, class_weight=kwargs["weight"],
        ignore_index=options.ignore_index, smoothing=options.label_smoothing, z_loss=options.z_loss,
        softcap=options.logit_softcap, grad=True, grad_scale=grad_scale, in_place=True)
    rows = loss.to(logits.dtype)  # (scaled by row_scale: only its gradient is used)
    return rows if options.base is None else rows / math.log(options.base), g


def _kernel_chunk(cpu: Any, logits: torch.Tensor, labels: torch.Tensor, kwargs: dict[str, Any],
                  options: _Options, divide_by: torch.Tensor | None, row_scale: torch.Tensor | None,
                  start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(per-row losses, gradient) of one chunk by the Numba kernel (``kernels._cpu``), the gradient
    written over the logits (they are not needed after it): no other chunk-sized buffer. The
    gradient is of Σ rows, divided by ``divide_by`` and each row scaled by ``row_scale``; both go
    into the kernel (a row scale is a sample weight: every term of a row's loss is proportional
    to it)."""
    z = logits.detach().numpy()
    sample_weight = kwargs.get("sample_weight")
    s = None if sample_weight is None else sample_weight.detach().numpy()
    if row_scale is not None:
        scale = row_scale[start:stop].detach().to(logits.dtype).numpy()
        s = scale if s is None else s * scale
    class_weight = kwargs["weight"]
    log_base = None if options.base is None else math.log(options.base)
    divisor = 1.0 if log_base is None else log_base
    zero = False
    if divide_by is not None:
        total = float(divide_by)
        zero = not total > 0
        divisor = divisor * total if not zero else divisor
    loss, _ = cpu.softmax_cross_entropy(
        z, labels.numpy(), s, None if class_weight is None else class_weight.detach().numpy(), None, None,
        ignore_index=options.ignore_index, smoothing=options.label_smoothing, gamma=0.0, epsilon=0.0,
        z_loss=options.z_loss, softcap=options.logit_softcap, grad=True, divisor=divisor, out=z)
    if zero:  # a mean over no weight: the gradient is 0
        logits.zero_()
    rows = torch.from_numpy(loss).to(logits.dtype)  # (scaled by row_scale: only its gradient is used)
    return rows if log_base is None else rows / log_base, logits
