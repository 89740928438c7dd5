from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from closeloop.feedback.models import Customer, Question, Response, Survey


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "overall", "active"]
    inlines = [QuestionInline]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "tier", "contact_ok"]
    search_fields = ["external_id", "name", "email"]


class HasProblemsFilter(admin.SimpleListFilter):
    """Responses with something to look at: an invalid unit or segment, or an unknown agent or tier."""

    title = "problems"
    parameter_name = "problems"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "With problems"), ("no", "Without problems")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Response]) -> QuerySet[Response]:
        if self.value() == "yes":
            return queryset.exclude(problems=[])
        if self.value() == "no":
            return queryset.filter(problems=[])
        return queryset


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    """For looking only: the customer's words and score are theirs, and a response moves to another unit from
    its page (/responses/<id>), where its alerts and case go with it."""

    list_display = [
        "id",
        "survey",
        "external_id",
        "submitted_at",
        "unit",
        "ticket",
        "overall",
        "status",
        "needs_recovery",
        "problem_list",
    ]
    list_filter = ["status", HasProblemsFilter, "needs_recovery", "survey", "source"]
    search_fields = ["external_id", "ticket", "customer__name"]
    list_select_related = ["survey", "unit"]
    date_hierarchy = "submitted_at"

    @admin.display(description="Problems")
    def problem_list(self, response: Response) -> str:
        return "; ".join(str(problem) for problem in response.problems or []) or "—"

    readonly_fields = [field.name for field in Response._meta.concrete_fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
