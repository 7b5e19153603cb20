"""dispel4py.new, served by d4py; modules d4py does not serve come from any ``dispel4py/new`` folder on the path."""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
