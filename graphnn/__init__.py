"""graphnn: a define-then-run neural-network framework on JAX/XLA.

Example:
    >>> import graphnn as gn
    >>> x = gn.placeholder(gn.float32, shape=[None, 3], name="x")
    >>> y = gn.reduce_sum(x * 2.0, axis=1)
    >>> with gn.Session() as sess:
    ...     sess.run(y, feed_dict={x: [[1, 2, 3]]})
    array([12.], dtype=float32)
"""
from graphnn import datasets, debugging, errors, io, nn, summary, train, viz
from graphnn import callbacks, distribute, layers, models, plot
from graphnn.compiler.autodiff import gradients, hessians
from graphnn.compiler.forward import jvp
from graphnn.compiler.gradient_paths import explain_gradient
from graphnn.framework.devices import device
from graphnn.framework.dtypes import (DType, as_dtype, bfloat16, float16, float32, float64, int8,
                                      int16, int32, int64, string, uint8)
from graphnn.framework.dtypes import bool_ as bool  # noqa: A001 (TF's name gn.bool)
from graphnn.framework.graph import (Graph, GraphKeys, Operation, control_dependencies,
                                     convert_to_tensor, get_default_graph, name_scope,
                                     reset_default_graph)
from graphnn.framework.session_stack import get_default_session
from graphnn.framework.shapes import TensorShape
from graphnn.framework.tensor import Tensor
from graphnn.ops.array import (broadcast_to, concat, expand_dims, gather, pad, reshape, split, squeeze, stack,
                               tile, transpose, unstack)
from graphnn.ops.creation import (cast, fill, one_hot, ones, ones_like, range, shape, size, where,
                                  zeros, zeros_like)
from graphnn.ops.math import (abs, add, add_n, clip_by_value, cos, divide, equal, exp, floordiv,
                              floormod, greater, greater_equal, less, less_equal, log, log1p,
                              logical_and, logical_not, logical_or, maximum, minimum, mod,
                              multiply, negative, not_equal, pow, rsqrt, sigmoid, sign, sin, sqrt,
                              square, subtract, tanh, truediv)
from graphnn.ops.products import einsum, matmul, tensordot
from graphnn.ops.cond import cond
from graphnn.ops.loops import map_fn, scan, while_loop
from graphnn.ops.debugging import print  # noqa: A004 (TF's tf.print; builtins stay intact)
from graphnn.ops.random import random_normal, random_uniform, set_random_seed, truncated_normal
from graphnn.ops.reduction import (argmax, argmin, reduce_all, reduce_any, reduce_logsumexp,
                                   reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_sum)
from graphnn.ops.state import (Variable, constant, global_variables, global_variables_initializer,
                               group, identity, no_op, placeholder, placeholder_with_default,
                               stop_gradient, trainable_variables, variables_initializer)
from graphnn.session import Session

__version__ = "0.1.0"
