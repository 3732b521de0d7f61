"""The PNG figures the commands write (matplotlib's Agg backend, selected on import)."""
