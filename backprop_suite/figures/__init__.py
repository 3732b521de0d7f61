"""The PNG figures the commands write, each module on matplotlib's Agg backend (it selects it
before pyplot is imported), each file written atomically (``core.outputs.save_png``)."""
