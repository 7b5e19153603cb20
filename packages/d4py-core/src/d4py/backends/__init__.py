"""Backends that ship with d4py-core."""
