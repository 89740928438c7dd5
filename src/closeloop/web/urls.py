"""The web UI's addresses. Notification emails link to /responses/<id> and /cases/<id>."""

from __future__ import annotations

from django.urls import include, path

from closeloop.web.views import (
    account,
    alerts,
    cases,
    health,
    home,
    loop,
    outbox,
    praise,
    recordings,
    recovery_notes,
    reports,
    responses,
    service_report,
    sources,
)

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("", home.home, name="home"),
    path("monitor/", home.monitor_fragment, name="monitor"),
    path("responses/", responses.response_list, name="responses"),
    path("responses/<int:response_id>", responses.response_detail, name="response"),
    path("responses/<int:response_id>/fix", responses.fix_response, name="fix-response"),
    path("responses/<int:response_id>/audio", recordings.response_audio, name="response-audio"),
    path("recordings/<str:token>", recordings.recording_link, name="recording-link"),
    path("alerts/", alerts.alert_list, name="alerts"),
    path("cases/<int:case_id>", cases.case_detail, name="case"),
    path("cases/<int:case_id>/notes", cases.case_note, name="case-note"),
    path("cases/<int:case_id>/status", cases.case_status, name="case-status"),
    path("cases/<int:case_id>/assign", cases.case_assign, name="case-assign"),
    path("recovery-notes", recovery_notes.recovery_notes, name="recovery-notes"),
    path("praise/", praise.praise_wall, name="praise"),
    path("praise/<int:alert_id>/share", praise.share_praise, name="share-praise"),
    path("reports/", reports.reports, name="reports"),
    path("reports/summary.csv", reports.reports_csv, name="reports-csv"),
    path("reports/retention/", loop.retention_page, name="retention"),
    path("reports/service-recovery.pdf", service_report.service_recovery_pdf, name="service-recovery-pdf"),
    path("follow-up/<str:token>/<str:answer>", loop.follow_up_answer, name="follow-up"),
    path("outbox/", outbox.outbox, name="outbox"),
    path("outbox/<int:delivery_id>/retry", outbox.retry_delivery, name="retry-delivery"),
    path("sources/", sources.source_list, name="sources"),
    path("sources/<str:key>/", sources.source_detail, name="source"),
    path("sources/<str:key>/test", sources.test_payload, name="source-test"),
    path("sources/<str:key>/dead-letters/<int:letter_id>/replay", sources.replay, name="replay-dead-letter"),
    path("", include(account.urlpatterns)),
]
