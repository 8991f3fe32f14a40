"""Kafka sources and sinks as plain Python: every form of Wallaroo's Kafka API (the
configs of 0.1-0.4 and 0.6's documentation, the CLI parsers of 0.5-0.6, the option
parsers) ends in the description the engine reads (topology.py), with brokers
normalised, the decoder's arguments chosen from how it is declared, and mistakes
refused at start-up with a message naming them."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import roo
import wallaroo
from roo.errors import RooApplicationError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
THIS_FILE = str(Path(__file__).resolve())


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode_value(value: bytes) -> str:
    return value.decode()


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode_with_key(value: bytes, key: bytes | None) -> tuple[bytes, bytes | None]:
    return (value, key)


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode_with_timestamp(value: bytes, key: bytes | None, timestamp_ms: int | None) -> Any:
    return (value, key, timestamp_ms)


@wallaroo.encoder
def encode_value(data: Any) -> str:
    return str(data)


@wallaroo.computation(name="identity")
def identity(data: Any) -> Any:
    return data


def kafka_app(source: Any, sink: Any) -> dict[str, Any]:
    """The description of a one-pipeline builder app from `source` to `sink`."""
    ab = wallaroo.ApplicationBuilder("app")
    ab.new_pipeline("pipe", source)
    ab.to(identity)
    ab.to_sink(sink)
    return ab.build()


def a_sink() -> Any:
    return wallaroo.KafkaSinkConfig("out", "localhost", encode_value)


def a_source() -> Any:
    return wallaroo.KafkaSourceConfig("in", "localhost", decode_value)


def source_of(config: Any) -> dict[str, Any]:
    description: dict[str, Any] = kafka_app(config, a_sink())
    source: dict[str, Any] = description["sources"][0]
    return source


def sink_of(config: Any) -> dict[str, Any]:
    description: dict[str, Any] = kafka_app(a_source(), config)
    sink: dict[str, Any] = description["sinks"][0]
    return sink


def without_callables(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in ("decoder", "encode", "where")}


# --- sources: every form ---------------------------------------------------------


def test_the_0_4_source_form_as_wallaroo_celsius_kafka_wrote_it() -> None:
    """KafkaSourceConfig(topic, brokers, log_level, decoder), brokers as
    kafka_parse_source_options returned them."""
    config = wallaroo.KafkaSourceConfig("celsius", [("kafka1", "9092"), ("kafka2", "9093")], "Info", decode_value)
    source = source_of(config)
    assert without_callables(source) == {
        "name": "pipe",
        "kind": "kafka",
        "chain": 0,
        "topic": "celsius",
        "brokers": "kafka1:9092,kafka2:9093",
        "group": None,
        "log_level": "Info",
    }
    assert source["decoder"] == {"decode": decode_value.function, "arguments": 1}


def test_the_0_6_documented_source_form_names_the_source() -> None:
    """KafkaSourceConfig(name, topic, brokers, log_level, decoder) with wallaroo.source."""
    config = wallaroo.KafkaSourceConfig("lines in", "lines", "k1:9000,k2", "Warn", decode_value)
    pipeline = wallaroo.source("Split", config).to(identity).to_sink(a_sink())
    source = wallaroo.build_application("app", pipeline)["sources"][0]
    assert source["name"] == "lines in"
    assert source["topic"] == "lines"
    assert source["brokers"] == "k1:9000,k2:9092"
    assert source["chain"] == 0


def test_a_source_without_a_name_takes_its_pipelines() -> None:
    pipeline = wallaroo.source("Split", a_source()).to(identity).to_sink(a_sink())
    assert wallaroo.build_application("app", pipeline)["sources"][0]["name"] == "Split"


def test_keywords_a_group_and_the_default_log_level() -> None:
    config = wallaroo.KafkaSourceConfig(
        topic="in", brokers=["a", "b:1"], decoder=decode_value, group="readers", name="src"
    )
    source = source_of(config)
    assert (source["name"], source["group"], source["log_level"]) == ("src", "readers", "Warn")
    assert source["brokers"] == "a:9092,b:1"


@pytest.mark.parametrize(
    "args, log_level",
    [(("in", "h", decode_value), "Warn"), (("in", "h", "error", decode_value), "Error")],
)
def test_the_log_level_may_be_left_out_and_any_case(args: tuple[Any, ...], log_level: str) -> None:
    config = wallaroo.KafkaSourceConfig(*args)
    assert config.log_level == log_level
    assert config.decoder is decode_value


def test_the_0_2_builder_form_gives_the_decoder_and_encoder_apart() -> None:
    ab = wallaroo.ApplicationBuilder("app")
    ab.new_pipeline("pipe", decode_value, wallaroo.KafkaSourceConfig("in", "h", "Warn"))
    ab.to(identity)
    ab.to_sink(encode_value, wallaroo.KafkaSinkConfig("out", "h", "Warn", 5, 1000))
    description = ab.build()
    assert description["sources"][0]["decoder"]["decode"] is decode_value.function
    assert description["sources"][0]["topic"] == "in"
    sink = description["sinks"][0]
    assert sink["encode"] is encode_value.function
    assert (sink["topic"], sink["max_produce_buffer_ms"], sink["max_message_size"]) == ("out", 5, 1000)


def test_a_source_with_no_decoder_is_refused() -> None:
    with pytest.raises(RooApplicationError, match="KafkaSourceConfig of pipeline 'pipe' has no decoder"):
        kafka_app(wallaroo.KafkaSourceConfig("in", "h", "Warn"), a_sink())


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((), {"brokers": "h"}, "missing topic"),
        (("in",), {}, "missing brokers"),
        (("n", "t", "h", "Warn", decode_value, "extra"), {}, "got 6 arguments"),
        (("t", "h", decode_value, "Warn"), {}, "got 4 arguments"),
        (("t", "h", decode_value), {"colour": "red"}, "unexpected or repeated argument 'colour'"),
        (("t", "h", decode_value), {"topic": "again"}, "unexpected or repeated argument 'topic'"),
    ],
)
def test_source_arguments_out_of_any_form_are_type_errors(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        wallaroo.KafkaSourceConfig(*args, **kwargs)


# --- sinks: every form -----------------------------------------------------------


def test_the_wallaroo_sink_form() -> None:
    """KafkaSinkConfig(topic, brokers, log_level, max_produce_buffer_ms, max_message_size, encoder)."""
    sink = sink_of(wallaroo.KafkaSinkConfig("fahrenheit", [("k", "9092")], "Error", 10, 5000, encode_value))
    assert without_callables(sink) == {
        "kind": "kafka",
        "topic": "fahrenheit",
        "brokers": "k:9092",
        "log_level": "Error",
        "max_produce_buffer_ms": 10,
        "max_message_size": 5000,
    }
    assert sink["encode"] is encode_value.function
    assert sink["where"].startswith(THIS_FILE + ":")


def test_a_sink_with_defaults_and_keywords() -> None:
    assert without_callables(sink_of(wallaroo.KafkaSinkConfig("out", "k", encode_value))) == {
        "kind": "kafka",
        "topic": "out",
        "brokers": "k:9092",
        "log_level": "Warn",
        "max_produce_buffer_ms": 0,
        "max_message_size": 100000,
    }
    config = wallaroo.KafkaSinkConfig("out", "k", max_message_size=10, encoder=encode_value)
    assert (config.max_produce_buffer_ms, config.max_message_size) == (0, 10)


def test_an_encoder_class_or_plain_function_is_taken() -> None:
    class Encoder:
        def encode(self, data: Any) -> tuple[str, str, int]:
            return (str(data), "key", 0)

    def plain(data: Any) -> bytes:
        return b"x"

    assert sink_of(wallaroo.KafkaSinkConfig("out", "k", Encoder))["encode"](1) == ("1", "key", 0)
    assert sink_of(wallaroo.KafkaSinkConfig("out", "k", plain))["encode"] is plain


def test_a_sink_with_no_encoder_is_refused() -> None:
    with pytest.raises(RooApplicationError, match="KafkaSinkConfig of pipeline 'pipe' has no encoder"):
        kafka_app(a_source(), wallaroo.KafkaSinkConfig("out", "k", "Warn", 0, 1000))


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (("out",), {"encoder": encode_value}, "missing brokers"),
        (("out", "k", "Warn", 0, 1, encode_value, "extra"), {}, "got 7 arguments"),
        (("out", "k", encode_value, 0), {}, "got 4 arguments"),
        (("out", "k", encode_value), {"group": "g"}, "unexpected argument 'group'"),
    ],
)
def test_sink_arguments_out_of_any_form_are_type_errors(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        wallaroo.KafkaSinkConfig(*args, **kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_produce_buffer_ms": -1}, "max_produce_buffer_ms: -1 is not a whole number of at least 0"),
        ({"max_produce_buffer_ms": "soon"}, "max_produce_buffer_ms: 'soon' is not a whole number"),
        ({"max_produce_buffer_ms": True}, "max_produce_buffer_ms: True is not a whole number"),
        ({"max_message_size": 0}, "max_message_size: 0 is not a whole number of at least 1"),
        ({"log_level": "Loud"}, "log level 'Loud' is not one of Fine, Info, Warn, Error"),
    ],
)
def test_sink_settings_are_checked(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(RooApplicationError, match=message):
        wallaroo.KafkaSinkConfig("out", "k", encoder=encode_value, **kwargs)


def test_numbers_from_the_command_line_may_be_text() -> None:
    config = wallaroo.KafkaSinkConfig("out", "k", "Warn", "7", "2000", encode_value)
    assert (config.max_produce_buffer_ms, config.max_message_size) == (7, 2000)


# --- TCP is unchanged, and mixes with Kafka --------------------------------------------


def test_tcp_sinks_say_their_kind_and_keep_their_fields() -> None:
    ab = wallaroo.ApplicationBuilder("app")
    ab.new_pipeline("pipe", wallaroo.TCPSourceConfig("127.0.0.1", 7000, decode_value))
    ab.to_sinks([wallaroo.TCPSinkConfig("127.0.0.1", 7002, encode_value), a_sink()])
    description = ab.build()
    tcp, kafka = description["sinks"]
    assert without_callables(tcp) == {"kind": "tcp", "host": "127.0.0.1", "port": "7002"}
    assert tcp["encode"] is encode_value.function and tcp["where"].startswith(THIS_FILE + ":")
    assert kafka["kind"] == "kafka"
    assert description["chains"][0]["sinks"] == [0, 1]
    source = description["sources"][0]
    assert (source["kind"], source["host"], source["port"]) == ("tcp", "127.0.0.1", "7000")
    assert set(source["decoder"]) == {"header_length", "payload_length", "decode", "length_fmt"}


def test_a_kafka_source_merges_with_a_tcp_one() -> None:
    kafka = wallaroo.source("from kafka", a_source())
    tcp = wallaroo.source("from tcp", wallaroo.TCPSourceConfig("tcp in", "127.0.0.1", 7000, decode_value))
    pipeline = kafka.merge(tcp).to(identity).to_sink(a_sink())
    description = wallaroo.build_application("app", pipeline)
    assert [(s["name"], s["kind"]) for s in description["sources"]] == [
        ("from kafka", "kafka"),
        ("tcp in", "tcp"),
    ]


def test_a_tcp_decoder_must_take_one_argument() -> None:
    with pytest.raises(RooApplicationError, match="of a TCP source takes 2 arguments"):
        kafka_app(wallaroo.TCPSourceConfig("127.0.0.1", 7000, decode_with_key), a_sink())


def test_a_tcp_decoder_may_have_an_optional_second_argument() -> None:
    @wallaroo.decoder(header_length=4, length_fmt=">I")
    def decode(value: bytes, key: bytes | None = None) -> bytes:
        return value

    source = source_of(wallaroo.TCPSourceConfig("127.0.0.1", 7000, decode))
    assert source["decoder"]["decode"] is decode.function


# --- the decoder's arguments ------------------------------------------------------------


def test_what_a_decorated_decoder_is_declared_to_take() -> None:
    assert source_of(wallaroo.KafkaSourceConfig("in", "h", decode_value))["decoder"]["arguments"] == 1
    assert source_of(wallaroo.KafkaSourceConfig("in", "h", decode_with_key))["decoder"] == {
        "decode": decode_with_key.function,
        "arguments": 2,
    }
    assert source_of(wallaroo.KafkaSourceConfig("in", "h", decode_with_timestamp))["decoder"]["arguments"] == 3


def test_optional_parameters_count_as_declared() -> None:
    def decode(value: bytes, key: bytes | None = None) -> bytes:
        return value

    assert source_of(wallaroo.KafkaSourceConfig("in", "h", decode))["decoder"]["arguments"] == 2


class ClassDecoder:
    """A Wallaroo 0.1-0.3 decoder class: its header methods are not used by Kafka."""

    def header_length(self) -> int:
        return 4

    def payload_length(self, header: bytes) -> int:
        return 0

    def decode(self, value: bytes) -> bytes:
        return value


class KeyedClassDecoder:
    def decode(self, value: bytes, key: bytes | None, timestamp_ms: int | None) -> Any:
        return (value, key, timestamp_ms)


def star(*args: Any) -> Any:
    return args


def plain_with_key(value: bytes, key: bytes | None) -> Any:
    return key


@pytest.mark.parametrize(
    "decoder, arguments",
    [
        (ClassDecoder, 1),
        (ClassDecoder(), 1),
        (KeyedClassDecoder, 3),
        (plain_with_key, 2),
        (star, 1),
        (bytes, 1),
        (lambda value, key, timestamp_ms, extra=None: value, 3),
    ],
)
def test_what_a_decoder_object_or_function_takes(decoder: Any, arguments: int) -> None:
    source = source_of(wallaroo.KafkaSourceConfig("in", "h", decoder))
    assert source["decoder"]["arguments"] == arguments
    assert callable(source["decoder"]["decode"])


def test_a_class_decoders_decode_is_its_bound_method() -> None:
    decode = source_of(wallaroo.KafkaSourceConfig("in", "h", ClassDecoder))["decoder"]["decode"]
    assert decode(b"x") == b"x"


@pytest.mark.parametrize(
    "decoder, message",
    [
        (lambda: None, "must take the record's value.*it takes no argument"),
        (lambda a, b, c, d: None, "must take the record's value.*it takes 4 arguments"),
        (object(), "has no decode\\(\\) method"),
    ],
)
def test_a_decoder_that_cannot_take_a_record_is_refused(decoder: Any, message: str) -> None:
    with pytest.raises(RooApplicationError, match=message):
        source_of(wallaroo.KafkaSourceConfig("in", "h", decoder))


def test_the_decoder_decorator_refuses_four_arguments() -> None:
    with pytest.raises(RooApplicationError, match="must take 1 to 3 arguments"):

        @wallaroo.decoder(header_length=4, length_fmt=">I")
        def decode(a: bytes, b: bytes, c: int, d: int) -> None:
            pass


# --- brokers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "brokers, normalised",
    [
        ("kafka", "kafka:9092"),
        ("a:1, b", "a:1,b:9092"),
        (" a:1 ,,b:2, ", "a:1,b:2"),
        (["a", "b:2"], "a:9092,b:2"),
        (["a:1,b:2", "c"], "a:1,b:2,c:9092"),
        ([("a", "1"), ("b", 2), ("c", None)], "a:1,b:2,c:9092"),
        (("a", 9093), "a:9093"),
        (("a", "b:1"), "a:9092,b:1"),
        ("10.0.0.1:9094", "10.0.0.1:9094"),
        ("[::1]", "[::1]:9092"),
        ("[fe80::1%eth0]:9000", "[fe80::1%eth0]:9000"),
        ([("::1", 9093)], "[::1]:9093"),
        ("a:09092", "a:9092"),
    ],
)
def test_brokers_are_normalised(brokers: Any, normalised: str) -> None:
    assert wallaroo.KafkaSourceConfig("in", brokers, decode_value).brokers == normalised
    assert wallaroo.KafkaSinkConfig("out", brokers, encode_value).brokers == normalised


@pytest.mark.parametrize(
    "brokers, message",
    [
        ("", "no broker given"),
        (" , ", "no broker given"),
        ([], "no broker given"),
        ("a:0", "port '0' of broker 'a:0' is not a number from 1 to 65535"),
        ("a:65536", "port '65536' of broker 'a:65536' is not a number from 1 to 65535"),
        ("a:x", "port 'x' of broker 'a:x' is not a number"),
        ("a:", "port '' of broker 'a:' is not a number"),
        ([("a", "http")], "is neither"),
        (":9092", "broker ':9092' has no host"),
        ("::1", "has no host"),
        ("a b:1", "host 'a b' of broker 'a b:1' is not a host name"),
        ("PLAINTEXT://a:1", "names a protocol: give host\\[:port\\] only"),
        ("[::1", "is not a host name"),
        ("[::1]9092", "is not of the form host\\[:port\\]"),
        (42, "42 is not a broker list"),
        ([42], "broker 42 is neither"),
    ],
)
def test_bad_brokers_are_refused_saying_why(brokers: Any, message: str) -> None:
    with pytest.raises(RooApplicationError, match="KafkaSourceConfig brokers: .*" + message):
        wallaroo.KafkaSourceConfig("in", brokers, decode_value)


def test_missing_brokers_hint_at_the_flag() -> None:
    with pytest.raises(RooApplicationError, match="reads it from --kafka_sink_brokers"):
        wallaroo.KafkaSinkConfig("out", [], encode_value)


# --- topics, log levels, names ------------------------------------------------------------


@pytest.mark.parametrize(
    "topic, message",
    [
        ("", "KafkaSourceConfig topic: no topic given .*--kafka_source_topic"),
        (None, "no topic given"),
        ("two words", "'two words' is not a Kafka topic name"),
        ("a/b", "is not a Kafka topic name"),
        ("..", "is not a Kafka topic name"),
        ("t" * 250, "is not a Kafka topic name"),
        (7, "7 is not a Kafka topic name"),
    ],
)
def test_bad_topics_are_refused(topic: Any, message: str) -> None:
    with pytest.raises(RooApplicationError, match=message):
        wallaroo.KafkaSourceConfig(topic, "h", decode_value)


def test_topics_may_use_every_character_kafka_allows() -> None:
    assert wallaroo.KafkaSourceConfig("Orders_v2.eu-west", "h", decode_value).topic == "Orders_v2.eu-west"


@pytest.mark.parametrize("kwargs", [{"name": ""}, {"group": ""}, {"group": 3}])
def test_empty_names_and_groups_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(RooApplicationError, match="is not a name"):
        wallaroo.KafkaSourceConfig("in", "h", decode_value, **kwargs)


# --- flags -----------------------------------------------------------------------------


SOURCE_FLAGS = [
    "app.py",
    "--kafka_source_topic", "celsius",
    "--kafka_source_brokers", "k1,k2:9093",
    "--kafka_source_log_level", "Info",
]
SINK_FLAGS = [
    "--kafka_sink_topic", "fahrenheit",
    "--kafka_sink_brokers=k3",
    "--kafka_sink_log_level", "Error",
    "--kafka_sink_max_produce_buffer_ms", "20",
    "--kafka_sink_max_message_size", "5000",
]


def test_kafka_parse_source_options_returns_wallaroos_tuple() -> None:
    assert wallaroo.kafka_parse_source_options(SOURCE_FLAGS + ["--other", "x"]) == (
        "celsius",
        [("k1", "9092"), ("k2", "9093")],
        "Info",
    )


def test_kafka_parse_sink_options_returns_wallaroos_tuple() -> None:
    assert wallaroo.kafka_parse_sink_options(["app.py"] + SINK_FLAGS) == (
        "fahrenheit",
        [("k3", "9092")],
        "Error",
        20,
        5000,
    )


def test_flags_left_out_take_wallaroos_defaults() -> None:
    assert wallaroo.kafka_parse_source_options(["app.py"]) == ("", [], "Warn")
    assert wallaroo.kafka_parse_sink_options(["app.py"]) == ("", [], "Warn", 0, 100000)


def test_the_last_of_a_repeated_flag_wins_and_equals_works() -> None:
    args = ["--kafka_source_topic", "first", "--kafka_source_topic=second", "--kafka_source_brokers", "h"]
    assert wallaroo.kafka_parse_source_options(args)[0] == "second"


def test_the_options_feed_the_configs_as_in_wallaroo_0_4() -> None:
    args = SOURCE_FLAGS + SINK_FLAGS
    source = source_of(wallaroo.KafkaSourceConfig(*wallaroo.kafka_parse_source_options(args), decode_value))
    assert (source["topic"], source["brokers"], source["log_level"]) == ("celsius", "k1:9092,k2:9093", "Info")
    sink = sink_of(wallaroo.KafkaSinkConfig(*wallaroo.kafka_parse_sink_options(args), encode_value))
    assert without_callables(sink) == {
        "kind": "kafka",
        "topic": "fahrenheit",
        "brokers": "k3:9092",
        "log_level": "Error",
        "max_produce_buffer_ms": 20,
        "max_message_size": 5000,
    }


def test_missing_flags_are_refused_by_the_config_with_a_hint() -> None:
    with pytest.raises(RooApplicationError, match="no topic given \\(kafka_parse_source_options.*--kafka_source_topic"):
        wallaroo.KafkaSourceConfig(*wallaroo.kafka_parse_source_options(["app.py"]), decode_value)


@pytest.mark.parametrize(
    "parse, args, message",
    [
        (wallaroo.kafka_parse_source_options, ["--kafka_source_topic"], "--kafka_source_topic needs a value"),
        (
            wallaroo.kafka_parse_source_options,
            ["--kafka_source_brokers", "--kafka_source_topic", "t"],
            "--kafka_source_brokers needs a value",
        ),
        (
            wallaroo.kafka_parse_source_options,
            ["--kafka_source_log_level", "Debug"],
            "--kafka_source_log_level: log level 'Debug' is not one of",
        ),
        (
            wallaroo.kafka_parse_source_options,
            ["--kafka_source_brokers", "h:70000"],
            "--kafka_source_brokers: port '70000' of broker 'h:70000'",
        ),
        (
            wallaroo.kafka_parse_sink_options,
            ["--kafka_sink_max_produce_buffer_ms", "ten"],
            "--kafka_sink_max_produce_buffer_ms: 'ten' is not a whole number",
        ),
        (
            wallaroo.kafka_parse_sink_options,
            ["--kafka_sink_max_message_size", "0"],
            "--kafka_sink_max_message_size: 0 is not a whole number of at least 1",
        ),
    ],
)
def test_bad_flags_are_refused_naming_the_flag(parse: Callable[[list[str]], Any], args: list[str], message: str) -> None:
    with pytest.raises(RooApplicationError, match=message):
        parse(["app.py"] + args)


def test_custom_cli_parsers_read_the_args_given() -> None:
    args = SOURCE_FLAGS + SINK_FLAGS + ["--kafka_source_group", "readers"]
    source = source_of(wallaroo.CustomKafkaSourceCLIParser(args, decode_with_key))
    assert without_callables(source) == {
        "name": "pipe",
        "kind": "kafka",
        "chain": 0,
        "topic": "celsius",
        "brokers": "k1:9092,k2:9093",
        "group": "readers",
        "log_level": "Info",
    }
    assert source["decoder"]["arguments"] == 2
    sink = sink_of(wallaroo.CustomKafkaSinkCLIParser(args, encode_value))
    assert (sink["topic"], sink["brokers"], sink["max_produce_buffer_ms"]) == ("fahrenheit", "k3:9092", 20)


def test_kafka_source_name_names_the_source() -> None:
    """As in Wallaroo's last development version (after 0.6.1)."""
    config = wallaroo.CustomKafkaSourceCLIParser(SOURCE_FLAGS + ["--kafka_source_name", "temps"], decode_value)
    assert source_of(config)["name"] == "temps"


def test_custom_cli_parsers_name_the_missing_flag() -> None:
    with pytest.raises(RooApplicationError, match="CustomKafkaSourceCLIParser --kafka_source_topic: no topic given"):
        wallaroo.CustomKafkaSourceCLIParser(["app.py", "--kafka_source_brokers", "h"], decode_value)
    with pytest.raises(RooApplicationError, match="CustomKafkaSinkCLIParser --kafka_sink_brokers: no broker given"):
        wallaroo.CustomKafkaSinkCLIParser(["app.py", "--kafka_sink_topic", "t"], encode_value)


def test_default_cli_parsers_read_the_apps_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", SOURCE_FLAGS + SINK_FLAGS)
    description = kafka_app(
        wallaroo.DefaultKafkaSourceCLIParser(decode_value), wallaroo.DefaultKafkaSinkCLIParser(encode_value)
    )
    source, sink = description["sources"][0], description["sinks"][0]
    assert (source["name"], source["topic"], source["brokers"]) == ("pipe", "celsius", "k1:9092,k2:9093")
    assert (sink["topic"], sink["log_level"], sink["max_message_size"]) == ("fahrenheit", "Error", 5000)


def test_a_default_cli_parsers_name_is_its_flags_prefix() -> None:
    args = [
        "app.py",
        "--orders_topic", "orders", "--orders_brokers", "k:1",
        "--fills_topic", "fills", "--fills_brokers", "k:2", "--fills_max_message_size", "10",
    ]
    source = wallaroo.DefaultKafkaSourceCLIParser(decode_value, "orders", args=args)
    sink = wallaroo.DefaultKafkaSinkCLIParser(encode_value, name="fills", args=args)
    assert (source.name, source.topic, source.brokers) == ("orders", "orders", "k:1")
    assert (sink.topic, sink.brokers, sink.max_message_size) == ("fills", "k:2", 10)
    with pytest.raises(RooApplicationError, match="DefaultKafkaSourceCLIParser --kafka_source_topic: no topic given on the command line"):
        wallaroo.DefaultKafkaSourceCLIParser(decode_value, args=args)


def test_the_cli_parsers_are_kafka_configs() -> None:
    args = SOURCE_FLAGS + SINK_FLAGS
    assert isinstance(wallaroo.CustomKafkaSourceCLIParser(args, decode_value), wallaroo.KafkaSourceConfig)
    assert isinstance(wallaroo.DefaultKafkaSinkCLIParser(encode_value, args=args), wallaroo.KafkaSinkConfig)


def test_roo_and_wallaroo_export_the_kafka_api() -> None:
    names = [
        "KafkaSourceConfig",
        "KafkaSinkConfig",
        "CustomKafkaSourceCLIParser",
        "CustomKafkaSinkCLIParser",
        "DefaultKafkaSourceCLIParser",
        "DefaultKafkaSinkCLIParser",
        "kafka_parse_source_options",
        "kafka_parse_sink_options",
    ]
    for name in names:
        assert name in roo.__all__
        assert getattr(wallaroo, name) is getattr(roo.config, name)


# --- the examples ------------------------------------------------------------------------


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_" + name, EXAMPLES / (name + ".py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


KAFKA_ARGS = [
    "--kafka_source_topic", "in", "--kafka_source_brokers", "127.0.0.1",
    "--kafka_sink_topic", "out", "--kafka_sink_brokers", "127.0.0.1:9093",
]


def test_celsius_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    args = [str(EXAMPLES / "celsius_kafka.py")] + KAFKA_ARGS
    monkeypatch.setattr(sys, "argv", args)  # roo sets it so; the Default parsers read it
    description = load_example("celsius_kafka").application_setup(args)
    source, sink = description["sources"][0], description["sinks"][0]
    assert (source["kind"], source["topic"], source["brokers"]) == ("kafka", "in", "127.0.0.1:9092")
    assert (sink["kind"], sink["topic"], sink["brokers"]) == ("kafka", "out", "127.0.0.1:9093")
    assert source["decoder"]["arguments"] == 1
    value = source["decoder"]["decode"](b"36.6\n")
    for step in description["chains"][0]["steps"]:
        value = step["call"](value)
    assert sink["encode"](value) == "97.88"


def test_word_count_kafka() -> None:
    args = ["word_count_kafka.py"] + KAFKA_ARGS
    description = load_example("word_count_kafka").application_setup(args)
    source, sink = description["sources"][0], description["sinks"][0]
    assert (source["name"], source["topic"], sink["topic"]) == ("Split and Count", "in", "out")
    split, count = description["chains"][0]["steps"]
    words = split["call"](source["decoder"]["decode"](b"Roo, roo!\nhop"))
    assert words == ["roo", "roo", "hop"]
    assert count["key_by"]("roo") == "roo"
    state = description["states"][count["state"]]["build"]()
    outputs = [sink["encode"](count["call"](word, state)) for word in ["roo", "roo"]]
    assert outputs == [("roo 1", "roo"), ("roo 2", "roo")]
