"""Fault injection: SPEC parsing and the decision, per request, of which fault (if any) to inject.

SPEC is a comma-separated list of entries:
  KIND:PROBABILITY               e.g. 429:0.1, 503:0.05, another-operation:0.05, lro-failed:0.02
  METHOD:TYPE:KIND:WHEN          e.g. put:Microsoft.Cache/redis:lro-failed:once
WHEN is `once`, `always`, a count (`3`) or a probability (`0.5`); METHOD and TYPE may be `*`.
Random draws use the emulator's seeded generator, so a run with the same --seed and the same request sequence
injects the same faults.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

KINDS = ("429", "500", "503", "another-operation", "lro-failed")


@dataclass
class TargetedFault:
    method: str
    type_name: str
    kind: str
    remaining: int | None  # None: unlimited
    probability: float = 1.0

    def matches(self, method: str, type_name: str | None) -> bool:
        if self.method != "*" and self.method != method.lower():
            return False
        if self.type_name == "*":
            return True
        return type_name is not None and self.type_name == type_name.lower()


class FaultSpecError(ValueError):
    pass


@dataclass
class FaultPlan:
    spec: str
    probabilities: dict[str, float]
    targeted: list[TargetedFault]

    @classmethod
    def parse(cls, spec: str | None) -> FaultPlan:
        probabilities: dict[str, float] = {}
        targeted: list[TargetedFault] = []
        for raw in (spec or "").split(","):
            entry = raw.strip()
            if not entry:
                continue
            parts = entry.split(":")
            if len(parts) == 2:
                kind, value = parts[0].lower(), parts[1]
                _check_kind(kind, entry)
                probabilities[kind] = _probability(value, entry)
            elif len(parts) == 4:
                method, type_name, kind, when = (p.strip() for p in parts)
                kind = kind.lower()
                _check_kind(kind, entry)
                if when == "once":
                    targeted.append(TargetedFault(method.lower(), type_name.lower(), kind, 1))
                elif when == "always":
                    targeted.append(TargetedFault(method.lower(), type_name.lower(), kind, None))
                elif when.isdigit():
                    targeted.append(TargetedFault(method.lower(), type_name.lower(), kind, int(when)))
                else:
                    targeted.append(
                        TargetedFault(method.lower(), type_name.lower(), kind, None, _probability(when, entry))
                    )
            else:
                raise FaultSpecError(f"fault entry {entry!r}: expected KIND:P or METHOD:TYPE:KIND:WHEN")
        return cls(spec or "", probabilities, targeted)

    def describe(self) -> dict[str, object]:
        return {
            "spec": self.spec,
            "probabilities": self.probabilities,
            "targeted": [
                {"method": t.method, "type": t.type_name, "kind": t.kind, "remaining": t.remaining,
                 "probability": t.probability}
                for t in self.targeted
            ],
        }

    def pick(self, rng: random.Random, method: str, type_name: str | None, *, is_write: bool,
             can_lro: bool) -> str | None:
        """The fault to inject for this request, consuming a targeted `once`/count entry when it fires."""

        def applicable(kind: str) -> bool:
            if kind == "another-operation":
                return is_write
            if kind == "lro-failed":
                return is_write and can_lro
            return True

        for fault in self.targeted:
            if fault.remaining == 0 or not fault.matches(method, type_name) or not applicable(fault.kind):
                continue
            if fault.probability < 1.0 and rng.random() >= fault.probability:
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
            return fault.kind
        for kind in KINDS:
            probability = self.probabilities.get(kind, 0.0)
            if probability > 0 and applicable(kind) and rng.random() < probability:
                return kind
        return None


def _check_kind(kind: str, entry: str) -> None:
    if kind not in KINDS:
        raise FaultSpecError(f"fault entry {entry!r}: unknown kind {kind!r} (known: {', '.join(KINDS)})")


def _probability(value: str, entry: str) -> float:
    try:
        probability = float(value)
    except ValueError as exc:
        raise FaultSpecError(f"fault entry {entry!r}: {value!r} is not a probability") from exc
    if not 0.0 <= probability <= 1.0:
        raise FaultSpecError(f"fault entry {entry!r}: probability must be within 0..1")
    return probability
