"""The `people` section: people, their roles and their login accounts; people with history are deactivated."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from closeloop.config.sections.base import CONFIG_MODELS, Change, Rows, Section, chunks, rows_with_history
from closeloop.config.validate import Config
from closeloop.org.models import Person, Role, Unit


def section(config: Config) -> Section:
    desired: Rows = {
        person.id: {
            "name": person.name,
            "email": person.email,
            "phone": person.phone,
            "chat_url": person.chat or "",
            "login": person.login,
            "active": True,
            "roles": sorted({(role.unit, role.role) for role in person.roles}),
            "account": _account(person.login, any(role.role == "admin" for role in person.roles)),
        }
        for person in config.people
    }

    def read() -> Rows:
        roles: dict[int, set[tuple[str, str]]] = {}
        for person_id, unit, role in Role.objects.values_list("person_id", "unit__code", "role"):
            roles.setdefault(person_id, set()).add((unit, role))
        rows: Rows = {}
        admins = set(get_user_model()._default_manager.filter(groups__name=ADMIN_GROUP).values_list("pk", flat=True))
        for person in Person.objects.select_related("user").order_by("pk"):
            user = person.user
            staff = bool(user and user.is_staff and (user.is_superuser or user.pk in admins))
            rows[person.key] = {
                "name": person.name,
                "email": person.email,
                "phone": person.phone,
                "chat_url": person.chat_url,
                "login": person.login,
                "active": person.active,
                "roles": sorted(roles.get(person.pk, ())),
                "account": _account(bool(user and user.is_active), staff),
            }
        return rows

    def remove(keys: list[str]) -> list[Change]:
        wanted = set(keys)
        rows = {
            key: (pk, active) for key, pk, active in Person.objects.values_list("key", "pk", "active") if key in wanted
        }
        with_roles = set(Role.objects.values_list("person_id", flat=True).distinct())
        history = rows_with_history(Person, [pk for pk, _ in rows.values()])
        changes = []
        for key in keys:
            pk, active = rows[key]
            if pk not in history:
                changes.append(Change("people", key, "removed"))
            elif active or pk in with_roles:
                changes.append(Change("people", key, "deactivated", reason="has history"))
            # Otherwise the person was deactivated by an earlier apply: nothing left to do.
        return changes

    person_fields = ("name", "email", "phone", "chat_url", "login", "active")

    def save(keys: list[str], added: set[str]) -> None:
        fields = {key: {name: desired[key][name] for name in person_fields} for key in keys}
        Person.objects.bulk_create([Person(key=key, **fields[key]) for key in keys if key in added])
        for key in keys:
            if key not in added:
                Person.objects.filter(key=key).update(**fields[key])
        people = dict(Person.objects.values_list("key", "pk"))
        units = dict(Unit.objects.values_list("code", "pk"))
        touched = {people[key] for key in keys}
        wanted = {(people[key], units[unit], role) for key in keys for unit, role in desired[key]["roles"]}
        existing: dict[tuple[int, int, str], int] = {}
        for pk, person_id, unit_id, role in Role.objects.values_list("pk", "person_id", "unit_id", "role"):
            if person_id in touched:
                existing[(person_id, unit_id, role)] = pk
        stale = [pk for triple, pk in existing.items() if triple not in wanted]
        for start in range(0, len(stale), 500):
            Role.objects.filter(pk__in=stale[start : start + 500]).delete()
        Role.objects.bulk_create(
            [Role(person_id=p, unit_id=u, role=r) for p, u, r in sorted(wanted - set(existing))], batch_size=500
        )
        group = admin_group() if any(desired[key]["account"] == "staff" for key in keys) else None
        for key in keys:
            # A new person without a login has no account to look after.
            if desired[key]["account"] is not None or key not in added:
                _sync_account(Person.objects.select_related("user").get(key=key), desired[key]["account"], group)

    def delete(changes: list[Change]) -> None:
        pks = dict(Person.objects.values_list("key", "pk"))
        for action in ("deactivated", "removed"):
            for chunk in chunks([pks[change.key] for change in changes if change.action == action]):
                # No login any more: the account stays (it may be referenced) but cannot sign in.
                get_user_model()._default_manager.filter(person__in=chunk, is_active=True).update(is_active=False)
                if action == "deactivated":
                    Role.objects.filter(person__in=chunk).delete()
                    Person.objects.filter(pk__in=chunk).update(active=False)
                else:
                    Person.objects.filter(pk__in=chunk).delete()

    return Section("people", desired, read, save, remove, delete)


def _account(login: bool, staff: bool) -> str | None:
    """The user account a person should have: None, "user", or "staff" (may use the admin site)."""
    if not login:
        return None
    return "staff" if staff else "user"


def _sync_account(person: Person, account: str | None, group: Group | None) -> None:
    user = person.user
    if account is None:
        # No login any more: the account stays (it may be referenced) but cannot sign in.
        if user is not None and user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
        return
    if user is None:
        user_model = get_user_model()
        user = user_model._default_manager.filter(username=person.key).first()
        if user is None:
            # No password here: it is set through the UI or `closeloop changepassword`.
            user = user_model(username=person.key, email=person.email, first_name=person.name[:150])
            user.set_unusable_password()
    user.is_active = True
    user.is_staff = account == "staff" or user.is_superuser
    user.save()
    # The admin role does in the admin site what the documentation sends administrators there for.
    if account == "staff" and group is not None:
        user.groups.add(group)
    else:
        user.groups.remove(*Group.objects.filter(name=ADMIN_GROUP))
    if person.user_id != user.pk:
        person.user = user
        person.save(update_fields=["user"])


ADMIN_GROUP = "closeloop administrators"
# Apps whose rows administrators look after in the admin site (tokens, outbox, digests, dead letters...).
ADMIN_APPS = ("org", "feedback", "alerts", "notify", "cases", "reports", "loop", "api")


def admin_group() -> Group:
    """The group people with the `admin` role are in, with its permissions brought up to date.

    Everything in closeloop's own apps, except that configuration rows can only be looked at: they change
    through `config apply` or the settings pages, which validate and log every change. User accounts can be
    looked at and changed, to set a password.
    """
    group, _ = Group.objects.get_or_create(name=ADMIN_GROUP)
    config_types = {ContentType.objects.get_for_model(model).pk for model in CONFIG_MODELS}
    wanted = Permission.objects.filter(content_type__app_label__in=ADMIN_APPS).exclude(
        content_type__in=config_types, codename__regex=r"^(add|change|delete)_"
    ) | Permission.objects.filter(content_type__app_label="auth", codename__in=["view_user", "change_user"])
    group.permissions.set(wanted)
    return group


def export() -> list[dict[str, Any]]:
    # One query for every role rather than a prefetch: SQLite refuses an IN list of thousands of ids.
    roles: dict[int, list[tuple[str, str, str]]] = {}
    for person_id, path, code, role in Role.objects.values_list("person_id", "unit__path", "unit__code", "role"):
        roles.setdefault(person_id, []).append((path, role, code))
    people = []
    for person in Person.objects.filter(active=True).order_by("pk"):
        data: dict[str, Any] = {"id": person.key, "name": person.name}
        for key, value in (("email", person.email), ("phone", person.phone), ("chat", person.chat_url)):
            if value:
                data[key] = value
        if person.login:
            data["login"] = True
        if person.pk in roles:
            data["roles"] = [{"unit": code, "role": role} for _, role, code in sorted(roles[person.pk])]
        people.append(data)
    return people
