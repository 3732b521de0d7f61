"""Verification: the implementations by name, their comparison, the tolerances they are held to,
and the finite differences that judge gradients from outside."""
