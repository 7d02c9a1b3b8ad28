"""Repeated structure in a scheduled program, and cuts along it (``compiler.segments``).

An unrolled loop repeats a block of ops: the same op signatures, each reading its inputs
from as many ops back. The ops are numbered by that (``Kinds``), the shortest period of
the numbers is found in a window (``period_at``), and a run of exact repeats is followed
to its end (``periodic_run``) and begun earlier where a first step differs only in reading
its initial state (``earlier_start``). ``cut`` places the segments' bounds: a whole number of
periods each, single periods for loops to roll (``unit_periods``), or, where nothing
repeats, where the fewest values cross.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

# The longest period of a repeated structure that cuts are aligned to, and the share of
# a window of ops that must repeat with that period.
MAX_PERIOD = 200
PERIOD_MATCH = 0.9


def row_ids(table: np.ndarray) -> np.ndarray:
    """A number per row of ``table``, equal for equal rows."""
    if not len(table):
        return np.zeros(0, np.int64)
    ranked = np.lexsort(table.T)
    rows = table[ranked]
    new = np.empty(len(rows), bool)
    new[0] = True
    np.any(rows[1:] != rows[:-1], axis=1, out=new[1:])
    ids = np.empty(len(rows), np.int64)
    ids[ranked] = np.cumsum(new)
    return ids


class Kinds:
    """Numbers for the ops of an order that tell which ops repeat: equal when two ops have
    one signature and read their inputs from as many ops back (inputs from further back,
    or from no op of the order, alike)."""

    def __init__(self, signature_ids: list, counts: np.ndarray, producers: np.ndarray) -> None:
        """``counts``: per op, how many values it reads; ``producers``: per value read, in
        order, the position of the op that makes it (negative: none, or a source)."""
        n = len(counts)
        rows = np.repeat(np.arange(n), counts)
        columns = np.arange(len(producers)) - np.repeat(np.cumsum(counts) - counts, counts)
        distance = np.where(producers >= 0, rows - producers, -1)
        distance[distance > MAX_PERIOD] = -1
        # Column 0 the signature, then the inputs' distances (-2: no such input).
        self.table = np.full((n, int(counts.max(initial=0)) + 1), -2, np.int64)
        self.table[:, 0] = signature_ids
        self.table[rows, columns + 1] = distance
        self.signatures = np.asarray(signature_ids, np.int64)
        self.all = row_ids(self.table)  # inputs up to MAX_PERIOD back told apart
        self._within: dict = {}

    def within(self, period: int) -> np.ndarray:
        """The kinds with inputs from more than ``period`` ops back alike: for cuts into
        single periods, where those come from outside the period whatever their distance
        (a gradient step reading its forward step)."""
        if period not in self._within:
            table = self.table.copy()
            distances = table[:, 1:]
            distances[distances > period] = -1
            self._within[period] = row_ids(table)
        return self._within[period]

    def in_blocks(self, period: int, begin: int, count: int) -> np.ndarray:
        """The kinds of the ``count`` blocks of ``period`` ops from ``begin``, one row per
        block, with inputs from before an op's own block alike (a loop's first step reads
        its initial state where the later steps read the step before)."""
        table = self.table[begin:begin + count * period].copy()
        distances = table[:, 1:]
        within_block = np.tile(np.arange(period), count)[:, None]
        distances[distances > within_block] = -1
        return row_ids(table).reshape(count, period)


def period_at(kinds: np.ndarray, start: int, limit: int) -> int:
    """The shortest period p of the op sequence ``kinds`` over ``limit`` elements from
    ``start``: the smallest p up to MAX_PERIOD with ``kinds[i] == kinds[i + p]`` for nearly
    all i there (a repeated block may begin after ``start``); 1 when none."""
    window = kinds[start:start + limit]
    for p in range(1, min(MAX_PERIOD, len(window) // 3) + 1):
        if np.mean(window[p:] == window[:-p]) >= PERIOD_MATCH:
            return p
    return 1


def periodic_run(kinds: np.ndarray, start: int, period: int, reach: int) -> tuple[int, int]:
    """(offset, repeats): the first offset below ``reach`` from ``start`` where the block of
    ``period`` ops repeats exactly at least three times, and how many times; (0, 0) if
    none. Offsets are tried on three blocks each; only the run found is followed to its
    end (so a call costs the run's length, not the program's)."""
    for offset in range(reach):
        begin = start + offset
        if begin + 3 * period > len(kinds):
            break
        block = kinds[begin:begin + period]
        if not (np.array_equal(kinds[begin + period:begin + 2 * period], block)
                and np.array_equal(kinds[begin + 2 * period:begin + 3 * period], block)):
            continue
        repeats, chunk = 3, 64
        while True:  # follow the run in chunks of blocks
            at = begin + repeats * period
            count = min(chunk, (len(kinds) - at) // period)
            if count <= 0:
                return offset, repeats
            same = np.all(kinds[at:at + count * period].reshape(count, period) == block,
                          axis=1)
            if not same.all():
                return offset, repeats + int(np.argmin(same))
            repeats += count
            chunk *= 2
    return 0, 0


def earlier_start(kinds: Kinds, start: int, offset: int, period: int,
                  repeats: int) -> tuple[int, int]:
    """(offset, repeats) of a run of single periods found at ``start + offset``, begun up to
    ``period - 1`` ops earlier (not before ``start``) where that takes in a first block that
    differs from the others only in reading from before itself what they read from the
    block before them: an unrolled loop's first step, reading an initial state instead of
    the previous step, then joins the loop rather than being cut apart with the ops that
    follow it up to the run found."""
    strict = kinds.within(period)
    for shift in range(min(offset, period - 1), 0, -1):
        begin = start + offset - shift
        count = (len(strict) - begin) // period
        if count < repeats:
            continue
        # The blocks after the first repeat exactly, as in the run found (periodic_run)...
        later = strict[begin + period:begin + count * period].reshape(count - 1, period)
        same = np.all(later == later[0], axis=1)
        longest = 1 + (count - 1 if same.all() else int(np.argmin(same)))
        if longest < repeats:
            continue
        # ... and the first is one of them but for what it reads from before itself.
        blocks = kinds.in_blocks(period, begin, 2)
        if np.array_equal(blocks[0], blocks[1]):
            return offset - shift, longest
    return offset, repeats


def cut(kinds: Kinds, segment_ops: int, unit_periods: bool,
        crossing: Callable[[], np.ndarray]) -> tuple[list, list, list]:
    """(bounds, periods, runs): the (begin, end) positions of the segments of about
    ``segment_ops`` ops in the order, the repeat period each cut was aligned to, and the
    repeated runs cut into single periods (``unit_periods``) as (first segment,
    repeats). ``crossing()``: per position, how many values a cut there passes on (made
    only where needed)."""
    size_of_order = len(kinds.all)
    bounds, periods, start, runs = [], [], 0, []
    crossed = None
    while start < size_of_order:
        period = period_at(kinds.all, start, 2 * segment_ops)
        if unit_periods:
            # A repeat that starts within the next segment is cut from where it starts.
            probe = period_at(kinds.signatures, start, 2 * segment_ops)
            if probe == 1:
                probe = period_at(kinds.signatures, start + segment_ops // 2, 2 * segment_ops)
            # Such a period is found from the ops' signatures alone, then checked with
            # their inputs' distances up to the period.
            offset, repeats = periodic_run(kinds.within(probe), start, probe,
                                           max(probe, segment_ops)) if probe > 1 else (0, 0)
            if repeats and offset:
                offset, repeats = earlier_start(kinds, start, offset, probe, repeats)
            if repeats:
                period = probe
                if offset:
                    bounds.append((start, start + offset))
                    periods.append(1)
                runs.append((len(bounds), repeats))
                begin = start + offset
                bounds += [(begin + j * period, begin + (j + 1) * period)
                           for j in range(repeats)]
                periods += [period] * repeats
                start = begin + repeats * period
                continue
        if period > 1:
            size = period * max(1, round(segment_ops / period))
        else:  # no repeat to follow: cut where the fewest values cross
            low = start + max(1, segment_ops * 3 // 4)
            high = min(size_of_order, start + segment_ops * 5 // 4)
            if low <= high:
                crossed = crossing() if crossed is None else crossed
                size = low + int(np.argmin(crossed[low:high + 1])) - start
            else:
                size = segment_ops
        if size_of_order - (start + size) < segment_ops // 2:
            size = size_of_order - start  # no small remainder at the end
        bounds.append((start, start + size))
        periods.append(period)
        start += size
    return bounds, periods, runs
