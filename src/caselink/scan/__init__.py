"""Space-time cluster detection: one Monte Carlo engine, one significance helper, the statistics.

``SpaceTimePermutationScan`` is Kulldorff's space-time permutation scan statistic (SaTScan's model,
reproduced exactly); ``clearance_clusters`` is the Murder Accountability Project's clearance method.
"""

from caselink.scan.engine import pseudo_p_value, simulate
from caselink.scan.permutation import Cluster, ScanInputError, SpaceTimePermutationScan

__all__ = ["Cluster", "ScanInputError", "SpaceTimePermutationScan", "pseudo_p_value", "simulate"]
