from roo.experimental import *
