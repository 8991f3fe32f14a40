"""Source and sink configurations (TCP, generators, Kafka), and the command-line helpers
that read addresses and Kafka settings."""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

from roo.errors import RooApplicationError

# (host, port), or (name, host, port) for name@host:port.
Address = tuple[str, ...]


class TCPSourceConfig:
    """A TCP source: Roo listens on host:port and frames input with the decoder.

    Wallaroo 0.5 form: TCPSourceConfig(host, port, decoder).
    Wallaroo 0.2 form: TCPSourceConfig(host, port), the decoder given to new_pipeline.
    Wallaroo 0.6 form: TCPSourceConfig(name, host, port, decoder, valid=True, parallelism=10);
    `valid` and `parallelism` (Wallaroo's source actors per listener) change nothing here:
    every core of Roo accepts connections of every source.
    """

    _FORM_05 = ("host", "port", "decoder")
    _FORM_06 = ("name", "host", "port", "decoder", "valid", "parallelism")

    # A 0.6 development form some apps kept: TCPSourceConfig(host, port, name, decoder).
    _FORM_06_DEV = ("host", "port", "name", "decoder")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        form: tuple[str, ...] = self._FORM_06 if len(args) >= 4 or "name" in kwargs else self._FORM_05
        if len(args) == 4 and _is_port(args[1]) and not _is_port(args[2]):
            form = self._FORM_06_DEV
        if len(args) > len(form):
            raise TypeError(
                "TCPSourceConfig takes (host, port, decoder) or (name, host, port, decoder"
                "[, valid, parallelism]), got %d arguments" % len(args)
            )
        given = dict(zip(form, args))
        for key, value in kwargs.items():
            if key not in self._FORM_06 or key in given:
                raise TypeError("TCPSourceConfig got an unexpected or repeated argument %r" % key)
            given[key] = value
        missing = [field for field in ("host", "port") if field not in given]
        if missing:
            raise TypeError("TCPSourceConfig is missing %s" % ", ".join(missing))
        self.name: str | None = given.get("name")
        self.host: str = given["host"]
        self.port = str(given["port"])
        self.decoder: Any = given.get("decoder")


def _is_port(value: object) -> bool:
    return isinstance(value, int) or (isinstance(value, str) and value.isdigit())


class GenSourceConfig:
    """A source whose messages the app makes itself (Wallaroo 0.6, for tests and demos).

    GenSourceConfig(generator) or GenSourceConfig(name, generator). The generator's
    initial_value() is the first message and apply(previous) each next one, with no
    decoder. Roo runs it on one core as fast as the pipeline takes messages; it ends when
    apply() returns None (or raises, which is reported), which counts as its input
    closing for `roo run --exit-when-idle`.
    """

    def __init__(self, *args: Any) -> None:
        if len(args) == 1:
            self.name, self.generator = None, args[0]
        elif len(args) == 2:
            self.name, self.generator = args
        else:
            raise TypeError(
                "GenSourceConfig takes (generator) or (name, generator), got %d arguments" % len(args)
            )


class TCPSinkConfig:
    """A TCP sink: every core connects to host:port and writes the encoder's output.

    Wallaroo 0.2 passed the encoder to to_sink: to_sink(encoder, TCPSinkConfig(host, port)).
    """

    def __init__(self, host: str, port: int | str, encoder: Any = None) -> None:
        self.host = host
        self.port = str(port)
        self.encoder = encoder


# Kafka (Wallaroo 0.1-0.6). The engine consumes and produces; here each config is checked
# and its brokers normalised to "host:port,host:port" (what librdkafka's bootstrap.servers
# takes) for topology.py's description.

KAFKA_DEFAULT_PORT = 9092
KAFKA_LOG_LEVELS = ("Fine", "Info", "Warn", "Error")
KAFKA_DEFAULT_LOG_LEVEL = "Warn"
KAFKA_DEFAULT_MAX_PRODUCE_BUFFER_MS = 0
KAFKA_DEFAULT_MAX_MESSAGE_SIZE = 100000

# A broker as Wallaroo's kafka_parse_*_options return it: (host, port), the port a string.
Broker = tuple[str, str]

_HOST = re.compile(r"[A-Za-z0-9._-]+\Z")
_IPV6_HOST = re.compile(r"\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?\]\Z")
# Kafka's own rule for topic names.
_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}\Z")


def _kafka_parse_broker(broker: str, label: str = "broker") -> Broker:
    """'host[:port]' -> (host, port), the port "9092" when not given (Wallaroo's helper of
    this name); an IPv6 address is written in brackets: '[::1]:9092'."""
    text = broker.strip()
    if "://" in text:
        raise RooApplicationError(
            "%s: broker %r names a protocol: give host[:port] only" % (label, broker)
        )
    if text.startswith("["):
        close = text.find("]") + 1
        host, rest = (text[:close], text[close:]) if close else (text, "")
        if rest and not rest.startswith(":"):
            raise RooApplicationError("%s: broker %r is not of the form host[:port]" % (label, broker))
        port = rest[1:] if rest else str(KAFKA_DEFAULT_PORT)
    else:
        host, sep, port = text.partition(":")
        if not sep:
            port = str(KAFKA_DEFAULT_PORT)
    if not host:
        raise RooApplicationError(
            "%s: broker %r has no host (expected host[:port], an IPv6 address in brackets)"
            % (label, broker)
        )
    if not (_HOST.match(host) or _IPV6_HOST.match(host)):
        raise RooApplicationError(
            "%s: host %r of broker %r is not a host name or address (expected host[:port], "
            "an IPv6 address in brackets)" % (label, host, broker)
        )
    if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise RooApplicationError(
            "%s: port %r of broker %r is not a number from 1 to 65535" % (label, port, broker)
        )
    return (host, str(int(port)))


def _is_host_port(value: object) -> bool:
    """A single (host, port) pair, as opposed to a sequence of two broker strings."""
    return (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and isinstance(value[0], str)
        and (value[1] is None or _is_port(value[1]))
    )


def _kafka_broker_list(brokers: Any, label: str, hint: str = "") -> list[Broker]:
    """Brokers in any form Wallaroo apps wrote them: "host[:port],...", a list of such
    strings, or a list of (host, port) pairs (port str, int or None) or one such pair."""
    if isinstance(brokers, str):
        items: list[Any] = [brokers]
    elif _is_host_port(brokers) and not isinstance(brokers, list):
        items = [brokers]
    else:
        try:
            items = list(brokers)
        except TypeError:
            raise RooApplicationError(
                "%s: %r is not a broker list (expected \"host[:port],...\" or a list of "
                "(host, port))" % (label, brokers)
            ) from None
    found: list[Broker] = []
    for item in items:
        if isinstance(item, str):
            found.extend(_kafka_parse_broker(part, label) for part in item.split(",") if part.strip())
        elif _is_host_port(item):
            host, port = item[0].strip(), item[1]
            if ":" in host and not host.startswith("["):
                host = "[%s]" % host  # an IPv6 address
            port = KAFKA_DEFAULT_PORT if port is None or port == "" else port
            found.append(_kafka_parse_broker("%s:%s" % (host, port), label))
        else:
            raise RooApplicationError(
                "%s: broker %r is neither \"host[:port]\" nor a (host, port) pair" % (label, item)
            )
    if not found:
        raise RooApplicationError("%s: no broker given (expected host[:port],...)%s" % (label, hint))
    return found


def _kafka_brokers(brokers: Any, label: str, hint: str = "") -> str:
    """The brokers normalised: "host:port,host:port", each with its port."""
    return ",".join("%s:%s" % broker for broker in _kafka_broker_list(brokers, label, hint))


def _kafka_topic(topic: Any, label: str, hint: str = "") -> str:
    if topic is None or topic == "":
        raise RooApplicationError("%s: no topic given%s" % (label, hint))
    if not isinstance(topic, str) or not _TOPIC.match(topic) or topic in (".", ".."):
        raise RooApplicationError(
            "%s: %r is not a Kafka topic name (1 to 249 letters, digits, '.', '_' or '-')"
            % (label, topic)
        )
    return topic


def _kafka_log_level(level: Any, label: str) -> str:
    """One of Wallaroo's levels, Fine, Info, Warn or Error (any case accepted)."""
    for known in KAFKA_LOG_LEVELS:
        if isinstance(level, str) and level.strip().lower() == known.lower():
            return known
    raise RooApplicationError(
        "%s: log level %r is not one of %s" % (label, level, ", ".join(KAFKA_LOG_LEVELS))
    )


def _kafka_int(value: Any, label: str, minimum: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RooApplicationError("%s: %r is not a whole number of at least %d" % (label, value, minimum))
    return value


def _kafka_name(value: Any, label: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise RooApplicationError("%s: %r is not a name" % (label, value))
    return value


def _is_codec(value: object) -> bool:
    """A decoder or encoder, as opposed to the strings and numbers before it in a config."""
    return not isinstance(value, (str, int, type(None)))


def _config_arguments(
    cls: str, args: tuple[Any, ...], kwargs: dict[str, Any], lead: tuple[str, ...],
    optional: tuple[str, ...], codec: str,
) -> dict[str, Any]:
    """Positional arguments in Wallaroo's order: `lead`, then the `optional` ones (Roo
    gives them defaults), then the decoder or encoder, which may come early: the first
    that is no string or number is taken as the codec and must be last."""
    given = dict(zip(lead, args))
    rest = list(args[len(lead) :])
    if rest and (len(rest) == len(optional) + 1 or _is_codec(rest[-1])):
        given[codec] = rest.pop()
    if len(rest) > len(optional) or any(_is_codec(value) for value in rest):
        raise TypeError(
            "%s takes (%s[, %s], %s), got %d arguments"
            % (cls, ", ".join(lead), ", ".join(optional), codec, len(args))
        )
    given.update(zip(optional, rest))
    for key, value in kwargs.items():
        if key not in lead + optional + (codec, "name", "group") or key in given:
            raise TypeError("%s got an unexpected or repeated argument %r" % (cls, key))
        given[key] = value
    return given


def _flag(args: Sequence[str], flag: str) -> str | None:
    """The value of `--flag VALUE` or `--flag=VALUE` in args (the last one given), or None."""
    value = None
    for i, arg in enumerate(args):
        if arg == flag:
            if i + 1 >= len(args) or str(args[i + 1]).startswith("--"):
                raise RooApplicationError("%s needs a value" % flag)
            value = str(args[i + 1])
        elif isinstance(arg, str) and arg.startswith(flag + "="):
            value = arg[len(flag) + 1 :]
    return value


def _source_flags(args: Sequence[str], prefix: str, cls: str) -> dict[str, Any]:
    """--PREFIX_topic, _brokers, _log_level (Wallaroo's flags), _name (Wallaroo's last
    development version) and _group (Roo's) from the command line."""
    flag = "--%s_" % prefix
    brokers = _flag(args, flag + "brokers")
    return {
        "topic": _flag(args, flag + "topic") or "",
        "brokers": _kafka_broker_list(brokers, "%s %sbrokers" % (cls, flag)) if brokers else [],
        "log_level": _kafka_log_level(
            _flag(args, flag + "log_level") or KAFKA_DEFAULT_LOG_LEVEL, "%s %slog_level" % (cls, flag)
        ),
        "name": _flag(args, flag + "name"),
        "group": _flag(args, flag + "group"),
    }


def _sink_flags(args: Sequence[str], prefix: str, cls: str) -> dict[str, Any]:
    """--PREFIX_topic, _brokers, _log_level, _max_produce_buffer_ms, _max_message_size."""
    flag = "--%s_" % prefix
    brokers = _flag(args, flag + "brokers")
    buffer_ms = _flag(args, flag + "max_produce_buffer_ms")
    message_size = _flag(args, flag + "max_message_size")
    return {
        "topic": _flag(args, flag + "topic") or "",
        "brokers": _kafka_broker_list(brokers, "%s %sbrokers" % (cls, flag)) if brokers else [],
        "log_level": _kafka_log_level(
            _flag(args, flag + "log_level") or KAFKA_DEFAULT_LOG_LEVEL, "%s %slog_level" % (cls, flag)
        ),
        "max_produce_buffer_ms": KAFKA_DEFAULT_MAX_PRODUCE_BUFFER_MS
        if buffer_ms is None
        else _kafka_int(buffer_ms, "%s %smax_produce_buffer_ms" % (cls, flag), 0),
        "max_message_size": KAFKA_DEFAULT_MAX_MESSAGE_SIZE
        if message_size is None
        else _kafka_int(message_size, "%s %smax_message_size" % (cls, flag), 1),
    }


def _command_line(args: Sequence[str] | None) -> Sequence[str]:
    """The Default*CLIParsers read the app's command line, as Wallaroo's did; roo sets
    sys.argv to it (the app path, then its arguments) before application_setup runs."""
    return sys.argv if args is None else args


class KafkaSourceConfig:
    """A Kafka source: the engine consumes `topic` from `brokers` in consumer group
    `group` (None: the app's name) and decodes each record's value.

    Wallaroo 0.1-0.4 form: KafkaSourceConfig(topic, brokers, log_level, decoder).
    Wallaroo 0.6 documented form: KafkaSourceConfig(name, topic, brokers, log_level, decoder).
    Roo also takes keywords (name, topic, brokers, log_level, decoder, group), log_level
    defaulting to "Warn" (KafkaSourceConfig(topic, brokers, decoder)), and, as for TCP in
    the 0.2 builder, no decoder: new_pipeline(name, decoder, KafkaSourceConfig(topic,
    brokers, log_level)).

    `brokers`: "host[:port],..." or a list of "host[:port]" or of (host, port), as
    kafka_parse_source_options returns them; the port defaults to 9092.
    `log_level` (Fine, Info, Warn, Error) was pony-kafka's; Roo keeps it in the description.

    The decoder (a @wallaroo.decoder function, whose header format a Kafka source does
    not use, an object with decode(), or a plain function) gets the record's value; Roo
    also passes the record's key (bytes or None) when it is declared to take two
    arguments, decode(value, key), and the timestamp (ms, or None) with three.
    """

    kind = "kafka"
    _CLASS = "KafkaSourceConfig"

    name: str | None
    topic: str
    brokers: str
    log_level: str
    decoder: Any
    group: str | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        lead = ("name", "topic", "brokers") if len(args) == 5 else ("topic", "brokers")
        given = _config_arguments(self._CLASS, args, kwargs, lead, ("log_level",), "decoder")
        missing = [field for field in ("topic", "brokers") if field not in given]
        if missing:
            raise TypeError("KafkaSourceConfig is missing %s" % ", ".join(missing))
        self._configure(
            given.get("name"), given["topic"], given["brokers"],
            given.get("log_level", KAFKA_DEFAULT_LOG_LEVEL), given.get("decoder"),
            given.get("group"), lambda field: "KafkaSourceConfig %s" % field,
            lambda field: " (kafka_parse_source_options(args) reads it from --kafka_source_%s)" % field,
        )

    def _configure(
        self, name: Any, topic: Any, brokers: Any, log_level: Any, decoder: Any, group: Any,
        label: Callable[[str], str], hint: Callable[[str], str],
    ) -> None:
        self.name = _kafka_name(name, label("name"))
        self.topic = _kafka_topic(topic, label("topic"), hint("topic"))
        self.brokers = _kafka_brokers(brokers, label("brokers"), hint("brokers"))
        self.log_level = _kafka_log_level(log_level, label("log_level"))
        self.decoder = decoder
        self.group = _kafka_name(group, label("group"))

    def with_decoder(self, decoder: Any) -> KafkaSourceConfig:
        """This source with `decoder` (the 0.2 builder's new_pipeline(name, decoder, config))."""
        config = copy.copy(self)
        config.decoder = decoder
        return config


class CustomKafkaSourceCLIParser(KafkaSourceConfig):
    """Wallaroo 0.5-0.6: CustomKafkaSourceCLIParser(args, decoder), the source's settings
    from the flags of kafka_parse_source_options(args) (--kafka_source_topic,
    --kafka_source_brokers, --kafka_source_log_level), and, as in Wallaroo's last
    development version, its name from --kafka_source_name; Roo's --kafka_source_group
    names the consumer group."""

    _CLASS = "CustomKafkaSourceCLIParser"

    def __init__(self, args: Sequence[str], decoder: Any) -> None:
        self._from_flags(args, "kafka_source", decoder, None)

    def _from_flags(self, args: Sequence[str], prefix: str, decoder: Any, name: str | None) -> None:
        flags = _source_flags(args, prefix, self._CLASS)
        self._configure(
            flags["name"] or name, flags["topic"], flags["brokers"], flags["log_level"],
            decoder, flags["group"], lambda field: "%s --%s_%s" % (self._CLASS, prefix, field),
            lambda field: " on the command line",
        )


class DefaultKafkaSourceCLIParser(CustomKafkaSourceCLIParser):
    """Wallaroo 0.5-0.6: DefaultKafkaSourceCLIParser(decoder, name="kafka_source"), the
    settings from the app's command line: --NAME_topic, --NAME_brokers, --NAME_log_level
    (--kafka_source_topic ... by default), and Roo's --NAME_group.

    A name of its own (not "kafka_source") also names the source, as in Wallaroo's last
    development version; otherwise the source takes its pipeline's name. `args` (Roo's)
    is the command line to read, by default sys.argv, which roo sets to the app's.
    """

    _CLASS = "DefaultKafkaSourceCLIParser"

    def __init__(self, decoder: Any, name: str = "kafka_source", args: Sequence[str] | None = None) -> None:
        self.prefix = name
        self._from_flags(_command_line(args), name, decoder, None if name == "kafka_source" else name)


class KafkaSinkConfig:
    """A Kafka sink: each encoded message is a record produced to `topic` on `brokers`.

    Wallaroo 0.1-0.6 form: KafkaSinkConfig(topic, brokers, log_level,
    max_produce_buffer_ms, max_message_size, encoder). Roo gives the middle three
    defaults ("Warn", 0, 100000, those of kafka_parse_sink_options), so
    KafkaSinkConfig(topic, brokers, encoder) works too, takes them as keywords, and takes
    no encoder for the 0.2 builder's to_sink(encoder, KafkaSinkConfig(...)).

    `max_produce_buffer_ms`: how long records may wait to be sent together (0: none).
    `max_message_size`: the largest record value, in bytes.

    The encoder returns the record's value (bytes or str), or (value, key) as Wallaroo
    0.1-0.4 and its documentation had it, or (value, key, partition) as Wallaroo 0.5-0.6
    required; key is bytes, str or None (no key), partition an int or None (the
    producer picks one).
    """

    kind = "kafka"
    _CLASS = "KafkaSinkConfig"
    _OPTIONAL = ("log_level", "max_produce_buffer_ms", "max_message_size")

    topic: str
    brokers: str
    log_level: str
    max_produce_buffer_ms: int
    max_message_size: int
    encoder: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        given = _config_arguments(self._CLASS, args, kwargs, ("topic", "brokers"), self._OPTIONAL, "encoder")
        if "group" in given:
            raise TypeError("KafkaSinkConfig got an unexpected argument 'group'")
        missing = [field for field in ("topic", "brokers") if field not in given]
        if missing:
            raise TypeError("KafkaSinkConfig is missing %s" % ", ".join(missing))
        self._configure(
            given["topic"], given["brokers"], given.get("log_level", KAFKA_DEFAULT_LOG_LEVEL),
            given.get("max_produce_buffer_ms", KAFKA_DEFAULT_MAX_PRODUCE_BUFFER_MS),
            given.get("max_message_size", KAFKA_DEFAULT_MAX_MESSAGE_SIZE), given.get("encoder"),
            lambda field: "KafkaSinkConfig %s" % field,
            lambda field: " (kafka_parse_sink_options(args) reads it from --kafka_sink_%s)" % field,
        )
        self.name = _kafka_name(given.get("name"), "KafkaSinkConfig name")

    def _configure(
        self, topic: Any, brokers: Any, log_level: Any, max_produce_buffer_ms: Any,
        max_message_size: Any, encoder: Any, label: Callable[[str], str],
        hint: Callable[[str], str],
    ) -> None:
        self.topic = _kafka_topic(topic, label("topic"), hint("topic"))
        self.brokers = _kafka_brokers(brokers, label("brokers"), hint("brokers"))
        self.log_level = _kafka_log_level(log_level, label("log_level"))
        self.max_produce_buffer_ms = _kafka_int(max_produce_buffer_ms, label("max_produce_buffer_ms"), 0)
        self.max_message_size = _kafka_int(max_message_size, label("max_message_size"), 1)
        self.encoder = encoder

    def with_encoder(self, encoder: Any) -> KafkaSinkConfig:
        """This sink with `encoder` (the 0.2 builder's to_sink(encoder, config))."""
        config = copy.copy(self)
        config.encoder = encoder
        return config


class CustomKafkaSinkCLIParser(KafkaSinkConfig):
    """Wallaroo 0.5-0.6: CustomKafkaSinkCLIParser(args, encoder), the sink's settings from
    the flags of kafka_parse_sink_options(args) (--kafka_sink_topic, --kafka_sink_brokers,
    --kafka_sink_log_level, --kafka_sink_max_produce_buffer_ms,
    --kafka_sink_max_message_size)."""

    _CLASS = "CustomKafkaSinkCLIParser"

    def __init__(self, args: Sequence[str], encoder: Any) -> None:
        self._from_flags(args, "kafka_sink", encoder)

    def _from_flags(self, args: Sequence[str], prefix: str, encoder: Any) -> None:
        flags = _sink_flags(args, prefix, self._CLASS)
        self._configure(
            flags["topic"], flags["brokers"], flags["log_level"], flags["max_produce_buffer_ms"],
            flags["max_message_size"], encoder, lambda field: "%s --%s_%s" % (self._CLASS, prefix, field),
            lambda field: " on the command line",
        )
        self.name = None


class DefaultKafkaSinkCLIParser(CustomKafkaSinkCLIParser):
    """Wallaroo 0.5-0.6: DefaultKafkaSinkCLIParser(encoder, name="kafka_sink"), the
    settings from the app's command line: --NAME_topic, --NAME_brokers, --NAME_log_level,
    --NAME_max_produce_buffer_ms, --NAME_max_message_size (--kafka_sink_topic ... by
    default). `args` (Roo's) is the command line to read, by default sys.argv."""

    _CLASS = "DefaultKafkaSinkCLIParser"

    def __init__(self, encoder: Any, name: str = "kafka_sink", args: Sequence[str] | None = None) -> None:
        self.prefix = name
        self._from_flags(_command_line(args), name, encoder)


def kafka_parse_source_options(args: Sequence[str]) -> tuple[str, list[Broker], str]:
    """Wallaroo's (topic, brokers, log_level) from --kafka_source_topic,
    --kafka_source_brokers (host[:port],..., port 9092 by default) and
    --kafka_source_log_level (Fine, Info, Warn or Error; "Warn" by default). brokers is a
    list of (host, port) with the port a string, as Wallaroo gave it; a missing topic or
    brokers flag gives "" or [], which KafkaSourceConfig then refuses."""
    flags = _source_flags(args, "kafka_source", "kafka_parse_source_options")
    return (flags["topic"], flags["brokers"], flags["log_level"])


def kafka_parse_sink_options(args: Sequence[str]) -> tuple[str, list[Broker], str, int, int]:
    """Wallaroo's (topic, brokers, log_level, max_produce_buffer_ms, max_message_size) from
    --kafka_sink_topic, --kafka_sink_brokers, --kafka_sink_log_level ("Warn"),
    --kafka_sink_max_produce_buffer_ms (0) and --kafka_sink_max_message_size (100000)."""
    flags = _sink_flags(args, "kafka_sink", "kafka_parse_sink_options")
    return (
        flags["topic"], flags["brokers"], flags["log_level"], flags["max_produce_buffer_ms"],
        flags["max_message_size"],
    )


def _split_address(text: str) -> Address:
    """'host:port' -> (host, port); 'name@host:port' -> (name, host, port)."""
    name = None
    if "@" in text:
        name, text = text.split("@", 1)
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port:
        raise ValueError("address %r is not of the form host:port or name@host:port" % text)
    return (host, port) if name is None else (name, host, port)


def _parse_addrs(args: Sequence[str], long_flag: str, short_flag: str) -> list[Address]:
    addrs: list[Address] = []
    for i, arg in enumerate(args):
        value = None
        if arg in (long_flag, short_flag):
            if i + 1 >= len(args):
                raise ValueError("%s needs a value: host:port[,host:port]" % arg)
            value = args[i + 1]
        elif arg.startswith(long_flag + "="):
            value = arg[len(long_flag) + 1 :]
        if value is not None:
            addrs.extend(_split_address(part) for part in value.split(",") if part)
    return addrs


def tcp_parse_input_addrs(args: Sequence[str]) -> list[Address]:
    """The --in/-i addresses: a list of (host, port), or (name, host, port) for name@host:port."""
    return _parse_addrs(args, "--in", "-i")


def tcp_parse_output_addrs(args: Sequence[str]) -> list[Address]:
    """The --out/-o addresses: a list of (host, port), or (name, host, port) for name@host:port."""
    return _parse_addrs(args, "--out", "-o")
