"""dispel4py.new, served by d4py."""
