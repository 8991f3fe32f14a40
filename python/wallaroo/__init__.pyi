# What type checkers see of `wallaroo`: roo's names (at run time it is the roo module).
from roo import *
from roo import _ARGS as _ARGS
from roo import byoi as byoi
from roo import deserialize as deserialize
from roo import experimental as experimental
from roo import serialize as serialize
