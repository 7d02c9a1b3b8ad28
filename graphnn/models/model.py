"""``gn.models.Model``: the functional model, and the base of ``Sequential`` (as Keras).

A model lives in the graph of its inputs (``Sequential``: the graph that is default
when it is built) and runs in its own ``Session`` (``model.session``). Its forward
pass exists once in the graph with a ``training`` placeholder_with_default(False):
``fit`` feeds True, ``evaluate`` and ``predict`` leave it False, so one graph serves
both modes and ``val_loss`` is exactly what ``evaluate`` computes.

``Model(inputs, outputs)`` takes tensors built with layers from ``gn.layers.Input``
placeholders (several inputs allowed, one output). It finds the layers between them
(see ``functional``) and applies them once more on the same inputs with its training
switch: ``model.inputs`` are the given Input tensors, ``model.output`` is the model's
own, training-aware output tensor (the given output tensor is left as it was, an
inference-mode graph). ``model(tensor)`` applies the same layers, with the same
variables, to other tensors.

``fit`` runs each epoch through ``sess.run_loop`` (see ``fitting``). Every sample is
used each epoch: the last partial batch is padded to ``batch_size`` with samples of
weight 0, never dropped, and the reported loss is the mean over all samples.

A model built inside ``strategy.scope()`` (a ``gn.distribute.MirroredStrategy``) trains,
evaluates and predicts data-parallel on it: each batch is split over the replicas, and
a ``batch_size`` the replica count does not divide is padded up to the next multiple
with weight-0 samples (so the weights equal a one-device fit's within float tolerance;
BatchNormalization's batch statistics, which see the padding, aside).
``validation_split`` holds out a seeded random fraction (seed: the graph's seed when
the model was made, else 0), stratified by class for classification losses, unlike
Keras's last fraction (which gives no validation sample of the last classes on
class-sorted data such as Iris).

Example:
    >>> x = gn.layers.Input((4,))
    >>> h = gn.layers.Dense(16, activation="relu")(x)
    >>> model = gn.models.Model(x, gn.layers.Dense(3, activation="softmax")(h))
    >>> model.compile("adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> history = model.fit(x_train, y_train, epochs=50, validation_split=0.2, verbose=0)
"""
from __future__ import annotations

import math
import sys
from typing import Any, Callable, Optional, Sequence, TextIO

import numpy as np

from graphnn.callbacks.callbacks import Callback, History
from graphnn.distribute.strategy import get_strategy
from graphnn.framework.graph import Graph, get_default_graph
from graphnn.framework.tensor import Tensor
from graphnn.layers.base import Layer, resolve_training
from graphnn.models import data, fitting, functional, losses, metrics as metrics_module, saving
from graphnn.models.training import TrainingGraph
from graphnn.ops.state import Variable, placeholder_with_default, variables_initializer
from graphnn.session import Session
from graphnn.train import optimizers
from graphnn.train.optimizer import Optimizer

_OPTIMIZERS: dict[str, Callable[[], Optimizer]] = {
    "sgd": lambda: optimizers.GradientDescentOptimizer(0.01),
    "adam": optimizers.AdamOptimizer,
    "rmsprop": lambda: optimizers.RMSPropOptimizer(0.001),
    "adagrad": lambda: optimizers.AdagradOptimizer(0.001),
}


def _optimizer(identifier: Any) -> Optimizer:
    """An optimizer from a Keras name (Keras's default learning rates) or an Optimizer."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _OPTIMIZERS:
        return _OPTIMIZERS[identifier.lower()]()
    raise ValueError(f"Unknown optimizer {identifier!r}; known: {', '.join(_OPTIMIZERS)}, or a "
                     f"gn.train optimizer object")


def shape_text(dims: Sequence[Optional[int]]) -> str:
    """``(None, 16)``: a shape as Keras prints it."""
    return "(" + ", ".join("None" if d is None else str(d) for d in dims) + \
        ("," if len(dims) == 1 else "") + ")"


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


class Model:
    """A model of layers from input tensors to an output tensor, trained by ``fit``.

    ``gn.models.Model(inputs, outputs, name="model")``: ``inputs`` is a
    ``gn.layers.Input`` tensor or a list of them, ``outputs`` the tensor the layers made
    from them; branches and merges (``gn.layers.Add``, ``Concatenate``) and shared layers
    are fine, a raw op between layers is refused. With several inputs, ``fit``,
    ``evaluate`` and ``predict`` take ``x`` as a list of arrays in the order of ``inputs``.

    Attributes:
        name: the model's name. layers: its layers in order of first call, each once
            (each has a public ``name``, its name scope in the graph).
        inputs, outputs: the model's input placeholders and its (training-aware) output
            tensors; ``input``/``output`` when there is one.
        graph: the graph it lives in. session: its own Session on that graph.
        history: the History of the last ``fit``. stop_training: set it (from a
            callback) to end ``fit``.
        epochs_trained: epochs run by every ``fit`` so far (saved with the model; each
            epoch's shuffling is drawn from it and ``shuffle_seed``).

    Example:
        >>> a = gn.layers.Input((8,))
        >>> left = gn.layers.Dense(4, activation="relu")(a)
        >>> right = gn.layers.Dense(4, activation="tanh")(a)
        >>> model = gn.models.Model(a, gn.layers.Dense(1)(gn.layers.Concatenate()([left, right])))
        >>> model.summary()
    """

    def __init__(self, inputs: Any = None, outputs: Any = None, name: Optional[str] = None):
        self.graph: Graph = get_default_graph()
        self.name = name or "model"
        self.layers: list[Layer] = []
        self.inputs: list[Tensor] = []
        self.outputs: list[Tensor] = []
        self.stop_training = False
        self.history: Optional[History] = None
        self.epochs_trained = 0
        self._training: Optional[Tensor] = None
        self._session: Optional[Session] = None
        self._strategy = get_strategy()  # the model trains on the strategy it is built under
        self._initialized: set[Variable] = set()
        self._compiled: Optional[dict] = None
        self._compile_arguments: Optional[dict] = None
        self._train_graph: Optional[TrainingGraph] = None
        self._nodes: list[functional.Node] = []
        self._output_refs: list[functional.Ref] = []
        self._node_outputs: list[Tensor] = []
        if type(self) is Model or inputs is not None or outputs is not None:
            self._build_functional(_as_list(inputs), _as_list(outputs))
        self.shuffle_seed = self.graph.seed if self.graph.seed is not None else 0

    # ----- structure ------------------------------------------------------------------------
    def _build_functional(self, inputs: list, outputs: list) -> None:
        if not inputs or not outputs or any(t is None for t in inputs + outputs):
            raise TypeError("gn.models.Model(inputs, outputs) needs the input tensors (from "
                            "gn.layers.Input) and the output tensor built from them with layers")
        for tensor in inputs + outputs:
            if not isinstance(tensor, Tensor):
                raise TypeError(f"Model: inputs and outputs must be graph Tensors, got {tensor!r}")
        if len(outputs) != 1:
            raise ValueError(f"Model '{self.name}': a model has one output tensor (one loss), "
                             f"got {len(outputs)}; join them with a layer such as Concatenate")
        self.graph = inputs[0].graph
        for tensor in inputs:
            if tensor.op.type != "Placeholder" or tensor.shape.ndims in (None, 0):
                raise ValueError(f"Model '{self.name}': input '{tensor.name}' must be a "
                                 f"placeholder with a batch axis, as gn.layers.Input(shape) makes;"
                                 f" got {tensor.op.describe()} of shape {tensor.shape}")
            if tensor.graph is not self.graph:
                raise ValueError(f"Model '{self.name}': its inputs live in different gn.Graphs")
        self._nodes, self._output_refs = functional.trace(inputs, outputs)
        self.layers = functional.unique_layers(self._nodes)
        self.inputs = inputs
        with self.graph.as_default():
            self._training = placeholder_with_default(False, [], name="training")
        self._node_outputs, self.outputs = functional.replay(
            self._nodes, self._output_refs, inputs, self._training)

    @property
    def input(self) -> Any:
        """The input placeholder (a list of them for a model of several inputs)."""
        return self.inputs[0] if len(self.inputs) == 1 else list(self.inputs)

    @property
    def output(self) -> Tensor:
        """The model's output tensor (training-aware: ``fit`` feeds its training switch)."""
        return self.outputs[0] if self.outputs else None

    @property
    def built(self) -> bool:
        return bool(self.outputs)

    def __call__(self, inputs: Any, training: Any = None) -> Tensor:
        """Applies the model's layers (sharing their variables) to ``inputs``.

        ``inputs`` is a Tensor, or a list of Tensors for a model of several inputs;
        ``training`` is as for a layer (None: inference).

        Example:
            >>> features = gn.placeholder(gn.float32, [None, 4])
            >>> logits = model(features)         # the same weights, on another tensor
        """
        tensors = _as_list(inputs)
        if len(tensors) != len(self.inputs):
            raise ValueError(f"Model '{self.name}' takes {len(self.inputs)} input tensor(s), got "
                             f"{len(tensors)}")
        return functional.replay(self._nodes, self._output_refs, tensors,
                                 resolve_training(training))[1][0]

    def get_layer(self, name: Optional[str] = None, index: Optional[int] = None) -> Layer:
        """The layer called ``name`` (or at position ``index`` in ``layers``)."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"Model '{self.name}' has no layer named {name!r}; its layers: "
                         f"{', '.join(layer.name for layer in self.layers)}")

    @property
    def weights(self) -> list[Variable]:
        """Every layer's variables, in layer order."""
        return [v for layer in self.layers for v in layer.weights]

    @property
    def trainable_variables(self) -> list[Variable]:
        return [v for layer in self.layers for v in layer.trainable_variables]

    trainable_weights = trainable_variables

    @property
    def non_trainable_variables(self) -> list[Variable]:
        return [v for layer in self.layers for v in layer.non_trainable_variables]

    non_trainable_weights = non_trainable_variables

    @property
    def losses(self) -> list[Tensor]:
        """The layers' regularization penalties (scalar Tensors)."""
        return [p for layer in self.layers for p in layer.losses]

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self.layers)

    # ----- summary ----------------------------------------------------------------------
    def summary(self, print_fn: Callable[[str], Any] = print) -> None:
        """Prints a table of layers, output shapes and parameter counts (as Keras).

        A functional model's table also says what each layer is connected to.

        Raises:
            ValueError: the input shape is not known yet (a Sequential model without
                ``Input``/``input_shape`` that has not seen data).
        """
        if not self.built:
            raise ValueError(f"Model '{self.name}' has not been built yet: its input shape is "
                             f"unknown. Give the first layer input_shape=..., start with "
                             f"gn.layers.Input(shape), or call fit/build first.")
        headers, widths, rows = self._summary_table()
        rule, double = "_" * sum(widths), "=" * sum(widths)
        lines = [f'Model: "{self.name}"', rule, _row(headers, widths), double]
        for i, row in enumerate(rows):
            lines.append(_row(row, widths))
            lines.append("" if i < len(rows) - 1 else double)
        if not rows:
            lines.append(double)
        trainable = sum(math.prod(v.shape.as_list()) for v in self.trainable_variables)
        total = self.count_params()
        lines += [f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                  f"Non-trainable params: {total - trainable:,}", rule]
        for line in lines:
            print_fn(line)

    def _summary_table(self) -> tuple[tuple, tuple, list[tuple]]:
        """Headers, column widths and rows: one row per input and per layer call."""
        rows = [(f"{t.op.name} (InputLayer)", shape_text(t.shape.as_list()), "0", "")
                for t in self.inputs]

        def source(ref: functional.Ref) -> str:
            kind, index = ref
            return self.inputs[index].op.name if kind == "input" else self._nodes[index].layer.name

        counted: set[int] = set()
        for node, output in zip(self._nodes, self._node_outputs):
            params = "0" if id(node.layer) in counted else f"{node.layer.count_params():,}"
            counted.add(id(node.layer))
            rows.append((f"{node.layer.name} ({type(node.layer).__name__})",
                         shape_text(output.shape.as_list()), params,
                         ", ".join(source(r) for r in node.inputs)))
        return ("Layer (type)", "Output Shape", "Param #", "Connected to"), (29, 26, 10, 25), rows

    # ----- state ------------------------------------------------------------------------
    @property
    def session(self) -> Session:
        """The model's own Session on its graph (created at first use)."""
        if self._session is None:
            self._session = Session(self.graph, strategy=self._strategy)
        return self._session

    @property
    def replicas(self) -> int:
        """How many ways each batch is split (the strategy the model was built under)."""
        return self._strategy.num_replicas_in_sync if self._strategy is not None else 1

    def _initialize(self, variables: Sequence[Variable]) -> None:
        new = [v for v in variables if v not in self._initialized]
        if new:
            with self.graph.as_default():
                init = variables_initializer(new)
            self.session.run(init)
            self._initialized.update(new)

    def get_weights(self) -> list[np.ndarray]:
        """The values of ``weights`` as numpy arrays (initializing them at first use)."""
        self._initialize(self.weights)
        return list(self.session.run(self.weights))

    def set_weights(self, values: Sequence[Any]) -> None:
        """Sets ``weights`` from numpy values, in the order of ``get_weights``."""
        weights = self.weights
        if len(values) != len(weights):
            raise ValueError(f"set_weights: model '{self.name}' has {len(weights)} weights, "
                             f"got {len(values)} values")
        for variable, value in zip(weights, values):
            self.session.load_variable(variable, value)
        self._initialized.update(weights)

    def save_weights(self, path: str) -> None:
        """Writes the layers' weights (a ``gn.train.Saver`` checkpoint at ``path``)."""
        self._initialize(self.weights)
        saving.save_weights(self, path)

    def load_weights(self, path: str) -> None:
        """Loads weights written by ``save_weights`` (or ``save``'s) into this model.

        Raises:
            NotFoundError: the checkpoint lacks a weight of this model.
        """
        saving.load_weights(self, path)
        self._initialized.update(self.weights)

    # ----- training ---------------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None,
                metrics: Optional[Sequence[Any]] = None) -> None:
        """Chooses the optimizer (a name or a gn.train optimizer), loss and metrics.

        Losses: "mse", "mae", "binary_crossentropy", "categorical_crossentropy",
        "sparse_categorical_crossentropy" or a ``gn.models.losses.Loss``. Metrics:
        "accuracy" and the names in ``gn.models.metrics``, or callables.
        """
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='sparse_categorical_crossentropy'")
        self._compile_arguments = saving.compile_arguments(optimizer, loss, metrics)
        loss = losses.get(loss)
        resolved = {metrics_module.name_of(m): metrics_module.get(m, loss) for m in metrics or ()}
        self._compiled = {"optimizer": _optimizer(optimizer), "loss": loss, "metrics": resolved}
        self._train_graph = None

    def _training_graph(self, where: str) -> TrainingGraph:
        if self._compiled is None:
            raise RuntimeError(f"{where}: compile the model first (model.compile(optimizer, loss))")
        if self._train_graph is None:
            loss = self._compiled["loss"]
            self._train_graph = TrainingGraph(
                self.output, loss, self._compiled["metrics"], self._compiled["optimizer"],
                self.trainable_variables, self.losses,
                loss.label_shape(tuple(self.output.shape.as_list()[1:])))
        return self._train_graph

    def _build_for(self, x: list[np.ndarray]) -> None:
        """Builds the forward pass from the data's shapes (Sequential without input shape)."""

    def _input_arrays(self, x: Any, where: str) -> list[np.ndarray]:
        """The arrays of each model input, checked against the model (building it if needed)."""
        count = max(len(self.inputs), 1)
        if count == 1:
            arrays = [data.as_array(x, "x", where)]
        else:
            if not isinstance(x, (list, tuple)) or len(x) != count:
                raise ValueError(f"{where}: model '{self.name}' has {count} inputs ("
                                 f"{', '.join(t.op.name for t in self.inputs)}); x must be a "
                                 f"list of {count} arrays, got {type(x).__name__}")
            arrays = [data.as_array(v, f"x[{i}]", where) for i, v in enumerate(x)]
            for i, array in enumerate(arrays[1:], 1):
                data.check_pair(arrays[0], array, where, ("x[0]", f"x[{i}]"))
        self._build_for(arrays)
        for i, (array, tensor) in enumerate(zip(arrays, self.inputs)):
            data.check_features(array, tensor.shape.as_list()[1:], where,
                                "x" if count == 1 else f"x[{i}]")
        return arrays

    def _checked_data(self, x: Any, y: Any, where: str) -> tuple[list[np.ndarray], np.ndarray]:
        """Arrays of x and y checked against the model and the loss."""
        xs = self._input_arrays(x, where)
        y = data.as_array(y, "y", where)
        data.check_pair(xs[0], y, where)
        if self._compiled is None:
            raise RuntimeError(f"{where}: compile the model first (model.compile(optimizer, loss))")
        loss = self._compiled["loss"]
        output_shape = tuple(self.output.shape.as_list()[1:])
        y = data.fit_labels(y, loss, output_shape)
        loss.check_labels(y, output_shape, where)
        return xs, y

    def fit(self, x: Any, y: Any, batch_size: int = 32, epochs: int = 1,
            validation_split: float = 0.0, validation_data: Optional[tuple] = None,
            shuffle: bool = True, callbacks: Optional[Sequence[Callback]] = None,
            verbose: int = 1, initial_epoch: int = 0, file: Optional[TextIO] = None) -> History:
        """Trains for epochs ``initial_epoch`` .. ``epochs - 1`` over (x, y); returns the History.

        Every sample is used each epoch: the last partial batch is padded with weight-0
        samples, never dropped. Under a ``MirroredStrategy`` (the model was built in its
        ``scope()``) each batch is split over the replicas, and a ``batch_size`` the
        replica count does not divide is padded up to a multiple of it, likewise with
        weight-0 samples: the loss and the updates are those of ``batch_size`` samples. Each epoch runs in one compiled program (a few equal
        chunks of it while a progress bar is drawn). ``verbose=1`` draws a tqdm bar per
        epoch on a terminal or notebook and otherwise writes one line per epoch
        (``Epoch 1/3 - loss: 0.5120 - ...``) to ``file`` (stdout); ``verbose=2`` always
        writes the lines, ``verbose=0`` nothing. Callbacks get Keras's epoch and batch
        hooks (batch hooks after each chunk has run).

        Raises:
            ValueError: bad inputs (sample counts, feature shapes, labels out of range for
                the loss), refused before any step, weights unchanged.
            FloatingPointError: the loss became NaN or infinite; names the epoch and the
                batch, after restoring the weights and optimizer state from the end of
                the last finite epoch.
        """
        xs, y = self._checked_data(x, y, "fit")
        if batch_size < 1 or epochs < 0 or not 0 <= initial_epoch <= epochs:
            raise ValueError(f"fit: batch_size must be >= 1 and 0 <= initial_epoch <= epochs, got "
                             f"batch_size={batch_size}, epochs={epochs}, "
                             f"initial_epoch={initial_epoch}")
        validation = None
        if validation_data is not None:
            if len(validation_data) != 2:
                raise ValueError("fit: validation_data must be a pair (x_val, y_val)")
            validation = self._checked_data(*validation_data, "fit (validation_data)")
        elif validation_split:
            train, held = data.validation_split_indices(y, validation_split,
                                                        self._compiled["loss"], self.shuffle_seed)
            validation = ([a[held] for a in xs], y[held])
            xs, y = [a[train] for a in xs], y[train]
        graph = self._training_graph("fit")
        self._initialize(self.weights + graph.optimizer_variables)
        return fitting.fit_epochs(self, graph, xs, y, min(batch_size, len(y)), epochs,
                                  initial_epoch, validation, shuffle, list(callbacks or ()),
                                  verbose, file or sys.stdout)

    def _evaluate_logs(self, graph: TrainingGraph, xs: list[np.ndarray], y: np.ndarray,
                       batch_size: int, callbacks: Sequence[Callback] = ()) -> dict[str, float]:
        """Loss and metrics over every sample of (xs, y) in inference mode."""
        batch_size = min(batch_size, len(y))
        (*x_batches, y_batches), weights = data.padded_batches([*xs, y], np.arange(len(y)),
                                                               batch_size, self.replicas)
        feed = {graph.y: y_batches, graph.w: weights,
                **{t: b for t, b in zip(self.inputs, x_batches)}}
        for callback in callbacks:
            callback.on_test_begin({})
        sums = self.session.run_loop(graph.fetches(), feed)
        epoch = fitting.EpochSums()
        for step in range(len(weights)):
            epoch.add(sums, weights[step], step)
            for callback in callbacks:
                callback.on_test_batch_begin(step, {})
                callback.on_test_batch_end(step, epoch.logs())
        logs = epoch.logs()
        for callback in callbacks:
            callback.on_test_end(logs)
        return logs

    def evaluate(self, x: Any, y: Any, batch_size: int = 32, verbose: int = 0,
                 callbacks: Optional[Sequence[Callback]] = None, return_dict: bool = False) -> Any:
        """The loss (and metrics) over every sample, in inference mode.

        Returns the loss alone without metrics, else [loss, *metrics] (Keras), or a
        dict with ``return_dict=True``. ``verbose=1`` prints them on one line.
        ``callbacks`` get the ``on_test_*`` hooks (the batch hooks after all batches ran:
        evaluation is one compiled program).
        """
        xs, y = self._checked_data(x, y, "evaluate")
        graph = self._training_graph("evaluate")
        self._initialize(self.weights)
        callbacks = list(callbacks or ())
        for callback in callbacks:
            callback.set_model(self)
        logs = self._evaluate_logs(graph, xs, y, batch_size, callbacks)
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        if return_dict:
            return logs
        return logs["loss"] if len(logs) == 1 else list(logs.values())

    def predict(self, x: Any, batch_size: int = 32,
                callbacks: Optional[Sequence[Callback]] = None) -> np.ndarray:
        """The model's outputs for every sample of ``x``, in inference mode.

        ``callbacks`` get the ``on_predict_*`` hooks (the batch hooks after all batches
        ran, each with its batch's ``outputs``, padding removed).
        """
        xs = self._input_arrays(x, "predict")
        self._initialize(self.weights)
        count = len(xs[0])
        batch_size = min(batch_size, count)
        batches, weights = data.padded_batches(xs, np.arange(count), batch_size, self.replicas)
        real = weights > 0
        callbacks = list(callbacks or ())
        for callback in callbacks:
            callback.set_model(self)
            callback.on_predict_begin({})
        outputs = self.session.run_loop(self.output, dict(zip(self.inputs, batches)))
        for step, batch in enumerate(outputs):
            for callback in callbacks:
                callback.on_predict_batch_begin(step, {})
                callback.on_predict_batch_end(step, {"outputs": batch[real[step]]})
        for callback in callbacks:
            callback.on_predict_end({})
        return outputs[real]

    def save(self, path: str) -> None:
        """Writes the model to the directory ``path`` (see ``gn.models.load_model``).

        It holds ``model.json`` (the layers, how they connect, the compile arguments), a
        weights checkpoint and, once the model has trained, the optimizer's state, so a
        loaded model resumes training where this one stands.

        Example:
            >>> model.save("iris_model")
            >>> same = gn.models.load_model("iris_model")
        """
        saving.save_model(self, path)

    def __repr__(self) -> str:
        return f"<gn.models.{type(self).__name__} '{self.name}' with {len(self.layers)} layers>"


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "".join(f" {c}".ljust(w) for c, w in zip(cells, widths)).rstrip()
