"""Market spread with Wallaroo 0.6's pipeline API: orders are checked against the latest
market data (best bid and ask) of their symbol, and rejected when the spread is too wide.

Two sources, merged and keyed by symbol; the state per symbol is its last bid/ask.
Binary frames, each behind a 4-byte big-endian length header:
  market data: ">4sdd"   symbol (4 bytes, space-padded), bid, ask
  orders:      ">4sIcId" symbol, order id, side (b"B" or b"S"), quantity, price
Output, one line per message:
  market data: `UPDATE SYMBOL BID ASK`
  orders:      `ACCEPT ID SYMBOL` or `REJECT ID SYMBOL reason`

    roo run examples/market_spread.py \\
        --in orders@127.0.0.1:7010,nbbo@127.0.0.1:7011 --out 127.0.0.1:7002

Input generators: examples/market_spread_data.py.
"""

import struct

import wallaroo

# An order is rejected when (ask - bid) is at least this fraction of the mid price.
MAX_SPREAD = 0.05

MARKET = struct.Struct(">4sdd")
ORDER = struct.Struct(">4sIcId")


def application_setup(args):
    inputs = wallaroo.tcp_parse_input_addrs(args)
    (orders_name, orders_host, orders_port), (nbbo_name, nbbo_host, nbbo_port) = inputs
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]

    orders = wallaroo.source(
        "Orders", wallaroo.TCPSourceConfig(orders_name, orders_host, orders_port, decode_order)
    )
    market = wallaroo.source(
        "Market Data", wallaroo.TCPSourceConfig(nbbo_name, nbbo_host, nbbo_port, decode_market)
    )
    pipeline = (
        orders.merge(market)
        .key_by(symbol_of)
        .to(check_spread)
        .to_sink(wallaroo.TCPSinkConfig(out_host, out_port, encode_result))
    )
    return wallaroo.build_application("Market Spread", pipeline)


class MarketData(object):
    def __init__(self, symbol, bid, ask):
        self.symbol = symbol
        self.bid = bid
        self.ask = ask


class Order(object):
    def __init__(self, symbol, order_id, side, quantity, price):
        self.symbol = symbol
        self.order_id = order_id
        self.side = side
        self.quantity = quantity
        self.price = price


class SymbolData(object):
    def __init__(self):
        self.bid = None
        self.ask = None


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode_market(bs):
    symbol, bid, ask = MARKET.unpack(bs)
    return MarketData(symbol.decode().strip(), bid, ask)


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode_order(bs):
    symbol, order_id, side, quantity, price = ORDER.unpack(bs)
    return Order(symbol.decode().strip(), order_id, side.decode(), quantity, price)


@wallaroo.key_extractor
def symbol_of(message):
    return message.symbol


@wallaroo.state_computation(name="check spread", state=SymbolData)
def check_spread(message, symbol_data):
    if isinstance(message, MarketData):
        symbol_data.bid = message.bid
        symbol_data.ask = message.ask
        return "UPDATE %s %.2f %.2f" % (message.symbol, message.bid, message.ask)
    if symbol_data.bid is None:
        return "REJECT %d %s no market data" % (message.order_id, message.symbol)
    mid = (symbol_data.bid + symbol_data.ask) / 2
    if symbol_data.ask - symbol_data.bid >= MAX_SPREAD * mid:
        return "REJECT %d %s spread too wide" % (message.order_id, message.symbol)
    return "ACCEPT %d %s" % (message.order_id, message.symbol)


@wallaroo.encoder
def encode_result(line):
    return line + "\n"
