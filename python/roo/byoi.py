"""Wallaroo's short-lived `wallaroo.byoi` module ("bring your own input"): TCP sources and
sinks under other names, which Roo runs as TCPSourceConfig and TCPSinkConfig."""

from roo.config import TCPSinkConfig as SinkConfig
from roo.config import TCPSourceConfig as SourceConfig
from roo.config import tcp_parse_input_addrs as parse_input_addrs
from roo.config import tcp_parse_output_addrs as parse_output_addrs
from roo.decorators import decoder, encoder

__all__ = ["SinkConfig", "SourceConfig", "decoder", "encoder", "parse_input_addrs", "parse_output_addrs"]
