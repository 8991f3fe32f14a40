"""The limit for Roo's market spread: the same user functions in a bare Python loop.

Reads the framed market data and orders files the bench sends, and for each frame runs
decode -> symbol_of -> check_spread (per-symbol state) -> encode_result, exactly as
examples/market_spread.py defines them, in one interpreter, no engine. The market data
goes first and is not timed, as in the bench. Prints `orders=N seconds=S`.
"""

import importlib.util
import os
import struct
import sys
import time


def frames(path):
    data = open(path, "rb").read()
    at = 0
    while at < len(data):
        (length,) = struct.unpack_from(">I", data, at)
        yield data[at + 4 : at + 4 + length]
        at += 4 + length


def main(app_path, market_path, orders_path):
    # The app imports wallaroo: give it Roo's API package, as `roo run` does.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
    import roo

    sys.modules["wallaroo"] = roo
    spec = importlib.util.spec_from_file_location("market_spread", app_path)
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    key = app.symbol_of.function
    step = app.check_spread.function
    new_state = app.check_spread.state
    encode = app.encode_result.encode
    states = {}
    out = []

    def run(decode, payloads):
        for payload in payloads:
            message = decode(payload)
            symbol = key(message)
            state = states.get(symbol)
            if state is None:
                state = states[symbol] = new_state()
            result = step(message, state)
            if result is not None:
                out.append(encode(result).encode())
                if len(out) >= 1000:
                    out.clear()

    run(app.decode_market.decode, list(frames(market_path)))
    orders = list(frames(orders_path))
    start = time.perf_counter()
    run(app.decode_order.decode, orders)
    seconds = time.perf_counter() - start
    print("orders=%d seconds=%.6f" % (len(orders), seconds))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
