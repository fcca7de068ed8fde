"""What every app's admin shares: a service's refusal becomes a form error (on
a save) or a message (a delete, an action), and changelists compact enough for a
laptop's width and a phone.

The admin writes through the services, which refuse with a domain error
(cohortly.errors) or a ValidationError. Here they are translated once, so no
ModelAdmin needs its own try/except around a save, a delete or an action.
"""

import functools
import hashlib
from collections.abc import Callable, Iterable
from contextlib import nullcontext

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin import widgets as admin_widgets
from django.contrib.admin.utils import NestedObjects
from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from cohortly.errors import CHANGED_MEANWHILE, SERVICE_ERRORS
from cohortly.filters import at_most_max_search_terms
from cohortly.locking import lock_row
from cohortly.models import MAX_ID, is_plain_decimal


def error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def _unify(value):
    """A browser posts every newline of a form as CRLF, the shown values' too:
    compared as stored (LF)."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n")
    if isinstance(value, list):
        return [_unify(item) for item in value]
    return value


def _as_posted_back(field, value):
    """A stored text as the page posts it back, to compare with what it posted:
    newlines as LF whatever was stored (a browser's own save stores CRLF), and
    cleaned as the field cleans it (stripped)."""
    if not isinstance(value, str):
        return value
    try:
        return field.to_python(_unify(value))
    except ValidationError:
        return value


def _as_posted(widget, name: str, value) -> dict[str, list[str]]:
    """The data a browser posts for `value` rendered by `widget` as `name`."""
    context = widget.get_context(name, value, {})["widget"]
    posted: dict[str, list[str]] = {}
    for item in context.get("subwidgets") or [context]:
        posted.setdefault(item["name"], []).append("" if item["value"] is None else str(item["value"]))
    return posted


class ChangedSinceShownForm:
    """A change form that knows what its page showed: every field also sends the
    value it was shown with (Django's show_hidden_initial), so `changed_data` is
    what this admin changed, not every value that differs from the row as it is
    now. A field this admin changed that someone else changed meanwhile (to
    another value than theirs) is refused, naming what it reads now; the page
    then counts as showing that, so saving again replaces it. A post without
    the shown values (a script's) is compared with the row, as Django does."""

    @cached_property
    def _from_page(self) -> bool:
        return any(key.startswith("initial-") for key in self.data)

    def _shown(self, bound):
        """The value the page showed, as posted (None when not posted from a page)."""
        if not self._from_page:
            return None
        # An empty multiple choice renders no hidden input: from a page, that is [].
        return _unify(
            bound.field.hidden_widget().value_from_datadict(self.data, self.files, bound.html_initial_name)
        )

    @cached_property
    def shown(self) -> dict:
        """What the page showed of each field, as the field reads it ({} for a post
        not from a page): for a service that checks again, under its own locks,
        that nobody changed what this admin changed (CHANGED_MEANWHILE)."""
        if not self._from_page:
            return {}
        shown = {}
        for name in self.fields:
            bound = self[name]
            try:
                shown[name] = bound.field.to_python(self._shown(bound))
            except ValidationError:
                continue
        return shown

    @cached_property
    def changed_data(self):
        changed = []
        for name in self.fields:
            bound = self[name]
            field, shown = bound.field, self._shown(bound)
            if shown is None and not self._from_page:
                shown = bound.initial
            else:
                try:
                    shown = field.to_python(shown)
                except ValidationError:
                    changed.append(name)
                    continue
            if field.has_changed(shown, _unify(bound.data)):
                changed.append(name)
        return changed

    def clean(self):
        cleaned = super().clean()
        if not self._from_page:
            return cleaned
        for name in self.changed_data:
            bound = self[name]
            field, now = bound.field, bound.initial
            stored = _as_posted_back(field, now)
            moved = field.has_changed(stored, self._shown(bound))
            if not moved or not field.has_changed(stored, _unify(bound.data)):
                continue  # nobody else changed it, or to the same value as this admin
            # From here the page counts as showing what it reads now: saving again replaces it.
            hidden = field.hidden_widget()
            self.data = self.data.copy()
            for key in {bound.html_initial_name, *_as_posted(hidden, bound.html_initial_name, None)}:
                self.data.pop(key, None)
            for key, values in _as_posted(hidden, bound.html_initial_name, field.prepare_value(now)).items():
                self.data.setlist(key, values)
            self.add_error(
                name,
                ValidationError(
                    "Someone else changed this since you opened the page; it now reads “%(now)s”. "
                    "Save again to replace that with yours, or put it back.",
                    code=CHANGED_MEANWHILE,
                    params={"now": _display(field, now)},
                ),
            )
        return cleaned


def _display(field, value) -> str:
    """`value` (a form's initial) as the page would show it, for a message."""
    if value in (None, "", [], ()):
        return "—"
    if isinstance(field, forms.ModelMultipleChoiceField):
        return ", ".join(str(item) for item in value)
    if isinstance(field, forms.ModelChoiceField):
        return str(field.queryset.filter(pk=getattr(value, "pk", value)).first() or value)
    if isinstance(field, forms.ChoiceField):
        return str(dict(field.choices).get(value, value))
    if isinstance(field, forms.BooleanField):
        return "yes" if value else "no"
    return str(value)


class ChangedSinceShownMixin:
    """For a ModelAdmin whose save passes `form.changed_data` to a service: a
    change form opened before another admin's (or the API's) change saves only
    what was changed on it, instead of writing back every value it was shown
    (which re-activated a user someone had just deactivated)."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            return form
        # The subclass's metaclass builds its fields anew: flag them on it.
        form = type(form.__name__, (ChangedSinceShownForm, form), {})
        for field in form.base_fields.values():
            field.show_hidden_initial = True
        return form

    #: Hold the row while a change form's post is checked and saved: two admins
    #: saving at once each compared their page with the row as it was before
    #: either saved, and the second overwrote the first unseen. Only where the
    #: save's service locks first what `hold_for_saving` locks, in that order (a
    #: lead, a bootcamp, an assignment: its row; a submission: its assignment's,
    #: then its own); elsewhere holding it first would turn the service's lock
    #: order, and the service checks `form.shown` again under its locks (a user).
    hold_row_while_saving = False

    def hold_for_saving(self, obj) -> None:
        """Lock what the save's service locks first, in its order: the row alone
        unless a ModelAdmin says otherwise."""
        lock_row(self.model._default_manager, pk=obj.pk)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        setattr(
            request,
            HOLD_ROW,
            self.hold_row_while_saving and object_id is not None and request.method == "POST",
        )
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None or not getattr(request, HOLD_ROW, False):
            return obj
        # In the change form's transaction (ModelAdmin.changeform_view): read again once held.
        self.hold_for_saving(obj)
        return super().get_object(request, object_id, from_field)


#: The request attribute by which ChangedSinceShownMixin.changeform_view asks its
#: get_object to hold the row.
HOLD_ROW = "cohortly_admin_hold_row"


#: The request attribute that carries a service's refusal of a form's save
#: into the second pass of ServiceErrorsMixin.changeform_view.
REFUSAL = "cohortly_admin_refusal"


def add_refusal(form, exc: Exception) -> None:
    """Put a service's refusal on the form: a field's error beside the field
    when the form shows it, the rest above the form."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            if isinstance(form, ChangedSinceShownForm):
                # A service's check of what the page showed, on its locked rows: the
                # form checks it again against the row as it reads now, and says what
                # it reads (and that saving again replaces it) where it still holds.
                errors = [error for error in errors if error.code != CHANGED_MEANWHILE]
            if errors:
                form.add_error(field if field in form.fields else None, errors)
    elif isinstance(exc, ValidationError):
        form.add_error(None, exc)
    else:
        form.add_error(None, error_text(exc))


class ServiceErrorsMixin:
    """For a ModelAdmin. Deleting, or running an action that a service refuses
    shows the service's reason as an error message and goes back to the page it
    came from. A form's save that a service refuses shows the form again as it
    was posted, with the reason beside the field it names, as a form's own
    validation would: nothing typed is lost. Django's admin runs each of these
    in a transaction (actions here too), so a refusal leaves nothing saved,
    deleted or logged.

    Actions that apply a service to each selected object report each refusal
    and carry on with the others: `apply_each`."""

    def _refused(self, request, exc: Exception, url: str):
        self.message_user(request, error_text(exc), messages.ERROR)
        return HttpResponseRedirect(url)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, REFUSAL, None)
        if refusal is None:
            return form

        class RefusedForm(form):
            def clean(self):
                cleaned = super().clean()
                add_refusal(self, refusal)
                return cleaned

        RefusedForm.__name__ = form.__name__
        return RefusedForm

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except SERVICE_ERRORS as exc:
            if request.method != "POST" or getattr(request, REFUSAL, None) is not None:
                return self._refused(request, exc, request.get_full_path())
            # The admin's transaction rolled back: nothing was saved. A second pass
            # validates the same post with the refusal added to the form, so the
            # page comes back as it was typed, with the reason on it.
            setattr(request, REFUSAL, exc)
            try:
                return super().changeform_view(request, object_id, form_url, extra_context)
            except SERVICE_ERRORS as again:
                # Refused before the form is shown again (the row still held past
                # the lock timeout, hold_row_while_saving; or deleted meanwhile).
                return self._refused(request, again, request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except SERVICE_ERRORS as exc:
            opts = self.opts
            return self._refused(
                request, exc, reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id])
            )

    def response_action(self, request, queryset):
        # The ticked rows are looked up as posted: a value that can't be a key
        # (a tampered or hand-made post) was a 500. Nothing is done, and said so.
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        unusable = [value for value in selected if not _usable_key(self.opts.pk, value)]
        if unusable:
            shown = ", ".join(f"“{value}”" for value in dict.fromkeys(unusable))
            self.message_user(
                request,
                f"No action was taken: {shown} isn't the id of any {self.opts.verbose_name}.",
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())
        # Django writes the deletion log before delete_queryset: one transaction,
        # so a refused bulk delete leaves no log of deletions that didn't happen.
        # Other actions apply a service per object (apply_each), each in its own
        # transaction: one around them all would hold every row lock they take.
        atomic = transaction.atomic() if request.POST.get("action") == "delete_selected" else nullcontext()
        try:
            with atomic:
                return super().response_action(request, queryset)
        except SERVICE_ERRORS as exc:
            return self._refused(request, exc, request.get_full_path())

    #: How many of the selected rows an action's page lists by name.
    ACTION_PAGE_LISTS_AT_MOST = 100

    def action_page(self, request, queryset, template: str, *, describe=str, **context) -> TemplateResponse:
        """The page an action shows before it acts (a confirmation, or a form to
        fill): the selected rows, each as `describe(obj)` (the first hundred,
        and how many more), carried to the next post. "Select all" is carried as
        such, not as every id (Django refuses a form of more than 1,000 fields),
        with a digest of the rows it stood for (selection_changed)."""
        select_across = request.POST.get("select_across") == "1"
        shown = list(queryset[: self.ACTION_PAGE_LISTS_AT_MOST])
        count = queryset.count() if len(shown) == self.ACTION_PAGE_LISTS_AT_MOST else len(shown)
        posted = shown[:1] if select_across else list(queryset)
        context = {
            **self.admin_site.each_context(request),
            **context,
            "count": count,
            "rows": [describe(obj) for obj in shown],
            "more": count - len(shown),
            "posted": [obj.pk for obj in posted],
            "select_across": select_across,
            "selection": _selection_digest(queryset) if select_across else "",
            "action": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.opts,
        }
        return TemplateResponse(request, template, context)

    def selection_changed(self, request, queryset) -> bool:
        """Whether "select all", confirmed on an action's page, now stands for
        other rows than the page showed (rows joined or left the list between
        the two clicks): then the page is shown again, never acted on unseen."""
        if request.POST.get("select_across") != "1":
            return False  # the ids themselves were posted: no row can join them
        if request.POST.get("selection") == _selection_digest(queryset):
            return False
        self.message_user(
            request,
            "The rows selected changed since this page was shown: here they are again. Nothing was done yet.",
            messages.WARNING,
        )
        return True

    def confirmed(
        self,
        request,
        queryset,
        *,
        title: str,
        consequences: list[str],
        submit: str,
        describe=str,
        undo: str = "",
    ):
        """None once the user has confirmed this action, else the page that asks:
        the selected rows and what will happen to them (action_page), as
        Django's delete_selected asks before deleting. For actions that can't
        be undone: they email people, hand seats on, withdraw grades."""
        if not queryset.exists():
            self.message_user(
                request, "None of the selected rows is here any more: nothing was done.", messages.WARNING
            )
            return HttpResponseRedirect(request.get_full_path())
        if request.POST.get("post") == "yes" and not self.selection_changed(request, queryset):
            return None
        return self.action_page(
            request,
            queryset,
            "admin/confirm_action.html",
            describe=describe,
            title=title,
            submit=submit,
            consequences=consequences,
            undo=undo,  # how it is undone, where it can be ("This can't be undone." otherwise)
        )

    def apply_each(
        self,
        request,
        objects: Iterable,
        operation: Callable,
        *,
        done: Callable[[int], str],
        log: str | Callable[[models.Model], str],
        already: Callable[[models.Model], bool] | None = None,
        already_said: str = "",
    ) -> int:
        """Run `operation(obj)` for each object; each refusal is reported as
        "Not changed: <obj>: <reason>", the successes as `done(count)`, and
        each change goes into that object's History as `log` (or `log(obj)`,
        read before the operation), as a form's save does. Objects `already`
        finds in the state the operation gives are left alone, neither counted
        nor recorded, and named as "Already <already_said>: …"; none left at
        all (deleted since the list was shown) is said too."""
        objects = list(objects)
        if not objects:
            self.message_user(
                request, "None of the selected rows is here any more: nothing was done.", messages.WARNING
            )
            return 0
        if already is not None:
            unchanged = [obj for obj in objects if already(obj)]
            if unchanged:
                named = ", ".join(str(obj) for obj in unchanged[:MAX_NAMED])
                if len(unchanged) > MAX_NAMED:
                    named += f" and {len(unchanged) - MAX_NAMED} more"
                self.message_user(request, f"Already {already_said}: {named}.", messages.INFO)
            objects = [obj for obj in objects if obj not in unchanged]
        count = 0
        for obj in objects:
            entry = log(obj) if callable(log) else log
            try:
                operation(obj)
            except SERVICE_ERRORS as exc:
                self.message_user(request, f"Not changed: {obj}: {error_text(exc)}", messages.ERROR)
            else:
                self.log_change(request, obj, entry)
                count += 1
        if count:
            self.message_user(request, done(count), messages.SUCCESS)
        return count


#: How many rows a message names before it says "and N more".
MAX_NAMED = 10


class PlainDecimalFormField(forms.DecimalField):
    """A decimal in the admin, read as the API reads one (cohortly.models
    .is_plain_decimal): "4_2" or "٤٢" is a form error, not a grade of 42."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not is_plain_decimal(value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


#: For a ModelAdmin whose model has decimals: its forms read them as the API does.
PLAIN_DECIMALS = {models.DecimalField: {"form_class": PlainDecimalFormField}}


class DeleteBlockersExplained:
    """A delete page that says what stands in the way, and what to do instead.

    Records that are never cascaded away (PROTECT: enrollments, submissions,
    timeline entries) have admins that delete nothing, and Django names such a
    model as a permission the admin lacks ("your account doesn't have
    permission to delete: enrollment"), hiding the records themselves. They
    are listed as what protects the object, followed by `delete_instead`."""

    delete_instead = ""

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        collector = NestedObjects(using=router.db_for_write(self.model))
        collector.collect(objs)
        in_the_way = {str(obj._meta.verbose_name) for obj in collector.protected}
        perms_needed = set(perms_needed) - in_the_way
        if protected and self.delete_instead:
            protected = [*protected, self.delete_instead]
        return deleted, counts, perms_needed, protected


class ListsAtMost:
    """For a read-only inline: its first `lists_at_most` rows, its heading saying
    how many there are and where to find them all (`see_all`). Each row shown
    posts its id and its parent's with the page's form, so a bootcamp page
    listing some 490 enrollments went past DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000)
    and every save of the bootcamp was a 400; thousands of rows took seconds to
    draw."""

    lists_at_most = 100
    see_all = ""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        at_most = self.lists_at_most
        if obj is not None:
            total = self.get_queryset(request).filter(**{formset.fk.name: obj}).count()
            if total > at_most:
                # The declared heading, not this instance's (get_formset may run twice).
                heading = type(self).verbose_name_plural or self.opts.verbose_name_plural
                shown = f"the first {at_most} of {total}: {self.see_all}"
                self.verbose_name_plural = (
                    f"{heading[:-1]}; {shown})" if heading.endswith(")") else f"{heading} ({shown})"
                )

        class Listed(formset):
            # The formset reads its queryset once per form: the slice is kept, one query.
            @functools.cached_property
            def listed(self):
                return super().get_queryset()[:at_most]

            def get_queryset(self):
                return self.listed

        return Listed


class CompactChangelist:
    """For a ModelAdmin whose list shows status `badge`s: their stylesheet."""

    class Media:
        css = {"all": ["css/admin.css"]}


def badge(status: str, label: str, detail: str = ""):
    """A short status for a changelist: coloured, and the text always says it."""
    return format_html(
        '<span class="status-badge status-badge--{}">{}{}</span>',
        status.lower(),
        label,
        format_html(" <small>{}</small>", detail) if detail else "",
    )


def breakable_email(address: str):
    """An address that may wrap after its @, so a long one doesn't widen a list
    past a laptop's screen."""
    local, _at, domain = address.rpartition("@")
    return format_html("{}@<wbr>{}", local, domain) if local else address


def short_moment(moment) -> str | None:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT") if moment else None


def person_name(user) -> str | None:
    """A user as a list shows them: the name (the email is on their page)."""
    return (user.full_name or user.email) if user else None


def short_date(moment) -> str | None:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATE_FORMAT") if moment else None


def _selection_digest(queryset) -> str:
    """The rows `queryset` holds now, in 32 hex digits."""
    keys = sorted(str(pk) for pk in queryset.order_by().values_list("pk", flat=True))
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:32]


def _usable_key(target: models.Field, value) -> bool:
    """Whether `value` can be looked up as `target` (a primary key) without the
    database refusing it: a UUID that is one, an id in bigint's range."""
    try:
        key = target.to_python(value)
    except (ValidationError, ValueError, TypeError):
        return False
    # What the form field takes ("١" is 1, as Django reads it), within bigint's range.
    return not isinstance(key, int) or 0 <= key <= MAX_ID


class _SelectedThatExist:
    """An autocomplete widget shows the chosen rows again when a form comes back
    with errors; Django looks them up as posted, so a value that can't be a key
    ("0" for a UUID, "abc" for an id) was a 500 instead of the field's error."""

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        opts = remote.model._meta
        target = opts.get_field(getattr(remote, "field_name", None) or opts.pk.name)
        return super().optgroups(name, [item for item in value if _usable_key(target, item)], attr)


class AutocompleteSelect(_SelectedThatExist, admin_widgets.AutocompleteSelect):
    pass


class AutocompleteSelectMultiple(_SelectedThatExist, admin_widgets.AutocompleteSelectMultiple):
    pass


class AutocompleteRefusesJunk:
    """A ModelAdmin mixin: its autocomplete_fields answer a posted value that can't
    be a key with the field's error ("Select a valid choice"), not a 500."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = AutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            widget = AutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
            kwargs["widget"] = widget
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class SearchAtMostMaxTerms:
    """A ModelAdmin mixin: its search takes at most MAX_SEARCH_TERMS words, as
    every search in Cohortly does. Django's search adds a clause per word over
    every search field, and PostgreSQL's time grows with their square: a pasted
    paragraph of 300 words kept the timeline's list busy for 23 seconds over
    1,400 entries. More words find nothing, and the list says why."""

    def search_refused(self, request, search_term) -> bool:
        """True for a search of too many words, said on the list (an autocomplete's
        answer has no place for it). For a ModelAdmin with its own search."""
        try:
            at_most_max_search_terms(search_term)
        except ValidationError as exc:
            match = request.resolver_match
            if match is not None and (match.url_name or "").endswith("_changelist"):
                self.message_user(request, exc.messages[0], messages.ERROR)
            return True
        return False

    def get_search_results(self, request, queryset, search_term):
        if self.search_refused(request, search_term):
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)


class HiddenFieldsNotFilterable:
    """A ModelAdmin mixin for `unfilterable` fields: what its pages never show (a
    password hash, an email's body with the links it sent). Django lets a
    changelist's address filter on any field of the model, so
    `?password__startswith=argon2$...` read a hash one guess at a time by the count
    it showed; such a filter is refused (a 400, Django's answer to a lookup it
    doesn't allow)."""

    unfilterable: tuple[str, ...] = ()

    def lookup_allowed(self, lookup, value, request=None):
        if lookup.split(models.constants.LOOKUP_SEP, 1)[0] in self.unfilterable:
            return False
        return super().lookup_allowed(lookup, value, request)
