"""Which app objects Roo may move between cores without pickle.

An instance of a plain class pickles as "make an empty instance, then fill its __dict__";
Roo does the same directly (much faster than pickle), setting the attributes with
object.__setattr__, for classes where that is exactly what pickle would do: no pickling
hooks, no __slots__, no __setattr__ of their own. Anything else is pickled.
"""

import copyreg
import importlib

_OBJECT_HOOKS = {name: getattr(object, name, None) for name in ("__reduce_ex__", "__reduce__", "__getstate__")}
_CUSTOM_HOOKS = ("__setstate__", "__getnewargs_ex__", "__getnewargs__")


def plain_class_name(cls):
    """'module:qualname' when instances of `cls` can be rebuilt from their __dict__, else None."""
    if type(cls) is not type or cls in copyreg.dispatch_table or cls.__new__ is not object.__new__:
        return None
    if cls.__setattr__ is not object.__setattr__:
        return None
    if any(getattr(cls, name, None) is not default for name, default in _OBJECT_HOOKS.items()):
        return None
    if any(hasattr(cls, name) for name in _CUSTOM_HOOKS):
        return None
    if any("__slots__" in vars(klass) for klass in cls.__mro__):
        return None
    name = "%s:%s" % (cls.__module__, cls.__qualname__)
    try:
        return name if find_class(name) is cls else None
    except (ImportError, AttributeError):
        return None


def find_class(name):
    """The class named 'module:qualname'."""
    module, _, qualname = name.partition(":")
    found = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found
