"""The adjusted ratio: the group's ratio once cause, place type and age are taken into account.

A raw difference between groups may only reflect different circumstances (more deaths at home,
more drug deaths).  The regression holds those fixed.  Because every covariate is categorical,
the fit runs on *cells* (one row per combination of group and covariates, with its count, sum and
sum of squares) rather than on cases: the point estimates are identical to the case-level fits and
the cost no longer depends on how many cases there are.

* rates and means of shares: Poisson regression with a log link and the cell size as exposure
  (statsmodels GLM), Pearson-scaled (quasi-Poisson) so over-dispersion widens the interval;
  ``exp(coefficient)`` is the adjusted ratio of rates.  The Pearson statistic is the case-level
  one, rebuilt from each cell's sum of squares: on cells alone it would see only the spread
  between cells and give intervals far too narrow;
* hours: least squares on log hours, so ``exp(coefficient)`` is the adjusted ratio of geometric
  means (equal to the ratio of medians when log hours are symmetric).

When the group cannot be told apart from the covariates (all its members in strata where the
reference has none), holding them fixed leaves nothing to compare: there is no adjusted ratio.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from caselink.oversight.stats import Z95

MIN_LEVEL_SIZE = 10
MIN_HOURS = 1 / 60  # one minute: a time recorded as zero or before the report still has a log


def encode_covariates(covariates: pd.DataFrame) -> np.ndarray:
    """Integer codes per covariate (missing is ``unknown``, levels rarer than MIN_LEVEL_SIZE pooled).

    Done once per analysis, so each comparison's fit is pure numpy on a few hundred cells.
    """
    columns = []
    for name in covariates.columns:
        column = covariates[name].astype("object").where(covariates[name].notna(), "unknown").astype(str)
        counts = column.value_counts()
        column = column.where(~column.isin(counts[counts < MIN_LEVEL_SIZE].index), "other")
        columns.append(pd.factorize(column, sort=True)[0])
    return np.column_stack(columns) if columns else np.zeros((len(covariates), 0), dtype=int)


def _cells(values: np.ndarray, in_group: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                                   np.ndarray]:
    """Per cell: its design row, count, sum and sum of squares of ``values``."""
    # One integer key per row (mixed radix over group and covariate codes): a 1-D unique is far
    # cheaper than a row-wise one on 100,000 cases.
    radices = [2] + [int(codes[:, j].max()) + 1 if len(codes) else 1 for j in range(codes.shape[1])]
    key = in_group.astype(np.int64)
    scale = 2
    for j in range(codes.shape[1]):
        key = key + scale * codes[:, j].astype(np.int64)
        scale *= radices[j + 1]
    unique_keys, inverse = np.unique(key, return_inverse=True)
    unique = np.empty((len(unique_keys), 1 + codes.shape[1]), dtype=np.int64)
    rest = unique_keys.copy()
    for j, radix in enumerate(radices):
        unique[:, j] = rest % radix
        rest //= radix
    n = np.bincount(inverse).astype(float)
    total = np.bincount(inverse, weights=values)
    total_sq = np.bincount(inverse, weights=values * values)
    columns = [np.ones(len(unique)), unique[:, 0].astype(float)]
    for j in range(1, unique.shape[1]):
        levels = np.unique(unique[:, j])
        columns.extend((unique[:, j] == level).astype(float) for level in levels[1:])
    design = np.column_stack(columns)
    keep = [0, 1] + [j for j in range(2, design.shape[1]) if design[:, j].std() > 0]
    return design[:, keep], n, total, total_sq


def _group_is_estimable(design: np.ndarray) -> bool:
    """True when the group column (1) is not a combination of the others, so its coefficient is
    identified; otherwise a solver would split the effect between group and covariate at will."""
    return bool(np.linalg.matrix_rank(design) > np.linalg.matrix_rank(np.delete(design, 1, axis=1)))


def adjusted_rate_ratio(values: np.ndarray, in_group: np.ndarray,
                        codes: np.ndarray) -> tuple[float, tuple[float, float]] | None:
    """Adjusted ratio of rates (or means of shares) of the group over the reference, with its 95% CI.

    ``codes`` are the covariates of the same rows from :func:`encode_covariates`.
    """
    import statsmodels.api as sm

    values = np.asarray(values, dtype=float)
    if values[in_group].sum() <= 0 or values[~in_group].sum() <= 0:
        return None
    design, n, total, total_sq = _cells(values, in_group, codes)
    if not _group_is_estimable(design):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.GLM(total, design, family=sm.families.Poisson(), exposure=n).fit()
        coefficient = float(fit.params[1])
        # Case-level Pearson X2: sum over cases of (y - m)^2 / m, m the fitted mean per case of the cell.
        per_case = np.asarray(fit.mu, dtype=float) / n
        pearson = float(((total_sq - 2 * per_case * total + n * per_case ** 2) / per_case).sum())
        dof = n.sum() - np.linalg.matrix_rank(design)
        if dof <= 0:
            return None
        se = float(fit.bse[1]) * math.sqrt(pearson / dof)
    except Exception:  # noqa: BLE001 - a degenerate design (separation, singular) has no adjusted ratio
        return None
    if not (math.isfinite(coefficient) and math.isfinite(se)) or abs(coefficient) > 20:
        return None
    return math.exp(coefficient), (math.exp(coefficient - Z95 * se), math.exp(coefficient + Z95 * se))


def adjusted_hours_ratio(hours: np.ndarray, in_group: np.ndarray,
                         codes: np.ndarray) -> tuple[float, tuple[float, float]] | None:
    """Adjusted ratio of geometric mean hours of the group over the reference, with its 95% CI."""
    logs = np.log(np.maximum(np.asarray(hours, dtype=float), MIN_HOURS))
    design, weights, total, total_sq = _cells(logs, in_group, codes)
    if not _group_is_estimable(design):
        return None
    means = total / weights
    weighted = design * weights[:, None]
    gram = design.T @ weighted
    try:
        inverse = np.linalg.pinv(gram)
    except np.linalg.LinAlgError:
        return None
    beta = inverse @ (weighted.T @ means)
    within = float((total_sq - total ** 2 / weights).sum())
    between = float((weights * (means - design @ beta) ** 2).sum())
    dof = weights.sum() - np.linalg.matrix_rank(gram)
    if dof <= 0:
        return None
    sigma2 = max(within + between, 0.0) / dof
    se = math.sqrt(max(sigma2 * inverse[1, 1], 0.0))
    coefficient = float(beta[1])
    if not math.isfinite(coefficient) or se == 0 or abs(coefficient) > 20:
        return None
    return math.exp(coefficient), (math.exp(coefficient - Z95 * se), math.exp(coefficient + Z95 * se))
