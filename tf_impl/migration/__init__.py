"""Check a TF1 program against its TF2 or Keras 3 port, stage by stage (``check_migration``)."""

from tf_impl.migration.check import STAGES, Options, Report, check_migration, check_port
from tf_impl.migration.tf1_run import run_tf1

__all__ = ["STAGES", "Options", "Report", "check_migration", "check_port", "run_tf1"]
