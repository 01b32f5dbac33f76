"""initlab.probe: observe a model without changing it: the doctor, Jacobian spectra, the NTK.

``initlab.doctor(model, example_input)`` runs one forward and one backward pass and returns a
:class:`Diagnosis` (per-layer statistics, statuses from depth-wise trends, findings with fixes).
:func:`jacobian_spectrum` and :func:`ntk_condition` measure the input–output Jacobian's singular
values and the empirical NTK's conditioning.
"""

from initlab.probe.diagnosis import SCHEMA, STATUSES, Diagnosis, Finding, InputReport, LayerReport
from initlab.probe.doctor import doctor
from initlab.probe.spectrum import JacobianSpectrum, NTKSpectrum, jacobian_spectrum, ntk_condition
from initlab.probe.verdicts import Thresholds

__all__ = [
    "SCHEMA",
    "STATUSES",
    "Diagnosis",
    "Finding",
    "InputReport",
    "JacobianSpectrum",
    "LayerReport",
    "NTKSpectrum",
    "Thresholds",
    "doctor",
    "jacobian_spectrum",
    "ntk_condition",
]
