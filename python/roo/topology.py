"""The plain-data application description that every Roo API builds.

Both the ApplicationBuilder API (Wallaroo 0.1-0.5) and the pipeline API
(Wallaroo 0.6) end in `Topology.describe()`: a dict of lists and callables
that the Rust side reads, validates and runs. User objects are normalised here
to plain callables (bound methods), so the engine never looks up an attribute
per message.

Shape of the description:

    {"name": str,
     "sources": [{"name", "kind": "tcp", "host", "port", "chain", "decoder": {
                    "header_length": int, "payload_length": callable,
                    "decode": callable, "length_fmt": str | None}}
                 | {"name", "kind": "generator", "chain", "generator": {
                    "initial_value": callable, "apply": callable}}
                 | {"name", "kind": "kafka", "chain", "topic": str,
                    "brokers": "host:port,host:port", "group": str | None,
                    "log_level": str, "decoder": {
                    "decode": callable, "arguments": 1 | 2 | 3}}],
     "chains":  [{"name", "steps": [step], "next": int | None,
                  "sinks": [int], "ends": "sink" | "done" | "next", "key_by": callable | None}],
     "sinks":   [{"kind": "tcp", "host", "port", "encode": callable, "where": "file:line"}
                 | {"kind": "kafka", "topic": str, "brokers": "host:port,host:port",
                    "log_level": str, "max_produce_buffer_ms": int,
                    "max_message_size": int, "encode": callable, "where": "file:line"}],
     "states":  [{"name", "build": callable, "keys": list, "keyed": bool}]}
    step = {"name", "kind": "stateless" | "state", "multi": bool,
            "parallel": bool, "call": callable, "where": str,
            "state": int | None, "partition": callable | None,
            "key_by": callable | None,
            "tick": callable | None, "tick_ns": int | None, "event_time": bool}

A Kafka source: the engine consumes `topic` from `brokers` (bootstrap servers, each with
its port, 9092 when the app gave none) as consumer group `group`, or the app's name when
that is None. `log_level` is Wallaroo's (Fine, Info, Warn or Error). Each record's value
goes to `decode`: decode(value) when `arguments` is 1, decode(value, key) when 2,
decode(value, key, timestamp_ms) when 3 (key: bytes or None; timestamp_ms: int or
None), `arguments` being what the app's decode is declared to take (1 unless it takes
more). As from a TCP decoder, None means no message.

A Kafka sink: each output is a record produced to `topic` on `brokers`. `encode(data)`
returns the value (bytes or str), or (value, key) or (value, key, partition): key
bytes, str or None (no key), partition an int or None (the producer picks). `max_produce_buffer_ms` is how long records may wait to be sent together (0:
none), `max_message_size` the largest value in bytes.

A state step's key comes from its own `partition(data)` (ApplicationBuilder), or else is
the key the message carries: set by `key_by(data)` of a step it passed before this one in
the chain (the pipeline API's key_by and collect), or None (one state).

A chain is a run of steps; messages leaving its last step go to every sink
listed and, when `next` is set, on into the chain `next` (how merges join), carrying
their key: the chain's own `key_by(data)` when set (a key_by as the last operation
before a merge), else the key they carried.
"""

import inspect

from roo.decorators import StateComputation

# The error and the helpers for looking at user objects have modules of their own (the
# decorators and windows use them too, without importing the builder); they keep their
# names here as well: pybridge looks up roo.topology.RooApplicationError, and an app
# may have reached the others (WallarooParameterError included) through this module.
from roo.errors import RooApplicationError, WallarooParameterError
from roo.inspection import instance_of, method, positional_arguments, step_name, where


def state_builder(builder, state_name):
    """A no-argument callable that makes a fresh state: an object with build(), or a class/function."""
    build = getattr(builder, "build", None)
    if callable(build) and not inspect.isclass(builder):
        return build
    if callable(builder):
        return builder
    raise RooApplicationError(
        "state builder for state '%s' (%s) has no build() method and is not callable"
        % (state_name, where(builder))
    )


def decoder_description(decoder):
    """Normalise a Wallaroo decoder object (header_length/payload_length/decode)."""
    decoder = instance_of(decoder, "decoder")
    header_length = method(decoder, "header_length", "decoder")()
    if not isinstance(header_length, int) or header_length <= 0:
        raise RooApplicationError(
            "decoder (%s): header_length() must return a positive int, got %r"
            % (where(decoder), header_length)
        )
    decode = method(decoder, "decode", "decoder")
    arguments = positional_arguments(decode)
    if arguments is not None and arguments[0] > 1:
        raise RooApplicationError(
            "decoder (%s) of a TCP source takes %d arguments: a TCP source passes only the "
            "message (a Kafka source may also pass the record's key and timestamp)"
            % (where(decoder), arguments[0])
        )
    return {
        "header_length": header_length,
        "payload_length": method(decoder, "payload_length", "decoder"),
        "decode": decode,
        "length_fmt": getattr(decoder, "length_fmt", None),
    }


def kafka_decoder_description(decoder):
    """A Kafka source's decoder: a @decoder function, an object (or class) with decode(),
    or a plain function; its header format, if any, is not used. `arguments`: how many the
    engine passes, value[, key[, timestamp_ms]], from how decode is declared (1 unless
    it takes more; 1 for what has no Python signature)."""
    if not inspect.isroutine(decoder):
        decoder = instance_of(decoder, "decoder")
        decode = method(decoder, "decode", "decoder")
    else:
        decode = decoder
    found = positional_arguments(decode)
    arguments = 1
    if found is not None:
        required, accepted = found
        if required > 3 or accepted == 0:
            raise RooApplicationError(
                "decoder (%s) of a Kafka source must take the record's value, and may take "
                "its key and timestamp: decode(value[, key[, timestamp_ms]]); it takes %s"
                % (where(decoder), "no argument" if accepted == 0 else "%d arguments" % required)
            )
        arguments = max(1, required) if accepted is None else min(accepted, 3)
    return {"decode": decode, "arguments": arguments}


def generator_description(generator, source_name):
    """A GenSourceConfig's generator (class or instance): initial_value() and apply(previous)."""
    generator = instance_of(generator, "generator")
    return {
        "initial_value": method(generator, "initial_value", "generator", source_name),
        "apply": method(generator, "apply", "generator", source_name),
    }


def encoder_callable(encoder):
    """Normalise a Wallaroo encoder object (or a plain function) to encode(data)."""
    if inspect.isroutine(encoder):
        return encoder
    encoder = instance_of(encoder, "encoder")
    return method(encoder, "encode", "encoder")


class Topology:
    """Accumulates sources, chains, sinks and states; shared by both APIs."""

    def __init__(self, name):
        self.name = str(name)
        self.sources = []
        self.chains = []
        self.sinks = []
        self.states = []
        self._state_index = {}

    def add_chain(self, name):
        self.chains.append(
            {"name": str(name), "steps": [], "next": None, "sinks": [], "ends": None, "key_by": None}
        )
        return len(self.chains) - 1

    def add_source(self, config, chain):
        name = config.name or self.chains[chain]["name"]
        if hasattr(config, "generator"):
            self.sources.append(
                {"name": name, "kind": "generator", "generator": generator_description(config.generator, name),
                 "chain": chain}
            )
            return
        kafka = getattr(config, "kind", None) == "kafka"
        if config.decoder is None:
            if kafka:
                raise RooApplicationError(
                    "the %s of pipeline '%s' has no decoder: pass KafkaSourceConfig(topic, "
                    "brokers, log_level, decoder) or new_pipeline(name, decoder, "
                    "KafkaSourceConfig(topic, brokers, log_level))"
                    % (type(config).__name__, self.chains[chain]["name"])
                )
            raise RooApplicationError(
                "the TCPSourceConfig of pipeline '%s' has no decoder: pass "
                "TCPSourceConfig(host, port, decoder) or new_pipeline(name, decoder, "
                "TCPSourceConfig(host, port))" % self.chains[chain]["name"]
            )
        if kafka:
            self.sources.append(
                {
                    "name": name,
                    "kind": "kafka",
                    "topic": config.topic,
                    "brokers": config.brokers,
                    "group": config.group,
                    "log_level": config.log_level,
                    "decoder": kafka_decoder_description(config.decoder),
                    "chain": chain,
                }
            )
            return
        self.sources.append(
            {
                "name": name,
                "kind": "tcp",
                "host": config.host,
                "port": config.port,
                "decoder": decoder_description(config.decoder),
                "chain": chain,
            }
        )

    def add_sink(self, config, chain):
        kafka = getattr(config, "kind", None) == "kafka"
        if config.encoder is None:
            if kafka:
                raise RooApplicationError(
                    "a %s of pipeline '%s' has no encoder: pass KafkaSinkConfig(topic, brokers, "
                    "log_level, max_produce_buffer_ms, max_message_size, encoder) or "
                    "to_sink(encoder, KafkaSinkConfig(...))"
                    % (type(config).__name__, self.chains[chain]["name"])
                )
            raise RooApplicationError(
                "a TCPSinkConfig of pipeline '%s' has no encoder: pass TCPSinkConfig(host, "
                "port, encoder) or to_sink(encoder, TCPSinkConfig(host, port))"
                % self.chains[chain]["name"]
            )
        if kafka:
            sink = {
                "kind": "kafka",
                "topic": config.topic,
                "brokers": config.brokers,
                "log_level": config.log_level,
                "max_produce_buffer_ms": config.max_produce_buffer_ms,
                "max_message_size": config.max_message_size,
            }
        else:
            sink = {"kind": "tcp", "host": config.host, "port": config.port}
        sink["encode"] = encoder_callable(config.encoder)
        sink["where"] = where(config.encoder)
        self.sinks.append(sink)
        self.chains[chain]["sinks"].append(len(self.sinks) - 1)

    def state(self, state_name, builder, keys, keyed=False):
        """Index of the state called `state_name`; the same name in two pipelines is one state.

        `keyed`: the builder takes the partition's key (window states output it)."""
        state_name = str(state_name)
        if state_name in self._state_index:
            index = self._state_index[state_name]
            self.states[index]["keys"].extend(k for k in keys if k not in self.states[index]["keys"])
            return index
        self.states.append(
            {
                "name": state_name,
                "build": state_builder(builder, state_name),
                "keys": list(keys),
                "keyed": keyed,
            }
        )
        self._state_index[state_name] = len(self.states) - 1
        return len(self.states) - 1

    def add_step(self, chain, step):
        self.chains[chain]["steps"].append(step)

    def describe(self):
        if not self.sources:
            raise RooApplicationError("application '%s' has no source" % self.name)
        for chain in self.chains:
            if chain["ends"] is None and chain["next"] is None:
                raise RooApplicationError(
                    "pipeline '%s' has no sink: end it with to_sink(...) (or done() to drop its output)"
                    % chain["name"]
                )
        return {
            "name": self.name,
            "sources": self.sources,
            "chains": self.chains,
            "sinks": self.sinks,
            "states": self.states,
        }


def step(
    name, call, origin, multi, state=None, partition=None, parallel=False, tick=None,
    tick_ns=None, persist_flag=False, event_time=False,
):
    """One step of the description; `call` is what runs per message (no wrapper in between).

    `persist_flag`: the state step may return `(output, persist_flag)` (Wallaroo 0.2-0.5's
    builder API), read as such when the second item is a bool; otherwise (0.6) whatever
    it returns is the output.

    A state step may have `tick(state, final) -> list | None`, called on every partition
    of this core every `tick_ns` (if set) and once at shutdown with final=True (windows).
    With `event_time`, `call` also gets the message's event time (ns since the epoch, a
    Kafka record's timestamp; None when the source gives none): call(data, state, event_ns).
    """
    return {
        "event_time": bool(event_time),
        "tick": tick,
        "tick_ns": tick_ns,
        "name": str(name),
        "kind": "stateless" if state is None else "state",
        "multi": bool(multi),
        "parallel": bool(parallel),
        "call": call,
        "where": where(origin),
        "persist_flag": bool(persist_flag),
        "state": state,
        "partition": partition,
        "key_by": None,  # set by the pipeline API where a key_by stands before the step
    }


def computation_method(computation, role):
    """(instance, name, bound compute or compute_multi, multi) of a computation class/instance."""
    computation = instance_of(computation, role)
    name = step_name(computation)
    multi = callable(getattr(computation, "compute_multi", None))
    call = method(computation, "compute_multi" if multi else "compute", role, name)
    return computation, name, call, multi


def stateless_step(computation, parallel=False):
    """A step for a computation class/instance with compute() or compute_multi()."""
    if isinstance(computation, StateComputation):
        raise RooApplicationError(
            "state computation '%s' (%s) is used as a stateless step: add it with "
            "to_stateful or to_state_partition" % (computation.name(), where(computation))
        )
    computation, name, call, multi = computation_method(computation, "computation")
    return step(name, call, computation, multi, parallel=parallel)


def state_step(computation, state, partition):
    """A step for a state computation class with compute(data, state) or
    compute_multi(data, state), as the 0.1-0.5 builder API takes them.

    It may return (output, persist_flag) (Wallaroo 0.2-0.5) or just the output (0.1):
    a 2-tuple whose second item is a bool is the first form."""
    computation, name, call, multi = computation_method(computation, "state computation")
    return step(
        name, call, computation, multi, state=state, partition=partition, persist_flag=True
    )


def partition_callable(partition_function):
    """A partition function object with partition(data), or a plain function (a built-in
    type such as `str` or `int` too: str's own `partition` method is not a partition
    function)."""
    if inspect.isroutine(partition_function):
        return partition_function
    if isinstance(partition_function, type) and partition_function.__module__ == "builtins":
        return partition_function
    partition_function = instance_of(partition_function, "partition function")
    return method(partition_function, "partition", "partition function")
