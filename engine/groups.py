"""The staff groups of the domain (domain.md): BPMN candidate groups and lanes name these."""

from __future__ import annotations

GROUPS: dict[str, tuple[str, str]] = {
    "customer_service": ("客服中心", "Customer service"),
    "tech_support": ("技术支持", "Tech support"),
    "technician": ("维修工程师", "Technician"),
    "warehouse": ("配件管理员", "Warehouse"),
    "supervisor": ("售后主管", "Supervisor"),
    "finance": ("财务部", "Finance"),
    "logistics": ("商务部门", "Logistics"),
    "marketing": ("市场部", "Marketing"),
    "emergency_team": ("应急响应小组", "Emergency team"),
    "admin": ("管理员", "Administrator"),
    "process_owner": ("流程负责人", "Process owner"),
}

STAFF_GROUPS = [g for g in GROUPS if g not in ("admin", "process_owner")]

_BY_NAME = {name.casefold(): gid for gid, names in GROUPS.items() for name in (gid, *names)}


def group_for_lane(lane_name: str | None) -> str | None:
    """The group a lane stands for: its id, its Chinese or its English name; else the name itself."""
    if not lane_name:
        return None
    name = lane_name.strip()
    return _BY_NAME.get(name.casefold(), name)
