"""TF 1 sessions: ``Session(target, graph, config)``, ``InteractiveSession``, ``ConfigProto``.

Both sessions are ``gn.Session``s. ``ConfigProto`` keeps what it is given; of its
options only ``device_count={"GPU": 0}`` has a meaning here (run on the CPU); the rest
(threads, placement logging, soft placement, GPU memory growth) concern TensorFlow's
runtime, which graphnn does not have: XLA picks its own threads, and every op runs where
its session runs (TF 1's soft placement, always on).
"""
from __future__ import annotations

import warnings
from typing import Any, Optional

import graphnn as gn
from graphnn.framework.graph import Graph

__all__ = ["ConfigProto", "GPUOptions", "GraphOptions", "InteractiveSession", "OptimizerOptions",
           "RunMetadata", "RunOptions", "Session"]


class _Options:
    """A protocol-buffer-like record of keyword options (``ConfigProto(log_device_placement=True)``)."""

    def __init__(self, **options: Any):
        self.__dict__.update(options)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({fields})"


class ConfigProto(_Options):
    """TF 1's session configuration; see the module docstring for what graphnn uses."""


class GPUOptions(_Options):
    """``ConfigProto(gpu_options=GPUOptions(allow_growth=True))``: accepted, not used (XLA
    manages device memory)."""


class GraphOptions(_Options):
    """``ConfigProto(graph_options=...)``: accepted; graphnn's own compiler passes run."""


class OptimizerOptions(_Options):
    """``GraphOptions(optimizer_options=...)``: accepted, not used."""


class RunOptions(_Options):
    """``Session.run(options=...)``: accepted, not used (no tracing here)."""


class RunMetadata(_Options):
    """``Session.run(run_metadata=...)``: accepted, left empty."""


_USED_OPTIONS = {"device_count"}


def _device(config: Optional[ConfigProto]) -> Optional[str]:
    if config is None:
        return None
    ignored = sorted(k for k, v in vars(config).items() if k not in _USED_OPTIONS and v)
    if ignored:
        warnings.warn(f"tf.ConfigProto options {', '.join(ignored)} have no meaning in graphnn "
                      f"and are ignored (XLA chooses threads and memory; every op runs on the "
                      f"session's device)", stacklevel=4)
    counts = getattr(config, "device_count", None) or {}
    return "cpu" if counts.get("GPU", 1) == 0 else None


class Session(gn.Session):
    """``tf.Session(target='', graph=None, config=None)``: a ``gn.Session``.

    ``target`` must be empty (no distributed runtime); ``run`` accepts TF 1's
    ``options`` and ``run_metadata`` arguments.

    Example:
        >>> with tf.Session() as sess:
        ...     sess.run(tf.global_variables_initializer())
    """

    def __init__(self, target: str = "", graph: Optional[Graph] = None,
                 config: Optional[ConfigProto] = None):
        if target:
            raise NotImplementedError(f"tf.Session(target={target!r}): graphnn has no "
                                      f"distributed runtime; use gn.distribute strategies")
        super().__init__(graph=graph, device=_device(config))

    def run(self, fetches: Any, feed_dict: Optional[dict] = None, options: Any = None,
            run_metadata: Any = None) -> Any:
        return super().run(fetches, feed_dict=feed_dict)

    def partial_run_setup(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("tf.Session.partial_run_setup is not supported by graphnn")


class InteractiveSession(Session):
    """A Session that makes itself the default at once, for shells and notebooks (TF 1).

    ``tensor.eval()`` and ``op.run()`` then need no ``with`` block. ``close()`` ends it.

    Example:
        >>> sess = tf.InteractiveSession()
        >>> tf.constant(3.0).eval()
        3.0
    """

    def __init__(self, target: str = "", graph: Optional[Graph] = None,
                 config: Optional[ConfigProto] = None):
        super().__init__(target, graph, config)
        self._interactive = self.as_default()
        self._interactive.__enter__()

    def close(self) -> None:
        if self._interactive is not None:
            context, self._interactive = self._interactive, None
            context.__exit__(None, None, None)
        super().close()
