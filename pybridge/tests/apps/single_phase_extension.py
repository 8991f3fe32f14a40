"""Test app: imports a C extension that cannot be loaded in a subinterpreter (CPython's own
test module, in 3.12+), as numpy cannot. Roo must say to use --python-mode main."""
import _testsinglephase  # noqa: F401


def application_setup(args):
    pass
