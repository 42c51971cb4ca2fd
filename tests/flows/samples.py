"""Files a campaign team would submit, written by hand for the satisfaction survey's plan."""

CAMPAIGN = "moheri-2025-q3-satisfaction"

CONTRIBUTIONS = """\
submitted_at,channel,audience,overall,services-used,ease,improve
2025-07-06T00:00:00+04:00,website,students,5,admission|scholarships,easy,
2025-07-07 09:15:00,e-survey,students,4,admission,acceptable,أتمنى تبسيط رفع المستندات
2025-07-20T13:00:00+04:00,website,researchers,2,research-funding,hard,The upload step times out
2025-08-01T08:30:00Z,website,innovators,4,equivalency|research-funding,easy,
2025-08-14T23:59:59+04:00,e-survey,students,3,equivalency,acceptable,
"""

DECISION = """\
summary:
  ar: تبسيط خطوة رفع المستندات في خدمات القبول والمعادلة
  en: Simplify the document-upload step of the admission and equivalency services
rationale:
  ar: أشار المشاركون إلى أن رفع المستندات هو الخطوة الأصعب
  en: Participants named the upload step as the hardest part
not_adopted:
  ar: طلب الدعم عبر الدردشة يحتاج إلى ميزانية العام القادم
  en: Chat support needs next year's budget
based_on_contributions: true
impact:
  - audience: researchers
    impact: Research-funding forms get the same upload fix in Q1 2026
"""

LESSONS = """\
method_understood: Yes, the team followed the six stages.
participation_drivers: The banner on the services portal.
channels_served: The website brought most answers.
contributions_useful: Yes, they pointed at the upload step.
lessons:
  - Avoid the examination period.
improvements:
  - Add an SMS channel for parents.
"""
