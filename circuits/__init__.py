"""Constraint systems and the solvency circuit."""
