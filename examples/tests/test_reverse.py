"""reverse.py: every text message comes back reversed, one line each, in input order."""

from pathlib import Path

APP = Path(__file__).parent.parent / "reverse.py"


def test_each_message_comes_back_reversed(roo_runner):
    result = roo_runner.run(APP, ["hello", "Roo 🦘", "level"])

    # One input connection is read by one core, in order, whatever the core count.
    assert result.output.lines() == ["olleh", "🦘 ooR", "level"]
    assert result.summary.frames_in == 3
    assert result.summary.errors == 0
