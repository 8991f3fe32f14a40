"""stamped_count.py: `<stamp> <text>` messages are counted per first letter of the text
("!" when it is no letter a-z); each comes out as `<stamp> <key> <count>`."""

from pathlib import Path

APP = Path(__file__).parent.parent / "stamped_count.py"


def test_counts_per_first_letter_keeping_the_stamp(roo_runner):
    result = roo_runner.run(APP, ["100 hello", "200 Hat trick", "300 42 apples", "400 ", "500 happy"])

    assert sorted(result.output.lines()) == ["100 h 1", "200 h 2", "300 ! 1", "400 ! 2", "500 h 3"]
