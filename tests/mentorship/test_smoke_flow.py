from enrollments.models import Enrollment, JourneyFlags
from mentorship.enums import MatchStatus
from mentorship.models import Match
from mentorship.services import match_end, matches_approve, matches_propose


def test_propose_approve_end(program, mentor_profile, mentee_profile, operator):
    mentor = mentor_profile("m@example.org", skills=["python"], capacity=2)
    a = mentee_profile("a@example.org", skills=["python"])
    mentee_profile("b@example.org", skills=["sql"], languages=["de"])
    batch = matches_propose(program=program, actor=operator)
    proposals = list(batch.matches.all())
    assert [(p.mentor_id, p.mentee_id) for p in proposals] == [(mentor.user_id, a.user_id)]
    assert [u["code"] for u in batch.unmatched] == ["no_language"]
    matches_approve(program=program, proposal_ids=[proposals[0].pk], actor=operator)
    match = Match.objects.get(pk=proposals[0].pk)
    assert match.status == MatchStatus.ACTIVE
    assert Enrollment.objects.get(user_id=a.user_id, program=program).role == "mentee"
    assert JourneyFlags.objects.get(user_id=a.user_id).flags["match_active"] is True
    match_end(match=match, end_reason="completed", actor=operator)
    assert Enrollment.objects.get(user_id=a.user_id, program=program).status == "completed"
    assert Enrollment.objects.get(user_id=mentor.user_id, program=program).status == "completed"
    assert JourneyFlags.objects.get(user_id=a.user_id).flags["feedback_pending"] is True
