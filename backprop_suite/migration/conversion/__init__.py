"""A TF1 checkpoint carried into a Keras 3 port and saved as a ``.keras`` file."""
