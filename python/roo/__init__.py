"""Roo's Python API: write stream applications as for Wallaroo.

`import roo` and `import wallaroo` give this same module, so Wallaroo applications run
unchanged. Both of Wallaroo's APIs are here: the ApplicationBuilder (0.1-0.5) and the
pipeline API with decorators (0.6).
"""

from roo.builder import ApplicationBuilder
from roo.config import (
    KafkaSinkConfig,
    KafkaSourceConfig,
    TCPSinkConfig,
    TCPSourceConfig,
    tcp_parse_input_addrs,
    tcp_parse_output_addrs,
)
from roo.decorators import (
    computation,
    computation_multi,
    decoder,
    encoder,
    key_extractor,
    state_computation,
    state_computation_multi,
)
from roo.pipeline import build_application, source
from roo.topology import RooApplicationError

__all__ = [
    "ApplicationBuilder",
    "KafkaSinkConfig",
    "KafkaSourceConfig",
    "RooApplicationError",
    "TCPSinkConfig",
    "TCPSourceConfig",
    "build_application",
    "computation",
    "computation_multi",
    "decoder",
    "encoder",
    "key_extractor",
    "source",
    "state_computation",
    "state_computation_multi",
    "tcp_parse_input_addrs",
    "tcp_parse_output_addrs",
]
