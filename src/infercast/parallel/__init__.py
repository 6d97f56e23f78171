"""Parallelism plans and collective-communication time."""

from infercast.parallel.collectives import Collective, collective_time_s
from infercast.parallel.plan import ParallelPlan, PlanError

__all__ = ["Collective", "ParallelPlan", "PlanError", "collective_time_s"]
