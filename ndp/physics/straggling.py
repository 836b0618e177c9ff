"""Energy-straggling models: each as a factor on Bohr's variance, per target element.

Bohr's straggling (N. Bohr, Mat. Fys. Medd. Dan. Vid. Selsk. 18 (1948) no. 8) is the
high-velocity limit: a layer of N·s atoms/cm² of atomic number Z₂ widens the energy of an ion of
charge Z₁ by Ω_B² = 4π Z₁² e⁴ Z₂ N s, whatever the ion's energy. Slower ions cannot transfer
Bohr's energies to the target's inner electrons, and carry a fluctuating charge; the models
differ in how they correct for that (the choices SIMNRA offers; M. Mayer, SIMNRA user's guide,
"Energy loss straggling"):

``"bohr"``
    Ω² = Ω_B²: an upper bound at the energies of NDP (0.3–0.9 MeV/u).
``"lindhard-scharff"``
    Ω² = Ω_B² · L(χ)/2 for χ < 3, Ω_B² above, with L(χ) = 1.36 χ^½ − 0.016 χ^(3/2) and
    χ = v²/(Z₂ v₀²) the squared ion velocity in units of Z₂ Bohr velocities (J. Lindhard and
    M. Scharff, Mat. Fys. Medd. Dan. Vid. Selsk. 27 (1953) no. 15; the factor is capped at 1).
``"chu"``
    Ω² = Ω_B² · H(E/M₁, Z₂): W. K. Chu's Hartree–Fock–Slater calculation of the electron
    velocities in the target atoms (Phys. Rev. A 13 (1976) 2057), as fitted by Q. Yang,
    D. J. O'Connor and Z. Wang (Nucl. Instr. Meth. B 61 (1991) 149):
    H = 1 / (1 + A₁ ε^A₂ + A₃ ε^A₄), ε = E/M₁ in MeV/u, with four coefficients per Z₂ (their
    table, transcribed in :data:`CHU_COEFFICIENTS`). Bohr for hydrogen (no coefficients).
``"yang"``
    Yang et al.'s empirical formula (same paper), which adds the straggling from charge-state
    fluctuations to Chu's: Ω²/Ω_B² = γ² H + ΔΩ²/Ω_B², with γ the ion's effective-charge fraction
    (1 for hydrogen ions; for He the Ziegler–Biersack–Littmark fit, see :func:`he_charge_fraction`)
    and ΔΩ²/Ω_B² = K · B₁ Γ / ((ε' − B₂)² + Γ²), Γ = B₃ (1 − exp(−B₄ ε')):
    for hydrogen ions K = 1, ε' = ε (:data:`YANG_HYDROGEN`); for heavier ions in solids
    K = Z₁^(4/3) / Z₂^(1/3), ε' = ε / (Z₁^(3/2) Z₂^(1/2)) (:data:`YANG_HEAVY`).

Compounds add the elements' variances by their atom fractions (Bragg's rule for straggling).
The default, :data:`DEFAULT_MODEL`, is ``"lindhard-scharff"``: it is the model every earlier
ndp analysis used (so that results and fitted ``width_scale`` values stay comparable), it
reduces Bohr where the α and triton of ⁶Li(n,α)t are slow (the end of their range, which sets
the deepest visible depth), and the instrument fit frees a scale on it anyway
(:attr:`ndp.physics.detector.Detector.straggling_scale`). Against pycatima (CATIMA 1.7) through Cu,
Bohr agrees best at the full energies (``benchmarks/bench_physics.py --straggling`` prints the
table); the corrected models are 10–35 % narrower there.
"""

from __future__ import annotations

import numpy as np

from ndp.physics import constants as C

__all__ = [
    "CHU_COEFFICIENTS",
    "DEFAULT_MODEL",
    "MODELS",
    "YANG_HEAVY",
    "YANG_HYDROGEN",
    "bohr_ratio",
    "he_charge_fraction",
]

MODELS = ("bohr", "lindhard-scharff", "chu", "yang")
DEFAULT_MODEL = "lindhard-scharff"

#: Yang et al. (1991) constants B₁…B₄ of the charge-exchange term for hydrogen ions.
YANG_HYDROGEN = (0.1955, 0.6941, 2.522, 1.040)
#: Yang et al. (1991) constants C₁…C₄ of the charge-exchange term for heavier ions in solids.
YANG_HEAVY = (1.273e-2, 3.458e-2, 0.3931, 3.812)

# Chu's correction as fitted by Yang et al. (1991): A1 A2 A3 A4 per Z2 = 2…97 (one row each).
_CHU_TABLE = """
-0.3291 -0.8312 0.2460 -1.0220
-0.5615 -0.5898 0.5205 -0.7258
-0.5280 -0.4981 0.5519 -0.5865
-0.5125 -0.4625 0.5660 -0.5190
-0.5127 -0.8595 0.5626 -0.8721
-0.5174 -1.1930 0.5565 -1.1980
-0.5179 -1.1850 0.5560 -1.2070
-0.5209 -0.9355 0.5590 -1.0250
-0.5255 -0.7766 0.5720 -0.9412
-0.5776 -0.6665 0.6598 -0.8484
-0.6013 -0.6045 0.7321 -0.7671
-0.5781 -0.5518 0.7605 -0.6919
-0.5587 -0.4981 0.7835 -0.6195
-0.5466 -0.4656 0.7978 -0.5771
-0.5406 -0.4690 0.8031 -0.5718
-0.5391 -0.5061 0.8024 -0.5974
-0.5380 -0.6483 0.7962 -0.6970
-0.5355 -0.7722 0.7962 -0.7839
-0.5329 -0.7720 0.7988 -0.7846
-0.5335 -0.7671 0.7984 -0.7933
-0.5324 -0.7612 0.7998 -0.8031
-0.5305 -0.7300 0.8031 -0.7990
-0.5307 -0.7178 0.8049 -0.8216
-0.5248 -0.6621 0.8165 -0.7919
-0.5180 -0.6502 0.8266 -0.7986
-0.5084 -0.6408 0.8396 -0.8048
-0.4967 -0.6331 0.8549 -0.8093
-0.4861 -0.6508 0.8712 -0.8432
-0.4700 -0.6186 0.8961 -0.8132
-0.4545 -0.5720 0.9227 -0.7710
-0.4404 -0.5226 0.9481 -0.7254
-0.4288 -0.4778 0.9701 -0.6850
-0.4199 -0.4425 0.9874 -0.6539
-0.4131 -0.4188 0.9998 -0.6332
-0.4089 -0.4057 1.0070 -0.6218
-0.4039 -0.3913 1.0150 -0.6107
-0.3987 -0.3698 1.0240 -0.5938
-0.3977 -0.3608 1.0260 -0.5852
-0.3972 -0.3600 1.0260 -0.5842
-0.3985 -0.3803 1.0200 -0.6013
-0.3985 -0.3979 1.0150 -0.6168
-0.3968 -0.3990 1.0160 -0.6195
-0.3971 -0.4432 1.0050 -0.6591
-0.3944 -0.4665 1.0010 -0.6825
-0.3924 -0.5109 0.9921 -0.7235
-0.3882 -0.5158 0.9947 -0.7343
-0.3838 -0.5125 0.9999 -0.7370
-0.3786 -0.4976 1.0090 -0.7310
-0.3741 -0.4738 1.0200 -0.7155
-0.3969 -0.4496 1.0320 -0.6982
-0.3663 -0.4297 1.0430 -0.6828
-0.3630 -0.4120 1.0530 -0.6689
-0.3597 -0.3964 1.0620 -0.6564
-0.3555 -0.3809 1.0720 -0.6454
-0.3525 -0.3607 1.0820 -0.6289
-0.3505 -0.3465 1.0900 -0.6171
-0.3397 -0.3570 1.1020 -0.6384
-0.3314 -0.3552 1.1130 -0.6441
-0.3235 -0.3531 1.1230 -0.6498
-0.3150 -0.3483 1.1360 -0.6539
-0.3060 -0.3441 1.1490 -0.6593
-0.2968 -0.3396 1.1630 -0.6649
-0.2935 -0.3225 1.1760 -0.6527
-0.2797 -0.3262 1.1940 -0.6722
-0.2704 -0.3202 1.2100 -0.6770
-0.2815 -0.3227 1.2480 -0.6775
-0.2880 -0.3245 1.2810 -0.6801
-0.3034 -0.3263 1.3270 -0.6778
-0.2936 -0.3215 1.3430 -0.6835
-0.3282 -0.3200 1.3980 -0.6650
-0.3260 -0.3070 1.4090 -0.6552
-0.3511 -0.3074 1.4470 -0.6442
-0.3501 -0.3064 1.4500 -0.6442
-0.3490 -0.3027 1.4550 -0.6418
-0.3487 -0.3048 1.4570 -0.6447
-0.3478 -0.3074 1.4600 -0.6483
-0.3501 -0.3283 1.4540 -0.6669
-0.3494 -0.3373 1.4550 -0.6765
-0.3485 -0.3373 1.4560 -0.6774
-0.3462 -0.3300 1.4630 -0.6728
-0.3462 -0.3225 1.4690 -0.6662
-0.3453 -0.3094 1.4790 -0.6553
-0.3844 -0.3134 1.5240 -0.6412
-0.3848 -0.3018 1.5310 -0.6303
-0.3862 -0.2955 1.5360 -0.6237
-0.4262 -0.2991 1.5860 -0.6115
-0.4278 -0.2910 1.5900 -0.6029
-0.4303 -0.2817 1.5940 -0.5927
-0.4315 -0.2719 1.6010 -0.5829
-0.4359 -0.2914 1.6050 -0.6010
-0.4365 -0.2982 1.6080 -0.6080
-0.4253 -0.3037 1.6120 -0.6150
-0.4335 -0.3245 1.6160 -0.6377
-0.4307 -0.3292 1.6210 -0.6447
-0.4284 -0.3204 1.6290 -0.6380
-0.4227 -0.3217 1.6360 -0.6438
"""

#: Chu's correction coefficients A₁…A₄ (Yang et al. 1991), shape (98, 4), row = Z₂; rows 0 and
#: 1 are NaN (no fit for hydrogen: Bohr is used).
CHU_COEFFICIENTS = np.vstack(
    [np.full((2, 4), np.nan), np.array(_CHU_TABLE.split(), dtype=float).reshape(-1, 4)]
)
CHU_COEFFICIENTS.flags.writeable = False

# ε = E/M₁ is floored here (MeV/u) so that the fits' negative powers stay finite at the end of
# a particle's range, where the variance added is negligible anyway.
_EPS_FLOOR_MEV_U = 1e-4


def he_charge_fraction(energy_keV_u) -> np.ndarray:
    """Squared effective-charge fraction γ² of He ions, Ziegler–Biersack–Littmark's fit.

    γ² = 1 − exp(−Σ aᵢ Bⁱ), B = ln(E / (keV/u)), a = (0.7446, 0.1429, 0.01562, −0.00267, 0, 0,
    0, 0, 1.35e−6) (J. F. Ziegler, J. P. Biersack, U. Littmark, *The Stopping and Range of Ions
    in Solids*, Pergamon 1985, ch. 3).

    Parameters
    ----------
    energy_keV_u : array_like
        Energy per mass unit, keV/u.
    """
    b = np.log(np.maximum(np.asarray(energy_keV_u, dtype=float), 1.0))
    s = 0.7446 + 0.1429 * b + 0.01562 * b**2 - 0.00267 * b**3 + 1.35e-6 * b**8
    return 1.0 - np.exp(-s)


def _chu(eps: np.ndarray, z2: np.ndarray) -> np.ndarray:
    zi = np.clip(z2.astype(int), 0, CHU_COEFFICIENTS.shape[0] - 1)
    a = CHU_COEFFICIENTS[zi]  # (n_el, 4)
    with np.errstate(invalid="ignore"):
        denom = 1.0 + a[:, 0] * eps ** a[:, 1] + a[:, 2] * eps ** a[:, 3]
        h = 1.0 / denom
    # Hydrogen (no fit) and, defensively, any non-positive denominator: Bohr.
    return np.where((z2 <= 1) | ~(denom > 0), 1.0, h)


def _yang_extra(eps: np.ndarray, z1: int, z2: np.ndarray) -> np.ndarray:
    if z1 == 1:
        b1, b2, b3, b4 = YANG_HYDROGEN
        gamma = b3 * (1.0 - np.exp(-b4 * eps))
        return b1 * gamma / ((eps - b2) ** 2 + gamma**2)
    c1, c2, c3, c4 = YANG_HEAVY
    e = eps / (z1**1.5 * np.sqrt(z2))
    gamma = c3 * (1.0 - np.exp(-c4 * e))
    return z1 ** (4.0 / 3.0) / np.cbrt(z2) * c1 * gamma / ((e - c2) ** 2 + gamma**2)


def bohr_ratio(model: str, energy_keV, mass_u: float, z1: int, z2) -> np.ndarray:
    """Ω²/Ω_B² of each target element for ions of energy ``energy_keV``.

    Parameters
    ----------
    model : {"bohr", "lindhard-scharff", "chu", "yang"}
    energy_keV : array_like of shape S
        Ion energy, keV.
    mass_u : float
        Ion mass, u.
    z1 : int
        Ion atomic number.
    z2 : array_like of shape (n_el,)
        Target elements' atomic numbers.

    Returns
    -------
    ndarray of shape S + (n_el,)
        Dimensionless; multiply by 4π e⁴ Z₁² Z₂ N s and sum over the elements' atom fractions.
    """
    e = np.maximum(np.asarray(energy_keV, dtype=float), 0.0)[..., None]
    z2 = np.asarray(z2, dtype=float)
    if model == "bohr":
        return np.ones(np.broadcast_shapes(e.shape, z2.shape))
    if model == "lindhard-scharff":
        chi = e / mass_u / C.BOHR_VELOCITY_KEV_PER_U / z2
        # The fit holds for χ < 3 (it turns negative far beyond); above, Bohr.
        ls = np.clip(0.5 * (1.36 * np.sqrt(chi) - 0.016 * chi**1.5), 0.0, 1.0)
        return np.where(chi < 3.0, ls, 1.0)
    eps = np.maximum(e / mass_u * 1e-3, _EPS_FLOOR_MEV_U)  # MeV/u
    h = _chu(eps, z2)
    if model == "chu":
        return h
    if model == "yang":
        gamma2 = he_charge_fraction(e / mass_u) if z1 == 2 else 1.0
        return gamma2 * h + _yang_extra(eps, z1, z2)
    raise ValueError(f"straggling model: expected one of {', '.join(MODELS)}, got {model!r}")
