"""Window steps as plain Python: an accumulator that update() returns, and the late data
policies of range windows (a message older than every window its key still has open),
driven by a clock the test sets."""

import pytest

import wallaroo
from roo.windows import RangeWindows


class Sum(wallaroo.Aggregation):
    """The natural style with an int accumulator: update returns the new value."""

    def initial_accumulator(self):
        return 0

    def update(self, data, acc):
        return acc + data

    def combine(self, a, b):
        return a + b

    def output(self, key, acc):
        return (key, acc)


class Collect(wallaroo.Aggregation):
    """Wallaroo's contract: update changes the accumulator in place."""

    def initial_accumulator(self):
        return []

    def update(self, data, acc):
        acc.append(data)

    def combine(self, a, b):
        return a + b

    def output(self, key, acc):
        return (key, acc)


S = wallaroo.seconds(1)


class Clock:
    def __init__(self):
        self.now = 100 * S

    def __call__(self):
        return self.now


def tumbling(agg, policy=None):
    builder = wallaroo.range_windows(wallaroo.seconds(10))
    if policy is not None:
        builder = builder.with_late_data_policy(policy)
    windows = builder.over(agg)
    clock = Clock()
    windows.clock = clock
    return windows, windows.new_state("k"), clock


def run(windows, state, clock, timed):
    """Feeds (seconds, data) pairs in order; every output, then the final flush's."""
    outputs = []
    for at, data in timed:
        clock.now = at * S
        outputs += windows.on_message(data, state)
    return outputs + windows.tick(state, True)


def test_an_accumulator_that_update_returns_is_kept():
    windows, state, clock = tumbling(Sum)
    assert run(windows, state, clock, [(100, 1), (101, 2), (111, 4)]) == [("k", 3), ("k", 4)]


def test_count_windows_keep_a_returned_accumulator_too():
    windows = wallaroo.count_windows(2).over(Sum)
    state = windows.new_state("k")
    outputs = [windows.on_message(x, state) for x in (1, 2, 3, 4)]
    assert outputs == [None, [("k", 3)], None, [("k", 7)]]


def test_in_place_updates_still_work():
    windows, state, clock = tumbling(Collect)
    assert run(windows, state, clock, [(100, 1), (101, 2)]) == [("k", [1, 2])]


# The clock goes back from 121 s to 105 s: the window [100, 110) was output at 121 s, so
# the message at 105 s is late; [120, 130) is still open.
LATE = [(100, 1), (121, 3), (105, 2), (122, 4)]


def test_late_data_is_dropped_by_default():
    windows, state, clock = tumbling(Collect)
    assert run(windows, state, clock, LATE) == [("k", [1]), ("k", [3, 4])]
    assert windows.late_dropped == 1


def test_fire_per_message_outputs_a_late_message_alone_at_once():
    windows, state, clock = tumbling(Collect, "fire-per-message")
    assert run(windows, state, clock, LATE) == [("k", [1]), ("k", [2]), ("k", [3, 4])]


def test_place_in_oldest_window_adds_it_to_the_oldest_open_window():
    windows, state, clock = tumbling(Collect, "place_in_oldest_window")
    assert run(windows, state, clock, LATE) == [("k", [1]), ("k", [3, 2, 4])]


def test_a_policy_is_named_once_and_must_be_known():
    builder = wallaroo.range_windows(S).with_late_data_policy("drop")
    with pytest.raises(wallaroo.WallarooParameterError, match="once"):
        builder.with_late_data_policy("drop")
    with pytest.raises(wallaroo.WallarooParameterError, match="must be one of"):
        wallaroo.range_windows(S).with_late_data_policy("keep")


def test_windows_are_range_windows():
    assert isinstance(wallaroo.range_windows(S).over(Sum), RangeWindows)


def test_event_times_place_messages_and_the_clock_goes_on_from_the_latest():
    """Records an hour old (a replayed Kafka topic) fall in the windows of their own
    timestamps; between messages the step's time is the latest event time plus the wall
    time since it came, so the last window ends when wall time has gone on to its end, not at once."""
    windows, state, clock = tumbling(Sum)
    hour_ago = clock.now - 3600 * S
    outputs = []
    for offset, data in [(0, 1), (3, 2), (12, 4), (15, 8), (21, 16)]:
        outputs += windows.on_message(data, state, hour_ago + offset * S)
    assert outputs == [("k", 3), ("k", 12)]
    assert windows.tick(state, False) == []
    clock.now += 8 * S  # the latest event (21 s) + 8 s: window [20, 30) has not ended
    assert windows.tick(state, False) == []
    clock.now += 1 * S
    assert windows.tick(state, False) == [("k", 16)]


def test_a_restored_key_counts_idle_time_from_this_run_not_the_last():
    """A state restored from a checkpoint (its wall times from a run long ago) does not end
    its windows at once: idle time counts from when this run first used the step."""
    windows, state, clock = tumbling(Sum)
    hour_ago = clock.now - 3600 * S
    assert windows.on_message(1, state, hour_ago + 1 * S) == []
    restored, _, later = tumbling(Sum)
    later.now = clock.now + 600 * S  # the restart, ten minutes on
    assert restored.tick(state, False) == []
    later.now += 9 * S
    assert restored.tick(state, False) == [("k", 1)]
