"""Device requests: TensorFlow 1's device strings and the ``gn.device`` scope.

``with gn.device("/gpu:0"):`` records a device on every op created inside it
(``Operation.device``, TF 1's canonical string such as ``"/device:GPU:0"``; "" when
none was asked for). It is a request, not a placement: a run executes where its
Session runs it, and an op pinned to a device the session does not run on follows
the session (TF 1's soft placement), which ``Session.compile_report`` says.

Every TF 1 spelling is accepted: ``"/cpu:0"``, ``"/device:GPU:0"``, ``"gpu"``,
``"GPU:1"``, ``"/job:worker/replica:0/task:1/device:CPU:0"``, a ``*`` index. Nested
scopes merge as TF 1's do (an inner ``"/gpu:1"`` inside ``"/job:worker"`` gives
``"/job:worker/device:GPU:1"``); ``gn.device(None)`` (or ``""``) clears the request.
"""
from __future__ import annotations

import contextlib
import dataclasses
import re
from typing import Iterator, Optional

from graphnn.framework.graph import get_default_graph

_FIELDS = ("job", "replica", "task")
_DEVICE_TYPE = re.compile(r"[A-Z][A-Z_]*")  # CPU, GPU, TPU, XLA_CPU ...


@dataclasses.dataclass(frozen=True)
class DeviceSpec:
    """A parsed device string; each part None when the string leaves it open.

    Attributes:
        job: the job name. replica, task: their indices.
        device_type: ``"CPU"``, ``"GPU"``, ``"TPU"`` (upper case, as TF 1 writes them).
        device_index: the device's index; None for any (``*``).
    """

    job: Optional[str] = None
    replica: Optional[int] = None
    task: Optional[int] = None
    device_type: Optional[str] = None
    device_index: Optional[int] = None

    @classmethod
    def from_string(cls, spec: str) -> DeviceSpec:
        """Parses a TF 1 device string.

        Raises:
            ValueError: ``spec`` is not a device string, naming it and the part that is wrong.
        """
        if not isinstance(spec, str):
            raise TypeError(f"gn.device expects a device string or None, got {spec!r}")
        parts: dict = {}
        for part in (p for p in spec.split("/") if p):
            pieces = part.split(":")
            key = pieces[0].lower()
            if key in _FIELDS and len(pieces) == 2:
                parts[key] = pieces[1] if key == "job" else _index(pieces[1], spec)
            elif key == "device" and len(pieces) in (2, 3):
                parts.update(_device(pieces[1:], spec))
            elif len(pieces) in (1, 2) and _DEVICE_TYPE.fullmatch(pieces[0].upper()) \
                    and key not in (*_FIELDS, "device"):
                parts.update(_device(pieces, spec))
            else:
                raise ValueError(f"gn.device({spec!r}): cannot parse {part!r}; expected a TF 1 "
                                 f"device string such as '/cpu:0', '/device:GPU:0' or "
                                 f"'/job:worker/task:0/device:CPU:0'")
        return cls(**parts)

    def merged_into(self, outer: DeviceSpec) -> DeviceSpec:
        """This spec with the parts it leaves open taken from ``outer`` (TF 1's nesting)."""
        own = {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
        if "device_type" in own and "device_index" not in own:
            own["device_index"] = None  # "gpu" inside "/cpu:0" means any GPU, not GPU 0
        return dataclasses.replace(outer, **own)

    def to_string(self) -> str:
        """The canonical form, e.g. ``"/job:worker/task:0/device:GPU:1"``."""
        text = "".join(f"/{k}:{getattr(self, k)}" for k in _FIELDS if getattr(self, k) is not None)
        if self.device_type is not None:
            index = "*" if self.device_index is None else self.device_index
            text += f"/device:{self.device_type}:{index}"
        return text


def _index(text: str, spec: str) -> Optional[int]:
    if text == "*":
        return None
    if not text.isdigit():
        raise ValueError(f"gn.device({spec!r}): cannot parse {text!r} as an index (a number "
                         f"or '*')")
    return int(text)


def _device(pieces: list[str], spec: str) -> dict:
    kind = pieces[0].upper()
    if not _DEVICE_TYPE.fullmatch(kind):
        raise ValueError(f"gn.device({spec!r}): cannot parse {pieces[0]!r} as a device type "
                         f"such as CPU or GPU")
    return {"device_type": kind,
            "device_index": _index(pieces[1], spec) if len(pieces) > 1 else None}


def merge_device(spec: Optional[str], outer: str) -> str:
    """The device recorded on ops inside ``gn.device(spec)`` nested in a scope ``outer``."""
    if not spec:
        return ""
    parsed = DeviceSpec.from_string(spec)
    return parsed.merged_into(DeviceSpec.from_string(outer)).to_string() if outer \
        else parsed.to_string()


@contextlib.contextmanager
def device(spec: Optional[str]) -> Iterator[None]:
    """``with gn.device("/gpu:0"):`` records that device on the ops created inside.

    The request is kept on each op (``op.device``); runs follow their Session's
    placement (soft placement, see the module docstring). None or "" clears it.

    Example:
        >>> with gn.device("/cpu:0"):
        ...     y = gn.constant(1.0) + 2.0
        >>> y.op.device
        '/device:CPU:0'

    Raises:
        ValueError: ``spec`` is not a TF 1 device string.
    """
    graph = get_default_graph()
    previous = graph.device_scope
    graph.device_scope = merge_device(spec, previous)
    try:
        yield
    finally:
        graph.device_scope = previous
