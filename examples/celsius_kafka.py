"""Celsius to Fahrenheit over Kafka, with the ApplicationBuilder of Wallaroo 0.5.

Input: records of the Kafka topic given by --kafka_source_topic, each value a
temperature in degrees Celsius as decimal text, e.g. "36.6" (no header: a Kafka record
is one message; surrounding whitespace is ignored).
Output: records of the topic given by --kafka_sink_topic, each value the temperature in
degrees Fahrenheit formatted "%.2f" ("97.88"), with no key. A value that is no number is
dropped and counted as an error of the decoder.

The source and sink read their settings from the command line, as Wallaroo's
DefaultKafkaSourceCLIParser and DefaultKafkaSinkCLIParser did:

    roo run examples/celsius_kafka.py \\
        --kafka_source_topic celsius --kafka_source_brokers 127.0.0.1:9092 \\
        --kafka_sink_topic fahrenheit --kafka_sink_brokers 127.0.0.1:9092

Brokers are host[:port] (port 9092 when left out), comma separated. Optional:
--kafka_source_log_level / --kafka_sink_log_level (Fine, Info, Warn, Error),
--kafka_source_group (the consumer group; the app's name by default),
--kafka_sink_max_produce_buffer_ms (0) and --kafka_sink_max_message_size (100000).
"""

import wallaroo


def application_setup(args):
    ab = wallaroo.ApplicationBuilder("Celsius to Fahrenheit with Kafka")
    ab.new_pipeline("convert", wallaroo.DefaultKafkaSourceCLIParser(decode_celsius))
    ab.to(multiply)
    ab.to(add)
    ab.to_sink(wallaroo.DefaultKafkaSinkCLIParser(encode_fahrenheit))
    return ab.build()


# Wallaroo's Kafka decoders were declared like TCP ones; a Kafka source does not use the
# header format (each record's value is the whole message).
@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode_celsius(value):
    return float(value.decode("utf-8").strip())


@wallaroo.computation(name="multiply by 1.8")
def multiply(celsius):
    return celsius * 1.8


@wallaroo.computation(name="add 32")
def add(scaled):
    return scaled + 32


@wallaroo.encoder
def encode_fahrenheit(fahrenheit):
    # The record's value alone; (value, key) and (value, key, partition) work as well.
    return "%.2f" % fahrenheit
