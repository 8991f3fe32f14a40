"""Test app: imports datetime (a C module whose types every interpreter shares), then fails
while roo loads it, on every core at once. roo must report the error and exit 1: it used to
crash now and then as the cores' interpreters ended together."""
import datetime  # noqa: F401

import wallaroo  # noqa: F401

raise ValueError("the app failed at import")


def application_setup(args):
    pass
