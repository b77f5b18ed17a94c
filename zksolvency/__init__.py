"""zksolvency: zero-knowledge proofs of solvency."""
__version__ = "0.1.0"
