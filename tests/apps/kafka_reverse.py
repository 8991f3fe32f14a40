"""Reverses each message, between any two of Kafka and TCP (Wallaroo 0.6 pipeline API).

The source is TCP when --in HOST:PORT is given (length-prefixed frames), else the Kafka
topic of --kafka_source_topic; the sink is TCP when --out HOST:PORT is given (each
reversed message and a newline), else the Kafka topic of --kafka_sink_topic (the
reversed message as the value, the original as the key; with --to-partitions N, in
partition len(original) % N, as the encoder says).
"""

import struct

import wallaroo


def application_setup(args):
    inputs = wallaroo.tcp_parse_input_addrs(args) if "--in" in args else None
    outputs = wallaroo.tcp_parse_output_addrs(args) if "--out" in args else None
    if inputs:
        host, port = inputs[0]
        source = wallaroo.TCPSourceConfig("reverse", host, port, decode_frame)
    else:
        topic, brokers, log_level = wallaroo.kafka_parse_source_options(args)
        source = wallaroo.KafkaSourceConfig("reverse", topic, brokers, log_level, decode_record)
    if outputs:
        host, port = outputs[0]
        sink = wallaroo.TCPSinkConfig(host, port, encode_line)
    else:
        topic, brokers, log_level, buffer_ms, max_size = wallaroo.kafka_parse_sink_options(args)
        encode = encode_record
        if "--to-partitions" in args:
            encode = encoder_to_partitions(int(args[args.index("--to-partitions") + 1]))
        sink = wallaroo.KafkaSinkConfig(topic, brokers, log_level, buffer_ms, max_size, encode)
    pipeline = wallaroo.source("reverse", source).to(reverse).to_sink(sink)
    return wallaroo.build_application("Reverse between Kafka and TCP", pipeline)


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode_frame(data):
    return data.decode("utf-8")


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode_record(value):
    return value.decode("utf-8")


@wallaroo.computation(name="reverse")
def reverse(text):
    return (text, text[::-1])


@wallaroo.encoder
def encode_line(pair):
    return pair[1] + "\n"


@wallaroo.encoder
def encode_record(pair):
    original, reversed_text = pair
    return (reversed_text, original)


def encoder_to_partitions(count):
    @wallaroo.encoder
    def encode_to_partition(pair):
        original, reversed_text = pair
        return (reversed_text, original, len(original) % count)

    return encode_to_partition
