"""Writes input files for examples/market_spread.py: framed binary records.

    python3 examples/market_spread_data.py market FILE [--symbols N] [--seed S]
    python3 examples/market_spread_data.py orders FILE [--count N] [--symbols N] [--seed S]

Market data: one record per symbol, every third symbol with a spread wider than 5%.
Orders: COUNT orders on random symbols. Send them with
`roo send --binary --msg-size 24 --file market.bin` (20-byte payload + header) and
`roo send --binary --msg-size 25 --file orders.bin` (21-byte payload + header).
"""

import argparse
import random
import struct

MARKET = struct.Struct(">4sdd")
ORDER = struct.Struct(">4sIcId")


def symbols(n):
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return ["%s%s%s" % (letters[i % 26], letters[(i // 26) % 26], letters[(i // 676) % 26]) for i in range(n)]


def framed(payload):
    return struct.pack(">I", len(payload)) + payload


def market_records(n_symbols):
    records = []
    for i, symbol in enumerate(symbols(n_symbols)):
        bid = 100.0 + i
        ask = bid * (1.10 if i % 3 == 0 else 1.01)
        records.append(framed(MARKET.pack(symbol.ljust(4).encode(), bid, ask)))
    return records


def order_records(count, n_symbols, seed):
    rng = random.Random(seed)
    names = symbols(n_symbols)
    records = []
    for order_id in range(count):
        symbol = rng.choice(names)
        side = rng.choice([b"B", b"S"])
        records.append(
            framed(ORDER.pack(symbol.ljust(4).encode(), order_id, side, rng.randint(1, 500), 100.0 + rng.random() * 50))
        )
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["market", "orders"])
    parser.add_argument("file")
    parser.add_argument("--symbols", type=int, default=30)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.kind == "market":
        records = market_records(args.symbols)
    else:
        records = order_records(args.count, args.symbols, args.seed)
    with open(args.file, "wb") as out:
        out.write(b"".join(records))


if __name__ == "__main__":
    main()
