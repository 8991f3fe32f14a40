"""The decorators of Wallaroo 0.4-0.6: user functions become steps, partition
functions, decoders and encoders.

Each decorator returns a small marker object holding the user's function; the engine
calls that function itself per message (no wrapper call in between).
"""

from __future__ import annotations

import inspect
import struct
from collections.abc import Callable
from typing import Any, TypeVar

from roo.errors import RooApplicationError
from roo.inspection import where

_Class = TypeVar("_Class", bound=type)


def _check_parameters(function: Callable[..., Any], arity: int | tuple[int, int], role: str) -> None:
    """Wallaroo checked a decorated function's parameters as it decorated it; so does Roo,
    so that a mistake (such as a `self` copied from a class) stops the app at start-up
    instead of failing every message. `arity` is a number of arguments, or the (fewest,
    most) the engine may pass."""
    if not callable(function):
        raise RooApplicationError("%s %r is not a function" % (role, function))
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return  # a builtin without a signature: its calls will tell
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [p for p in parameters if p.kind in kinds]
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    fewest, most = (arity, arity) if isinstance(arity, int) else arity
    if not max(len(required), fewest) <= min(len(positional), most):
        takes = "%d argument%s" % (fewest, "" if fewest == 1 else "s")
        if most != fewest:
            takes = "%d to %d arguments" % (fewest, most)
        raise RooApplicationError(
            "%s %s (%s) must take %s; it takes (%s)"
            % (role, function.__name__, where(function), takes,
               ", ".join(p.name for p in positional))
        )


class _Marker:
    """What a decorator returns: the user's function with the methods Wallaroo gave it.

    Wallaroo 0.4-0.5 turned a decorated function into an object with compute() (or
    partition(), decode(), ...) for the ApplicationBuilder; 0.6 kept the decorators for
    the pipeline API. These markers serve both, and the engine calls the user's function
    itself (the methods are the function, not wrappers). Calling a marker with arguments
    calls the function; with none it returns the marker, as Wallaroo's objects did.
    """

    # What the decorated function is, and how many arguments the engine passes it.
    _role = "function"
    _arity: int | tuple[int, int] = 1

    def __init__(self, function: Callable[..., Any]) -> None:
        _check_parameters(function, self._arity, self._role)
        self.function = function
        self.__wrapped__ = function  # where() reports the user's file and line

    def __call__(self, *args: Any) -> Any:
        return self.function(*args) if args else self


class Computation(_Marker):
    """A stateless step: f(data) -> value or None; with multi, f(data) -> list."""

    _role = "computation"

    def __init__(self, function: Callable[[Any], Any], name: str | None, multi: bool) -> None:
        super().__init__(function)
        self._name = name or function.__name__
        self.multi = multi
        if multi:
            self.compute_multi = function
        else:
            self.compute = function

    def name(self) -> str:
        return self._name


class StateComputation(_Marker):
    """A state step: f(data, state) -> output, or (output, persist_flag).

    The state class comes from state= (pipeline API) or from the ApplicationBuilder's
    to_stateful/to_state_partition (Wallaroo 0.4-0.5, where the decorator had no state=).
    """

    _role = "state computation"
    _arity = 2

    def __init__(
        self, function: Callable[[Any, Any], Any], name: str | None, state: Any, multi: bool
    ) -> None:
        super().__init__(function)
        self._name = name or function.__name__
        if state is not None and not callable(state):
            raise RooApplicationError(
                "state_computation '%s' (%s): state=%r is not a class or callable"
                % (self._name, where(function), state)
            )
        self.state = state
        self.multi = multi
        if multi:
            self.compute_multi = function
        else:
            self.compute = function

    def name(self) -> str:
        return self._name


class KeyExtractor(_Marker):
    """f(data) -> the partition key for the state steps that follow key_by."""

    _role = "key extractor"


class PartitionFunction(_Marker):
    """Wallaroo 0.4-0.5's @partition: f(data) -> the key of the state partition."""

    _role = "partition function"

    def __init__(self, function: Callable[[Any], Any]) -> None:
        super().__init__(function)
        self.partition = function


class Decoder(_Marker):
    """A source decoder: f(payload) -> value or None. A TCP source frames input with its
    fixed header format (natively); a Kafka source ignores the header format, passes
    f(value), and also the record's key for f(value, key) and its timestamp (ms) for
    f(value, key, timestamp_ms)."""

    _role = "decoder"
    _arity = (1, 3)

    def __init__(self, function: Callable[..., Any], header_length: int, length_fmt: str) -> None:
        super().__init__(function)
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

    def header_length(self) -> int:
        return self._header_length


class Encoder(_Marker):
    """A sink encoder: f(data) -> bytes or str."""

    _role = "encoder"

    def __init__(self, function: Callable[..., bytes | str]) -> None:
        super().__init__(function)
        self.encode = function


def _named(factory: Callable[..., _Marker]) -> Callable[..., Any]:
    """Lets a decorator be used bare (@d), with positional options (@d("name"),
    @d("name", State)) or with keywords (@d(name=..., state=...)), as Wallaroo's did."""
    option_names = list(inspect.signature(factory).parameters)[1:]

    def decorator(*args: Any, **options: Any) -> Any:
        if len(args) == 1 and callable(args[0]) and not options:
            return factory(args[0])
        if len(args) > len(option_names):
            raise TypeError("@%s takes at most %d arguments" % (factory.__name__, len(option_names)))
        for option, value in zip(option_names, args):
            if option in options:
                raise TypeError("@%s got %s twice" % (factory.__name__, option))
            options[option] = value
        return lambda f: factory(f, **options)

    decorator.__name__ = factory.__name__
    return decorator


@_named
def computation(function: Callable[[Any], Any], name: str | None = None) -> Computation:
    return Computation(function, name, multi=False)


@_named
def computation_multi(function: Callable[[Any], Any], name: str | None = None) -> Computation:
    return Computation(function, name, multi=True)


@_named
def state_computation(
    function: Callable[[Any, Any], Any], name: str | None = None, state: Any = None
) -> StateComputation:
    return StateComputation(function, name, state, multi=False)


@_named
def state_computation_multi(
    function: Callable[[Any, Any], Any], name: str | None = None, state: Any = None
) -> StateComputation:
    return StateComputation(function, name, state, multi=True)


def key_extractor(function: Callable[[Any], Any]) -> KeyExtractor:
    return KeyExtractor(function)


def partition(function: Callable[[Any], Any]) -> PartitionFunction:
    return PartitionFunction(function)


def decoder(header_length: int = 4, length_fmt: str = ">I") -> Callable[[Callable[..., Any]], Decoder]:
    return lambda function: Decoder(function, header_length, length_fmt)


def encoder(function: Callable[[Any], bytes | str]) -> Encoder:
    return Encoder(function)


def state(cls: _Class) -> _Class:
    """An early decorator of state classes: gives the class build(), so it is its own
    state builder (as a class already is in Roo)."""
    cls.build = classmethod(lambda klass: klass())  # type: ignore[attr-defined]
    return cls
