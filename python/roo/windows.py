"""Windows and aggregations of Wallaroo 0.6: `.to(range_windows(seconds(9)).over(Agg))`.

A window step is a state step with one window state per key (built with its key). A
message's time is its event time when its source gives one (a Kafka record's timestamp),
else the time it reaches the step (Wallaroo's TCP sources stamped event time on arrival
too). Between messages a key's clock is the latest event time it saw plus the wall time
since then (since this run started, for a state restored from a checkpoint), so windows
of old (replayed) records end as the records go by, and the last ones end once that much
time has passed with no newer record. The clock is kept per key, in the key's state:
it is checkpointed with the windows, and a key whose records lag does not have its
windows ended by another key's. Range windows cut time into panes of gcd(range, slide): each message
updates the accumulator of its pane only, and a window [start, start + range) is the
`combine` of its panes, output once the clock passes its end plus the delay. The engine
also calls the step's `tick` every `tick_ns` (so a window ends while no message comes)
and once more at shutdown with `final` set, which outputs every open window: nothing
accumulated is lost when the application stops.
"""

from __future__ import annotations

import math
import time
from typing import Any

from roo.errors import RooApplicationError
from roo.inspection import instance_of, where

# Time units: Wallaroo measured window ranges, slides and delays in integer nanoseconds.


def nanoseconds(x: float) -> int:
    return int(x)


def microseconds(x: float) -> int:
    return int(x * 1_000)


def milliseconds(x: float) -> int:
    return int(x * 1_000_000)


def seconds(x: float) -> int:
    return int(x * 1_000_000_000)


def minutes(x: float) -> int:
    return int(x * 60_000_000_000)


def hours(x: float) -> int:
    return int(x * 3_600_000_000_000)


class Aggregation:
    """Base class of an aggregation: initial_accumulator(), update(data, acc) (changes acc
    in place, as Wallaroo's contract is, or returns the new accumulator: a value it returns
    other than None replaces acc, so `return acc + data` works with an int accumulator),
    combine(acc1, acc2) -> a new accumulator, output(key, acc) -> output or None."""

    def name(self) -> str:
        return type(self).__name__


def aggregation(cls: Any = None, name: str | None = None) -> Any:
    """Class decorator naming an aggregation: @aggregation or @aggregation(name="...")."""
    if isinstance(cls, str):
        cls, name = None, cls

    def named(cls):
        if name is not None:
            cls.name = lambda self: name
        elif not callable(getattr(cls, "name", None)):
            cls.name = Aggregation.name
        return cls

    return named if cls is None else named(cls)


_AGGREGATION_METHODS = ("initial_accumulator", "update", "combine", "output")


def _aggregation(agg):
    """An instance (a class is instantiated, as Wallaroo's later versions did) with every method."""
    agg = instance_of(agg, "aggregation")
    for method in _AGGREGATION_METHODS:
        if not callable(getattr(agg, method, None)):
            raise RooApplicationError(
                "aggregation %s (%s) has no %s() method" % (type(agg).__name__, where(agg), method)
            )
    return agg


def _duration(value, what):
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RooApplicationError(
            "%s must be a whole number of nanoseconds >= 0 (use roo.seconds(...) etc.), got %r"
            % (what, value)
        )
    return value


def _agg_name(agg):
    name = getattr(agg, "name", None)
    return str(name()) if callable(name) else type(agg).__name__


# What happens to a message older than the oldest window its key still has open (one
# that would belong to windows already output), by Wallaroo's names for it: dropped; output
# at once in a window of its own; or added to the oldest window still open.
LATE_DATA_POLICIES = ("drop", "fire-per-message", "place-in-oldest-window")


def _late_data_policy(policy):
    """Wallaroo's policy names; the underscore spellings are accepted too."""
    name = policy.replace("_", "-") if isinstance(policy, str) else policy
    if name not in LATE_DATA_POLICIES:
        raise RooApplicationError(
            "range_windows: with_late_data_policy(%r): the policy must be one of %s"
            % (policy, ", ".join(repr(p) for p in LATE_DATA_POLICIES))
        )
    return name


class RangeWindowsBuilder:
    """range_windows(range)[.with_slide(slide)][.with_delay(delay)]
    [.with_late_data_policy(policy)].over(aggregation)."""

    def __init__(self, window_range: int) -> None:
        self.range = _duration(window_range, "range_windows: the range")
        if self.range == 0:
            raise RooApplicationError("range_windows: the range must be > 0")
        self.slide: int | None = None
        self.delay: int | None = None
        self.late_data_policy: str | None = None

    def with_late_data_policy(self, policy: str) -> RangeWindowsBuilder:
        """"drop" (the default), "fire-per-message" or "place-in-oldest-window"."""
        if self.late_data_policy is not None:
            raise RooApplicationError(
                "range_windows: call with_late_data_policy() once per window"
            )
        self.late_data_policy = _late_data_policy(policy)
        return self

    def with_slide(self, slide: int) -> RangeWindowsBuilder:
        if self.slide is not None:
            raise RooApplicationError("range_windows: call with_slide() once per window")
        self.slide = _duration(slide, "with_slide")
        if not 0 < self.slide <= self.range:
            raise RooApplicationError(
                "range_windows: the slide (%d ns) must be > 0 and <= the range (%d ns)"
                % (self.slide, self.range)
            )
        return self

    def with_delay(self, delay: int) -> RangeWindowsBuilder:
        if self.delay is not None:
            raise RooApplicationError("range_windows: call with_delay() once per window")
        self.delay = _duration(delay, "with_delay")
        return self

    def over(self, agg: Any) -> RangeWindows:
        return RangeWindows(
            self.range,
            self.slide or self.range,
            self.delay or 0,
            _aggregation(agg),
            self.late_data_policy or "drop",
        )


class CountWindowsBuilder:
    """count_windows(n).over(aggregation): an output every n messages of a key."""

    def __init__(self, count: int) -> None:
        if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
            raise RooApplicationError("count_windows: the count must be an int > 0, got %r" % (count,))
        self.count = count

    def over(self, agg: Any) -> CountWindows:
        return CountWindows(self.count, _aggregation(agg))


def range_windows(window_range: int) -> RangeWindowsBuilder:
    return RangeWindowsBuilder(window_range)


def count_windows(count: int) -> CountWindowsBuilder:
    return CountWindowsBuilder(count)


class Windows:
    """What the pipeline API turns into a state step (see pipeline.py)."""

    tick_ns = None  # how often the engine calls tick(); None: only at shutdown

    def name(self):
        return _agg_name(self.aggregation)


class _RangeState:
    __slots__ = ("key", "panes", "next_start", "latest_event", "seen_at")

    def __init__(self, key):
        self.key = key
        self.panes = {}  # pane start (ns) -> accumulator
        self.next_start = None  # start of the earliest window not output yet
        self.latest_event = None  # the latest event time seen (ns), if any
        self.seen_at = 0  # the wall time it was seen at (ns)


def _update(agg, data, acc):
    """update(data, acc): the accumulator after it (acc changed in place, or what it returned)."""
    updated = agg.update(data, acc)
    return acc if updated is None else updated


class RangeWindows(Windows):
    # Where the window step reads the time a message reaches it (ns since the epoch).
    clock = staticmethod(time.time_ns)

    def __init__(self, window_range, slide, delay, agg, late_data_policy="drop"):
        # When this run first used the step: idle time of a restored state counts from here.
        self.started = None
        self.range = window_range
        self.slide = slide
        self.delay = delay
        self.aggregation = agg
        self.late_data_policy = late_data_policy
        # Late messages the "drop" policy dropped, over every key of this core.
        self.late_dropped = 0
        self.pane = math.gcd(window_range, slide)
        # Often enough that a window ends within ~1/4 of a slide (at least every 1 ms, at
        # most every 250 ms); each tick costs one Python call per key of this core.
        self.tick_ns = min(max(slide // 4, 1_000_000), 250_000_000)

    def new_state(self, key):
        return _RangeState(key)

    def _now(self, state, event_ns=None):
        """The key's time: the message's event time, or its clock (see the module)."""
        wall = self.clock()
        if self.started is None:
            self.started = wall
        if event_ns is not None:
            if state.latest_event is None or event_ns >= state.latest_event:
                state.latest_event, state.seen_at = event_ns, wall
            return event_ns
        if state.latest_event is None:
            return wall
        return state.latest_event + (wall - max(state.seen_at, self.started))

    def on_message(self, data, state, event_ns=None):
        now = self._now(state, event_ns)
        pane = now - now % self.pane
        if state.next_start is not None and pane < state.next_start:
            # Older than every window still open (the clock went back): its windows were
            # output already.
            if self.late_data_policy != "place-in-oldest-window":
                return self._late(data, state) + self._ended(state, now, False)
            pane = state.next_start
        self._add(data, state, pane)
        if state.next_start is None:
            # The earliest window (starts are multiples of the slide) that holds `now`.
            state.next_start = ((now - self.range) // self.slide + 1) * self.slide
        return self._ended(state, now, False)

    def _add(self, data, state, pane):
        acc = state.panes.get(pane)
        if acc is None:
            acc = self.aggregation.initial_accumulator()
        state.panes[pane] = _update(self.aggregation, data, acc)

    def _late(self, data, state):
        """What a late message gives at once under "drop" (nothing; it is counted) or
        "fire-per-message" (the output of a window holding it alone)."""
        if self.late_data_policy == "drop":
            self.late_dropped += 1
        if self.late_data_policy != "fire-per-message":
            return []
        agg = self.aggregation
        output = agg.output(state.key, _update(agg, data, agg.initial_accumulator()))
        return [] if output is None else [output]

    def tick(self, state, final):
        return self._ended(state, self._now(state), final)

    def _ended(self, state, now, final):
        """Outputs of every window that has ended (all windows holding data, if final)."""
        outputs = []
        agg = self.aggregation
        while state.next_start is not None and (
            final or state.next_start + self.range + self.delay <= now
        ):
            start = state.next_start
            end = start + self.range
            acc = None
            for pane in sorted(p for p in state.panes if start <= p < end):
                acc = state.panes[pane] if acc is None else agg.combine(acc, state.panes[pane])
            if acc is not None:
                output = agg.output(state.key, acc)
                if output is not None:
                    outputs.append(output)
            state.next_start = start + self.slide
            for pane in [p for p in state.panes if p < state.next_start]:
                del state.panes[pane]
            if not state.panes:
                state.next_start = None  # idle: the next message starts anew
        return outputs


class _CountState:
    __slots__ = ("key", "acc", "seen")

    def __init__(self, key, acc):
        self.key = key
        self.acc = acc
        self.seen = 0


class CountWindows(Windows):
    def __init__(self, count, agg):
        self.count = count
        self.aggregation = agg

    def new_state(self, key):
        return _CountState(key, self.aggregation.initial_accumulator())

    def on_message(self, data, state, event_ns=None):
        state.acc = _update(self.aggregation, data, state.acc)
        state.seen += 1
        if state.seen < self.count:
            return None
        return self._output(state)

    def tick(self, state, final):
        # Only called at shutdown: a window that is not full yet still holds data.
        return self._output(state) if state.seen else None

    def _output(self, state):
        output = self.aggregation.output(state.key, state.acc)
        state.acc = self.aggregation.initial_accumulator()
        state.seen = 0
        return None if output is None else [output]
