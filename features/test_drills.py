"""Every feature file in this folder, bound once."""

import pytest
from pytest_bdd import scenarios

# pytest-bdd resolves step fixtures only while a scenario runs; naming the lab here puts it in every scenario's
# fixture closure, so tests/markers.py marks the drills `lab` and keeps them on the lab's worker.
pytestmark = pytest.mark.usefixtures("lab")

scenarios(".")
