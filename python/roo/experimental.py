"""`wallaroo.experimental`: Wallaroo's connectors (external source and sink processes
speaking its connector protocol). Roo does not run connectors: their configs exist so an
app that imports the module loads, and using one says so clearly at start-up. The
codecs for connector messages work, over any TCP source or sink.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, NoReturn

from roo import decorators
from roo.decorators import Decoder, Encoder
from roo.errors import RooApplicationError

# A connector message: 4-byte little-endian length, then an 8-byte event time (ms) and
# the message itself.
_EVENT_TIME = struct.Struct("<q")

_UNSUPPORTED = (
    "%s: Wallaroo's connectors are not supported by Roo; use TCPSourceConfig / "
    "TCPSinkConfig (or GenSourceConfig) instead"
)


def _unsupported(name: str) -> Callable[..., NoReturn]:
    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise RooApplicationError(_UNSUPPORTED % name)

    refuse.__name__ = name
    return refuse


SourceConnectorConfig = _unsupported("SourceConnectorConfig")
SinkConnectorConfig = _unsupported("SinkConnectorConfig")


def stream_message_decoder(function: Callable[[bytes], Any]) -> Decoder:
    """A decoder of connector messages: `function` gets the message after the event time."""
    decoder = Decoder(lambda data: function(data[_EVENT_TIME.size :]), 4, "<I")
    decoder.__wrapped__ = function
    decoder.decoder = lambda: function  # type: ignore[attr-defined]
    return decoder


def stream_message_encoder(function: Callable[[Any], bytes | str]) -> Encoder:
    """An encoder of connector messages: encode(data, event_time=0), the event time being
    ms since the epoch or a datetime (a naive one taken as UTC)."""

    def encode(data: Any, event_time: Any = 0) -> bytes:
        message = function(data)
        if isinstance(message, str):
            message = message.encode()
        if hasattr(event_time, "timestamp"):
            if event_time.tzinfo is None:
                import datetime

                event_time = event_time.replace(tzinfo=datetime.timezone.utc)
            event_time = int(event_time.timestamp() * 1000)
        body = _EVENT_TIME.pack(event_time) + bytes(message)
        return struct.pack("<I", len(body)) + body

    encoder = Encoder(encode)
    encoder.__wrapped__ = function
    return encoder


key_extractor = decorators.key_extractor
