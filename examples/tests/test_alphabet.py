"""alphabet.py: binary votes for letters (">cI" payloads) come back as each letter's
running total, in frames of the same format."""

import struct
from pathlib import Path

APP = Path(__file__).parent.parent / "alphabet.py"

VOTES = [(b"a", 3), (b"b", 1), (b"a", 4), (b"z", 10), (b"b", 2)]


def test_running_total_per_letter(roo_runner):
    # Payloads only: run() puts the 4-byte length header of the app's decoder before each.
    result = roo_runner.run(APP, [struct.pack(">cI", letter, votes) for letter, votes in VOTES])

    totals = [struct.unpack(">cI", frame) for frame in result.output.frames()]
    assert sorted(totals) == [(b"a", 3), (b"a", 7), (b"b", 1), (b"b", 3), (b"z", 10)]


def test_frames_already_framed_are_sent_as_they_are(roo_runner):
    # The format of alphabet_data.py's files: header and payload, sent with raw=True.
    framed = [struct.pack(">IcI", 5, letter, votes) for letter, votes in VOTES]
    result = roo_runner.run(APP, framed, raw=True)

    final = dict(struct.unpack(">cI", frame) for frame in sorted(result.output.frames()))
    assert final == {b"a": 7, b"b": 3, b"z": 10}
