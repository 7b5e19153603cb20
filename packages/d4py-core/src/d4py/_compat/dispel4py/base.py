"""dispel4py.base, served by d4py."""

from d4py.composite import CompositePE, create_iterative_chain
from d4py.pe import BasePE, ConsumerPE, GenericPE, IterativePE, ProducerPE, SimpleFunctionPE

__all__ = [
    "BasePE",
    "CompositePE",
    "ConsumerPE",
    "GenericPE",
    "IterativePE",
    "ProducerPE",
    "SimpleFunctionPE",
    "create_iterative_chain",
]
