"""celsius.py: temperatures in Celsius become Fahrenheit, "%.2f" per line; text that is
no number is dropped by the decoder and counted as an error."""

from pathlib import Path

APP = Path(__file__).parent.parent / "celsius.py"


def test_converts_each_temperature(roo_runner):
    result = roo_runner.run(APP, ["0", "100", "36.6", "-40"])

    assert result.output.lines() == ["32.00", "212.00", "97.88", "-40.00"]
    assert result.summary.errors == 0


def test_text_that_is_no_number_is_dropped_and_counted(roo_runner):
    result = roo_runner.run(APP, ["20", "warm", "25"])

    assert result.output.lines() == ["68.00", "77.00"]
    assert result.summary.errors == 1
    assert list(result.summary.errors_by_place) == ["decoder of source 'convert' of pipeline 'convert'"]
    assert "could not convert string to float: 'warm'" in result.stderr
