"""Source and sink configurations, and the command-line address helpers."""

from __future__ import annotations

from collections.abc import Sequence
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


class _KafkaConfig:
    """Wallaroo's Kafka sources and sinks: not available in Roo (TCP and generators only)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RooApplicationError(
            "%s: Kafka is not supported by Roo; use TCPSourceConfig / TCPSinkConfig"
            % type(self).__name__
        )


class KafkaSourceConfig(_KafkaConfig):
    pass


class KafkaSinkConfig(_KafkaConfig):
    pass


class CustomKafkaSourceCLIParser(_KafkaConfig):
    pass


class CustomKafkaSinkCLIParser(_KafkaConfig):
    pass


class DefaultKafkaSourceCLIParser(_KafkaConfig):
    pass


class DefaultKafkaSinkCLIParser(_KafkaConfig):
    pass


def kafka_parse_source_options(args: Sequence[str]) -> None:
    """Wallaroo's Kafka option parser: refuses, as Kafka is not supported."""
    CustomKafkaSourceCLIParser()


def kafka_parse_sink_options(args: Sequence[str]) -> None:
    """Wallaroo's Kafka option parser: refuses, as Kafka is not supported."""
    CustomKafkaSinkCLIParser()


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
