"""market_spread.py: orders are accepted or rejected by the last market data of their
symbol. Its two sources are named on the command line (`--in orders@...,nbbo@...`).

The sources are separate connections, read in no set order against each other, so the
test sends the market data, waits for its UPDATE lines, and only then sends the orders."""

import struct
from pathlib import Path

APP = Path(__file__).parent.parent / "market_spread.py"


def market(symbol, bid, ask):
    return struct.pack(">4sdd", symbol.ljust(4).encode(), bid, ask)


def order(symbol, order_id, side=b"B", quantity=100, price=100.0):
    return struct.pack(">4sIcId", symbol.ljust(4).encode(), order_id, side, quantity, price)


def test_orders_are_checked_against_the_spread(roo_runner):
    with roo_runner.start(APP, ["orders", "nbbo"]) as app:
        app.send([market("IBM", 100.0, 100.5), market("WIDE", 100.0, 120.0)], "nbbo")
        app.wait_until(lambda output: len(output.lines()) == 2)
        app.send([order("IBM", 1), order("WIDE", 2, b"S"), order("NONE", 3)], "orders")
        result = app.finish()

    assert sorted(result.output.lines()) == [
        "ACCEPT 1 IBM",
        "REJECT 2 WIDE spread too wide",
        "REJECT 3 NONE no market data",
        "UPDATE IBM 100.00 100.50",
        "UPDATE WIDE 100.00 120.00",
    ]
