"""Transaction totals per user over windows, with Wallaroo 0.6's windows and aggregations.

Input: frames of UTF-8 text `user amount` (4-byte big-endian length), amount an integer.
Output, for every window of a user that saw transactions:
`user total transactions` and, when the total is beyond +-2000, ` ALERT`.

By default windows are 9 s long and slide by 3 s (each transaction counts in three
windows). `--window-ms MS` gives tumbling windows of MS milliseconds instead, and
`--count N` windows of every N transactions of a user. Open windows are output when
`roo run` stops, so a window cut short by shutdown still reports what it saw.

    roo run examples/alerts_windowed.py --in 127.0.0.1:7010 --out 127.0.0.1:7002 [--window-ms 500 | --count 10]
"""

import argparse

import wallaroo


def application_setup(args):
    in_host, in_port = wallaroo.tcp_parse_input_addrs(args)[0]
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]
    options = argparse.ArgumentParser(prog="alerts_windowed.py")
    options.add_argument("--window-ms", type=int)
    options.add_argument("--count", type=int)
    chosen = options.parse_known_args(args)[0]
    if chosen.count:
        windows = wallaroo.count_windows(chosen.count)
    elif chosen.window_ms:
        windows = wallaroo.range_windows(wallaroo.milliseconds(chosen.window_ms))
    else:
        windows = wallaroo.range_windows(wallaroo.seconds(9)).with_slide(wallaroo.seconds(3))

    transactions = wallaroo.source(
        "transactions", wallaroo.TCPSourceConfig("transactions", in_host, in_port, decode)
    )
    pipeline = (
        transactions.key_by(extract_user)
        .to(windows.over(TotalAggregation))
        .to_sink(wallaroo.TCPSinkConfig(out_host, out_port, encode))
    )
    return wallaroo.build_application("Alerts (windowed)", pipeline)


class Transaction(object):
    def __init__(self, user, amount):
        self.user = user
        self.amount = amount


class Total(object):
    def __init__(self):
        self.amount = 0
        self.transactions = 0


class WindowTotal(object):
    def __init__(self, user, total):
        self.user = user
        self.amount = total.amount
        self.transactions = total.transactions


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode(bs):
    user, amount = bs.decode().split()
    return Transaction(user, int(amount))


@wallaroo.key_extractor
def extract_user(transaction):
    return transaction.user


class TotalAggregation(wallaroo.Aggregation):
    def initial_accumulator(self):
        return Total()

    def update(self, transaction, total):
        total.amount += transaction.amount
        total.transactions += 1

    def combine(self, total1, total2):
        combined = Total()
        combined.amount = total1.amount + total2.amount
        combined.transactions = total1.transactions + total2.transactions
        return combined

    def output(self, user, total):
        return WindowTotal(user, total)


@wallaroo.encoder
def encode(window):
    alert = " ALERT" if abs(window.amount) > 2000 else ""
    return "%s %d %d%s\n" % (window.user, window.amount, window.transactions, alert)
