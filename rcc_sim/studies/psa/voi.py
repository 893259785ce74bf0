"""Value of information: EVPI and EVPPI by metamodel (spline for one input, GP for a group)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rcc_sim.config import FreeParameter
from rcc_sim.studies.psa.draws import is_calibrated

VOI_MIN_DRAWS = (
    100  # fewer draws than this: the metamodel (regression) estimates of EVPPI are unreliable, said in words
)


# --------------------------------------------------------------------------------------------
# Value of information
# --------------------------------------------------------------------------------------------
def evpi(inb: np.ndarray) -> float:
    """Expected value of perfect information for a choice between INB and 0."""
    inb = np.asarray(inb, dtype=np.float64)
    return float(np.mean(np.maximum(inb, 0.0)) - max(float(np.mean(inb)), 0.0))


def evppi_from_fit(g: np.ndarray) -> float:
    """EVPPI from the fitted conditional expectation ``g`` of INB given the input(s)."""
    return float(max(np.mean(np.maximum(g, 0.0)) - max(float(np.mean(g)), 0.0), 0.0))


def _bspline_basis(x: np.ndarray, n_knots: int = 8, degree: int = 3) -> np.ndarray:
    from scipy.interpolate import BSpline

    lo, hi = float(x.min()), float(x.max())
    inner = np.linspace(lo, hi, n_knots)
    t = np.r_[[lo] * degree, inner, [hi] * degree]
    n = len(t) - degree - 1
    return np.column_stack([BSpline(t, np.eye(n)[j], degree, extrapolate=False)(x) for j in range(n)])


def spline_fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Penalised cubic B-spline regression (P-spline, second-difference penalty) of y on one
    input, smoothing chosen by generalised cross-validation: fitted values and the leave-one-out
    (predictive) R^2."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return np.full_like(y, y.mean()), 0.0
    n_knots = int(min(10, max(4, len(x) // 8)))
    B = np.nan_to_num(_bspline_basis(x, n_knots))
    D = np.diff(np.eye(B.shape[1]), 2, axis=0)
    P = D.T @ D
    BtB, Bty = B.T @ B, B.T @ y
    best = (np.inf, np.full_like(y, y.mean()), np.zeros_like(y))
    n = len(y)
    for lam in 10.0 ** np.arange(-4, 7, 0.5):
        A = np.linalg.inv(BtB + lam * P + 1e-10 * np.eye(len(P)))
        fit = B @ (A @ Bty)
        hat = np.sum((B @ A) * B, axis=1)  # diagonal of the hat matrix B A B'
        gcv = n * float(np.sum((y - fit) ** 2)) / max(n - float(hat.sum()), 1e-9) ** 2
        if gcv < best[0]:
            best = (gcv, fit, hat)
    _, fit, hat = best
    loo = (y - fit) / np.maximum(1 - hat, 1e-9)  # leave-one-out residuals of a linear smoother
    return fit, _r2_loo(y, loo)


def _r2_loo(y: np.ndarray, loo_residual: np.ndarray) -> float:
    """Predictive R^2 from leave-one-out residuals, at least 0: with few draws an in-sample R^2
    flatters every input (a flexible fit goes through the points)."""
    ss = float(np.sum((y - y.mean()) ** 2))
    return max(0.0, float(1 - np.sum(loo_residual**2) / ss)) if ss > 0 else 0.0


def gp_fit(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Gaussian-process regression of y on several inputs (squared-exponential covariance, one
    length-scale per input, noise), hyperparameters by maximum marginal likelihood (scipy): the
    posterior mean at the draws (Strong, Oakley and Brennan 2014) and the leave-one-out R^2."""
    from scipy.linalg import cho_factor, cho_solve
    from scipy.optimize import minimize

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    span = np.ptp(X, axis=0)
    keep = span > 0
    if not keep.any() or np.ptp(y) == 0:
        return np.full_like(y, y.mean()), 0.0
    Z = (X[:, keep] - X[:, keep].min(axis=0)) / span[keep]
    mu, sd = y.mean(), y.std()
    t = (y - mu) / sd
    n, d = Z.shape
    sq = (Z[:, None, :] - Z[None, :, :]) ** 2  # (n, n, d)

    sq = np.moveaxis(sq, 2, 0)  # (d, n, n)
    eye = np.eye(n)

    def nll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Negative log marginal likelihood and its gradient in the log hyperparameters."""
        ell2, s2, n2 = np.exp(2 * theta[:d]), np.exp(theta[d]), np.exp(theta[d + 1])
        r = np.tensordot(1.0 / ell2, sq, axes=1)  # scaled squared distances, (n, n)
        Kf = s2 * np.exp(-0.5 * r)
        K = Kf + (n2 + 1e-8) * eye
        try:
            c = cho_factor(K, lower=True)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros_like(theta)
        a = cho_solve(c, t)
        W = cho_solve(c, eye) - np.outer(a, a)
        grad = np.empty_like(theta)
        for k in range(d):  # dK/dlog ell_k = Kf * sq_k / ell_k^2
            grad[k] = 0.5 * np.sum(W * Kf * sq[k]) / ell2[k]
        grad[d] = 0.5 * np.sum(W * Kf)
        grad[d + 1] = 0.5 * n2 * np.trace(W)
        return float(0.5 * t @ a + np.sum(np.log(np.diag(c[0])))), grad

    starts = [np.r_[np.zeros(d), 0.0, np.log(0.5)], np.r_[np.full(d, np.log(3.0)), 0.0, np.log(0.9)]]
    bounds = [(-4, 5)] * d + [(-6, 4), (-8, 2)]
    best = min((minimize(nll, s, jac=True, method="L-BFGS-B", bounds=bounds) for s in starts), key=lambda r: r.fun)
    theta = best.x
    ell2, s2, n2 = np.exp(2 * theta[:d]), np.exp(theta[d]), np.exp(theta[d + 1])
    Kf = s2 * np.exp(-0.5 * np.tensordot(1.0 / ell2, sq, axes=1))
    Kinv = np.linalg.inv(Kf + (n2 + 1e-8) * eye)
    alpha = Kinv @ t
    fit = mu + sd * (Kf @ alpha)
    loo = sd * alpha / np.diag(Kinv)  # leave-one-out residuals of a GP (Rasmussen and Williams 5.12)
    return fit, _r2_loo(y, loo)


def _evppi(fit: np.ndarray, r2_loo: float, total: float) -> float:
    """EVPPI from a metamodel's fit, capped at EVPI; 0 when the fit predicts nothing out of sample
    (leave-one-out R^2 of 0: the smoother followed the noise of a few draws, and E[INB | input] is
    then best taken as constant)."""
    return 0.0 if r2_loo <= 0 else min(evppi_from_fit(fit), total)


def value_of_information(
    X: np.ndarray, inb: np.ndarray, params: list[FreeParameter], grouped: dict[str, list[str]]
) -> pd.DataFrame:
    """EVPPI (GBP m) and metamodel R^2 of every input (spline) and group (Gaussian process), with
    EVPI, ranked by EVPPI then R^2."""
    total = evpi(inb)
    keys = [p.key for p in params]
    rows = []
    for j, p in enumerate(params):
        fit, r2 = spline_fit(X[:, j], inb)
        rows.append(
            {
                "kind": "input",
                "name": p.key,
                "inputs": p.key,
                "calibrated": is_calibrated(p),
                "method": "P-spline, GCV",
                "evppi_gbp_m": _evppi(fit, r2, total),
                "r2": r2,
            }
        )
    for name, members in grouped.items():
        cols = [keys.index(k) for k in members]
        fit, r2 = spline_fit(X[:, cols[0]], inb) if len(cols) == 1 else gp_fit(X[:, cols], inb)
        rows.append(
            {
                "kind": "group",
                "name": name,
                "inputs": " ".join(members),
                "calibrated": all(is_calibrated(params[c]) for c in cols),
                "method": "P-spline, GCV" if len(cols) == 1 else "Gaussian process (ARD)",
                "evppi_gbp_m": _evppi(fit, r2, total),
                "r2": r2,
            }
        )
    df = pd.DataFrame(rows)
    df["evpi_gbp_m"] = total
    df["share_of_evpi"] = df["evppi_gbp_m"] / total if total > 0 else 0.0
    return df.sort_values(["kind", "evppi_gbp_m", "r2"], ascending=[True, False, False]).reset_index(drop=True)
