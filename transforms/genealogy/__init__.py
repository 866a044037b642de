"""Lot genealogy: edges from MES/WMS records, a CSR index over them, traces, shares and recalls."""

from transforms.genealogy.edges import genealogy_edges
from transforms.genealogy.index import GenealogyIndex
from transforms.genealogy.trace import RecallResult, TraceResult, UnknownNodeError, recall, trace

__all__ = ["GenealogyIndex", "RecallResult", "TraceResult", "UnknownNodeError", "genealogy_edges", "recall",
           "trace"]
