r"""Layer 6, analysis: what a physicist asks of the correlators.

Power spectra :math:`G(p)`, symmetry verdicts (translations, rotations, permutations, Z2),
the Osterwalder-Schrader axioms, inverse design of a network from a spectrum, NNGP/NTK
kernels of deep networks; the interactions of finite-width networks: independence breaking
(``independence``), the cumulant generating functional (``generating``), the density of field
values and its Edgeworth series (``field_density``), couplings of the effective action in
position space, on a lattice and as a local fit (``couplings``) and in momentum space
(``momentum_coupling``), the phi^4 deformation (``deformation``), the NN-QFT paper's tests of
Gaussianity and of the six-point function (``six_point``); and the shared analysis toolkit.
Built on every layer below.
"""
