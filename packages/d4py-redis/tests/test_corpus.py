"""dispel4py 1.2.1's example workflows give on redis what they give on simple."""

from d4py.testing.corpus import CorpusContract


class TestCorpus(CorpusContract):
    backend = "redis"
