"""`wallaroo.experimental`: Wallaroo's connectors (external source and sink processes
speaking its connector protocol). Roo does not run connectors; these names exist so an
app that imports the module loads, and using one says so clearly at start-up.
"""

from roo.topology import RooApplicationError

_UNSUPPORTED = (
    "%s: Wallaroo's connectors are not supported by Roo; use TCPSourceConfig / "
    "TCPSinkConfig (or GenSourceConfig) instead"
)


def _unsupported(name):
    def refuse(*args, **kwargs):
        raise RooApplicationError(_UNSUPPORTED % name)

    refuse.__name__ = name
    return refuse


SourceConnectorConfig = _unsupported("SourceConnectorConfig")
SinkConnectorConfig = _unsupported("SinkConnectorConfig")
stream_message_decoder = _unsupported("stream_message_decoder")
stream_message_encoder = _unsupported("stream_message_encoder")
key_extractor = _unsupported("experimental.key_extractor")
