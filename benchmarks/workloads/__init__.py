"""Benchmark workflows, written against the dispel4py 1.x API so that both systems run the same file."""
