"""The error every part of the API raises for a mistake in how an application is built.

pybridge reports it by its message alone at start-up (the message already names the step
and file), and anything else with its traceback; it looks it up as
`roo.topology.RooApplicationError`, which topology.py keeps as a name for this class.
"""


class RooApplicationError(Exception):
    """A mistake in how the application was built, reported at start-up."""


# Wallaroo's name for the error its builders raised on bad arguments.
WallarooParameterError = RooApplicationError
