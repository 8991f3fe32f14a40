"""alerts_windowed.py with `--count 2`: a user's total over every two transactions,
` ALERT` beyond +-2000; a window still open when roo stops is output with what it has."""

from pathlib import Path

APP = Path(__file__).parent.parent / "alerts_windowed.py"


def test_totals_per_two_transactions_of_a_user(roo_runner):
    transactions = ["alice 1500", "bob 10", "alice 1000", "bob -20", "alice -5"]
    result = roo_runner.run(APP, transactions, args=["--count", "2"])

    assert sorted(result.output.lines()) == [
        "alice -5 1",  # the open window, output at shutdown
        "alice 2500 2 ALERT",
        "bob -10 2",
    ]
