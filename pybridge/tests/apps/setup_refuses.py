"""Test app: application_setup refuses to start for a reason of its own (no addresses are
involved), as SystemExit from an app's own argument parsing or a RuntimeError would."""


def application_setup(args):
    if "--exit" in args:
        raise SystemExit("usage: setup_refuses.py --config FILE")
    raise RuntimeError("no configuration file given")
