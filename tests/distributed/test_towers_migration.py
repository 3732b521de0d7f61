"""The migration check on the gallery's data-parallel program, towers (two replicas on logical
CPUs, which only this folder splits): its ports agree, its wrong port fails at the first step,
by many envelopes (the expectations: tests/gallery.py)."""

import pytest
from gallery import check_first_step_mistake, check_gallery_program


@pytest.mark.slow
def test_the_towers_ports_agree_and_its_wrong_port_fails_where_expected():
    check_gallery_program("towers")


@pytest.mark.slow
def test_the_towers_mistake_at_the_first_step_is_outside_many_envelopes():
    check_first_step_mistake("towers", "towers_replica_mean")
