"""The mentorship API: profiles, proposals and matches, batches and milestones for operators and
integrators (`/api/v1/admin/...`); matches, check-ins, feedback, answers to proposals and
milestones for the people matched (`/api/v1/me/...`)."""
