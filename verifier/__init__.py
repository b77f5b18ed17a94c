"""Transcript, formats and the Python verifier (independent of the prover)."""
