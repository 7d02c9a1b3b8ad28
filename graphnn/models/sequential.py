"""``Sequential``: a stack of layers with Keras's compile / fit / evaluate / predict.

A model lives in the graph that is default when it is built and runs in its own
``Session`` (``model.session``). Its forward pass is built once, on an input
placeholder, with a ``training`` placeholder_with_default(False): ``fit`` feeds True,
``evaluate`` and ``predict`` leave it False, so one graph serves both modes and
``val_loss`` is exactly what ``evaluate`` computes.

``fit`` runs each epoch's batches through ``sess.run_loop``: one XLA program per
epoch, compiled once for all epochs. Every sample is used each epoch: the last
partial batch is padded to ``batch_size`` with samples of weight 0, never dropped, and
the reported loss is the mean over all samples. ``validation_split`` holds out a
seeded random fraction (seed: the graph's seed, else 0), stratified by class for
classification losses, unlike Keras's last fraction (which gives no validation sample
of the last classes on class-sorted data such as Iris).

Example:
    >>> model = gn.models.Sequential([gn.layers.Dense(16, activation="relu", input_shape=(4,)),
    ...                               gn.layers.Dense(3, activation="softmax")])
    >>> model.compile("adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> history = model.fit(x, y, epochs=50, validation_split=0.2, verbose=0)
    >>> model.evaluate(x_test, y_test)
"""
from __future__ import annotations

import math
import sys
from typing import Any, Callable, Optional, Sequence, TextIO

import numpy as np

from graphnn.callbacks.callbacks import Callback, History
from graphnn.framework.graph import Graph, get_default_graph
from graphnn.framework.tensor import Tensor
from graphnn.layers.base import Layer, resolve_training
from graphnn.models import data, losses, metrics as metrics_module, saving
from graphnn.models.training import TrainingGraph
from graphnn.ops.state import Variable, placeholder, placeholder_with_default, variables_initializer
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


def _shape_text(dims: Sequence[Optional[int]]) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in dims) + \
        ("," if len(dims) == 1 else "") + ")"


class Sequential:
    """A linear stack of layers, trained by ``fit`` (Keras's ``Sequential``).

    The input shape comes from ``gn.layers.Input(shape)`` as first element, from the
    first layer's ``input_shape=``, or from the data of the first ``fit``/``predict``.
    A model is callable on a Tensor (``model(x, training=...)``) and has
    ``trainable_variables``, so a hand-written loop can train it too.
    """

    def __init__(self, layers: Optional[Sequence[Any]] = None, name: str = "sequential"):
        self.graph: Graph = get_default_graph()
        self.name = name
        self.layers: list[Layer] = []
        self.stop_training = False
        self.history: Optional[History] = None
        self.input: Optional[Tensor] = None
        self.output: Optional[Tensor] = None
        self._training: Optional[Tensor] = None
        self._layer_shapes: list[tuple] = []
        self._session: Optional[Session] = None
        self._initialized: set[Variable] = set()
        self._compiled: Optional[dict] = None
        self._compile_arguments: Optional[dict] = None
        self._train_graph: Optional[TrainingGraph] = None
        self._fits = 0
        for layer in layers or ():
            self.add(layer)

    # ----- structure ----------------------------------------------------------------------
    def add(self, layer: Any) -> None:
        """Appends a layer (or, first, a ``gn.layers.Input`` tensor giving the input shape)."""
        if isinstance(layer, Tensor):
            if self.layers or self.input is not None:
                raise ValueError("An Input tensor can only come first in a Sequential model")
            if layer.graph is not self.graph:
                raise ValueError(f"Input '{layer.name}' belongs to another gn.Graph than the "
                                 f"model '{self.name}'")
            self._start(layer)
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add needs a gn.layers.Layer, got {layer!r}")
        self.layers.append(layer)
        if self.input is None and len(self.layers) == 1 and layer.input_shape is not None:
            with self.graph.as_default():
                self._start(placeholder("float32", [None, *layer.input_shape], name="input"))
        elif self.output is not None:
            self._apply(layer)

    def _start(self, input_tensor: Tensor) -> None:
        self.input = self.output = input_tensor
        with self.graph.as_default():
            self._training = placeholder_with_default(False, [], name="training")
        for layer in self.layers:
            self._apply(layer)

    def _apply(self, layer: Layer) -> None:
        with self.graph.as_default():
            self.output = layer(self.output, training=self._training)
        self._layer_shapes.append(tuple(self.output.shape.as_list()))
        self._train_graph = None

    def build(self, input_shape: Sequence[Optional[int]]) -> None:
        """Builds the forward pass for samples of ``input_shape`` (no batch axis)."""
        if self.input is None:
            with self.graph.as_default():
                self._start(placeholder("float32", [None, *input_shape], name="input"))

    @property
    def built(self) -> bool:
        return self.input is not None

    def __call__(self, inputs: Any, training: Any = None) -> Tensor:
        """Applies the layers in order to ``inputs`` (sharing the model's variables)."""
        training = resolve_training(training)
        outputs = inputs
        for layer in self.layers:
            outputs = layer(outputs, training=training)
        return outputs

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

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, print_fn: Callable[[str], Any] = print) -> None:
        """Prints a table of layers, output shapes and parameter counts (as Keras).

        Raises:
            ValueError: the input shape is not known yet (no ``Input``/``input_shape``, no fit).
        """
        if not self.built:
            raise ValueError(f"Model '{self.name}' has not been built yet: its input shape is "
                             f"unknown. Give the first layer input_shape=..., start with "
                             f"gn.layers.Input(shape), or call fit/build first.")
        widths = (29, 26, 10)
        rule, double = "_" * sum(widths), "=" * sum(widths)
        lines = [f'Model: "{self.name}"', rule, self._row(("Layer (type)", "Output Shape",
                                                           "Param #"), widths), double]
        for i, (layer, shape) in enumerate(zip(self.layers, self._layer_shapes)):
            lines.append(self._row((f"{layer.name} ({type(layer).__name__})", _shape_text(shape),
                                    f"{layer.count_params():,}"), widths))
            lines.append(rule if i == len(self.layers) - 1 else "")
        trainable = sum(math.prod(v.shape.as_list()) for v in self.trainable_variables)
        total = self.count_params()
        lines[-1] = double
        lines += [f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                  f"Non-trainable params: {total - trainable:,}", rule]
        for line in lines:
            print_fn(line)

    @staticmethod
    def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
        return "".join(f" {c}".ljust(w) for c, w in zip(cells, widths)).rstrip()

    # ----- state ----------------------------------------------------------------------------
    @property
    def session(self) -> Session:
        """The model's own Session on its graph (created at first use)."""
        if self._session is None:
            self._session = Session(self.graph)
        return self._session

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
        named = isinstance(optimizer, str) and all(isinstance(m, str) for m in metrics or ())
        self._compile_arguments = {"optimizer": optimizer, "loss": saving.saved_loss(loss),
                                   "metrics": list(metrics or ())} if named else None
        loss = losses.get(loss)
        resolved = {metrics_module.name_of(m): metrics_module.get(m, loss) for m in metrics or ()}
        self._compiled = {"optimizer": _optimizer(optimizer), "loss": loss, "metrics": resolved}
        self._train_graph = None

    def _training_graph(self, where: str) -> TrainingGraph:
        if self._compiled is None:
            raise RuntimeError(f"{where}: compile the model first (model.compile(optimizer, loss))")
        if self._train_graph is None:
            loss = self._compiled["loss"]
            penalties = [p for layer in self.layers for p in layer.losses]
            self._train_graph = TrainingGraph(
                self.output, loss, self._compiled["metrics"], self._compiled["optimizer"],
                self.trainable_variables, penalties,
                loss.label_shape(tuple(self.output.shape.as_list()[1:])))
        return self._train_graph

    def _checked_data(self, x: Any, y: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
        """Arrays of x and y checked against the model and the loss (building it if needed)."""
        x = data.as_array(x, "x", where)
        y = data.as_array(y, "y", where)
        data.check_pair(x, y, where)
        self.build(x.shape[1:])
        data.check_features(x, self.input.shape.as_list()[1:], where)
        if self._compiled is None:
            raise RuntimeError(f"{where}: compile the model first (model.compile(optimizer, loss))")
        loss = self._compiled["loss"]
        output_shape = tuple(self.output.shape.as_list()[1:])
        y = data.fit_labels(y, loss, output_shape)
        loss.check_labels(y, output_shape, where)
        return x, y

    def fit(self, x: Any, y: Any, batch_size: int = 32, epochs: int = 1,
            validation_split: float = 0.0, validation_data: Optional[tuple] = None,
            shuffle: bool = True, callbacks: Optional[Sequence[Callback]] = None,
            verbose: int = 1, file: Optional[TextIO] = None) -> History:
        """Trains for ``epochs`` passes over (x, y); returns the History.

        Every sample is used each epoch: the last partial batch is padded with weight-0
        samples, never dropped. Each epoch is one ``run_loop`` (one XLA program). With
        ``verbose=1``, one line per epoch (``Epoch 1/3 - loss: 0.5120 - ...``) goes to
        ``file`` (stdout); on a terminal it carries a filled progress bar.

        Raises:
            ValueError: bad inputs (sample counts, feature shapes, labels out of range for
                the loss), refused before any step, weights unchanged.
            FloatingPointError: the loss became NaN or infinite; names the epoch and the
                batch, after restoring the weights from the end of the last finite epoch.
        """
        x, y = self._checked_data(x, y, "fit")
        if batch_size < 1 or epochs < 0:
            raise ValueError(f"fit: batch_size must be >= 1 and epochs >= 0, got "
                             f"batch_size={batch_size}, epochs={epochs}")
        validation = None
        if validation_data is not None:
            if len(validation_data) != 2:
                raise ValueError("fit: validation_data must be a pair (x_val, y_val)")
            validation = self._checked_data(*validation_data, "fit (validation_data)")
        elif validation_split:
            train, held = data.validation_split_indices(y, validation_split,
                                                        self._compiled["loss"], self._seed())
            validation, x, y = (x[held], y[held]), x[train], y[train]
        graph = self._training_graph("fit")
        self._initialize(self.weights + graph.optimizer_variables)
        return self._fit_loop(graph, x, y, min(batch_size, len(x)), epochs, validation, shuffle,
                              list(callbacks or ()), verbose, file or sys.stdout)

    def _fit_loop(self, graph: TrainingGraph, x: np.ndarray, y: np.ndarray, batch_size: int,
                  epochs: int, validation: Optional[tuple], shuffle: bool,
                  callbacks: list[Callback], verbose: int, out: TextIO) -> History:
        self.history = History()
        everyone = [self.history, *callbacks]
        steps = math.ceil(len(x) / batch_size)
        for callback in everyone:
            callback.set_model(self)
            callback.set_params({"epochs": epochs, "steps": steps, "verbose": verbose})
            callback.on_train_begin({})
        state = self.weights + graph.optimizer_variables
        last_finite = self.session.run(state)
        # Shuffling is seeded like the split, and differs from one fit call to the next.
        rng = np.random.default_rng([self._seed(), self._fits])
        self._fits += 1
        fetches = [graph.train_op, graph.fetches()]
        self.stop_training = False
        logs: dict[str, float] = {}
        for epoch in range(epochs):
            for callback in everyone:
                callback.on_epoch_begin(epoch, {})
            order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
            (xs, ys), ws = data.padded_batches([x, y], order, batch_size)
            feed = {self.input: xs, graph.y: ys, graph.w: ws,
                    self._training: np.ones(steps, bool)}
            sums = self.session.run_loop(fetches, feed)[1]
            self._check_finite(sums, epoch, state, last_finite)
            logs = self._logs(sums, len(x))
            if validation is not None:
                logs.update({f"val_{k}": v for k, v in
                             self._evaluate_logs(graph, *validation, batch_size).items()})
            if verbose:
                self._print_epoch(out, epoch, epochs, steps, logs)
            for callback in everyone:
                callback.on_epoch_end(epoch, logs)
            last_finite = self.session.run(state)
            if self.stop_training:
                break
        for callback in everyone:
            callback.on_train_end(logs)
        return self.history

    def _seed(self) -> int:
        """The seed of the validation split and of shuffling: the graph's, else 0."""
        return self.graph.seed if self.graph.seed is not None else 0

    def _check_finite(self, sums: dict, epoch: int, state: list, last_finite: list) -> None:
        per_batch = sums["loss_sum"] + sums["regularization"]
        bad = np.flatnonzero(~np.isfinite(per_batch))
        if bad.size:
            for variable, value in zip(state, last_finite):
                self.session.load_variable(variable, value)
            restored = f"the end of epoch {epoch}" if epoch else "their values before fit"
            raise FloatingPointError(
                f"fit: the loss is {per_batch[bad[0]]} at epoch {epoch + 1}, batch {bad[0] + 1} "
                f"of {len(per_batch)}; the weights were restored to {restored} (the last "
                f"finite state). Lower the learning rate or check the data for NaN/Inf.")

    @staticmethod
    def _logs(sums: dict, count: int) -> dict[str, float]:
        logs = {"loss": float(np.sum(sums["loss_sum"]) / count + np.mean(sums["regularization"]))}
        for key, values in sums.items():
            if key.startswith("metric:"):
                logs[key[len("metric:"):]] = float(np.sum(values) / count)
        return logs

    @staticmethod
    def _print_epoch(out: TextIO, epoch: int, epochs: int, steps: int, logs: dict) -> None:
        values = " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())
        bar = f" {steps}/{steps} [{'=' * 30}]" if out.isatty() else ""
        out.write(f"Epoch {epoch + 1}/{epochs}{bar} - {values}\n")
        out.flush()

    def _evaluate_logs(self, graph: TrainingGraph, x: np.ndarray, y: np.ndarray,
                       batch_size: int) -> dict[str, float]:
        """Loss and metrics over every sample of (x, y) in inference mode."""
        batch_size = min(batch_size, len(x))
        (xs, ys), ws = data.padded_batches([x, y], np.arange(len(x)), batch_size)
        sums = self.session.run_loop(graph.fetches(), {self.input: xs, graph.y: ys, graph.w: ws})
        return self._logs(sums, len(x))

    def evaluate(self, x: Any, y: Any, batch_size: int = 32, verbose: int = 0,
                 return_dict: bool = False) -> Any:
        """The loss (and metrics) over every sample, in inference mode.

        Returns the loss alone without metrics, else [loss, *metrics] (Keras), or a
        dict with ``return_dict=True``.
        """
        x, y = self._checked_data(x, y, "evaluate")
        graph = self._training_graph("evaluate")
        self._initialize(self.weights)
        logs = self._evaluate_logs(graph, x, y, batch_size)
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        if return_dict:
            return logs
        return logs["loss"] if len(logs) == 1 else list(logs.values())

    def predict(self, x: Any, batch_size: int = 32) -> np.ndarray:
        """The model's outputs for every sample of ``x``, in inference mode."""
        x = data.as_array(x, "x", "predict")
        self.build(x.shape[1:])
        data.check_features(x, self.input.shape.as_list()[1:], "predict")
        self._initialize(self.weights)
        batch_size = min(batch_size, len(x))
        (xs,), _ = data.padded_batches([x], np.arange(len(x)), batch_size)
        outputs = self.session.run_loop(self.output, {self.input: xs})
        return outputs.reshape(-1, *outputs.shape[2:])[:len(x)]

    def save(self, path: str) -> None:
        """Writes the model to the directory ``path``: ``model.json`` and a weights checkpoint.

        Example:
            >>> model.save("iris_model")
            >>> same = gn.models.load_model("iris_model")
        """
        saving.save_model(self, path)

    def __repr__(self) -> str:
        return f"<gn.models.Sequential '{self.name}' with {len(self.layers)} layers>"


def load_model(path: str) -> Sequential:
    """The Sequential model saved by ``model.save(path)``, built in the default graph.

    Its weights are those saved; a model compiled by name (optimizer, loss and metrics
    given as strings or built-in losses) comes back compiled, with fresh optimizer state.

    Raises:
        FileNotFoundError: ``path`` holds no saved model.
        ValueError: the file is not a graphnn Sequential model of a known version.
    """
    layers, description = saving.read_model(path)
    model = Sequential(name=description["name"])
    model.add(placeholder("float32", [None, *description["input_shape"]], name="input"))
    for layer in layers:
        model.add(layer)
    saving.restore_weights(model, path)
    model._initialized.update(model.weights)
    arguments = description.get("compile")
    if arguments is not None:
        model.compile(arguments["optimizer"], saving.restored_loss(arguments["loss"]),
                      arguments["metrics"])
    return model
