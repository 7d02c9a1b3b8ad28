"""Training curves with matplotlib: ``gn.plot.history`` (the optional ``plot`` extra).

The picture that shows overfitting: for each metric, the training curve beside the
validation curve, with the best validation epoch marked (the epoch that
``EarlyStopping(restore_best_weights=True)`` would restore). matplotlib is optional:
``import graphnn`` never imports it; the first drawing does, and a missing matplotlib
is an ``ImportError`` that names the extra to install (``pip install "graphnn[plot]"``).

Example:
    >>> history = model.fit(x, y, epochs=30, validation_split=0.2, verbose=0)
    >>> fig = gn.plot.history(history)          # one panel per metric: loss, accuracy ...
    >>> fig.savefig("curves.png")
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence, Union

from graphnn.callbacks.callbacks import History, maximizes

HistoryLike = Union[History, Mapping[str, Sequence[float]], Any]

_INSTALL_HELP = 'gn.plot needs matplotlib, which is not installed: pip install "graphnn[plot]"'


def history(history: HistoryLike, metrics: Union[None, str, Sequence[str]] = None,
            ax: Any = None) -> Any:
    """Draws training vs validation curves, one subplot per metric; returns the figure.

    Each subplot has the metric's training curve, its ``val_`` curve when there is one,
    and a star with a dashed line at the best validation epoch (the lowest ``val_loss``,
    the highest ``val_accuracy``: the same "auto" rule as ``EarlyStopping``). Epochs are
    numbered from 1, as ``fit`` prints them.

    Args:
        history: what ``fit`` returns (a ``History``), its ``.history`` dict, or a model
            that has been fit (its ``.history``).
        metrics: a metric name or a list of them (``"loss"``, ``"accuracy"`` ...); by
            default every metric in the history, loss first.
        ax: a matplotlib Axes to draw one metric into, or a sequence of Axes, one per
            metric; by default a new figure with the subplots side by side.

    Returns:
        The matplotlib ``Figure``. In a notebook it shows when the cell ends; end the
        call with ``;`` (or assign the figure) so it is not shown twice.

    Raises:
        ImportError: matplotlib is missing (names the ``plot`` extra).
        ValueError: the history is empty, a metric is not in it, or the number of Axes
            does not match the number of metrics.

    Example:
        >>> fig = gn.plot.history(history, metrics=["loss", "accuracy"])
    """
    curves = _curves(history)
    names = _metric_names(curves, metrics)
    plt = _pyplot()
    if ax is None:
        figure, axes = plt.subplots(1, len(names), figsize=(4.8 * len(names), 3.6),
                                    squeeze=False, layout="constrained")
        axes = list(axes[0])
    else:
        if hasattr(ax, "flat"):  # the array that plt.subplots returns
            axes = list(ax.flat)
        else:
            axes = list(ax) if isinstance(ax, (list, tuple)) else [ax]
        if len(axes) != len(names):
            raise ValueError(f"gn.plot.history got {len(axes)} Axes for {len(names)} metrics "
                             f"{names}; pass one Axes per metric (or metrics=...)")
        figure = axes[0].figure
    for axes_one, name in zip(axes, names):
        _draw_metric(plt, axes_one, name, curves.get(name), curves.get(f"val_{name}"))
    return figure


def _pyplot() -> Any:
    # matplotlib is an optional extra: imported at the first drawing, not with graphnn.
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(_INSTALL_HELP) from error
    return plt


def _curves(history: HistoryLike) -> dict[str, list[float]]:
    """The per-epoch lists of a History, a model's History or a dict of lists."""
    record = getattr(history, "history", history)
    if isinstance(record, History):  # a model: model.history is its History
        record = record.history
    if not isinstance(record, Mapping):
        raise TypeError(f"gn.plot.history needs what fit returns (a History), its .history "
                        f"dict, or a fitted model; got {history!r}")
    curves = {str(key): [float(v) for v in values] for key, values in record.items()}
    if not any(curves.values()):
        raise ValueError("gn.plot.history: the history has no epochs to draw (did fit run?)")
    return curves


def _metric_names(curves: dict[str, list[float]],
                  metrics: Union[None, str, Sequence[str]]) -> list[str]:
    available = list(dict.fromkeys(key[4:] if key.startswith("val_") else key for key in curves))
    if metrics is None:
        return sorted(available, key=lambda name: name != "loss")
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    for name in names:
        base = name[4:] if name.startswith("val_") else name
        if base not in available:
            raise ValueError(f"gn.plot.history: no metric {name!r} in the history; it has "
                             f"{', '.join(available)}")
    names = [name[4:] if name.startswith("val_") else name for name in names]
    if not names:
        raise ValueError("gn.plot.history: metrics is empty; name at least one metric")
    return names


def _draw_metric(plt: Any, ax: Any, name: str, train: Optional[list[float]],
                 validation: Optional[list[float]]) -> None:
    marker = "o" if max(len(train or ()), len(validation or ())) <= 30 else None
    if train:
        ax.plot(range(1, len(train) + 1), train, marker=marker, markersize=3, color="C0",
                label="training")
    if validation:
        ax.plot(range(1, len(validation) + 1), validation, marker=marker, markersize=3,
                color="C1", label="validation")
        best = _best_epoch(name, validation)
        if best is not None:
            value = validation[best - 1]
            ax.axvline(best, color="0.5", linestyle="--", linewidth=1)
            ax.plot([best], [value], marker="*", markersize=13, color="C3", linestyle="none",
                    label=f"best val_{name}: {value:.4g} (epoch {best})")
    ax.set_title(name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(name)
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")


def _best_epoch(name: str, values: list[float]) -> Optional[int]:
    """The 1-based epoch of the best finite value (first one on ties), or None."""
    finite = [(value, epoch) for epoch, value in enumerate(values, 1) if math.isfinite(value)]
    if not finite:
        return None
    if maximizes(name):
        return max(finite, key=lambda pair: (pair[0], -pair[1]))[1]
    return min(finite)[1]
