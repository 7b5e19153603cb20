"""Provenance: the lineage of every item of a traced run, kept beside its run record (see docs/provenance.md)."""
