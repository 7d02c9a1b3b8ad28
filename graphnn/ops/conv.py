"""Convolution and pooling (NHWC or NCHW), TensorFlow 1's ``Conv2D``, ``MaxPool`` and
``AvgPool``; their gradients are VJP nodes of their lowerings.

``MaxPool`` has an alternative lowering (``tiled-windows``) for windows that tile the
input (stride equal to window size, as almost every CNN pools): the same forward, and a
gradient computed elementwise instead of by XLA's ``select_and_scatter``, which XLA's CPU
backend runs one window at a time (a 2x2 pool's gradient over 128x28x28x32: 50 ms
against 3 ms, measured). It routes each window's gradient to the same element
``select_and_scatter`` picks: the first maximum in row-major window order, under the
same ``>=`` comparison, over the input padded with -inf as JAX pads it on CPU and GPU
(so ties, NaN, infinities and padding get what they get by default). The compiler
uses it where it measured it faster.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

from graphnn.errors import DTypeError
from graphnn.framework.registry import Alternative
from graphnn.framework.shapes import TensorShape
from graphnn.framework.tensor import Tensor
from graphnn.ops.declare import (OpDef, Sample, apply, check_dtype, pair, rand, register, require,
                                 to_tensor)
from graphnn.ops.vjp import vjp_gradient


def _pair_of(value: Any, name: str, data_format: str) -> tuple[int, int]:
    """Strides/sizes/dilations given as an int, (h, w) or TF's 4-element form."""
    values = [int(value)] * 2 if np.isscalar(value) else [int(v) for v in value]
    if len(values) == 4:
        values = values[1:3] if data_format == "NHWC" else values[2:4]
    if len(values) != 2:
        raise ValueError(f"{name} must be an int, 2 ints or 4 ints, got {value!r}")
    return values[0], values[1]


def _out_size(size: Optional[int], window: int, stride: int, padding: str) -> Optional[int]:
    if size is None:
        return None
    if padding == "SAME":
        return -(-size // stride)
    return max(-(-(size - window + 1) // stride), 0)


def _spatial_axes(data_format: str) -> tuple[int, int, int]:
    require(data_format in ("NHWC", "NCHW"), f"data_format must be NHWC or NCHW, got {data_format!r}")
    return (1, 2, 3) if data_format == "NHWC" else (2, 3, 1)


def _conv_infer(inputs, strides, padding, data_format, dilations):
    x, w = inputs
    if x.dtype != w.dtype:
        raise DTypeError(f"input ({x.dtype}) and filters ({w.dtype}) must have one dtype")
    check_dtype(x, "float")
    require(padding in ("SAME", "VALID"), f"padding must be 'SAME' or 'VALID', got {padding!r}")
    require(x.shape.ndims in (4, None) and w.shape.ndims in (4, None),
            f"conv2d needs a 4-D input and 4-D filters (kh, kw, in, out); got {x.shape} "
            f"and {w.shape}")
    if x.shape.ndims is None or w.shape.ndims is None:
        return [(TensorShape(None), x.dtype)]
    h_axis, w_axis, c_axis = _spatial_axes(data_format)
    kh, kw, c_in, c_out = w.shape.dims
    if x.shape[c_axis] is not None and c_in is not None:
        require(x.shape[c_axis] == c_in, f"input has {x.shape[c_axis]} channels but the "
                                         f"filters expect {c_in}")
    eff_h = None if kh is None else (kh - 1) * dilations[0] + 1
    eff_w = None if kw is None else (kw - 1) * dilations[1] + 1
    dims = [x.shape[0], None, None, None]
    dims[h_axis] = _out_size(x.shape[h_axis], eff_h or 1, strides[0], padding)
    dims[w_axis] = _out_size(x.shape[w_axis], eff_w or 1, strides[1], padding)
    dims[c_axis] = c_out
    return [(TensorShape(dims), x.dtype)]


def _conv_lower(x, w, strides, padding, data_format, dilations):
    return jax.lax.conv_general_dilated(
        x, w, window_strides=strides, padding=padding, rhs_dilation=dilations,
        dimension_numbers=(data_format, "HWIO", data_format))


def _same_pads(size: int, window: int, stride: int) -> tuple[int, int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def _conv_reference(x, w, strides, padding, data_format, dilations):
    if data_format == "NCHW":
        x = np.transpose(x, (0, 2, 3, 1))
    kh, kw = w.shape[:2]
    eff_h, eff_w = (kh - 1) * dilations[0] + 1, (kw - 1) * dilations[1] + 1
    if padding == "SAME":
        pads = (_same_pads(x.shape[1], eff_h, strides[0]), _same_pads(x.shape[2], eff_w, strides[1]))
        x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    out_h = (x.shape[1] - eff_h) // strides[0] + 1
    out_w = (x.shape[2] - eff_w) // strides[1] + 1
    out = np.zeros((x.shape[0], out_h, out_w, w.shape[3]), x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, i * strides[0]:i * strides[0] + eff_h:dilations[0],
                      j * strides[1]:j * strides[1] + eff_w:dilations[1], :]
            out[:, i, j, :] = np.einsum("nhwc,hwco->no", patch, w)
    return out if data_format == "NHWC" else np.transpose(out, (0, 3, 1, 2))


def _conv_samples(rng, dtype):
    x = rand(rng, (2, 6, 5, 3), dtype)
    w = rand(rng, (3, 2, 3, 4), dtype)
    base = {"data_format": "NHWC", "dilations": (1, 1)}
    return [Sample((x, w), {**base, "strides": (1, 1), "padding": "SAME"}),
            Sample((x, w), {**base, "strides": (2, 2), "padding": "VALID"}),
            Sample((x, w), {**base, "strides": (2, 1), "padding": "SAME", "dilations": (2, 1)}),
            Sample((np.transpose(x, (0, 3, 1, 2)), w),
                   {**base, "strides": (1, 2), "padding": "SAME", "data_format": "NCHW"})]


register(OpDef("Conv2D", infer=_conv_infer, lower=_conv_lower, reference=_conv_reference,
               samples=_conv_samples, grad=vjp_gradient))


def _pool_infer(inputs, ksize, strides, padding, data_format):
    x = inputs[0]
    check_dtype(x, "float")
    require(padding in ("SAME", "VALID"), f"padding must be 'SAME' or 'VALID', got {padding!r}")
    require(x.shape.ndims in (4, None), f"pooling needs a 4-D input, got {x.shape}")
    if x.shape.ndims is None:
        return [(TensorShape(None), x.dtype)]
    h_axis, w_axis, _ = _spatial_axes(data_format)
    dims = list(x.shape.dims)
    dims[h_axis] = _out_size(dims[h_axis], ksize[0], strides[0], padding)
    dims[w_axis] = _out_size(dims[w_axis], ksize[1], strides[1], padding)
    return [(TensorShape(dims), x.dtype)]


def _window(pair_: tuple, data_format: str) -> tuple:
    return (1, *pair_, 1) if data_format == "NHWC" else (1, 1, *pair_)


def _max_pool_lower(x, ksize, strides, padding, data_format):
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, _window(ksize, data_format),
                                 _window(strides, data_format), padding)


def _avg_pool_lower(x, ksize, strides, padding, data_format):
    window, step = _window(ksize, data_format), _window(strides, data_format)
    total = jax.lax.reduce_window(x, 0.0, jax.lax.add, window, step, padding)
    # TF divides by the number of real (unpadded) elements in each window.
    count = jax.lax.reduce_window(jnp.ones(x.shape, x.dtype), 0.0, jax.lax.add, window, step,
                                  padding)
    return total / count


def _pool_reference(reduce: Callable) -> Callable:
    def reference(x, ksize, strides, padding, data_format):
        if data_format == "NCHW":
            x = np.transpose(x, (0, 2, 3, 1))
        x = x.astype(np.float64)
        if padding == "SAME":
            pads = (_same_pads(x.shape[1], ksize[0], strides[0]),
                    _same_pads(x.shape[2], ksize[1], strides[1]))
            x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=np.nan)
        out_h = (x.shape[1] - ksize[0]) // strides[0] + 1
        out_w = (x.shape[2] - ksize[1]) // strides[1] + 1
        out = np.zeros((x.shape[0], out_h, out_w, x.shape[3]))
        for i in range(out_h):
            for j in range(out_w):
                patch = x[:, i * strides[0]:i * strides[0] + ksize[0],
                          j * strides[1]:j * strides[1] + ksize[1], :]
                out[:, i, j, :] = reduce(patch, axis=(1, 2))
        return out if data_format == "NHWC" else np.transpose(out, (0, 3, 1, 2))
    return reference


def _pool_samples(rng, dtype):
    x = rand(rng, (2, 5, 6, 3), dtype)
    base = {"data_format": "NHWC"}
    return [Sample((x,), {**base, "ksize": (2, 2), "strides": (2, 2), "padding": "VALID"}),
            Sample((x,), {**base, "ksize": (3, 3), "strides": (2, 2), "padding": "SAME"}),
            Sample((np.transpose(x, (0, 3, 1, 2)),),
                   {"ksize": (2, 3), "strides": (1, 2), "padding": "SAME", "data_format": "NCHW"})]


def _tile_padding(size: int, window: int, padding: str) -> tuple[int, int, int]:
    """(windows, padding before, padding after) along one axis of a tiled max-pool; VALID
    drops the rows no window covers (negative padding after)."""
    windows = -(-size // window) if padding == "SAME" else size // window
    before = (windows * window - size) // 2 if padding == "SAME" else 0
    return windows, before, windows * window - size - before


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3))
def _tiled_max_pool(x, ksize, padding, data_format):
    return _max_pool_lower(x, ksize, ksize, padding, data_format)


def _tiled_max_pool_forward(x, ksize, padding, data_format):
    return _tiled_max_pool(x, ksize, padding, data_format), x


def _tiled_max_pool_gradient(ksize, padding, data_format, x, grad):
    if data_format == "NCHW":  # computed in NHWC: the window axes side by side
        x, grad = jnp.transpose(x, (0, 2, 3, 1)), jnp.transpose(grad, (0, 2, 3, 1))
    (kh, kw), (n, height, width, channels) = ksize, x.shape
    rows, cols = _tile_padding(height, kh, padding), _tile_padding(width, kw, padding)
    pads = [(0, 0, 0), (*rows[1:], 0), (*cols[1:], 0), (0, 0, 0)]
    # As JAX's CPU and GPU lowering of select_and_scatter: padding is -inf, pickable.
    tiles = jax.lax.pad(x, jnp.array(-jnp.inf, x.dtype), pads)
    tiles = tiles.reshape(n, rows[0], kh, cols[0], kw, channels)
    best = tiles[:, :, 0, :, 0, :]
    chosen = jnp.zeros(best.shape, np.int32)
    for k in range(1, kh * kw):
        value = tiles[:, :, k // kw, :, k % kw, :]
        take = ~(best >= value)  # select_and_scatter keeps its pick while pick >= candidate
        best = jnp.where(take, value, best)
        chosen = jnp.where(take, k, chosen)
    spread = jnp.stack([jnp.where(chosen == k, grad, jnp.zeros((), grad.dtype))
                        for k in range(kh * kw)], axis=-1)
    spread = spread.reshape(n, rows[0], cols[0], channels, kh, kw).transpose(0, 1, 4, 2, 5, 3)
    spread = spread.reshape(n, rows[0] * kh, cols[0] * kw, channels)
    result = jax.lax.pad(spread, jnp.zeros((), grad.dtype), [(-lo, -hi, 0) for lo, hi, _ in pads])
    return (jnp.transpose(result, (0, 3, 1, 2)) if data_format == "NCHW" else result,)


_tiled_max_pool.defvjp(_tiled_max_pool_forward, _tiled_max_pool_gradient)


def _max_pool_tiled_lower(x, ksize, strides, padding, data_format):
    if tuple(ksize) != tuple(strides):  # overlapping or gapped windows: XLA's lowering
        return _max_pool_lower(x, ksize, strides, padding, data_format)
    return _tiled_max_pool(x, tuple(ksize), padding, data_format)


def _max_pool_workload(rng):
    return Sample((rng.normal(size=(16, 28, 28, 32)).astype(np.float32),),
                  {"ksize": (2, 2), "strides": (2, 2), "padding": "SAME", "data_format": "NHWC"})


register(OpDef("MaxPool", infer=_pool_infer, lower=_max_pool_lower,
               reference=_pool_reference(np.nanmax), samples=_pool_samples, grad=vjp_gradient,
               alternatives=(Alternative("tiled-windows", _max_pool_tiled_lower, _max_pool_workload,
                                         "gradient computed elementwise per window tile, not "
                                         "by select_and_scatter"),)))
register(OpDef("AvgPool", infer=_pool_infer, lower=_avg_pool_lower,
               reference=_pool_reference(np.nanmean), samples=_pool_samples, grad=vjp_gradient))



# ----- public functions -------------------------------------------------------------
def _pool(op_type: str, input: Any, ksize: Any, strides: Any, padding: str,  # noqa: A002
          data_format: str, name: Optional[str]) -> Tensor:
    return apply(op_type, [to_tensor(input)],
                 {"ksize": _pair_of(ksize, "ksize", data_format),
                  "strides": _pair_of(strides, "strides", data_format),
                  "padding": padding.upper(), "data_format": data_format}, name=name)


def max_pool2d(input: Any, ksize: Any, strides: Any, padding: str,  # noqa: A002
               data_format: str = "NHWC", name: Optional[str] = None) -> Tensor:
    """Maximum over windows of ``ksize`` moved by ``strides`` (ints, pairs or 4-element lists).

    Example:
        >>> gn.nn.max_pool2d(h, ksize=2, strides=2, padding="VALID")
    """
    return _pool("MaxPool", input, ksize, strides, padding, data_format, name)


def avg_pool2d(input: Any, ksize: Any, strides: Any, padding: str,  # noqa: A002
               data_format: str = "NHWC", name: Optional[str] = None) -> Tensor:
    """Mean over windows (padding excluded from the count, as TF)."""
    return _pool("AvgPool", input, ksize, strides, padding, data_format, name)


def conv2d(input: Any, filters: Any, strides: Any, padding: str,  # noqa: A002
           data_format: str = "NHWC", dilations: Any = 1, name: Optional[str] = None) -> Tensor:
    """2-D convolution of ``input`` (NHWC or NCHW) with ``filters`` (kh, kw, in, out).

    Example:
        >>> h = gn.nn.conv2d(images, W, strides=1, padding="SAME")
    """
    input, filters = pair(input, filters)
    return apply("Conv2D", [input, filters],
                 {"strides": _pair_of(strides, "strides", data_format),
                  "padding": padding.upper(), "data_format": data_format,
                  "dilations": _pair_of(dilations, "dilations", data_format)}, name=name)
