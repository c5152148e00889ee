"""The issue's targets, checked against a case's measurements.

Every crossent row of a case (or those its target names) is held to its case's target; the case
meets it when every one does. A case may have several targets, each for its own rows: ``ce``'s
rows that return a fresh gradient have one, its rows that write over the logits (issue 11) a
stricter one, and its row into a reused buffer one of the copy bandwidth only. A check whose
peer is unavailable cannot tell (``met`` is None). On a GPU (``crossent bench --device cuda``)
``ce`` and ``bce`` have targets of their own.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from crossent.bench._cases import IN_PLACE, REUSED, TORCH_IN_PLACE


class Check(NamedTuple):
    kind: str  # "faster" | "copy" | "same value" | "memory" | "time"
    peer: str | None
    bound: float

    def measure(self, row: dict[str, Any], case: dict[str, Any]) -> float | None:
        if self.kind == "faster":
            return row.get("vs", {}).get(self.peer)
        if self.kind == "copy":
            return row.get("copy_fraction")
        if self.kind == "same value":
            agreement = case.get("agreement", {})
            return agreement.get("rel_diff", {}).get(row["name"]) if agreement.get("reference") == self.peer else None
        if self.kind == "memory":
            return row.get("memory_vs", {}).get(self.peer)
        return 1 / row["vs"][self.peer] if row.get("vs", {}).get(self.peer) else None  # "time": self / peer

    def passes(self, value: float) -> bool:
        return value >= self.bound if self.kind in ("faster", "copy") else value <= self.bound

    def describe(self, value: float | None) -> str:
        shown = {
            "faster": lambda v: f"{v:.2f}× {self.peer} (≥{self.bound:g})",
            "copy": lambda v: f"{100 * v:.0f}% of copy (≥{100 * self.bound:g}%)",
            "same value": lambda v: f"value within {v:.1e} of {self.peer} (≤{self.bound:g})",
            "memory": lambda v: f"peak {v:.3f} of {self.peer} (≤{self.bound:.3f})",
            "time": lambda v: f"time {v:.2f}× {self.peer} (≤{self.bound:g})",
        }[self.kind]
        return f"{self.kind}{f' vs {self.peer}' if self.peer else ''}: cannot tell" if value is None else shown(value)


class Target(NamedTuple):
    goal: str
    checks: tuple[Check, ...]
    rows: tuple[str, ...] | None = None  # the crossent rows held to it (None: every one)


TARGETS: dict[str, tuple[Target, ...]] = {
    "ce": (Target("crossent ≥5× faster than torch eager and ≥50% of copy bandwidth",
                  (Check("faster", "torch eager", 5.0), Check("copy", None, 0.5)),
                  ("crossent (numpy)", "crossent (torch)")),
           Target("over the logits ≥10× torch eager and ≥70% of copy bandwidth",
                  (Check("faster", "torch eager", 10.0), Check("copy", None, 0.7)), (IN_PLACE, TORCH_IN_PLACE)),
           # a reused buffer moves what np.copyto moves (the logits read, the gradient's lines read
           # for ownership and written back): its bound is the copy's, not a multiple of torch eager
           Target("into a reused buffer ≥70% of copy bandwidth", (Check("copy", None, 0.7),), (REUSED,))),
    "bce": (Target("crossent ≥2× faster than torch eager", (Check("faster", "torch eager", 2.0),)),),
    "logloss": (Target("crossent ≥20× faster than sklearn log_loss, with the same value (relative 1e-5)",
                       (Check("faster", "sklearn log_loss", 20.0), Check("same value", "sklearn log_loss", 1e-5))),),
    "linear": (Target("crossent peak memory ≤1/8 of naive torch and time ≤1.3× naive torch",
                      (Check("memory", "naive torch", 1 / 8), Check("time", "naive torch", 1.3))),),
}
GPU_TARGETS: dict[str, tuple[Target, ...]] = {  # the torch tensors on the device; the NumPy rows do not run there
    "ce": (Target("crossent ≥70% of copy bandwidth and faster than torch.compile",
                  (Check("copy", None, 0.7), Check("faster", "torch.compile", 1.0)), ("crossent (torch)",)),),
    "bce": (Target("none on a GPU (the issue sets the BCE target on the CPU)", (), ("crossent (torch)",)),),
}


def evaluate(name: str, case: dict[str, Any], *, gpu: bool = False) -> dict[str, Any]:
    """``{"goal", "met", "checks": [{"implementation", "check", "value", "bound", "met", "text"}]}``;
    ``gpu``: the case ran on a torch device, held to :data:`GPU_TARGETS` where it has one there.
    ``met`` is None where there is no check."""
    targets = GPU_TARGETS.get(name, TARGETS[name]) if gpu else TARGETS[name]
    checks = []
    for target in targets:
        for impl, row in case["implementations"].items():
            if not impl.startswith("crossent") or (target.rows is not None and impl not in target.rows):
                continue
            for check in target.checks:
                value = check.measure({**row, "name": impl}, case) if row["available"] else None
                checks.append({"implementation": impl, "check": check.kind, "peer": check.peer, "value": value,
                               "bound": check.bound, "met": None if value is None else check.passes(value),
                               "text": check.describe(value)})
    verdicts = [c["met"] for c in checks]
    met = False if False in verdicts else (None if None in verdicts or not verdicts else True)
    return {"goal": "; ".join(target.goal for target in targets), "met": met, "checks": checks}
