"""A module with no PE and no workflow."""

ANSWER = 42
