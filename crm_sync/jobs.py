"""The `crm_dispatch` job: deliver the outbox, then process due inbound events."""

from core.jobs import JobContext
from crm_sync.dispatcher import dispatch
from crm_sync.services import inbound_process_due


def crm_dispatch(context: JobContext) -> None:
    totals = dispatch(progress=context.progress)
    for key, value in totals.items():
        context.count(key, value)
    for key, value in inbound_process_due().items():
        context.count(key, value)
