"""Tests of Roo apps from Python: the app runs on the real `roo` binary, over real sockets.

    from roo.testing import run

    def test_reverse():
        result = run("examples/reverse.py", ["hello", "roo"])
        assert result.output.lines() == ["olleh", "oor"]

`run` starts `roo run --exit-when-idle APP --in ... --out ...` on free loopback ports,
listens on the `--out` addresses itself, sends the inputs, closes the input connections,
and once roo has drained and exited returns what each sink received with the counters of
roo's summary. `start` does the same step by step, for inputs that must wait for outputs
(market data before the orders that use it). The pytest plugin (`roo.pytest_plugin`,
registered when this package is installed) gives the `roo_runner` fixture, which runs a
test once per core count of `--roo-cores` (default 1 and 2).

Inputs: a list for an app with one source (`--in HOST:PORT`), or a dict from source
name to list (`--in NAME@HOST:PORT,...`, in the dict's order), for apps that read named
addresses. Each item is a message payload, `bytes` or `str` (sent as UTF-8), and gets
the header the source's decoder reads: its `length_fmt` (`@decoder(header_length=4,
length_fmt=">I")`), or else `header_length()` bytes of big-endian length, checked with
the decoder's own `payload_length()`. To find the decoders, `run` loads the app in this
Python too (as roo does: `application_setup([app, *args])` with the same arguments).
With `raw=True` the items are bytes already framed, sent as they are, and the app is not
loaded here.

Outputs: for each `--out` address a `SinkOutput` holding the bytes each of roo's
connections delivered (every core connects to every sink), split with `lines()` or
`frames()`. Across connections there is no order: compare in any order at 2+ cores.
"""

from __future__ import annotations

import importlib.util
import os
import re
import selectors
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union, cast

import roo

__all__ = [
    "CoreCounters",
    "Result",
    "RooExitError",
    "RooInputError",
    "RooNotFoundError",
    "RooStartupError",
    "RooTestingError",
    "RooTimeoutError",
    "Runner",
    "RunningApp",
    "SinkOutput",
    "Summary",
    "find_roo",
    "run",
    "start",
]

Payload = Union[bytes, bytearray, memoryview, str]
Inputs = Union[Sequence[Payload], Mapping[str, Sequence[Payload]], None]

_READY = "roo: ready"
_LISTENING = re.compile(r"^roo: source '(?P<name>.*)' listening on (?P<address>\S+)$", re.M)
_PORT_TAKEN = re.compile(r"^roo: cannot listen on .*Address already in use", re.M)
# A port taken between choosing it and roo binding it: start again on new ports.
_START_ATTEMPTS = 3


class RooTestingError(Exception):
    """A run that did not go as a test needs; `stderr` holds roo's stderr (may be empty)."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


class RooNotFoundError(RooTestingError):
    """No roo binary where run() looks for one (the message names each place)."""


class RooStartupError(RooTestingError):
    """roo exited before it was ready (a mistake in the app, a bad flag); the message
    holds roo's stderr."""


class RooTimeoutError(RooTestingError):
    """roo was not ready, or did not exit, or an awaited output did not come, in time."""


class RooExitError(RooTestingError):
    """roo exited with an error, or without its summary, after it had started."""


class RooInputError(RooTestingError):
    """An input run() cannot send: a wrong type, or a decoder whose header it cannot write."""


def find_roo(roo_bin: str | os.PathLike[str] | None = None) -> str:
    """The roo binary: `roo_bin` if given, else $ROO_BIN if set, else `roo` on PATH, else
    target/release/roo of the checkout this module lives in.

    A `roo_bin` or $ROO_BIN that is no executable file is an error: the choice was
    explicit. RooNotFoundError names every place looked at."""
    for what, chosen in (("roo_bin", roo_bin), ("$ROO_BIN", os.environ.get("ROO_BIN"))):
        if chosen:
            if _is_executable(Path(chosen)):
                return os.fspath(chosen)
            raise RooNotFoundError("%s is %s, which is not an executable file" % (what, chosen))
    looked = ["roo_bin (not given)", "$ROO_BIN (not set)"]
    on_path = shutil.which("roo")
    if on_path:
        return on_path
    looked.append("`roo` on PATH (%s)" % os.environ.get("PATH", ""))
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "Cargo.toml").is_file():
        built = checkout / "target" / "release" / "roo"
        if _is_executable(built):
            return str(built)
        looked.append("%s (build it: cargo build --release)" % built)
    raise RooNotFoundError(
        "no roo binary found; looked at: %s. Install it with `cargo install --path .` from "
        "a clone of Roo, or pass roo_bin= / set ROO_BIN" % "; ".join(looked)
    )


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


@dataclass(frozen=True)
class SinkOutput:
    """What one `--out` address received: the bytes of each of roo's connections to it, in
    the order the connections were made (at 1 core there is one).

    `complete` is True once roo has exited (every connection closed). Then `lines()` and
    `frames()` refuse bytes left over after the last whole line or frame, which mean the
    encoder wrote another format; while roo runs such bytes are the part still coming."""

    address: str
    connections: tuple[bytes, ...]
    complete: bool

    @property
    def data(self) -> bytes:
        """Every connection's bytes, one connection after the other."""
        return b"".join(self.connections)

    def lines(self, encoding: str = "utf-8") -> list[str]:
        """The newline-ended outputs (encoders that end each output with "\\n"), without
        the newline, connection after connection."""
        lines: list[str] = []
        for data in self.connections:
            *whole, rest = data.split(b"\n")
            self._check_rest(rest, "after the last newline", "lines()")
            lines.extend(line.decode(encoding) for line in whole)
        return lines

    def frames(self, length_fmt: str = ">I") -> list[bytes]:
        """The payloads of length-prefixed outputs (encoders that put a `length_fmt` header,
        by default 4 bytes big-endian, before each output), connection after connection."""
        header = struct.Struct(length_fmt)
        frames = []
        for data in self.connections:
            at = 0
            while len(data) - at >= header.size:
                (length,) = header.unpack_from(data, at)
                end = at + header.size + length
                if end > len(data):
                    break
                frames.append(data[at + header.size : end])
                at = end
            self._check_rest(data[at:], "after the last whole %r frame" % length_fmt, "frames()")
        return frames

    def _check_rest(self, rest: bytes, where: str, split: str) -> None:
        if rest and self.complete:
            raise ValueError(
                "sink %s: %d bytes %s (%r): the encoder's output is not what %s splits; "
                "read .data or .connections" % (self.address, len(rest), where, rest[:40], split)
            )


@dataclass(frozen=True)
class CoreCounters:
    """One core's line of roo's summary."""

    core: int
    frames_in: int
    decoded: int
    messages_out: int
    routed_out: int
    handed_over: int
    routed_in: int
    errors: int
    sink_reconnects: int


@dataclass(frozen=True)
class Summary:
    """roo's summary at exit: totals, per-core counters, and errors by place over all
    cores (e.g. {"computation 'split' of pipeline 'p'": 2})."""

    frames_in: int
    messages_out: int
    errors: int
    cores: tuple[CoreCounters, ...]
    errors_by_place: dict[str, int] = field(default_factory=dict)


_CORE_LINE = re.compile(
    r"^core (\d+): frames in (\d+), decoded (\d+), messages out (\d+), routed out (\d+) "
    r"\((\d+) parallel steps handed over\), routed in (\d+), errors (\d+), "
    r"sink reconnects (\d+)$",
    re.M,
)
_ERROR_LINE = re.compile(r"^core \d+:   (\d+) errors in (.+)$", re.M)
_TOTAL_LINE = re.compile(r"^total: frames in (\d+), messages out (\d+), errors (\d+)$", re.M)


def _parse_summary(stderr: str) -> Summary | None:
    total = _TOTAL_LINE.search(stderr)
    if total is None:
        return None
    errors: dict[str, int] = {}
    for count, place in _ERROR_LINE.findall(stderr):
        errors[place] = errors.get(place, 0) + int(count)
    frames_in, messages_out, error_total = (int(n) for n in total.groups())
    return Summary(
        frames_in=frames_in,
        messages_out=messages_out,
        errors=error_total,
        cores=tuple(CoreCounters(*map(int, line)) for line in _CORE_LINE.findall(stderr)),
        errors_by_place=errors,
    )


@dataclass(frozen=True)
class Result:
    """A finished run: each `--out` address's output, roo's summary, what the app printed
    (stdout) and roo's stderr (start-up lines, the error log with tracebacks, summary)."""

    outputs: tuple[SinkOutput, ...]
    summary: Summary
    stdout: str
    stderr: str

    @property
    def output(self) -> SinkOutput:
        """The output of the app's only `--out` address."""
        if len(self.outputs) != 1:
            raise ValueError("the run had %d --out addresses: use .outputs[i]" % len(self.outputs))
        return self.outputs[0]


class _Pipe(threading.Thread):
    """Reads one of roo's output streams to its end, keeping the text."""

    def __init__(self, stream: Any) -> None:
        super().__init__(daemon=True)
        self._stream = stream
        self._chunks: list[str] = []
        self._lock = threading.Lock()
        self.start()

    def run(self) -> None:
        for line in iter(self._stream.readline, ""):
            with self._lock:
                self._chunks.append(line)
        self._stream.close()

    def text(self) -> str:
        with self._lock:
            return "".join(self._chunks)


class _Sinks(threading.Thread):
    """Listens on loopback addresses for roo's sink connections and keeps what each
    connection delivers, until told to finish once roo has exited."""

    def __init__(self, count: int) -> None:
        super().__init__(daemon=True)
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._received: list[list[bytearray]] = [[] for _ in range(count)]
        self._finishing = threading.Event()
        self._closing = threading.Event()
        self._listeners = []
        self.addresses = []
        for sink in range(count):
            listener = socket.create_server(("127.0.0.1", 0))
            listener.setblocking(False)
            self._listeners.append(listener)
            self.addresses.append("127.0.0.1:%d" % listener.getsockname()[1])
            self._selector.register(listener, selectors.EVENT_READ, (sink, None))
        self.start()

    def run(self) -> None:
        open_connections = 0
        while not self._closing.is_set() and not (
            self._finishing.is_set() and open_connections == 0 and not self._pending()
        ):
            for key, _ in self._selector.select(timeout=0.02):
                sink, received = key.data
                connection = cast(socket.socket, key.fileobj)
                if received is None:
                    open_connections += self._accept(connection, sink)
                    continue
                try:
                    chunk = connection.recv(1 << 16)
                except ConnectionError:
                    chunk = b""
                if chunk:
                    with self._lock:
                        received.extend(chunk)
                else:
                    self._selector.unregister(connection)
                    connection.close()
                    open_connections -= 1

    def _accept(self, listener: socket.socket, sink: int) -> int:
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            return 0
        connection.setblocking(False)
        received = bytearray()
        with self._lock:
            self._received[sink].append(received)
        self._selector.register(connection, selectors.EVENT_READ, (sink, received))
        return 1

    def _pending(self) -> bool:
        """A connection waits to be accepted on some listener."""
        ready = selectors.DefaultSelector()
        for listener in self._listeners:
            ready.register(listener, selectors.EVENT_READ)
        try:
            return bool(ready.select(timeout=0))
        finally:
            ready.close()

    def outputs(self, complete: bool) -> tuple[SinkOutput, ...]:
        with self._lock:
            return tuple(
                SinkOutput(address, tuple(bytes(data) for data in received), complete)
                for address, received in zip(self.addresses, self._received)
            )

    def finish(self, timeout: float) -> bool:
        """Reads every connection to its end (roo has exited); False if that took longer
        than `timeout`."""
        self._finishing.set()
        self.join(timeout)
        return not self.is_alive()

    def close(self) -> None:
        """Stops listening and closes every socket (once; later calls do nothing)."""
        if self._closing.is_set():
            return
        self._closing.set()
        self.join()
        for key in list(self._selector.get_map().values()):
            cast(socket.socket, key.fileobj).close()
        self._selector.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _payload(item: object) -> bytes:
    if isinstance(item, str):
        return item.encode("utf-8")
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item)
    raise RooInputError(
        "input %r is neither bytes nor str: encode it as the app's decoder reads it" % (item,)
    )


def _framer(decoder: dict[str, Any], source: str) -> Callable[[bytes], bytes]:
    """Puts the header `decoder` reads before a payload (see the module's doc)."""
    size = decoder["header_length"]
    if decoder["length_fmt"]:
        packer = struct.Struct(decoder["length_fmt"])
        if packer.size != size:
            raise RooInputError(
                "source %s: the decoder's length_fmt %r is not %d bytes"
                % (source, decoder["length_fmt"], size)
            )
        pack = packer.pack
    else:

        def pack(length: int) -> bytes:
            return length.to_bytes(size, "big")

    def frame(payload: bytes) -> bytes:
        try:
            header = pack(len(payload))
        except (OverflowError, struct.error) as err:
            raise RooInputError(
                "source %s: a %d-byte payload does not fit the decoder's %d-byte header (%s)"
                % (source, len(payload), size, err)
            ) from None
        read = decoder["payload_length"](header)
        if read != len(payload):
            raise RooInputError(
                "source %s: the decoder's payload_length() reads %r from the %d-byte "
                "big-endian header %r of a %d-byte payload: run() cannot frame values for "
                "it; send framed bytes with raw=True" % (source, read, size, header, len(payload))
            )
        return header + payload

    return frame


def _app_decoders(app_path: str, argv: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """Loads the app in this Python as roo does (argv, roo._ARGS, its folder on sys.path)
    and returns its TCP sources' decoders by (host, port)."""
    path = Path(app_path)
    name = "_roo_testing_" + re.sub(r"\W", "_", path.stem)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RooTestingError("cannot load %s as a Python module" % app_path)
    module = importlib.util.module_from_spec(spec)
    saved = (sys.argv, roo._ARGS, list(sys.path))
    sys.argv, roo._ARGS = list(argv), list(argv)
    sys.path.insert(0, str(path.parent))
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        description = module.application_setup(list(argv))
    except Exception as err:
        raise RooTestingError(
            "%s: loading the app in this Python, to read its decoders, failed (roo itself "
            "started it; pass raw=True to send framed bytes instead): %r" % (app_path, err)
        ) from err
    finally:
        sys.argv, roo._ARGS, sys.path[:] = saved
        sys.modules.pop(name, None)
    return {
        (source["host"], str(source["port"])): source["decoder"]
        for source in description["sources"]
        if source["kind"] == "tcp"
    }


class RunningApp:
    """An app running on roo, fed and watched step by step (see `start`); a context
    manager that kills roo on leaving unless `finish()` returned."""

    def __init__(
        self,
        app_path: str | os.PathLike[str],
        sources: int | Sequence[str],
        cores: int,
        args: Sequence[str],
        sinks: int,
        timeout: float,
        roo_bin: str | os.PathLike[str] | None,
    ) -> None:
        self.app_path = os.fspath(app_path)
        self.cores = cores
        self.timeout = timeout
        self._binary = find_roo(roo_bin)
        names = [None] * sources if isinstance(sources, int) else list(sources)
        self._sinks = _Sinks(sinks)
        self._process: subprocess.Popen[str] | None = None
        self._connections: list[socket.socket] = []
        self._decoders: dict[tuple[str, str], dict[str, Any]] | None = None
        self._framers: dict[int, Callable[[bytes], bytes]] = {}
        try:
            for attempt in range(_START_ATTEMPTS):
                self._in = [(name, "127.0.0.1", str(_free_port())) for name in names]
                if self._launch(args, retry=attempt + 1 < _START_ATTEMPTS):
                    break
            self._check_listening()
            for _, host, port in self._in:
                self._connections.append(socket.create_connection((host, int(port)), timeout))
        except BaseException:
            self.kill()
            raise

    def _argv(self, args: Sequence[str]) -> list[str]:
        """What application_setup receives: [app, --in ..., --out ..., *args]."""
        argv = [self.app_path]
        if self._in:
            argv += ["--in", ",".join(self._address(i) for i in range(len(self._in)))]
        return argv + ["--out", ",".join(self._sinks.addresses), *args]

    def _address(self, source: int) -> str:
        name, host, port = self._in[source]
        return ("%s@" % name if name is not None else "") + "%s:%s" % (host, port)

    def _launch(self, args: Sequence[str], retry: bool) -> bool:
        """Starts roo and waits for it to be ready; False if it should start again on
        other ports (one was taken meanwhile)."""
        self._argv_given = self._argv(args)
        command = [self._binary, "run", "--cores", str(self.cores), "--exit-when-idle"]
        self._process = subprocess.Popen(
            command + self._argv_given,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
        self._stdout, self._stderr = _Pipe(self._process.stdout), _Pipe(self._process.stderr)
        deadline = time.monotonic() + self.timeout
        while _READY not in self._stderr.text():
            if self._process.poll() is not None:
                self._stderr.join(self.timeout)
                stderr = self._stderr.text()
                if _READY in stderr:
                    break
                if retry and _PORT_TAKEN.search(stderr):
                    return False
                raise RooStartupError(
                    "roo could not start %s (exit code %d):\n%s"
                    % (self.app_path, self._process.returncode, stderr),
                    stderr,
                )
            if time.monotonic() > deadline:
                raise RooTimeoutError(
                    "roo did not print %r within %g s; its stderr:\n%s"
                    % (_READY, self.timeout, self._stderr.text()),
                    self._stderr.text(),
                )
            time.sleep(0.01)
        return True

    def _check_listening(self) -> None:
        """Every --in address given is one roo listens on (an app could ignore --in)."""
        stderr = self._stderr.text()
        listening = {match["address"] for match in _LISTENING.finditer(stderr)}
        for _, host, port in self._in:
            if "%s:%s" % (host, port) not in listening:
                raise RooStartupError(
                    "%s does not listen on the --in address %s that it was given (it listens "
                    "on: %s); an app under test takes its addresses from --in and --out:\n%s"
                    % (self.app_path, "%s:%s" % (host, port),
                       ", ".join(sorted(listening)) or "nothing", stderr),
                    stderr,
                )

    @property
    def _roo(self) -> subprocess.Popen[str]:
        """The roo process (started by the constructor)."""
        assert self._process is not None
        return self._process

    def _source_index(self, source: int | str | None) -> int:
        if source is None:
            if len(self._in) != 1:
                raise ValueError("the app has %d sources: name one" % len(self._in))
            return 0
        if isinstance(source, int):
            if not 0 <= source < len(self._in):
                raise ValueError("no source %d: the app has %d" % (source, len(self._in)))
            return source
        for index, (name, _, _) in enumerate(self._in):
            if name == source:
                return index
        raise ValueError(
            "no source named %r: the sources are %s"
            % (source, ", ".join(repr(name) for name, _, _ in self._in))
        )

    def _framer_of(self, index: int) -> Callable[[bytes], bytes]:
        if index not in self._framers:
            if self._decoders is None:
                self._decoders = _app_decoders(self.app_path, self._argv_given)
            _, host, port = self._in[index]
            decoder = self._decoders.get((host, port))
            if decoder is None:
                raise RooInputError(
                    "no TCP source of %s reads %s:%s" % (self.app_path, host, port)
                )
            self._framers[index] = _framer(decoder, self._address(index))
        return self._framers[index]

    def send(
        self, items: Iterable[Payload], source: int | str | None = None, raw: bool = False
    ) -> None:
        """Sends payloads (framed for the source's decoder) or, with raw, framed bytes to
        one source: by name, by position, or None when there is one."""
        index = self._source_index(source)
        if raw:
            data = b"".join(_payload(item) for item in items)
        else:
            frame = self._framer_of(index)
            data = b"".join(frame(_payload(item)) for item in items)
        try:
            self._connections[index].sendall(data)
        except OSError as err:
            raise RooExitError(
                "sending to %s failed (%s); roo's stderr:\n%s"
                % (self._address(index), err, self._stderr.text()),
                self._stderr.text(),
            ) from None

    def outputs(self) -> tuple[SinkOutput, ...]:
        """What each --out address has received so far."""
        return self._sinks.outputs(complete=False)

    def wait_until(
        self, condition: Callable[[SinkOutput], bool], sink: int = 0
    ) -> SinkOutput:
        """Waits (at most the timeout) until `condition` holds for the output of `sink`
        so far, e.g. `lambda out: len(out.lines()) >= 3`; returns that output."""
        deadline = time.monotonic() + self.timeout
        while True:
            output = self.outputs()[sink]
            if condition(output):
                return output
            if self._roo.poll() is not None:
                raise RooExitError(
                    "roo exited (code %d) while waiting for output:\n%s"
                    % (self._roo.returncode, self._stderr.text()),
                    self._stderr.text(),
                )
            if time.monotonic() > deadline:
                raise RooTimeoutError(
                    "the awaited output did not come within %g s; sink %s has %d bytes; "
                    "roo's stderr:\n%s"
                    % (self.timeout, output.address, len(output.data), self._stderr.text()),
                    self._stderr.text(),
                )
            time.sleep(0.01)

    def finish(self) -> Result:
        """Closes the input connections, waits (at most the timeout) for roo to finish
        what it read and exit, and returns the outputs and summary."""
        for connection in self._connections:
            connection.close()
        try:
            self._roo.wait(self.timeout)
        except subprocess.TimeoutExpired:
            stderr = self._stderr.text()
            self.kill()
            raise RooTimeoutError(
                "roo did not exit within %g s of the inputs closing; its stderr:\n%s"
                % (self.timeout, stderr),
                stderr,
            ) from None
        self._stdout.join(self.timeout)
        self._stderr.join(self.timeout)
        stderr = self._stderr.text()
        if not self._sinks.finish(self.timeout):
            self.kill()
            raise RooTimeoutError(
                "a sink connection stayed open %g s after roo exited" % self.timeout, stderr
            )
        summary = _parse_summary(stderr)
        code = self._roo.returncode
        if code != 0 or summary is None:
            self.kill()
            raise RooExitError(
                "roo exited with code %d%s:\n%s"
                % (code, "" if summary else " and no summary", stderr),
                stderr,
            )
        result = Result(self._sinks.outputs(complete=True), summary, self._stdout.text(), stderr)
        self.kill()
        return result

    def kill(self) -> None:
        """Kills roo (by its pid) if it still runs and closes every socket."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        for connection in self._connections:
            connection.close()
        self._sinks.close()

    def __enter__(self) -> RunningApp:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.kill()


def start(
    app_path: str | os.PathLike[str],
    sources: int | Sequence[str] = 1,
    *,
    cores: int = 1,
    args: Sequence[str] = (),
    sinks: int = 1,
    timeout: float = 30,
    roo_bin: str | os.PathLike[str] | None = None,
) -> RunningApp:
    """Starts the app on roo, ready for `send`: `sources` unnamed `--in` addresses, or one
    `--in NAME@...` per name; `sinks` `--out` addresses; `args` after them. `timeout`
    bounds each wait (start-up, `wait_until`, the exit in `finish`)."""
    return RunningApp(app_path, sources, cores, args, sinks, timeout, roo_bin)


def run(
    app_path: str | os.PathLike[str],
    inputs: Inputs,
    *,
    cores: int = 1,
    args: Sequence[str] = (),
    sinks: int = 1,
    raw: bool = False,
    timeout: float = 30,
    roo_bin: str | os.PathLike[str] | None = None,
) -> Result:
    """Runs the app on `inputs` (a list for one source, a dict name -> list for named
    sources, None for an app without TCP sources) and returns its outputs and summary
    once roo has processed them all and exited."""
    if inputs is None:
        per_source: list[tuple[int | str | None, Sequence[Payload]]] = []
        sources: int | list[str] = 0
    elif isinstance(inputs, Mapping):
        per_source = list(inputs.items())
        sources = list(inputs)
    else:
        per_source, sources = [(None, inputs)], 1
    with start(
        app_path, sources, cores=cores, args=args, sinks=sinks, timeout=timeout, roo_bin=roo_bin
    ) as app:
        for source, items in per_source:
            app.send(items, source, raw=raw)
        return app.finish()


class Runner:
    """`run` and `start` with a core count and binary bound: what the `roo_runner` pytest
    fixture gives a test (`roo_runner.run(app, inputs)`)."""

    def __init__(self, cores: int = 1, roo_bin: str | os.PathLike[str] | None = None) -> None:
        self.cores = cores
        self.roo_bin = roo_bin

    def run(self, app_path: str | os.PathLike[str], inputs: Inputs, **options: Any) -> Result:
        return run(app_path, inputs, cores=self.cores, roo_bin=self.roo_bin, **options)

    def start(
        self, app_path: str | os.PathLike[str], sources: int | Sequence[str] = 1, **options: Any
    ) -> RunningApp:
        return start(app_path, sources, cores=self.cores, roo_bin=self.roo_bin, **options)
