from roo.byoi import *
