"""Partner imports of mentorship and buddy history.

- `records`: the record kinds a partner sends (users, matches, events attended, check-ins,
  feedback, milestones), their fields, and one parser per kind that turns a row of an export file
  or the payload of an inbound event into a checked record;
- `export`: reading an export directory (CSV or JSON files) into rows;
- `batch` (+ `batch_records`, `report`, `fast`): the batch import (`import_partner_export`): bulk
  reads of what exists, bulk writes in chunks, each chunk in a transaction, and a reconciliation
  report;
- `handlers`: the inbound event handlers (incremental sync), record by record through the
  mentorship services;
- `common`: program resolution and the partner lock both paths take;
- `settle`: what both paths share at the end: each person's enrollment status derived from their
  matches (source 001), and their journey flags;
- `stream`: an export turned into the equivalent stream of inbound events;
- `sample`: the generator of sample exports (`make_partner_sample`, `docs/samples/buddy/`).
"""
