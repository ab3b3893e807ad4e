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
from . import errors
from .analysis.axioms import AxiomVerdict, OSReport, os_axioms
from .analysis.design import inverse_design
from .analysis.nngp import DeepKernel, deep_kernels, empirical_ntk, gp_posterior, ntk, ntk_predict, sample_deep_mlp
from .analysis.spectra import PowerSpectrum, power_spectrum
from .analysis.symmetries import Verdict
from .core.checks import SpotCheckError
from .core.laws import Law
from .core.random import (
    Cauchy,
    Density,
    Laplace,
    Normal,
    RandomSymbol,
    RandomVector,
    Uniform,
    UniformBall,
    random_parameter,
)
from .core.vectors import Component, Dot, ScalarPoint, VectorSymbol, dot, expand_dot
from .engine import clear_caches as clear_engine_caches
from .engine.expectation import DivergentExpectation, Expectation, expectation, is_exact, split_domain, with_domain
from .engine.gaussian import GaussianExpectation, pair_expectation
from .errors import NNSymError, NNSymWarning, NoClosedForm
from .model import zoo
from .model.correlator import Correlator
from .model.deep import DeepMLP
from .model.network import CostWarning, DerivationCost, Input, Network, TooExpensive, moebius, set_partitions
from .numeric.kernels import NumericWarning
from .sampling.montecarlo import MonteCarloEstimate, UnreliableErrorWarning, monte_carlo
from .sampling.sampler import NetworkSampler
from .sampling.validation import ValidationReport, validate

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
    "Law",
    "random_parameter",
    "expectation",
    "Expectation",
    "is_exact",
    "DivergentExpectation",
    "with_domain",
    "split_domain",
    "NumericWarning",
    "SpotCheckError",
    "NNSymError",
    "NNSymWarning",
    "NoClosedForm",
    "errors",
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
    "DeepMLP",
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
    import sympy

    sympy.core.cache.clear_cache()
    clear_engine_caches()
