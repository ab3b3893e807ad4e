r"""Layer 6, analysis: what a physicist asks of the correlators.

Power spectra :math:`G(p)`, symmetry verdicts (translations, rotations, permutations, Z2),
the Osterwalder-Schrader axioms, inverse design of a network from a spectrum, NNGP/NTK
kernels of deep networks, and the shared analysis toolkit. Built on every layer below.
"""
