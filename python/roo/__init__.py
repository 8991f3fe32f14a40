"""Roo's Python API: write stream applications as for Wallaroo.

`import roo` and `import wallaroo` give this same module, so Wallaroo
applications run unchanged.
"""

from roo.builder import ApplicationBuilder
from roo.config import (
    TCPSinkConfig,
    TCPSourceConfig,
    tcp_parse_input_addrs,
    tcp_parse_output_addrs,
)
from roo.topology import RooApplicationError

__all__ = [
    "ApplicationBuilder",
    "RooApplicationError",
    "TCPSinkConfig",
    "TCPSourceConfig",
    "tcp_parse_input_addrs",
    "tcp_parse_output_addrs",
]
