"""The running half of ``SplitExecutable`` (``compiler.split_executable``): a run walks the
compiled programs in order over slots of device values, then stores the written variables
(all or nothing; see that module's doc for the promises this keeps)."""
from __future__ import annotations

import contextlib
from typing import Any, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from graphnn.framework.graph import Operation
from graphnn.framework.tensor import Tensor


class SplitRuns:
    """Runs of a compiled split program; mixed into ``SplitExecutable``, whose compile step
    sets ``_program`` (per program: its call, argument slots, result slots, random keys
    and the slots freed after it) and the layout attributes read here."""

    def dispatch(self, feed_values: Sequence, store: Optional[dict],
                 counters: Optional[np.ndarray]) -> tuple:
        """Runs every segment, then stores the written variables (see the module doc)."""
        if self._checks.before_run:
            self._checks.check_feeds(feed_values, self.steps)
        with self._context() if self._needs_context else contextlib.nullcontext():
            if self.steps is None:
                return self._run_once(feed_values, store, counters)
            return self._run_steps(feed_values, store, counters)

    def _sources(self, feed_values: Sequence, variables: dict) -> list:
        slots = [None] * len(self._slots.index)
        for slot, i in self._feed_slots:
            slots[slot] = feed_values[i]
        if self._shared_feeds:
            moved = jax.device_put([feed_values[i] for _, i in self._shared_feeds],
                                   self._device if self._placement is None else
                                   [self._feed_shardings[i] for _, i in self._shared_feeds])
            for (slot, _), value in zip(self._shared_feeds, moved):
                slots[slot] = value
        for slot, variable in self._var_slots:
            slots[slot] = variables[self._keys.get(variable, variable)]
        for slot, value in self._constant_slots:
            slots[slot] = value
        return slots

    def _step(self, slots: list, counters: Optional[np.ndarray]) -> Any:
        """Dispatches every segment over ``slots``; returns the final status (or None)."""
        status = np.zeros((3,), self._status_dtype) if self._checked else None
        for call, inputs, outputs, random, free in self._program:
            args = [slots[i] for i in inputs]
            if random is not None:
                args += [random[0], counters[random[1]]]
            if status is not None:
                args.append(status)
            results = call(*args)
            if self._waits:
                jax.block_until_ready(results)  # see compiler.placement: CPU collectives
            if status is not None:
                status = results[-1]
            for slot, value in zip(outputs, results):
                slots[slot] = value
            for slot in free:
                slots[slot] = None
        return status

    def _value(self, slots: list, tensor: Tensor) -> Any:
        if tensor in self._static:
            return self._static[tensor]
        return slots[self._slots.index[tensor]]

    def _run_once(self, feed_values: Sequence, store: dict, counters: Any) -> tuple:
        slots = self._sources(feed_values, store)
        status = self._step(slots, counters)
        written = [(key, self._value(slots, value)) for key, value in self._written]
        fetched = [None if isinstance(f, Operation) else self._fetch_value(slots, f)
                   for f in self._fetches]
        if status is not None:
            status = np.asarray(status)
            if status[0]:
                if written:  # a donated variable's result is its old value (selected)
                    store.update((key, value) for key, value in written
                                 if key in store and key in self._donated_keys)
                raise self._checks.program_error(status, None)
        if written:
            store.update(written)
        return tuple(fetched)

    def _fetch_value(self, slots: list, tensor: Tensor) -> Any:
        value = self._value(slots, tensor)
        return jnp.copy(value) if tensor in self._copied and value is not None else value

    def _run_steps(self, feed_values: Sequence, store: dict, counters: Any) -> tuple:
        state = {key: store[key] for key in {self._keys.get(v, v) for v in self.plan.reads}
                 if key in store}
        saved = {k: jnp.copy(v) for k, v in state.items()} if self._checked else None
        per_step = []
        for index in range(self.steps):
            slots = self._sources([v[index] for v in feed_values], state)
            status = self._step(slots, None if counters is None else counters + index)
            if status is not None:
                status = np.asarray(status)
                if status[0]:
                    store.update((k, v) for k, v in saved.items() if k in store)
                    found = np.concatenate([status[:1], [index], status[1:]])
                    raise self._checks.program_error(found, self.steps)
            state.update((key, self._value(slots, value)) for key, value in self._written)
            per_step.append([None if isinstance(f, Operation) else self._fetch_value(slots, f)
                             for f in self._fetches])
        store.update((key, state[key]) for key, _ in self._written)
        return tuple(None if isinstance(f, Operation) else [step[i] for step in per_step]
                     for i, f in enumerate(self._fetches))

    def fetched(self, results: tuple) -> Sequence:
        """The fetched values as numpy arrays (waits for the segments)."""
        if self.steps is None:
            return [None if r is None else np.asarray(r) for r in results]
        return [None if r is None else np.stack([np.asarray(v) for v in r]) for r in results]


def stacking_call(compiled: Any, alone: int, stacks: list) -> Any:
    """``compiled`` called with its first ``alone`` arguments as they are and the rest
    stacked, ``stacks`` at a time (on the host when they are numpy arrays, as feeds are)."""
    if not stacks:
        return compiled

    def call(*args):
        stacked, at = [], alone
        for size in stacks:
            values = args[at:at + size]
            at += size
            stacked.append(np.stack(values) if all(isinstance(v, np.ndarray) for v in values)
                           else jnp.stack(values))
        return compiled(*args[:alone], *stacked, *args[at:])
    return call
