"""The decorators of Wallaroo 0.6: user functions become steps, decoders and encoders.

Each decorator returns a small marker object holding the user's function; the engine
calls that function itself per message (no wrapper call in between).
"""

import struct

from roo.topology import RooApplicationError, where


class Computation:
    """A stateless step: f(data) -> value or None; with multi, f(data) -> list."""

    def __init__(self, function, name, multi):
        self.function = function
        self._name = name or function.__name__
        self.multi = multi

    def name(self):
        return self._name


class StateComputation:
    """A state step: f(data, state) -> output, or (output, persist_flag); state made by state()."""

    def __init__(self, function, name, state, multi):
        if not callable(state):
            raise RooApplicationError(
                "state_computation '%s' (%s): state=%r is not a class or callable"
                % (name or function.__name__, where(function), state)
            )
        self.function = function
        self._name = name or function.__name__
        self.state = state
        self.multi = multi

    def name(self):
        return self._name


class KeyExtractor:
    """f(data) -> the partition key for the state steps that follow key_by."""

    def __init__(self, function):
        self.function = function


class Decoder:
    """A TCP source decoder with a fixed header format; Roo frames it natively."""

    def __init__(self, function, header_length, length_fmt):
        unpack = struct.Struct(length_fmt).unpack
        if struct.calcsize(length_fmt) != header_length:
            raise RooApplicationError(
                "decoder %s (%s): length_fmt %r is %d bytes, header_length is %d"
                % (function.__name__, where(function), length_fmt, struct.calcsize(length_fmt), header_length)
            )
        self._header_length = header_length
        self.length_fmt = length_fmt
        self.payload_length = lambda header: unpack(header)[0]
        self.decode = function

    def header_length(self):
        return self._header_length


class Encoder:
    """A sink encoder: f(data) -> bytes or str."""

    def __init__(self, function):
        self.encode = function


def _named(factory):
    """Lets a decorator be used bare (@d) or with arguments (@d(name=...))."""

    def decorator(function=None, **options):
        if function is not None and callable(function) and not options:
            return factory(function)
        return lambda f: factory(f, **options)

    decorator.__name__ = factory.__name__
    return decorator


@_named
def computation(function, name=None):
    return Computation(function, name, multi=False)


@_named
def computation_multi(function, name=None):
    return Computation(function, name, multi=True)


def state_computation(name=None, state=None):
    return lambda function: StateComputation(function, name, state, multi=False)


def state_computation_multi(name=None, state=None):
    return lambda function: StateComputation(function, name, state, multi=True)


def key_extractor(function):
    return KeyExtractor(function)


def decoder(header_length=4, length_fmt=">I"):
    return lambda function: Decoder(function, header_length, length_fmt)


def encoder(function):
    return Encoder(function)
