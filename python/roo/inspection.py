"""Looking at the user's objects while an application is built: where a class or function
is defined (for error messages), its name as a step, and its methods, with a start-up
error that names the step and file when something is missing.

Used by the builders (topology.py), the decorators and the windows alike.
"""

import functools
import inspect

from roo.errors import RooApplicationError


def where(obj):
    """`file:line` where the user's class or function is defined, for error messages."""
    if not inspect.isclass(obj) and not inspect.isroutine(obj):
        # A decorated function (see decorators.py) reports the function itself.
        obj = getattr(obj, "__wrapped__", None) or obj
    target = obj if inspect.isclass(obj) or inspect.isroutine(obj) else type(obj)
    target = inspect.unwrap(target) if inspect.isroutine(target) else target
    try:
        path = inspect.getsourcefile(target) or inspect.getfile(target)
        line = inspect.getsourcelines(target)[1]
        return "%s:%d" % (path, line)
    except (TypeError, OSError):
        return getattr(target, "__module__", "?") or "?"


def instance_of(obj, role):
    """Accept a class (instantiated with no arguments) or an instance, as Wallaroo did."""
    if inspect.isclass(obj):
        try:
            return obj()
        except TypeError as err:
            raise RooApplicationError(
                "%s %s (%s) could not be created with no arguments: %s"
                % (role, obj.__name__, where(obj), err)
            ) from None
    return obj


def step_name(obj):
    """The name a step reports: its name() method, else its class or function name."""
    name = getattr(obj, "name", None)
    if callable(name):
        return str(name())
    if isinstance(name, str):
        return name
    if inspect.isroutine(obj):
        return obj.__name__
    return type(obj).__name__


def method(obj, attr, role, name=None):
    """The bound method `attr` of `obj`, or a start-up error that names the step and file."""
    bound = getattr(obj, attr, None)
    if not callable(bound):
        raise RooApplicationError(
            "%s '%s' (%s) has no %s() method"
            % (role, name or step_name(obj), where(obj), attr)
        )
    return bound


def positional_arguments(function):
    """(required, accepted) positional parameters of a function the user wrote in Python
    (a function, a bound method, a functools.partial of one), accepted None when it takes
    *args; None for anything else (a builtin, a class), whose parameters say nothing of
    what it was declared to take."""
    target = function.func if isinstance(function, functools.partial) else function
    target = getattr(target, "__func__", target)
    if not inspect.isfunction(inspect.unwrap(target)):
        return None
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [p for p in parameters if p.kind in kinds]
    required = sum(1 for p in positional if p.default is inspect.Parameter.empty)
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return (required, None)
    return (required, len(positional))
