"""Physical constants and nuclear data that NDP of lithium needs, in ndp's units.

Units: energy keV, depth µm, density g/cm³, concentration atoms/cm³, charge mAh. Every constant
lives here once and is used from here; the unit strings written into outputs live in
:mod:`ndp.physics.units`.
"""

from __future__ import annotations

from periodictable import elements as _elements

#: Avogadro's number, 1/mol.
AVOGADRO = 6.02214076e23
#: Elementary charge, C.
ELEMENTARY_CHARGE_C = 1.602176634e-19
#: Seconds per hour.
SECONDS_PER_HOUR = 3600.0
#: Charge of 1 mAh, C (1 mA for an hour).
COULOMB_PER_MAH = 1e-3 * SECONDS_PER_HOUR
#: Li atoms per mAh of charge (1 mAh = 3.6 C), 2.247×10¹⁹.
LI_ATOMS_PER_MAH = COULOMB_PER_MAH / ELEMENTARY_CHARGE_C
#: Centimetres per micrometre (depths are µm, densities per cm³).
CM_PER_UM = 1e-4
#: Square centimetres per barn.
BARN_CM2 = 1e-24

#: Mass density of Li metal, g/cm³.
LI_METAL_DENSITY_G_CM3 = 0.534
#: Standard atomic mass of Li, g/mol (periodictable's, as every material uses).
LI_MOLAR_MASS_G_MOL = float(_elements.Li.mass)
#: Li atom density of Li metal, atoms/cm³ (≈ 4.63×10²²), the reference of relative densities.
#: Computed as :class:`ndp.physics.materials.Material` computes it, so ``Material("Li").li_atoms_cm3``
#: equals it exactly.
LI_METAL_ATOMS_CM3 = LI_METAL_DENSITY_G_CM3 * AVOGADRO / LI_MOLAR_MASS_G_MOL

#: Birth energies of the ⁶Li(n,α)³H products, keV.
ALPHA_ENERGY_KEV = 2055.0
TRITON_ENERGY_KEV = 2727.0
#: Thermal (2200 m/s) neutron capture cross section of ⁶Li, barn.
LI6_SIGMA_BARN = 940.0
#: Representative natural ⁶Li atom fraction used in NDP work (not periodictable's IUPAC midpoint).
LI6_NATURAL_ABUNDANCE = 0.0759

#: ¹⁰B(n,α)⁷Li calibration standard: thermal cross section (barn) and natural ¹⁰B fraction.
B10_SIGMA_BARN = 3837.0
B10_NATURAL_ABUNDANCE = 0.199
#: ¹⁰B(n,α)⁷Li lines, keV, with their branching ratios.
B10_LINES_KEV = {"alpha_1472": 1472.0, "alpha_1776": 1776.0, "li7_840": 840.0, "li7_1013": 1013.0}
B10_BRANCHING = {"alpha_1472": 0.94, "alpha_1776": 0.06, "li7_840": 0.94, "li7_1013": 0.06}

#: Below this density (g/cm³) a material is a gas: compound stopping keeps the gas-phase element
#: tables (no condensed-phase correction). Gases at 1 atm are ~1e-3, liquids and solids > 0.5.
GAS_DENSITY_G_CM3 = 0.01

#: Nuclear masses, u.
PROTON_MASS_U = 1.007276
ALPHA_MASS_U = 4.001506
TRITON_MASS_U = 3.01550

#: 4π e⁴ in keV² per (10¹⁵ atoms/cm²): Bohr straggling Ω² = BOHR_KEV2 · Z1² · Z2 · (N·s).
BOHR_KEV2_PER_1E15 = 2.6058e-4
#: Energy of a 1 u projectile moving at the Bohr velocity, keV.
BOHR_VELOCITY_KEV_PER_U = 24.8
#: Ratio of a Gaussian's FWHM to its standard deviation.
FWHM_PER_SIGMA = 2.3548200450309493
