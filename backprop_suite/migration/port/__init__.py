"""The port: NEW.py's program loaded, TF1's weights carried into it, its optimizer's state."""
