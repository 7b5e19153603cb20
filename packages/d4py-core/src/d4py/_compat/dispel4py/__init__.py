"""dispel4py 1.x names, served by d4py. See ``d4py._compat``."""

__version__ = "1.2.1+d4py"
