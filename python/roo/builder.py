"""The ApplicationBuilder API of Wallaroo 0.1-0.5."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from roo.config import TCPSinkConfig, TCPSourceConfig, tcp_parse_input_addrs, tcp_parse_output_addrs
from roo.errors import RooApplicationError
from roo.topology import Topology, partition_callable, state_step, stateless_step


class ApplicationBuilder:
    """Builds an application as a set of pipelines, one at a time.

    new_pipeline(name, source_config) opens a pipeline; to/to_parallel/
    to_stateful/to_state_partition add steps; to_sink or done closes it.
    """

    def __init__(self, name: str) -> None:
        self._topology = Topology(name)
        self._chain = None

    def _open_chain(self, call):
        if self._chain is None:
            raise RooApplicationError("%s() called before new_pipeline(...)" % call)
        return self._chain

    def _chain_for_step(self, call):
        """The open pipeline, which must not have ended yet: steps come before its sink."""
        chain = self._topology.chains[self._open_chain(call)]
        if chain["ends"] is not None:
            raise RooApplicationError(
                "%s() after pipeline '%s' already ended with %s(): steps come before the sink"
                % (call, chain["name"], "to_sink" if chain["ends"] == "sink" else "done")
            )
        return self._chain

    def new_pipeline(
        self, name: str, source_config: Any, addresses: Any = None, coalescing: bool = True
    ) -> ApplicationBuilder:
        """Opens a pipeline. `source_config`: a TCPSourceConfig, a GenSourceConfig, or a
        Kafka source (KafkaSourceConfig, Wallaroo 0.1-0.4; DefaultKafkaSourceCLIParser or
        CustomKafkaSourceCLIParser, 0.5). Wallaroo 0.2 passed the decoder and the addresses
        apart: new_pipeline(name, decoder, TCPSourceConfig(host, port)) (Roo also takes
        new_pipeline(name, decoder, KafkaSourceConfig(topic, brokers, log_level))); 0.1
        passed only the decoder, the address coming from --in. `coalescing` (0.1's step
        fusing) has no meaning here: Roo runs every step of a pipeline in one call chain on
        one core."""
        if self._chain is not None:
            chain = self._topology.chains[self._chain]
            if chain["ends"] is None:
                raise RooApplicationError(
                    "pipeline '%s' has no sink: end it with to_sink(...) or done() "
                    "before starting pipeline '%s'" % (chain["name"], name)
                )
        self._chain = self._topology.add_chain(name)
        if isinstance(addresses, bool):
            addresses = None  # new_pipeline(name, config, coalescing) given positionally
        self._topology.add_source(self._source_config(name, source_config, addresses), self._chain)
        return self

    def _source_config(self, name, config, addresses):
        """The source of a pipeline from any era's arguments (see new_pipeline)."""
        if addresses is not None:
            if getattr(addresses, "kind", None) == "kafka":
                return addresses.with_decoder(config)
            return TCPSourceConfig(addresses.host, addresses.port, config)
        if hasattr(config, "decoder") or hasattr(config, "generator"):
            return config
        addrs = tcp_parse_input_addrs(sys.argv)
        index = len(self._topology.sources)
        if index >= len(addrs):
            raise RooApplicationError(
                "pipeline '%s' was given a decoder, not a TCPSourceConfig, and --in has no "
                "address number %d for it" % (name, index + 1)
            )
        host, port = addrs[index][-2:]
        return TCPSourceConfig(host, port, config)

    def _sink_config(self, config, addresses=None):
        """A sink from any era's arguments: a TCPSinkConfig or Kafka sink config, an
        encoder with the address (or Kafka sink config) apart (0.2), or an encoder alone
        with the address from --out (0.1)."""
        if addresses is not None:
            if getattr(addresses, "kind", None) == "kafka":
                return addresses.with_encoder(config)
            return TCPSinkConfig(addresses.host, addresses.port, config)
        if hasattr(config, "encoder"):
            return config
        addrs = tcp_parse_output_addrs(sys.argv)
        if not addrs:
            raise RooApplicationError("to_sink was given an encoder, not a TCPSinkConfig, and there is no --out address")
        host, port = addrs[0][-2:]
        return TCPSinkConfig(host, port, config)

    def to(self, computation: Any) -> ApplicationBuilder:
        self._topology.add_step(self._chain_for_step("to"), stateless_step(computation))
        return self

    def to_parallel(self, computation: Any) -> ApplicationBuilder:
        self._topology.add_step(
            self._chain_for_step("to_parallel"), stateless_step(computation, parallel=True)
        )
        return self

    def to_stateful(self, computation: Any, state_builder: Any, state_name: str) -> ApplicationBuilder:
        state = self._topology.state(state_name, state_builder, [])
        self._topology.add_step(
            self._chain_for_step("to_stateful"), state_step(computation, state, None)
        )
        return self

    def to_state_partition(
        self,
        computation: Any,
        state_builder: Any,
        state_name: str,
        partition_function: Any,
        partition_keys: Iterable[Any] | None = (),
    ) -> ApplicationBuilder:
        state = self._topology.state(state_name, state_builder, list(partition_keys or ()))
        step = state_step(computation, state, partition_callable(partition_function))
        self._topology.add_step(self._chain_for_step("to_state_partition"), step)
        return self

    def to_state_partition_u64(
        self,
        computation: Any,
        state_builder: Any,
        state_name: str,
        partition_function: Any,
        partition_keys: Iterable[int] | None = (),
    ) -> ApplicationBuilder:
        for key in partition_keys or ():
            if not isinstance(key, int) or key < 0 or key >= 1 << 64:
                raise RooApplicationError(
                    "to_state_partition_u64: key %r of state '%s' is not a u64" % (key, state_name)
                )
        return self.to_state_partition(
            computation, state_builder, state_name, partition_function, partition_keys
        )

    def to_sink(self, sink_config: Any, addresses: Any = None) -> ApplicationBuilder:
        return self.to_sinks([self._sink_config(sink_config, addresses)])

    def to_sinks(self, sink_configs: Iterable[Any]) -> ApplicationBuilder:
        """Ends the pipeline; every sink receives every output."""
        chain = self._open_chain("to_sinks")
        sink_configs = list(sink_configs)
        if not sink_configs:
            raise RooApplicationError(
                "pipeline '%s': to_sinks needs at least one sink" % self._topology.chains[chain]["name"]
            )
        for config in sink_configs:
            self._topology.add_sink(self._sink_config(config), chain)
        self._topology.chains[chain]["ends"] = "sink"
        return self

    def done(self) -> ApplicationBuilder:
        chain = self._open_chain("done")
        if self._topology.chains[chain]["ends"] is None:
            self._topology.chains[chain]["ends"] = "done"
        return self

    def build(self) -> dict[str, Any]:
        return self._topology.describe()
