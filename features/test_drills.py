"""Every feature file in this folder, bound once."""

from pytest_bdd import scenarios

scenarios(".")
