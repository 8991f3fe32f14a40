"""roo.testing itself: what a test sees when an app works, when it fails, and when roo
is not there."""

import pytest

import roo.testing
from roo.testing import RooInputError, RooNotFoundError, RooStartupError, RooTimeoutError, find_roo

# An app of the 0.6 API: text frames in, each upper-cased (printing "got <text>") and
# sent to every --out address as a line. It listens on `port` (the --in port, or another).
SHOUT_APP = """\
import wallaroo


@wallaroo.decoder(header_length=4, length_fmt=">I")
def decode(bs):
    return bs.decode()


@wallaroo.encoder
def encode(text):
    return text + "\\n"


@wallaroo.computation(name="shout")
def shout(text):
    print("got", text)
    return text.upper()


def application_setup(args):
    (host, port), = wallaroo.tcp_parse_input_addrs(args)
    sinks = [wallaroo.TCPSinkConfig(h, p, encode) for h, p in wallaroo.tcp_parse_output_addrs(args)]
    source = wallaroo.source("text", wallaroo.TCPSourceConfig("text", host, {port}, decode))
    return wallaroo.build_application("shout", source.to(shout).to_sinks(sinks))
"""


def write_app(tmp_path, source):
    path = tmp_path / "app.py"
    path.write_text(source)
    return path


def test_what_the_app_prints_and_every_sink_are_kept(roo_runner, tmp_path):
    app = write_app(tmp_path, SHOUT_APP.format(port="port"))
    result = roo_runner.run(app, ["a", "b"], sinks=2)

    assert [output.lines() for output in result.outputs] == [["A", "B"], ["A", "B"]]
    assert result.stdout.splitlines() == ["got a", "got b"]
    with pytest.raises(ValueError, match="2 --out addresses"):
        result.output


def test_an_app_failing_at_start_up_raises_with_roos_message(roo_runner, tmp_path):
    app = write_app(tmp_path, "def application_setup(args):\n    raise ValueError('no such table')\n")

    with pytest.raises(RooStartupError) as failure:
        roo_runner.run(app, ["x"])
    assert "application_setup failed" in str(failure.value)
    assert "ValueError: no such table" in str(failure.value)
    assert "ValueError: no such table" in failure.value.stderr


def test_an_app_ignoring_its_in_address_is_refused(roo_runner, tmp_path):
    app = write_app(tmp_path, SHOUT_APP.format(port="0"))

    with pytest.raises(RooStartupError, match="does not listen on the --in address"):
        roo_runner.run(app, ["x"])


LITTLE_ENDIAN_APP = """\
import struct
import wallaroo


class Decoder:
    def header_length(self):
        return 4

    def payload_length(self, header):
        return struct.unpack("<I", header)[0]

    def decode(self, bs):
        return bs.decode()


def application_setup(args):
    (host, port), = wallaroo.tcp_parse_input_addrs(args)
    (out_host, out_port), = wallaroo.tcp_parse_output_addrs(args)
    ab = wallaroo.ApplicationBuilder("little endian")
    ab.new_pipeline("text", wallaroo.TCPSourceConfig(host, port, Decoder()))
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, lambda text: text + "\\n"))
    return ab.build()
"""


def test_a_header_run_cannot_write_asks_for_framed_bytes(roo_runner, tmp_path):
    app = write_app(tmp_path, LITTLE_ENDIAN_APP)

    with pytest.raises(RooInputError, match="send framed bytes with raw=True"):
        roo_runner.run(app, ["hi"])
    result = roo_runner.run(app, [b"\x02\x00\x00\x00hi"], raw=True)
    assert result.output.lines() == ["hi"]


def test_inputs_are_bytes_or_str(roo_runner, tmp_path):
    app = write_app(tmp_path, LITTLE_ENDIAN_APP)

    with pytest.raises(RooInputError, match="neither bytes nor str"):
        roo_runner.run(app, [42], raw=True)


def test_output_in_another_format_than_asked_for_is_refused(roo_runner, tmp_path):
    app = write_app(tmp_path, LITTLE_ENDIAN_APP.replace('text + "\\n"', "text"))
    result = roo_runner.run(app, [b"\x02\x00\x00\x00hi"], raw=True)

    assert result.output.data == b"hi"
    with pytest.raises(ValueError, match="2 bytes after the last newline"):
        result.output.lines()


def test_waiting_for_output_that_does_not_come_times_out(roo_runner, tmp_path):
    app = write_app(tmp_path, LITTLE_ENDIAN_APP)

    with roo_runner.start(app, timeout=0.5) as running:
        running.send([b"\x02\x00\x00\x00hi"], raw=True)
        assert running.wait_until(lambda output: output.lines() == ["hi"]).lines() == ["hi"]
        with pytest.raises(RooTimeoutError, match="did not come within 0.5 s"):
            running.wait_until(lambda output: len(output.lines()) == 2)


def test_an_app_without_tcp_sources_runs_on_no_inputs(roo_runner, tmp_path):
    app = write_app(tmp_path, """\
import wallaroo


class Countdown:
    def initial_value(self):
        return 3

    def apply(self, previous):
        return previous - 1 if previous > 1 else None


def application_setup(args):
    (host, port), = wallaroo.tcp_parse_output_addrs(args)
    numbers = wallaroo.source("countdown", wallaroo.GenSourceConfig(Countdown))
    sink = wallaroo.TCPSinkConfig(host, port, lambda n: "%d\\n" % n)
    return wallaroo.build_application("countdown", numbers.to_sink(sink))
""")
    result = roo_runner.run(app, None)

    assert result.output.lines() == ["3", "2", "1"]


def test_a_roo_bin_that_is_not_there_is_named(tmp_path):
    missing = tmp_path / "roo"

    with pytest.raises(RooNotFoundError, match="roo_bin is %s, which is not an executable" % missing):
        find_roo(missing)


def test_no_roo_anywhere_names_every_place_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("ROO_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    # As if this module were installed outside a checkout of Roo.
    monkeypatch.setattr(roo.testing, "__file__", str(tmp_path / "site" / "roo" / "testing.py"))

    with pytest.raises(RooNotFoundError) as failure:
        roo.testing.run("app.py", [])
    message = str(failure.value)
    assert "roo_bin (not given)" in message
    assert "$ROO_BIN (not set)" in message
    assert "`roo` on PATH (%s)" % tmp_path in message
    assert "cargo install --path ." in message
