"""The workspace's words in Arabic and English, and numbers and times formatted for each language.

Arabic comes first: it is the default language of every page. Refusals the engine gives (by code) are
worded here for people; the engine's own detail stays in the log.
"""

from datetime import datetime

from musharaka.flows.render import locale
from musharaka.flows.render.locale import Lang
from musharaka.state.settings import get_settings

LANGS: tuple[Lang, ...] = ("ar", "en")

WORDS: dict[str, tuple[str, str]] = {
    "product": ("مشاركة", "Musharaka"),
    "skip": ("انتقل إلى المحتوى", "Skip to content"),
    "switch": ("English", "العربية"),
    "switch_title": ("Switch to English", "التبديل إلى العربية"),
    "signed_in_as": ("أنت مسجّل الدخول باسم", "Signed in as"),
    "sign_out": ("تسجيل الخروج", "Sign out"),
    "sign_in": ("تسجيل الدخول", "Sign in"),
    "sign_in_lead": (
        "سجّل الدخول بمفتاح المرور الخاص بك (بصمة الإصبع أو الوجه أو رمز الجهاز).",
        "Sign in with your passkey (fingerprint, face or your device's PIN).",
    ),
    "person_id": ("معرّفك في سجل الأشخاص", "Your id in the people registry"),
    "sign_in_button": ("تسجيل الدخول بمفتاح المرور", "Sign in with your passkey"),
    "enrol": ("إنشاء مفتاح مرور", "Create a passkey"),
    "enrol_lead": (
        "هذا الرابط صالح مرة واحدة ولمدة يوم. أنشئ مفتاح مرور على هذا الجهاز لتسجّل الدخول وتوقّع قراراتك.",
        "This link works once and for one day. Create a passkey on this device to sign in and sign your decisions.",
    ),
    "enrol_for": ("مفتاح مرور لـ", "A passkey for"),
    "enrol_button": ("إنشاء مفتاح المرور", "Create the passkey"),
    "enrolled": (
        "أُنشئ مفتاح المرور وسُجّل في سجل الأشخاص. يمكنك الآن تسجيل الدخول.",
        "Your passkey is created and recorded in the people registry. You can sign in now.",
    ),
    "registry_entry": ("المدخل في ملف سجل الأشخاص", "The entry in the people registry file"),
    "inbox": ("البوابات بانتظار قرارك", "Gates awaiting your decision"),
    "inbox_empty": ("لا توجد بوابات بانتظار قرارك الآن.", "No gate awaits your decision now."),
    "campaign": ("الحملة", "Campaign"),
    "stage": ("المرحلة", "Stage"),
    "due": ("موعد القرار", "Decision due"),
    "overdue": ("متأخرة", "Overdue"),
    "quorum": ("الموافقات", "Approvals"),
    "of": ("من", "of"),
    "returned": ("عادت بعد رفض", "Back after a rejection"),
    "attempt": ("المحاولة", "Attempt"),
    "capacity": ("بصفتك", "As"),
    "open": ("فتح", "Open"),
    "documents": ("وثائق المرحلة", "The stage's documents"),
    "document_ar": ("الوثيقة بالعربية", "The Arabic document"),
    "document_en": ("الوثيقة بالإنجليزية", "The English document"),
    "digest": ("بصمة المخرجات (SHA-256)", "Outputs digest (SHA-256)"),
    "changes": ("ما تغيّر منذ المحاولة المرفوضة", "What changed since the rejected attempt"),
    "no_changes": ("لم يتغيّر شيء في المخرجات.", "Nothing in the outputs changed."),
    "removed": ("حُذف", "Removed"),
    "added": ("أُضيف", "Added"),
    "field": ("الحقل", "Field"),
    "history": ("القرارات السابقة", "Earlier decisions"),
    "no_history": ("لا توجد قرارات سابقة على هذه المرحلة.", "No earlier decision on this stage."),
    "who": ("من", "Who"),
    "when": ("متى", "When"),
    "decision": ("القرار", "Decision"),
    "why": ("السبب أو التعليق", "Reason or comment"),
    "approve": ("موافقة", "Approve"),
    "reject": ("رفض", "Reject"),
    "extend": ("تمديد فترة المشاركة", "Extend the participation window"),
    "approved": ("وافق", "approved"),
    "rejected": ("رفض", "rejected"),
    "extended": ("مدّد", "extended"),
    "comment": ("تعليق (اختياري)", "Comment (optional)"),
    "reason": ("سبب الرفض (مطلوب)", "Reason for rejecting (required)"),
    "extend_reason": ("سبب التمديد (مطلوب)", "Reason for extending (required)"),
    "closes": ("تاريخ الإغلاق الجديد", "The new closing date"),
    "sign_note": (
        "يُطلب منك التحقق بمفتاح المرور: توقيعك يشمل الحملة والمرحلة والمحاولة وبصمة المخرجات أعلاه.",
        "You will be asked to verify with your passkey: your signature covers the campaign, stage, "
        "attempt and the outputs digest above.",
    ),
    "delegate": ("تفويض صلاحياتي", "Delegate my authority"),
    "delegate_to": ("إلى", "To"),
    "delegate_from": ("من تاريخ", "From"),
    "delegate_until": ("حتى تاريخ", "Until"),
    "delegate_reason": ("السبب", "Reason"),
    "delegated": ("سُجّل التفويض الموقّع.", "The signed delegation is recorded."),
    "delegate_note": (
        "تفويض صلاحياتك لمعتمد آخر لأيام كاملة، من اليوم ولمدة لا تتجاوز تسعين يومًا، وتوقّعه بمفتاح المرور.",
        "Lend your authority to another approver for whole days, from today and for at most ninety days, "
        "signed with your passkey.",
    ),
    "back": ("العودة إلى البوابات", "Back to the gates"),
    "done_approve": ("سُجّلت موافقتك الموقّعة.", "Your signed approval is recorded."),
    "done_reject": ("سُجّل رفضك الموقّع مع سببه.", "Your signed rejection is recorded with its reason."),
    "done_extend": ("سُجّل تمديد فترة المشاركة.", "The extension of the window is recorded."),
    "gate_passed": ("اجتازت البوابة.", "The gate passed."),
    "next_started": ("بدأ تشغيل المرحلة التالية.", "The next stage is running."),
    "next_later": ("ستُشغَّل المرحلة التالية في الجولة القادمة.", "The next stage runs at the next sweep."),
    "passkey_failed": (
        "لم يكتمل التحقق بمفتاح المرور على هذا الجهاز. لم يُسجَّل شيء.",
        "The passkey check did not complete on this device. Nothing was recorded.",
    ),
    "error": ("تعذّر إتمام الطلب. لم يُسجَّل شيء.", "The request could not be completed. Nothing was recorded."),
    "working": ("جارٍ التحقق…", "Checking…"),
}

STAGE_NAMES: dict[str, tuple[str, str]] = {
    "prepare": ("التهيئة", "Prepare"),
    "plan": ("التخطيط", "Plan"),
    "conduct": ("التنفيذ", "Conduct"),
    "analyse": ("التحليل", "Analyse"),
    "announce": ("الإعلان", "Announce"),
    "evaluate": ("التقييم", "Evaluate"),
}

CAPACITIES: dict[str, tuple[str, str]] = {
    "role": ("صاحب الصلاحية", "holder of the role"),
    "delegate": ("مفوَّض", "delegate"),
    "escalation": ("تصعيد", "escalation"),
}

# Every refusal the engine gives a decision, worded for the person who tried it.
REFUSALS: dict[str, tuple[str, str]] = {
    "self-approval": (
        "لا يجوز لك اعتماد مرحلة قدّمتها بنفسك (الفصل بين المهام).",
        "You submitted this stage and may not sign off its own gate (separation of duties).",
    ),
    "role-not-allowed": ("لا تملك صلاحية البتّ في هذه البوابة.", "You hold no role that may decide this gate."),
    "stale-digest": (
        "تغيّرت مخرجات المرحلة منذ أن راجعتها: راجعها من جديد ثم وقّع.",
        "The stage's outputs changed since you reviewed them: review them again, then sign.",
    ),
    "replayed": (
        "هذا التوقيع لمحاولة أو بوابة أخرى، فلا يمكن استخدامه هنا.",
        "This signature is for another attempt or gate and cannot be used here.",
    ),
    "already-decided": ("بُتّ في هذه البوابة من قبل.", "This gate was already decided."),
    "no-open-gate": ("لا توجد بوابة مفتوحة لهذه المرحلة الآن.", "There is no open gate for this stage now."),
    "already-approved": (
        "شُغل مقعدك في النصاب: وافقت على هذه البوابة من قبل.",
        "Your seat in the quorum is taken: you have already approved this gate.",
    ),
    "key-not-in-force": (
        "مفتاح المرور هذا ملغى أو غير سارٍ الآن.",
        "This passkey is revoked or not in force now.",
    ),
    "unknown-key": ("مفتاح المرور هذا غير مسجّل باسمك.", "This passkey is not registered to you."),
    "unknown-approver": ("لست في سجل المعتمدين.", "You are not in the approvers registry."),
    "bad-signature": (
        "التوقيع لا يطابق القرار المعروض، فلم يُقبل.",
        "The signature does not match the decision shown, so it was not accepted.",
    ),
    "bad-time": ("وقت التوقيع غير صحيح.", "The signing time is wrong."),
    "no-reason": (
        "اكتب السبب: الرفض والتمديد يحتاجان إلى سبب.",
        "Give a reason: a rejection or an extension needs one.",
    ),
    "bad-extension": (
        "تاريخ الإغلاق الجديد يجب أن يكون بعد التاريخ الحالي، وفي مرحلة التنفيذ فقط.",
        "The new closing date must be after the current one, and only at conduct.",
    ),
    "no-pending": (
        "انتهت مهلة هذا القرار قبل توقيعه. أعد المحاولة.",
        "This decision expired before it was signed. Try again.",
    ),
    "csrf": (
        "انتهت صلاحية هذه الصفحة. أعد تحميلها ثم حاول من جديد.",
        "This page has expired. Reload it and try again.",
    ),
    "signed-out": ("انتهت جلستك. سجّل الدخول من جديد.", "Your session has ended. Sign in again."),
    "sign-in-failed": (
        "تعذّر تسجيل الدخول بمفتاح المرور هذا.",
        "Signing in with this passkey did not succeed.",
    ),
    "rate-limited": (
        "محاولات كثيرة لم تنجح. انتظر خمس عشرة دقيقة ثم حاول من جديد.",
        "Too many attempts did not succeed. Wait fifteen minutes and try again.",
    ),
    "unknown-invitation": ("رابط التسجيل هذا غير صحيح.", "This enrolment link is not valid."),
    "invitation-used": (
        "استُخدم رابط التسجيل هذا من قبل. اطلب رابطًا جديدًا.",
        "This link was used already: ask for a new one.",
    ),
    "expired": (
        "انتهت صلاحية رابط التسجيل. اطلب رابطًا جديدًا.",
        "This enrolment link has expired: ask for a new one.",
    ),
    "enrol-failed": (
        "تعذّر إنشاء مفتاح المرور. لم يُسجَّل شيء.",
        "The passkey could not be created. Nothing was recorded.",
    ),
    "bad-delegation": (
        "التفويض يحتاج إلى معتمد آخر، وتاريخ نهاية بعد تاريخ البداية، من اليوم ولمدة لا تتجاوز تسعين يومًا، وسبب.",
        "A delegation needs another approver, an end after its start, from today for at most ninety days, "
        "and a reason.",
    ),
    "not_found": ("الصفحة غير موجودة.", "There is no such page."),
    "error": ("تعذّر إتمام الطلب.", "The request could not be completed."),
    "too-large": ("الطلب أكبر مما يُقبل.", "The request is larger than the service takes."),
    "plans-broken": (
        "في ملفات الخطط أخطاء تمنع المتابعة. أبلغ إدارة التخطيط لتصحيحها.",
        "The plan files have problems that stop this. Tell the planning department: musharaka validate lists them.",
    ),
    "credential-enrolled": ("مفتاح المرور هذا مسجّل من قبل.", "This passkey is enrolled already."),
    "refused": ("لم يُقبل الطلب.", "The request was refused."),
}


def word(key: str, lang: Lang) -> str:
    ar, en = WORDS[key]
    return ar if lang == "ar" else en


def pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == "ar" else pair[1]


def refusal(code: str, lang: Lang) -> str:
    return pick(REFUSALS.get(code, REFUSALS["refused"]), lang)


def number(value: float, lang: Lang) -> str:
    return locale.number(value, lang, digits=get_settings().digits)


def moment(value: datetime, zone: str, lang: Lang) -> str:
    """A time in the campaign's zone, written for the language, with the zone named (as in the documents)."""
    return locale.moment(value, zone, lang, digits=get_settings().digits)
