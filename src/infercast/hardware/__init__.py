"""Accelerator catalog: datasheet figures (every one sourced) and calibratable efficiencies.

Units are decimal SI: bytes (1 GB = 1e9 B), bytes/s, FLOP/s (dense, not sparse), seconds.
Link bandwidths are per GPU per direction.
"""

from infercast.hardware.registry import (
    HardwareFileError,
    get_hardware,
    hardware_ids,
    list_hardware,
    load_hardware_file,
    parse_hardware,
)
from infercast.hardware.schema import (
    COMPUTE_CLASSES,
    EFFICIENCY_BOUNDS,
    Efficiency,
    Hardware,
    ScaleOut,
    ScaleUp,
    Source,
)

__all__ = [
    "COMPUTE_CLASSES",
    "EFFICIENCY_BOUNDS",
    "Efficiency",
    "Hardware",
    "HardwareFileError",
    "ScaleOut",
    "ScaleUp",
    "Source",
    "get_hardware",
    "hardware_ids",
    "list_hardware",
    "load_hardware_file",
    "parse_hardware",
]
