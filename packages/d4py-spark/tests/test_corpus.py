"""dispel4py 1.2.1's example workflows give on spark what they give on simple."""

from d4py.testing.corpus import CorpusContract


class TestCorpus(CorpusContract):
    """Each example starts a Spark session of its own (about 15 s here), so one budget only.

    The conformance suite covers spark under a budget of 6.
    """

    backend = "spark"
    budgets = (None,)
