"""The op table: one OpDef per op type, filled by the modules of ``graphnn.ops``.

The framework owns the mechanism (this table and ``Graph.create_op``); the op
families own the entries. An entry holds everything about one op: static shape
and dtype inference, the JAX lowering, the numpy reference and sample inputs that
the generic test harness uses, the gradient rule, the checks its kernel makes on
input values at run time (``ValueCheck``: an index in range, a divisor not zero), and
what is known of its value before it runs (``from_shapes``, ``numpy_exact``): the
compiler folds and ``static_value`` evaluates ops through these hooks, never through
lists of op names. An entry may also hold alternative lowerings (``Alternative``) that
compute the same values faster on some machines; ``lowering`` gives the one a program
being traced uses, as the compiler chose it (``choosing_lowerings``).
"""
from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from typing import Any, Callable, Iterator, Optional, Union

import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class Sample:
    """One test case for the op harness: input arrays and attributes.

    ``static`` lists input positions that must be graph constants (shape
    arguments, for instance) rather than fed placeholders.
    """

    inputs: tuple
    attrs: dict = dataclasses.field(default_factory=dict)
    static: tuple = ()


@dataclasses.dataclass(frozen=True, eq=False)
class ValueCheck:
    """A condition one input's values must meet, or the run fails (TF 1's kernel checks).

    ``bad`` is written with the operators numpy and ``jax.numpy`` share, so the compiler
    runs the same rule on the host (on a fed value, before the run) or inside the
    compiled program (on a computed value).

    Attributes:
        input: position of the checked input.
        bound: ``bound(shapes) -> int``: the limit the values are checked against,
            from the shapes of all the op's input values (the number of rows, for gather).
        bad: ``bad(values, bound)`` -> a boolean array marking the failing elements.
        message: ``message(position, value, bound) -> str``: TF 1's words for the first
            failing element; ``position`` is its index as TF prints it (``"[1,0]"``,
            ``""`` for a scalar).
        reported: ``reported(values)`` -> the integers the error reports instead of the
            values themselves (a float check reports what is wrong: NaN, +Inf, -Inf);
            None reports the values.
        always: the check is the op's purpose (``gn.debugging.check_numerics``), so
            ``Session(check_indices=False)`` keeps it.
    """

    input: int
    bound: Callable[[list], int]
    bad: Callable[[Any, int], Any]
    message: Callable[[str, Any, int], str]
    reported: Optional[Callable[[Any], Any]] = None
    always: bool = False

    def shifted(self, offset: int) -> ValueCheck:
        """The same check for an op whose inputs are this op's, after ``offset`` others."""
        bound = self.bound
        return dataclasses.replace(self, input=self.input + offset,
                                   bound=lambda shapes: bound(shapes[offset:]))

    @property
    def any_bad(self) -> Callable[[np.ndarray, int], bool]:
        """``any_bad(values, bound)``: some element of the numpy array ``values`` is bad
        (``bad(values, bound).any()``), in one cheap pass for an index check, which the host
        makes on fed indices before every run."""
        if self.bad is outside_range:
            return any_outside_range
        bad = self.bad
        return lambda values, bound: bool(bad(values, bound).any())


def outside_range(values: Any, bound: int) -> Any:
    """``ValueCheck.bad`` of an index into ``bound`` items: negative ones are outside too."""
    return (values < 0) | (values >= bound)


_UNSIGNED = {np.dtype(signed): np.dtype(unsigned) for signed, unsigned in
             ((np.int8, np.uint8), (np.int16, np.uint16), (np.int32, np.uint32),
              (np.int64, np.uint64))}


def any_outside_range(values: np.ndarray, bound: int) -> bool:
    """``outside_range(values, bound).any()`` for a numpy array, in one pass."""
    size = values.size
    if size == 0:
        return False
    unsigned = _UNSIGNED.get(values.dtype)
    # Seen as unsigned, a negative n-bit integer is at least 2**(n-1), so one maximum finds
    # both kinds of bad index whenever the bound is no larger than that. For a few dozen
    # values (a batch of labels), Python's max over the list beats a numpy reduction.
    if unsigned is not None and bound <= 1 << (8 * values.dtype.itemsize - 1):
        view = values.view(unsigned)
        if size <= 32 and values.ndim == 1:
            return max(view.tolist()) >= bound
        return bool(np.maximum.reduce(view, axis=None) >= bound)
    if values.dtype.kind == "u":
        return bool(np.maximum.reduce(values, axis=None) >= bound)
    return bool(outside_range(values, bound).any())


@dataclasses.dataclass(frozen=True, eq=False)
class Alternative:
    """Another lowering of an op: the same values as the op's own lowering (ties, NaN,
    infinities and gradients of every order included), faster on some machines. The
    compiler uses it only where it measured it faster (``compiler.xla_options``).

    Attributes:
        name: short name shown in compile reports (``"tiled-windows"``).
        lower: called as ``OpDef.lower`` is; for inputs or attributes it does not cover
            it returns the op's own lowering's result.
        workload: ``workload(rng) -> Sample``: representative float32 inputs on which
            the compiler times this lowering and its gradient against the op's own.
        why: what makes it faster, in a few words (for the report).
    """

    name: str
    lower: Callable[..., Any]
    workload: Callable[..., Sample]
    why: str


@dataclasses.dataclass(frozen=True, eq=False)
class OpDef:
    """Declaration of one op type.

    Attributes:
        type: the op type name, TensorFlow's where one exists ("MatMul").
        infer: ``infer(inputs, **attrs) -> [(shape, dtype), ...]`` over the
            input Tensors (static shapes may hold None); raises ValueError or
            TypeError on incompatible inputs.
        lower: ``lower(*values, **attrs)`` -> a JAX array or a tuple of them.
            Random ops receive a ``key=`` argument.
        reference: numpy implementation used by the test harness.
        samples: ``samples(rng, float_dtype) -> [Sample, ...]`` for the harness.
        grad: gradient rule, ``grad(op, *output_grads) -> [input_grad, ...]``.
        differentiable: False marks an op as explicitly not differentiable.
        broadcasts: the op broadcasts its inputs against each other (numpy rules), so
            the gradient of an input whose shape is not fully known may have to be
            summed back to that input's shape at run time.
        stateful: reads or writes state or randomness: never folded or merged.
        random: lowering takes a PRNG ``key``.
        source: produces values without a computation (placeholders, variables,
            constants); exempt from the forward harness, tested on their own.
        assigns: input 0 is a variable that the op overwrites with its output;
            the lowering receives the variable's current value as input 0.
        check: ``check(inputs, **attrs) -> ValueCheck | None`` over the input Tensors:
            what the op's values must satisfy at run time (None: nothing, for these
            dtypes); ``Session(check_indices=False)`` skips it.
        overwrites: an ``assigns`` op whose result ignores the variable's current
            value (Assign), so the variable need not be initialized before it.
        from_shapes: ``from_shapes(op) -> (array, ...)``, the outputs computed from
            the static shapes of the inputs alone (Shape, Size, ZerosLike); called
            only when those shapes are fully defined. Such an op's value is known
            while building and it is folded whatever its inputs' values.
        numpy_exact: the numpy reference computes the lowering's results bit for bit
            for inputs and outputs of the dtypes numpy rounds as XLA does (float32,
            float64, integers, bool): True, or a predicate
            ``numpy_exact(op, input_values) -> bool`` where that depends on the values
            (integer division by zero). Such an op is evaluated while building when its
            inputs are known, and folded without compiling its lowering.
        no_gradient_reason: for an op marked not differentiable that a user may expect to
            be (an unbounded loop): why not, and what to do instead. ``gn.gradients``
            raises it when a gradient path crosses the op, instead of cutting the path.
        random_if: ``random_if(op) -> bool`` for an op that draws random numbers only for
            some attributes (control flow: when a body draws); the lowering then receives
            a ``key=`` as a random op's does. See ``draws_random``.
        differentiates_bodies: the gradient rule differentiates the op's sub-graphs
            (control flow), so the gradient driver passes itself: ``grad(op, *output_grads,
            gradients=gn.gradients)`` (ops sit below the compiler and cannot import it).
        grad_skips_inputs: the gradient rule takes ``needed=`` (per input, whether a
            gradient path leads back through it) and returns None for the inputs not
            needed (PyTorch's ``needs_input_grad``): a dense layer's gradient then builds
            no product for its input batch.
        value_as_shape: ``value_as_shape(op) -> TensorShape or None``, for an op whose
            output is a 1-D shape vector: the shape it holds while building, None for
            the entries known only at run time (``gn.shape`` of a partly known tensor).
        host: ``host(*values, **attrs) -> numpy array``, for an op with a ``string``
            output (string constants, serialized summaries): computed in Python from its
            inputs' fetched values after the device program ran, and never lowered.
        alternatives: other lowerings with the same values (``Alternative``), which a
            program gets where the compiler chose them (``lowering``).
    """

    type: str
    infer: Callable[..., list]
    lower: Optional[Callable[..., Any]]
    reference: Optional[Callable[..., Any]] = None
    samples: Optional[Callable[..., list]] = None
    grad: Optional[Callable[..., list]] = None
    differentiable: bool = True
    broadcasts: bool = False
    stateful: bool = False
    random: bool = False
    source: bool = False
    assigns: bool = False
    check: Optional[Callable[..., Optional[ValueCheck]]] = None
    overwrites: bool = False
    from_shapes: Optional[Callable[..., tuple]] = None
    numpy_exact: Union[bool, Callable[..., bool]] = False
    value_as_shape: Optional[Callable[..., Any]] = None
    host: Optional[Callable[..., Any]] = None
    no_gradient_reason: Optional[str] = None
    random_if: Optional[Callable[..., bool]] = None
    differentiates_bodies: bool = False
    grad_skips_inputs: bool = False
    alternatives: tuple = ()


OP_TABLE: dict[str, OpDef] = {}


def register(opdef: OpDef) -> OpDef:
    if opdef.type in OP_TABLE:
        raise ValueError(f"Op type {opdef.type!r} is registered twice")
    OP_TABLE[opdef.type] = opdef
    return opdef


def draws_random(op: Any) -> bool:
    """Whether Operation ``op`` draws random numbers (``OpDef.random`` or ``random_if``)."""
    opdef = op.op_def
    return opdef.random or (opdef.random_if is not None and opdef.random_if(op))


def lookup(op_type: str) -> OpDef:
    try:
        return OP_TABLE[op_type]
    except KeyError:
        raise KeyError(f"Unknown op type {op_type!r}; registered types: "
                       f"{', '.join(sorted(OP_TABLE))}") from None


# The compiler's chooser for the program being traced: (OpDef, Alternative) -> use it?
_CHOOSER: contextvars.ContextVar = contextvars.ContextVar("graphnn_lowering_chooser",
                                                          default=None)


def lowering(opdef: OpDef) -> Callable[..., Any]:
    """The lowering ``opdef`` gets in the program being traced: the first of its
    alternatives that the compiler's chooser accepts (``choosing_lowerings``), else its own."""
    chooser = _CHOOSER.get()
    if chooser is not None:
        for alternative in opdef.alternatives:
            if chooser(opdef, alternative):
                return alternative.lower
    return opdef.lower


@contextlib.contextmanager
def choosing_lowerings(chooser: Optional[Callable[[OpDef, Alternative], bool]]) -> Iterator[None]:
    """Within this block (a program's tracing), ``lowering`` asks ``chooser`` which
    alternative lowerings to use; None: every op keeps its own."""
    token = _CHOOSER.set(chooser)
    try:
        yield
    finally:
        _CHOOSER.reset(token)
