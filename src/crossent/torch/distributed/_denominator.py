"""The exact mean across gradient accumulation and data-parallel ranks: one total weight.

A training step that splits its batch into micro-batches (gradient accumulation) and ranks
(DDP, FSDP) wants the gradient of the mean over the whole step's samples,
``Σ_all ℓᵢ / Σ_all wᵢ``. The mean of the parts' means is not that once the parts hold different
weights (padding, ``ignore_index``, sample weights): each part must divide its sum by the one
total. :func:`loss_denominator` gives that total; every loss takes it as ``denominator=``::

    total = loss_denominator(targets, ignore_index=-100, world_average=True)  # once per step
    for x, y in micro_batches:
        cross_entropy(model(x), y, ignore_index=-100, denominator=total).backward()

``world_average=True`` divides the total by the world size: DDP and FSDP average the ranks'
gradients, which divides by it once more.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from crossent import _checks
from crossent._xp import as_array, as_index, device, dtype_kind, is_integer, namespace

__all__ = ["loss_denominator"]


def loss_denominator(
    target: Any, /, *, class_weight: Any = None, ignore_index: int | None = None,
    sample_weight: Any = None, axis: int = -1, elementwise: bool = False, group: Any = None,
    world_average: bool = False, dtype: torch.dtype = torch.float32,
) -> Any:
    """The total weight Σ sᵢ w_{yᵢ} of this step's samples on every rank of ``group``: the
    ``denominator=`` that makes each part's ``"mean"`` a share of the mean of the whole.

    Args:
        target: this rank's targets for the step: one array, or a sequence of them (one per
            micro-batch). Integer labels give Σᵢ sᵢ w_{yᵢ} over the samples whose label is not
            ``ignore_index``; dense targets (the softmax losses' one-hot or soft rows, class
            axis ``axis``) give Σᵢ sᵢ Σ_c w_c y_ic; with ``elementwise=True`` (the binary
            losses, each element a sample) the sum of ``sample_weight`` broadcast to the target,
            or its number of elements.
        class_weight: the loss's ``weight=`` (``[C]``), if any.
        ignore_index: the loss's ``ignore_index``, if any.
        sample_weight: per-sample weights, matching ``target`` (a sequence for a sequence).
        group: the process group summed over; None is the default group when torch.distributed
            is initialized, and no sum (this process alone) when it is not.
        world_average: divide by the group's size, for DDP's and FSDP's averaging of gradients.
        dtype: of the result (float32; float64 for float64 losses).

    Returns:
        A 0-d tensor on the targets' device (for torch targets; a NumPy or JAX 0-d array for
        theirs, without a group), equal on every rank. It is summed with one ``all_reduce`` on
        the device: no value is read back to the host.
    """
    parts = list(target) if isinstance(target, Sequence) and not _is_array(target) else [target]
    weights: list[Any] = ([None] * len(parts) if sample_weight is None else
                          list(sample_weight) if isinstance(sample_weight, Sequence) and not _is_array(sample_weight)
                          else [sample_weight])
    if len(weights) != len(parts):
        raise ValueError(f"sample_weight must hold one array per micro-batch of target ({len(parts)}), "
                         f"got {len(weights)}")
    if not parts:
        raise ValueError("target must hold at least one micro-batch, got an empty sequence")
    if not isinstance(world_average, bool):
        raise TypeError(f"world_average must be True or False, got {world_average!r}")
    if not isinstance(elementwise, bool):
        raise TypeError(f"elementwise must be True or False, got {elementwise!r}")
    ignore_index = _checks.index_option("ignore_index", ignore_index)
    total = None
    for k, (part, weight) in enumerate(zip(parts, weights, strict=True)):
        local = _part_total(part, weight, class_weight, ignore_index, axis, elementwise, dtype,
                            name="target" if len(parts) == 1 else f"target[{k}]")
        total = local if total is None else total + local
    return _over_group(total, group, world_average)


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def _part_total(target: Any, sample_weight: Any, class_weight: Any, ignore_index: int | None, axis: int,
                elementwise: bool, dtype: torch.dtype, *, name: str) -> Any:
    xp = namespace(target)
    t = target if _is_array(target) else xp.asarray(target)
    float_dtype = _float_dtype(xp, dtype)
    like = xp.empty(0, dtype=float_dtype, device=device(t))
    if elementwise:
        shape = tuple(t.shape)
        if sample_weight is None:
            count = 1
            for n in shape:
                count *= n
            return xp.asarray(float(count), dtype=float_dtype, device=device(like))
        s = as_array(sample_weight, xp, like=like, dtype=float_dtype)
        _checks.broadcastable("sample_weight", tuple(s.shape), shape, "the target")
        return xp.sum(xp.broadcast_to(s, shape))
    if is_integer(t.dtype, xp):
        labels = as_index(t, xp)
        counted = labels >= 0 if ignore_index is None else labels != ignore_index
        w = xp.astype(counted, float_dtype)
        if class_weight is not None:
            cw = as_array(class_weight, xp, like=like, dtype=float_dtype)
            if cw.ndim != 1:
                raise ValueError(f"class_weight must be one weight per class [C], got shape {tuple(cw.shape)}")
            w = w * xp.take(cw, xp.reshape(xp.clip(labels, 0, cw.shape[0] - 1), (-1,)))
            w = xp.reshape(w, tuple(labels.shape))
        batch = tuple(labels.shape)
    else:
        if dtype_kind(t.dtype, xp) != "real floating":
            raise TypeError(f"{name} must hold integer labels or dense (float) targets, got {t.dtype}")
        if ignore_index is not None:
            raise ValueError(f"ignore_index={ignore_index} applies to integer labels; {name} holds dense targets")
        y = xp.moveaxis(xp.astype(t, float_dtype), axis, -1)
        if class_weight is not None:
            y = y * as_array(class_weight, xp, like=like, dtype=float_dtype)
        w = xp.sum(y, axis=-1)
        batch = tuple(w.shape)
    if sample_weight is not None:
        s = as_array(sample_weight, xp, like=like, dtype=float_dtype)
        _checks.broadcastable("sample_weight", tuple(s.shape), batch, "the per-sample loss")
        w = w * s
    return xp.sum(w)


def _float_dtype(xp: Any, dtype: torch.dtype) -> Any:
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    return xp.float64 if dtype == torch.float64 else xp.float32


def _over_group(total: Any, group: Any, world_average: bool) -> Any:
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        if group is not None:
            raise ValueError("group is given but torch.distributed is not initialized")
        return total
    if not isinstance(total, torch.Tensor):
        raise TypeError(f"loss_denominator sums over the process group with torch.distributed: the targets "
                        f"must be torch tensors, got {type(total).__name__}")
    total = total.clone()
    dist.all_reduce(total, op=dist.ReduceOp.SUM, group=group)
    if world_average:
        total = total / dist.get_world_size(group)
    return total
