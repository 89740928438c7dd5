"""The web UI's addresses. Notification emails link to /responses/<id> and /cases/<id>."""

from __future__ import annotations

from django.urls import include, path

from closeloop.web.views import (
    account,
    alerts,
    case_list,
    cases,
    home,
    loop,
    outbox,
    praise,
    recovery_notes,
    reports,
    responses,
    service_report,
    settings,
)

urlpatterns = [
    path("", home.home, name="home"),
    path("monitor/", home.monitor_fragment, name="monitor"),
    path("responses/", responses.response_list, name="responses"),
    path("responses/<int:response_id>", responses.response_detail, name="response"),
    path("responses/<int:response_id>/fix", responses.fix_response, name="fix-response"),
    path("responses/<int:response_id>/move", responses.move_response, name="move-response"),
    path("alerts/", alerts.alert_list, name="alerts"),
    path("cases/", case_list.case_list, name="cases"),
    path("cases/bulk", case_list.bulk_cases, name="cases-bulk"),
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
    path("settings/", settings.settings_home, name="settings"),
    path("settings/thresholds", settings.thresholds, name="settings-thresholds"),
    path("settings/digests", settings.digests, name="settings-digests"),
    path("settings/people/", settings.people, name="settings-people"),
    path("settings/people/new", settings.person_edit, name="settings-person-new"),
    path("settings/people/<str:key>", settings.person_edit, name="settings-person"),
    path("settings/rules/", settings.rules, name="settings-rules"),
    path("settings/rules/<str:key>", settings.rule_edit, name="settings-rule"),
    path("outbox/<int:delivery_id>/retry", outbox.retry_delivery, name="retry-delivery"),
    path("", include(account.urlpatterns)),
]
