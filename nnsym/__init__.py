r"""nnsym: exact correlators of neural-network field theories.

A scalar field built from N neurons, :math:`\phi(x) = \sum_{i\le N} a_i h_i(x)`,
with random parameters; nnsym derives its correlators
:math:`G^{(n)}(x_1..x_n) = E_\theta[\phi(x_1)\cdots\phi(x_n)]` exactly (symbolic
in N), prints them as LaTeX and evaluates them as numpy kernels.

>>> import nnsym as ns
>>> G2 = ns.zoo.cos_net(2).correlator(2)
>>> G2.expr
sigma_a**2*exp(-sigma_b**2*Dot(x_1 - x_2, x_1 - x_2)/4)/2
"""
from . import zoo
from .checks import SpotCheckError
from .correlators import Correlator
from .distributions import Cauchy, Density, Laplace, Normal, RandomSymbol, RandomVector, Uniform, UniformBall
from .expectation import DivergentExpectation, Expectation, expectation, is_exact, split_domain, with_domain
from .kernels import NumericWarning
from .montecarlo import MonteCarloEstimate, NetworkSampler, UnreliableErrorWarning, monte_carlo
from .validation import ValidationReport, validate
from .gaussian import GaussianExpectation, pair_expectation
from .nngp import DeepKernel, deep_kernels, empirical_ntk, gp_posterior, ntk, ntk_predict, sample_deep_mlp
from .networks import CostWarning, DerivationCost, Input, Network, TooExpensive, moebius, set_partitions
from .vectors import Component, Dot, ScalarPoint, VectorSymbol, dot, expand_dot
from .spectra import PowerSpectrum, power_spectrum
from .symmetries import Verdict
from .axioms import AxiomVerdict, OSReport, os_axioms
from .design import inverse_design

__version__ = "0.1.0"

__all__ = [
    "Input",
    "Network",
    "TooExpensive",
    "CostWarning",
    "DerivationCost",
    "Correlator",
    "Normal",
    "Uniform",
    "Cauchy",
    "Laplace",
    "Density",
    "UniformBall",
    "RandomSymbol",
    "RandomVector",
    "expectation",
    "Expectation",
    "is_exact",
    "DivergentExpectation",
    "with_domain",
    "split_domain",
    "NumericWarning",
    "SpotCheckError",
    "Dot",
    "dot",
    "Component",
    "VectorSymbol",
    "ScalarPoint",
    "expand_dot",
    "set_partitions",
    "moebius",
    "zoo",
    "clear_cache",
    "monte_carlo",
    "MonteCarloEstimate",
    "NetworkSampler",
    "UnreliableErrorWarning",
    "validate",
    "ValidationReport",
    "GaussianExpectation",
    "pair_expectation",
    "DeepKernel",
    "deep_kernels",
    "ntk",
    "empirical_ntk",
    "ntk_predict",
    "gp_posterior",
    "sample_deep_mlp",
    "power_spectrum",
    "PowerSpectrum",
    "Verdict",
    "os_axioms",
    "OSReport",
    "AxiomVerdict",
    "inverse_design",
]


def clear_cache() -> None:
    """Forget memoised results (sympy's cache and nnsym's module-level ones), e.g. before timing.

    A network's own correlator cache lives on the network; build a new one to start afresh.
    """
    import importlib

    import sympy

    sympy.core.cache.clear_cache()
    # the module, not the function nnsym.expectation that shadows it as a package attribute
    importlib.import_module("nnsym.expectation")._scalar_transform_cached.cache_clear()
