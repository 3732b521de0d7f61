"""The verdict: the six stages compared, TF1's own envelope, the differences and the hints."""
