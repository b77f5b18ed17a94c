"""Numba kernels (field, NTT, G1, MSM) and the prover."""
