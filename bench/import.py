"""Partner import at scale. Prints one JSON line per figure:

- `partner_import`: a generated buddy export of 100,000 records (users, matches, events attended,
  check-ins, feedback, milestones as CSV files) imported into an empty buddy program, with the
  enrollment statuses and journey flags of everyone settled (target: under 60 s);
- `partner_import_again`: the same export imported a second time (everything unchanged).

    python bench/import.py [--records 100000] [--chunk 2000] [--no-again]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from _setup import report, setup
from _setup import scaled as bench_scaled

DOMAIN = "partner.bench.local"
PROGRAM_NAME = "Bench buddy import"


def _cleanup(program) -> None:
    """Remove what an earlier run left in the bench program (people, records, events)."""
    from django.db import connection

    pid = str(program.pk)
    like = f"%@{DOMAIN}"
    users = "SELECT id FROM accounts_user WHERE email LIKE %s"
    matches = "SELECT id FROM mentorship_match WHERE program_id = %s"
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM crm_sync_outboxevent WHERE payload->>'program_id' = %s", [pid])
        cursor.execute(f"DELETE FROM mentorship_checkin WHERE match_id IN ({matches})", [pid])
        cursor.execute(f"DELETE FROM mentorship_feedback WHERE match_id IN ({matches})", [pid])
        for table in ("mentorship_activity", "mentorship_milestone", "mentorship_match", "mentorship_profile"):
            cursor.execute(f"DELETE FROM {table} WHERE program_id = %s", [pid])
        cursor.execute("DELETE FROM enrollments_enrollment WHERE program_id = %s", [pid])
        cursor.execute(f"DELETE FROM enrollments_journeyflags WHERE user_id IN ({users})", [like])
        cursor.execute(f"DELETE FROM accounts_externalidentity WHERE user_id IN ({users})", [like])
        cursor.execute("DELETE FROM accounts_user WHERE email LIKE %s", [like])


def _program():
    from programs.models import BeneficiaryGroup, Program
    from programs.services import beneficiary_group_create, program_create, program_set_status
    from templates_app.models import ProgramTemplate
    from templates_app.services import templates_seed_builtin

    program = Program.objects.filter(name=PROGRAM_NAME).first()
    if program is not None:
        return program
    templates_seed_builtin()
    group = BeneficiaryGroup.objects.filter(key="bench").first() or beneficiary_group_create(key="bench", name="Bench")
    template = ProgramTemplate.objects.get(template_key="buddy-standard", version=1)
    program = program_create(template=template, name=PROGRAM_NAME, beneficiary_group=group, timezone="Europe/Berlin")
    program_set_status(program=program, status="active")
    return program


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=bench_scaled(100_000, 200))
    parser.add_argument("--chunk", type=int, default=2000)
    parser.add_argument("--no-again", action="store_true", help="Skip the second, unchanged import.")
    args = parser.parse_args()
    setup()

    from mentorship.partners.batch import partner_import
    from mentorship.partners.sample import generate, scaled, write_export

    program = _program()
    _cleanup(program)
    sizes = scaled(args.records)
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        write_export(generate(sizes, domain=DOMAIN), directory)
        generated = time.perf_counter() - started

        started = time.perf_counter()
        result = partner_import(source="buddy", path=directory, program_key=program.program_key, chunk_size=args.chunk)
        seconds = time.perf_counter() - started
        total = result.total
        report(
            "partner_import",
            sizes.total,
            seconds,
            created=total.created,
            updated=total.updated,
            unchanged=total.unchanged,
            rejected=total.rejected,
            people_settled=result.settled,
            per_kind={kind: c.created for kind, c in result.counts.items()},
            generate_seconds=round(generated, 3),
            target_seconds=60,
        )
        if not args.no_again:
            started = time.perf_counter()
            again = partner_import(
                source="buddy", path=directory, program_key=program.program_key, chunk_size=args.chunk
            )
            seconds = time.perf_counter() - started
            report(
                "partner_import_again",
                sizes.total,
                seconds,
                baseline="partner_import",
                unchanged=again.total.unchanged,
                created=again.total.created,
                updated=again.total.updated,
                rejected=again.total.rejected,
            )


if __name__ == "__main__":
    main()
