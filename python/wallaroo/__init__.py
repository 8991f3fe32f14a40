"""`import wallaroo` outside `roo run`: the same module as `roo`.

Inside `roo run` the embedded package is installed as both names (pybridge's
api_package.rs). In a plain Python (an IDE, a type checker, unit tests of an app's
functions) this package makes `wallaroo` that same module object, and
`wallaroo.<submodule>` the roo submodule of that name, so `wallaroo.experimental`,
`wallaroo.byoi` and the rest resolve as they do in a running app.
"""

import importlib
import sys

import roo

# The submodules roo embeds (api_package.rs's SUBMODULES), each also `wallaroo.<name>`.
_SUBMODULES = (
    "errors",
    "inspection",
    "transfer",
    "decorators",
    "topology",
    "config",
    "builder",
    "windows",
    "experimental",
    "pipeline",
    "byoi",
)

for _name in _SUBMODULES:
    sys.modules["wallaroo." + _name] = importlib.import_module("roo." + _name)

# The import statement hands back what sys.modules holds under the name once the
# package's code has run: the roo module itself.
sys.modules[__name__] = roo
