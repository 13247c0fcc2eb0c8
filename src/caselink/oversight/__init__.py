"""Oversight: the evidence an inspectorate needs about how deaths were investigated.

* :mod:`~caselink.oversight.timeline` - every event of one case in order;
* :mod:`~caselink.oversight.missed` - checklist steps overdue, never done or done late;
* :mod:`~caselink.oversight.legacy` - historic decisions and actions imported from a legacy export;
* :mod:`~caselink.oversight.disparity` - whether effort differs between victim groups;
* :mod:`~caselink.oversight.report` - the publishable inspection report (HTML, PDF);
* :mod:`~caselink.oversight.pseudonymise` - the pseudonymised research export.

Everything reads the assurance, audit and linkage tables; nothing here rewrites them (the legacy
import adds decisions and actions through the same tables and audit log).
"""

from caselink.oversight.errors import OversightError
from caselink.oversight.measures import Measures, Period, load_measures

__all__ = ["Measures", "OversightError", "Period", "load_measures"]
