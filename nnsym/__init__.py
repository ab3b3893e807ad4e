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
from . import errors, testing
from .analysis.axioms import AxiomVerdict, OSReport, os_axioms
from .analysis.couplings import (
    CONVENTIONS as coupling_conventions,
)
from .analysis.couplings import (
    KernelIntegral,
    LatticeCoupling,
    LocalFit,
    QuarticCoupling,
    fit_local_couplings,
    kernel_eft,
    kernel_integral,
    lattice_quartic_coupling,
    local_term_correlators,
    quartic_coupling,
)
from .analysis.criticality import CriticalPoint, DepthProfile, critical_point, sampled_excess_kurtosis, vertex_vs_depth
from .analysis.deep_exact import exact_moments, exact_output_moment, gram_moment_step, gram_symbol, input_product_symbol
from .analysis.deformation import DeformedEstimate, FirstOrderDeformation, deformed_monte_carlo, first_order_deformation
from .analysis.design import inverse_design
from .analysis.field_density import (
    DensityComparison,
    FieldDensity,
    compare_with_monte_carlo,
    edgeworth_density,
    field_density,
    gaussian_density,
    single_neuron_characteristic_function,
)
from .analysis.finite_width import (
    FiniteWidthCorrelator,
    FiniteWidthExpansion,
    PairTensor,
    finite_width_correlator,
    finite_width_expansion,
)
from .analysis.generating import GeneratingFunctional, cumulant_generating_functional, leading_power
from .analysis.independence import IndependenceSplit, independence_breaking, independence_monte_carlo, independent_twin
from .analysis.momentum_coupling import (
    MomentumCoupling,
    MomentumFourPoint,
    momentum_connected_four_point,
    momentum_quartic_coupling,
)
from .analysis.nngp import DeepKernel, deep_kernels, empirical_ntk, gp_posterior, ntk, ntk_predict, sample_deep_mlp
from .analysis.six_point import (
    GaussianDeviation,
    SixPointPrediction,
    gaussian_deviation,
    gaussian_deviation_monte_carlo,
    pairings,
    six_point_prediction,
    sorted_tuples,
)
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
from .errors import LatexError, NNSymError, NNSymWarning, NoClosedForm
from .model import zoo
from .model.correlator import Correlator
from .model.deep import DeepMLP
from .model.latex import compile_tex, split_prefactor, write_tex
from .model.network import CostWarning, DerivationCost, Input, Network, TooExpensive, moebius, set_partitions
from .numeric.gaussian_moments import ActivationMoments, activation_moments, sign_moment, sign_polynomial_moment
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
    "write_tex",
    "compile_tex",
    "split_prefactor",
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
    "LatexError",
    "errors",
    "testing",
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
    "finite_width_expansion",
    "FiniteWidthExpansion",
    "finite_width_correlator",
    "FiniteWidthCorrelator",
    "PairTensor",
    "activation_moments",
    "ActivationMoments",
    "sign_moment",
    "sign_polynomial_moment",
    "critical_point",
    "CriticalPoint",
    "vertex_vs_depth",
    "DepthProfile",
    "sampled_excess_kurtosis",
    "exact_moments",
    "exact_output_moment",
    "gram_moment_step",
    "gram_symbol",
    "input_product_symbol",
    "power_spectrum",
    "PowerSpectrum",
    "Verdict",
    "os_axioms",
    "OSReport",
    "AxiomVerdict",
    "inverse_design",
    "independence_breaking",
    "IndependenceSplit",
    "independent_twin",
    "independence_monte_carlo",
    "cumulant_generating_functional",
    "GeneratingFunctional",
    "leading_power",
    "field_density",
    "FieldDensity",
    "edgeworth_density",
    "gaussian_density",
    "compare_with_monte_carlo",
    "DensityComparison",
    "single_neuron_characteristic_function",
    "quartic_coupling",
    "QuarticCoupling",
    "coupling_conventions",
    "kernel_eft",
    "kernel_integral",
    "KernelIntegral",
    "lattice_quartic_coupling",
    "LatticeCoupling",
    "fit_local_couplings",
    "local_term_correlators",
    "LocalFit",
    "momentum_connected_four_point",
    "momentum_quartic_coupling",
    "MomentumFourPoint",
    "MomentumCoupling",
    "deformed_monte_carlo",
    "first_order_deformation",
    "DeformedEstimate",
    "FirstOrderDeformation",
    "gaussian_deviation",
    "GaussianDeviation",
    "gaussian_deviation_monte_carlo",
    "six_point_prediction",
    "SixPointPrediction",
    "sorted_tuples",
    "pairings",
]


def clear_cache() -> None:
    """Forget memoised results (sympy's cache and nnsym's module-level ones), e.g. before timing.

    A network's own correlator cache lives on the network; build a new one to start afresh.
    """
    import sympy

    sympy.core.cache.clear_cache()
    clear_engine_caches()
