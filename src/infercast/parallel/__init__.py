"""Parallelism plans and collective-communication time."""

from infercast.parallel.collectives import Collective, CollectiveTimer, collective_time_s
from infercast.parallel.plan import ParallelPlan, PlanError

__all__ = ["Collective", "CollectiveTimer", "ParallelPlan", "PlanError", "collective_time_s"]
