"""crossent over ``torch.distributed``: losses whose inputs or whose mean span several processes.

- :class:`VocabShard` and :func:`vocab_parallel_cross_entropy`: the cross-entropy of logits split
  over the classes across a (tensor-parallel) process group, equal on every rank to the unsharded
  :func:`crossent.cross_entropy`, with one MAX and one SUM per forward pass and a local backward.
  :func:`crossent.torch.linear_cross_entropy` takes a ``shard=`` for the fused, chunked version.
  They need an initialized process group (``torch.distributed.init_process_group``; a group of
  one rank runs in a single process).
- :func:`loss_denominator`: the total weight of a step's samples over its micro-batches and the
  ranks, which every loss takes as ``denominator=`` to make the parts' means add up to the mean
  of the whole (gradient accumulation under DDP or FSDP). Without a process group it is this
  process's total.
"""

from crossent.torch.distributed._denominator import loss_denominator
from crossent.torch.distributed._vocab import LAYOUTS, VocabShard, vocab_parallel_cross_entropy

__all__ = [
    "LAYOUTS",
    "VocabShard",
    "loss_denominator",
    "vocab_parallel_cross_entropy",
]
