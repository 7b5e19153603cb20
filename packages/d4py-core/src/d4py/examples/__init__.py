"""Example workflows bundled with d4py-core."""
