"""``GET /hardware`` and ``GET /hardware/{hardware_id}``: the accelerator catalog."""

from __future__ import annotations

from fastapi import APIRouter, Path

from infercast.hardware import Hardware, get_hardware, list_hardware

from ..errors import ERROR_RESPONSES
from ..schemas import HardwareSummary
from ..state import validate_hardware_id

router = APIRouter(tags=["hardware"], responses=ERROR_RESPONSES)


@router.get("/hardware", response_model=list[HardwareSummary], summary="List accelerators")
def list_parts() -> list[HardwareSummary]:
    """Every part with its headline figures (decimal SI units, dense peaks)."""
    return [
        HardwareSummary(
            id=hw.id,
            name=hw.name,
            vendor=hw.vendor,
            aliases=list(hw.aliases),
            memory_bytes=hw.memory_bytes,
            memory_bandwidth_bytes_per_s=hw.memory_bandwidth_bytes_per_s,
            peak_flops={str(k): v for k, v in hw.peak_flops.items()},
            scale_up_name=hw.scale_up.name,
            scale_up_bandwidth_bytes_per_s=hw.scale_up.bandwidth_bytes_per_s,
            scale_up_domain_size=hw.scale_up.domain_size,
        )
        for hw in list_hardware()
    ]


@router.get("/hardware/{hardware_id}", response_model=Hardware, summary="One accelerator")
def get_part(
    hardware_id: str = Path(description="Hardware id or alias, e.g. 'h100' or 'H100-SXM'."),
) -> Hardware:
    """Every figure of one part with its source, and its efficiency parameters."""
    validate_hardware_id(hardware_id)
    return get_hardware(hardware_id)
