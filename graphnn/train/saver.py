"""Checkpoints: ``Saver`` writes variables' values to ``.npz`` files that survive crashes.

A checkpoint ``<prefix>.npz`` is a numpy ``.npz`` archive (the format of
``np.savez``) with one array per variable, keyed by the variable op's name.
Beside it, a small JSON file named ``checkpoint`` lists the latest and all kept
checkpoints of the directory, and the save path each was written under. Both are
written atomically (temporary file, fsync, rename, fsync of the directory), the
archive first, so a process killed at any moment leaves the index pointing at a
complete checkpoint.

``restore`` reads each array's ``.npy`` header (shape, dtype) and compares it with
its variable before reading any data, so a small hostile file cannot make it
allocate more than the variables themselves need.
"""
from __future__ import annotations

import json
import os
import zipfile
from typing import Any, BinaryIO, Optional, Union

import ml_dtypes
import numpy as np

from graphnn.errors import InvalidArgumentError, NotFoundError
from graphnn.framework.graph import GraphKeys, get_default_graph
from graphnn.framework.tensor import Tensor
from graphnn.io.files import atomic_write, fsync_directory
from graphnn.ops.state import VARIABLE_OP

INDEX_FILENAME = "checkpoint"
INDEX_FORMAT = "graphnn.checkpoint_index"
INDEX_VERSION = 2  # 2 added "save_paths"; a version 1 index is read as owning nothing
SUFFIX = ".npz"


class Saver:
    """Saves and restores variables (TensorFlow 1's ``tf.train.Saver``).

    Args:
        var_list: the variables, as a list (saved under their op names) or a dict
            name -> variable; default: all global variables of the default graph.
        max_to_keep: how many recent checkpoints of one save path (``"ckpt/model"``
            of ``ckpt/model-100``) to keep; None or 0 keeps all. Only checkpoints
            written under that save path are ever deleted, so a second saver
            (``"ckpt/best"``) in the same directory keeps its own. The directory's
            index records them, so this carries over to a new Saver (a restarted
            training run) saving under the same path.

    Example:
        >>> saver = gn.train.Saver()
        >>> path = saver.save(sess, "ckpt/model", global_step=step)   # "ckpt/model-100"
        >>> saver.restore(sess, gn.train.latest_checkpoint("ckpt"))
    """

    def __init__(self, var_list: Union[list, dict, None] = None, max_to_keep: Optional[int] = 5):
        if var_list is None:
            var_list = get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES)
        if isinstance(var_list, dict):
            pairs = list(var_list.items())
        else:
            pairs = [(v.op.name if isinstance(v, Tensor) else None, v) for v in var_list]
        self._variables: dict[str, Tensor] = {}
        for name, variable in pairs:
            if not isinstance(variable, Tensor) or variable.op.type != VARIABLE_OP:
                raise TypeError(f"Saver: {variable!r} is not a Variable")
            if not isinstance(name, str) or name in self._variables:
                raise ValueError(f"Saver: the checkpoint name {name!r} is invalid or used twice")
            self._variables[name] = variable
        if not self._variables:
            raise ValueError("No variables to save")
        graphs = {id(v.graph): v.graph for v in self._variables.values()}
        if len(graphs) > 1:
            raise ValueError("Saver: the variables belong to different graphs")
        self._graph = next(iter(graphs.values()))
        self._max_to_keep = max_to_keep
        self._last_checkpoints: list[str] = []

    @property
    def last_checkpoints(self) -> list[str]:
        """Checkpoint prefixes of the last ``save``'s save path still kept, oldest first."""
        return list(self._last_checkpoints)

    def save(self, sess: Any, save_path: str, global_step: Any = None) -> str:
        """Writes the variables' current values; returns the checkpoint prefix.

        With ``global_step`` (an int or a tensor/variable holding one) the prefix is
        ``f"{save_path}-{step}"``. Checkpoints of the same ``save_path`` beyond
        ``max_to_keep`` are deleted, oldest first, after the new one and the index
        are safely on disk.

        Raises:
            OSError: the file system refused the write; the error names the path.
        """
        self._check_session(sess)
        names = list(self._variables)
        # One run reads every value and the step: a consistent snapshot, even while
        # other threads train on the session.
        step_fetch = [global_step] if isinstance(global_step, Tensor) else []
        values = sess.run([self._variables[n] for n in names] + step_fetch)
        step = values.pop() if step_fetch else global_step
        owner = os.path.basename(save_path)
        if step is not None:
            save_path = f"{save_path}-{int(step)}"
        directory = os.path.dirname(os.path.abspath(save_path))
        os.makedirs(directory, exist_ok=True)
        arrays = dict(zip(names, (np.asarray(v) for v in values)))
        atomic_write(save_path + SUFFIX, lambda file: _write_npz(file, arrays))
        kept = self._update_index(directory, os.path.basename(save_path), owner)
        self._last_checkpoints = [os.path.join(os.path.dirname(save_path), c) for c in kept]
        return save_path

    def restore(self, sess: Any, save_path: str) -> None:
        """Sets the variables from a checkpoint; on any error, changes no variable.

        Raises:
            NotFoundError: the checkpoint, or one of the variables in it, is missing.
            InvalidArgumentError: a stored value's shape or dtype differs from its
                variable's, or the file is corrupt.
        """
        self._check_session(sess)
        if save_path is None:
            raise ValueError("Can't restore: save_path is None (no checkpoint found?)")
        path = save_path if save_path.endswith(SUFFIX) else save_path + SUFFIX
        if not os.path.isfile(path):
            raise NotFoundError(f"Checkpoint {save_path!r} not found: no file {path!r}")
        arrays = _read_checked(path, save_path, self._variables)
        for name, variable in self._variables.items():
            sess.load_variable(variable, _as_stored_dtype(arrays[name], variable))

    def _check_session(self, sess: Any) -> None:
        if sess.graph is not self._graph:
            raise ValueError("The Session's graph is not the graph of the Saver's variables")

    def _update_index(self, directory: str, name: str, owner: str) -> list[str]:
        """Records checkpoint ``name`` of save path ``owner``; returns ``owner``'s kept ones."""
        previous = _read_index(directory)
        kept = [c for c in (previous["all"] if previous else [])
                if c != name and os.path.isfile(os.path.join(directory, c + SUFFIX))] + [name]
        owners = {c: previous["save_paths"][c] for c in kept
                  if previous and c in previous["save_paths"]}
        owners[name] = owner
        mine = [c for c in kept if owners.get(c) == owner]
        removed = []
        if self._max_to_keep and len(mine) > self._max_to_keep:
            removed = mine[:-self._max_to_keep]
            kept = [c for c in kept if c not in removed]
        document = {"format": INDEX_FORMAT, "version": INDEX_VERSION, "latest": name,
                    "all": kept, "save_paths": {c: owners[c] for c in kept if c in owners}}
        text = json.dumps(document, indent=1)
        atomic_write(os.path.join(directory, INDEX_FILENAME),
                     lambda file: file.write(text.encode("utf-8")))
        for old in removed:
            try:
                os.remove(os.path.join(directory, old + SUFFIX))
            except FileNotFoundError:
                pass
        if removed:
            fsync_directory(directory)
        return [c for c in kept if owners.get(c) == owner]


def latest_checkpoint(checkpoint_dir: str, latest_filename: Optional[str] = None
                      ) -> Optional[str]:
    """The prefix of the newest checkpoint in ``checkpoint_dir``, or None when there is none.

    Example:
        >>> saver.restore(sess, gn.train.latest_checkpoint("ckpt"))
    """
    index = _read_index(checkpoint_dir, latest_filename or INDEX_FILENAME)
    if index is None:
        return None
    prefix = os.path.join(checkpoint_dir, index["latest"])
    return prefix if os.path.isfile(prefix + SUFFIX) else None


# ----- files ------------------------------------------------------------------------
def _write_npz(file: BinaryIO, arrays: dict[str, np.ndarray]) -> None:
    # np.savez's own layout, written directly: np.savez(**arrays) would take a variable
    # named "file" or "allow_pickle" for its own argument.
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, array, allow_pickle=False)


def _read_checked(path: str, save_path: str, variables: dict[str, Tensor]
                  ) -> dict[str, np.ndarray]:
    """The arrays of ``variables``, all read, after every header matched its variable.

    Raises:
        NotFoundError: some variable has no array in the archive.
        InvalidArgumentError: a header differs from its variable, or the file is corrupt.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            missing = [name for name in variables if name + ".npy" not in members]
            if missing:
                listed = ", ".join(repr(m) for m in missing)
                raise NotFoundError(f"Key {listed} not found in checkpoint {save_path!r}: the "
                                    f"checkpoint has no value for variable {listed}")
            problems = []
            for name, variable in variables.items():
                with archive.open(name + ".npy") as entry:
                    shape, dtype = _read_header(entry)
                problems.append(_mismatch(name, variable, shape, dtype))
            problems = [p for p in problems if p is not None]
            if problems:
                raise InvalidArgumentError(f"Cannot restore checkpoint {save_path!r}:\n  "
                                           + "\n  ".join(problems))
            arrays = {}
            for name in variables:
                with archive.open(name + ".npy") as entry:
                    arrays[name] = np.lib.format.read_array(entry, allow_pickle=False)
            return arrays
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise InvalidArgumentError(f"Checkpoint {path!r} is corrupt or not a graphnn "
                                   f"checkpoint: {error}") from None


def _read_header(entry: BinaryIO) -> tuple[tuple, np.dtype]:
    """(shape, dtype) from a ``.npy`` header, reading nothing of the data."""
    version = np.lib.format.read_magic(entry)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(entry)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(entry)
    else:
        raise ValueError(f"unsupported .npy format version {version}")
    return tuple(shape), dtype


def _as_stored_dtype(array: np.ndarray, variable: Tensor) -> np.ndarray:
    # .npy has no code for bfloat16: such arrays come back as 2-byte raw values ("V2").
    if variable.dtype.name == "bfloat16" and array.dtype == np.dtype("V2"):
        return array.view(ml_dtypes.bfloat16)
    return array


def _mismatch(name: str, variable: Tensor, shape: tuple, dtype: np.dtype) -> Optional[str]:
    expected_dtype = variable.dtype.as_numpy_dtype
    if variable.dtype.name == "bfloat16" and dtype == np.dtype("V2"):
        dtype = np.dtype(expected_dtype)
    expected_shape = tuple(variable.shape.as_list())
    if dtype != expected_dtype or shape != expected_shape:
        return (f"variable '{variable.op.name}' (key {name!r}) expects {variable.dtype.name} of "
                f"shape {expected_shape}, the checkpoint holds {dtype} of shape {shape}")
    return None


def _read_index(directory: str, filename: str = INDEX_FILENAME) -> Optional[dict]:
    path = os.path.join(directory, filename)
    try:
        with open(path, "rb") as file:
            text = file.read(1 << 20)
    except FileNotFoundError:
        return None
    try:
        index = json.loads(text.decode("utf-8"))
        valid = (isinstance(index, dict) and index.get("format") == INDEX_FORMAT
                 and _is_local_name(index.get("latest"))
                 and isinstance(index.get("all"), list)
                 and isinstance(index.setdefault("save_paths", {}), dict))
    except (UnicodeDecodeError, ValueError):
        valid = False
    if not valid:
        raise InvalidArgumentError(f"Checkpoint index {path!r} is corrupt or not a graphnn "
                                   f"checkpoint index")
    # Only plain names in this directory: a hostile index must not make save() delete
    # files elsewhere.
    index["all"] = [c for c in index["all"] if _is_local_name(c)]
    index["save_paths"] = {c: owner for c, owner in index["save_paths"].items()
                           if isinstance(owner, str)}
    return index


def _is_local_name(name: Any) -> bool:
    return (isinstance(name, str) and name not in ("", ".", "..")
            and os.path.basename(name) == name and "/" not in name and "\\" not in name)
