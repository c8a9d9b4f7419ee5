"""Background jobs of the plans app (procrastinate): reading a large DXF drawing.

The job only calls :func:`plans.services.version_process`, which runs the reader in a child process
limited in memory and CPU time (``TAAMIR_PLAN_JOB_MEMORY_MB``, ``TAAMIR_PLAN_JOB_CPU_SECONDS``); a drawing
that exceeds a limit is marked refused with the reason, never left processing.
"""

from __future__ import annotations

from procrastinate.contrib.django import app


@app.task(queue="plans")
def process_plan_version(version_id: int) -> None:
    """Read one uploaded plan version that was too large to read during the upload."""
    from plans.services import version_process

    version_process(version_id=version_id)
