"""The pipeline API of Wallaroo 0.6: source(...).to(...).key_by(...).to_sink(...).

Pipelines are immutable descriptions; build_application walks the final one back to its
sources and writes the same description as the ApplicationBuilder (see topology.py):
each source starts a chain, and a merge is a new chain that both inputs continue into.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from roo.decorators import Computation, KeyExtractor, StateComputation
from roo.errors import RooApplicationError
from roo.inspection import where
from roo.topology import Topology, partition_callable, state_step, stateless_step, step
from roo.windows import Windows

if TYPE_CHECKING:
    from roo.config import (
        GenSourceConfig,
        KafkaSinkConfig,
        KafkaSourceConfig,
        TCPSinkConfig,
        TCPSourceConfig,
    )

def _no_key(data):
    """collect(): every message gets the same key, so one state."""
    return None


class Pipeline:
    def __init__(self, name, config=None, inputs=(), ops=(), sinks=None):
        self.name = name
        self._config = config
        self._inputs = tuple(inputs)
        self._ops = tuple(ops)
        self._sinks = sinks

    def _then(self, op):
        if self._sinks is not None:
            raise RooApplicationError("pipeline '%s' already ends in a sink" % self.name)
        return Pipeline(self.name, self._config, self._inputs, self._ops + (op,))

    def to(self, computation: Any) -> Pipeline:
        """A stateless or state step (decorated function, Wallaroo computation class, or
        windows over an aggregation)."""
        return self._then(("to", computation))

    def key_by(self, extractor: Any) -> Pipeline:
        """Partitions by key from here on: state steps that follow get one state per key."""
        return self._then(("key_by", extractor))

    def collect(self) -> Pipeline:
        """Sends everything to one partition from here on."""
        return self._then(("key_by", _no_key))

    def merge(self, other: Pipeline) -> Pipeline:
        """Interleaves this pipeline's messages with `other`'s."""
        if not isinstance(other, Pipeline):
            raise RooApplicationError("merge: %r is not a pipeline" % (other,))
        if other is self or _upstream(self) & _upstream(other):
            raise RooApplicationError(
                "cannot merge pipeline '%s' with itself (or a pipeline built from it)" % self.name
            )
        if self._sinks is not None or other._sinks is not None:
            raise RooApplicationError("cannot merge a pipeline that already ends in a sink")
        return Pipeline("%s+%s" % (self.name, other.name), inputs=(self, other))

    def to_sink(self, config: TCPSinkConfig | KafkaSinkConfig) -> Pipeline:
        """Ends the pipeline in a TCPSinkConfig or a Kafka sink (KafkaSinkConfig,
        DefaultKafkaSinkCLIParser, CustomKafkaSinkCLIParser)."""
        return self.to_sinks([config])

    def to_sinks(self, configs: Iterable[TCPSinkConfig | KafkaSinkConfig]) -> Pipeline:
        if self._sinks is not None:
            raise RooApplicationError("pipeline '%s' already ends in a sink" % self.name)
        configs = list(configs)
        if not configs:
            raise RooApplicationError("pipeline '%s': to_sinks needs at least one sink" % self.name)
        return Pipeline(self.name, self._config, self._inputs, self._ops, configs)


def _upstream(pipeline):
    """Identities of every source pipeline behind `pipeline`."""
    if not pipeline._inputs:
        return {id(pipeline._config)}
    found = set()
    for upstream in pipeline._inputs:
        found |= _upstream(upstream)
    return found


def source(name: str, source_config: TCPSourceConfig | GenSourceConfig | KafkaSourceConfig) -> Pipeline:
    """Starts a pipeline reading from a TCPSourceConfig, a GenSourceConfig or a Kafka source
    (KafkaSourceConfig, DefaultKafkaSourceCLIParser, CustomKafkaSourceCLIParser)."""
    return Pipeline(name, config=source_config)


def build_application(name: str, pipeline: Pipeline) -> dict[str, Any]:
    """What application_setup returns for a 0.6-style application."""
    if not isinstance(pipeline, Pipeline):
        raise RooApplicationError("build_application: %r is not a pipeline" % (pipeline,))
    if pipeline._sinks is None:
        raise RooApplicationError(
            "pipeline '%s' has no sink: end it with to_sink(...) or to_sinks([...])" % pipeline.name
        )
    topology = Topology(name)
    _ApplicationWriter(topology).chain_of(pipeline)
    return topology.describe()


class _ApplicationWriter:
    def __init__(self, topology):
        self.topology = topology
        self.sources_seen = set()

    def chain_of(self, pipeline):
        """Writes `pipeline` (and its inputs) as chains; returns its last chain's index."""
        if pipeline._inputs:
            chain = self.topology.add_chain(pipeline.name)
            for upstream in pipeline._inputs:
                upstream_chain = self.chain_of(upstream)
                self.topology.chains[upstream_chain]["next"] = chain
                self.topology.chains[upstream_chain]["ends"] = "next"
        else:
            if id(pipeline._config) in self.sources_seen:
                raise RooApplicationError("source '%s' is used twice" % pipeline.name)
            self.sources_seen.add(id(pipeline._config))
            chain = self.topology.add_chain(pipeline.name)
            self.topology.add_source(pipeline._config, chain)
        # key_by (or collect) takes the key of each message where it stands in the
        # pipeline; the key stays with the message through the steps after it.
        key_by = None
        for kind, argument in pipeline._ops:
            if kind == "key_by":
                key_by = argument
            else:
                step = self.step(argument)
                if key_by is not None:
                    step["key_by"] = self.key_extractor(key_by)
                    key_by = None
                self.topology.add_step(chain, step)
        if key_by is not None:
            # After the last step: before a merge the key goes on into the merged chain
            # (before a sink there is nothing left to key).
            self.topology.chains[chain]["key_by"] = self.key_extractor(key_by)
        for config in pipeline._sinks or ():
            self.topology.add_sink(config, chain)
        if pipeline._sinks is not None:
            self.topology.chains[chain]["ends"] = "sink"
        return chain

    @staticmethod
    def key_extractor(extractor):
        if isinstance(extractor, KeyExtractor):
            return extractor.function
        return partition_callable(extractor)

    def step(self, computation):
        if isinstance(computation, Windows):
            # A fresh state per window step: two steps over one aggregation keep apart.
            state = self.topology.state(
                "%s windows (step %d)" % (computation.name(), len(self.topology.states)),
                computation.new_state,
                [],
                keyed=True,
            )
            return step(
                computation.name(),
                computation.on_message,
                computation.aggregation,
                True,
                state=state,
                tick=computation.tick,
                tick_ns=computation.tick_ns,
                event_time=True,
            )
        if isinstance(computation, Computation):
            return step(computation.name(), computation.function, computation.function, computation.multi)
        if isinstance(computation, StateComputation):
            if computation.state is None:
                raise RooApplicationError(
                    "state computation '%s' (%s) has no state: declare it with "
                    "@state_computation(name=..., state=StateClass)"
                    % (computation.name(), where(computation))
                )
            state = self.topology.state(computation.name(), computation.state, [])
            return step(
                computation.name(),
                computation.function,
                computation.function,
                computation.multi,
                state=state,
            )
        # A Wallaroo 0.5-style class: stateless unless it takes (data, state) with a builder.
        if getattr(computation, "state_builder", None) is not None:
            state = self.topology.state(computation.name(), computation.state_builder, [])
            return state_step(computation, state, None)
        if not callable(getattr(computation, "compute", None)) and not callable(
            getattr(computation, "compute_multi", None)
        ) and not isinstance(computation, type):
            raise RooApplicationError(
                "to(%r) (%s): not a @computation, @state_computation or computation class"
                % (computation, where(computation))
            )
        return stateless_step(computation)
