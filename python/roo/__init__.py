"""Roo's Python API: write stream applications as for Wallaroo.

`import roo` and `import wallaroo` give this same module, so Wallaroo applications run
unchanged. Both of Wallaroo's APIs are here: the ApplicationBuilder (0.1-0.5) and the
pipeline API with decorators (0.6).
"""

from __future__ import annotations

import pickle
from typing import Any

from roo.builder import ApplicationBuilder
from roo.byoi import SinkConfig as BYOISinkConfig
from roo.byoi import SourceConfig as BYOISourceConfig
from roo.byoi import parse_input_addrs as byoi_parse_input_addrs
from roo.byoi import parse_output_addrs as byoi_parse_output_addrs
from roo.config import (
    CustomKafkaSinkCLIParser,
    CustomKafkaSourceCLIParser,
    DefaultKafkaSinkCLIParser,
    DefaultKafkaSourceCLIParser,
    GenSourceConfig,
    KafkaSinkConfig,
    KafkaSourceConfig,
    TCPSinkConfig,
    TCPSourceConfig,
    kafka_parse_sink_options,
    kafka_parse_source_options,
    tcp_parse_input_addrs,
    tcp_parse_output_addrs,
)
from roo.decorators import (
    Computation,
    Decoder,
    Encoder,
    KeyExtractor,
    StateComputation,
    computation,
    computation_multi,
    decoder,
    encoder,
    key_extractor,
    partition,
    state,
    state_computation,
    state_computation_multi,
)
from roo.errors import RooApplicationError, WallarooParameterError
from roo.pipeline import build_application, source
from roo.windows import (
    Aggregation,
    aggregation,
    count_windows,
    hours,
    microseconds,
    milliseconds,
    minutes,
    nanoseconds,
    range_windows,
    seconds,
)


# The app's command line ([app.py, *args]), set by roo before the app is imported; Wallaroo
# apps read wallaroo._ARGS for flags such as --cluster-initializer.
_ARGS: list[str] = []


# serialize/deserialize stay out of __all__: an app module that holds both has them used
# for every value that changes cores (see pybridge's ValueCodec::for_app).
def serialize(obj: Any) -> bytes:
    """Wallaroo's helper for apps' own serialize hooks: pickle."""
    return pickle.dumps(obj)


def deserialize(data: bytes) -> Any:
    """The inverse of serialize."""
    return pickle.loads(data)


# What the decorators return (Wallaroo's wallaroo module had classes of these names, for
# isinstance checks): Computation also stands for computation_multi, StateComputation for
# state_computation_multi.
__all__ = [
    "Computation",
    "Decoder",
    "Encoder",
    "KeyExtractor",
    "StateComputation",
    "CustomKafkaSinkCLIParser",
    "CustomKafkaSourceCLIParser",
    "DefaultKafkaSinkCLIParser",
    "DefaultKafkaSourceCLIParser",
    "GenSourceConfig",
    "Aggregation",
    "aggregation",
    "count_windows",
    "hours",
    "microseconds",
    "milliseconds",
    "minutes",
    "nanoseconds",
    "range_windows",
    "seconds",
    "ApplicationBuilder",
    "BYOISinkConfig",
    "BYOISourceConfig",
    "byoi_parse_input_addrs",
    "byoi_parse_output_addrs",
    "KafkaSinkConfig",
    "KafkaSourceConfig",
    "RooApplicationError",
    "WallarooParameterError",
    "TCPSinkConfig",
    "TCPSourceConfig",
    "build_application",
    "computation",
    "computation_multi",
    "decoder",
    "encoder",
    "kafka_parse_sink_options",
    "kafka_parse_source_options",
    "key_extractor",
    "partition",
    "source",
    "state",
    "state_computation",
    "state_computation_multi",
    "tcp_parse_input_addrs",
    "tcp_parse_output_addrs",
]
