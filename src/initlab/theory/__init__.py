"""initlab.theory: mean-field signal propagation and Jacobian spectra for any activation.

Activations in, numbers out (no models): the length and correlation maps and their fixed points
(Poole et al. 2016), the depth scales ξ_q, ξ_c and the phases (Schoenholz et al. 2017), the
critical line parametrized by q* (Xiao et al. 2018), phase diagrams, Jacobian spectra and
dynamical isometry (Pennington, Schoenholz & Ganguli 2017), and a finite-width simulation to
check it all against real random networks.

Examples:
    >>> from initlab import theory
    >>> mf = theory.MeanField("tanh", sigma_w2=2.5, sigma_b2=0.05)
    >>> mf.phase, round(mf.xi_c, 3)
    ('chaotic', 11.796)
    >>> round(theory.critical_sigma_w2("tanh", sigma_b2=0.05), 6)
    1.760955
"""

from initlab.theory.critical import (
    CriticalInit,
    CriticalLine,
    critical_init,
    critical_line,
    critical_sigma_w2,
)
from initlab.theory.jacobian import (
    DynamicalIsometryReport,
    JacobianMoments,
    dynamical_isometry_report,
    jacobian_moments,
)
from initlab.theory.meanfield import CRITICAL_TOL, MeanField, depth_scale
from initlab.theory.phase import PHASE_CODES, PhaseDiagram, phase_diagram, series_trajectory
from initlab.theory.simulate import Simulation, simulate

__all__ = [
    "CRITICAL_TOL",
    "PHASE_CODES",
    "CriticalInit",
    "CriticalLine",
    "DynamicalIsometryReport",
    "JacobianMoments",
    "MeanField",
    "PhaseDiagram",
    "Simulation",
    "critical_init",
    "critical_line",
    "critical_sigma_w2",
    "depth_scale",
    "dynamical_isometry_report",
    "jacobian_moments",
    "phase_diagram",
    "series_trajectory",
    "simulate",
]
