"""Forms of the portal and the desk: sign-up, the dossier wizard's steps, uploads and the desk's checks.

Forms only parse and validate what people type; every write goes through ``permits.services`` or
``permits.workflow``. The figures form is generated from the procedure's ``form_fields`` data, with
the labels in the active language.
"""

from __future__ import annotations

from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from permits.models import Applicant, ChecklistItem, ChecklistVerdict, Classification, PartyKind, Procedure
from permits.roles import Role
from permits.selectors import procedure_list_open
from permits.services import ApplicantData


def _in_language(value: Any, fallback: str) -> str:
    """A ``{"fr": …, "ar": …, "en": …}`` label in the active language (French, then the fallback)."""
    if isinstance(value, dict):
        language = (translation.get_language() or "fr")[:2]
        return str(value.get(language) or value.get("fr") or fallback)
    return str(value or fallback)


# --- accounts ---------------------------------------------------------------------------------------


class SignupForm(AllauthSignupForm):
    """allauth's sign-up with the person's names (``ACCOUNT_FORMS = {"signup": …}``); a new account is an
    applicant. Architects and staff get their role from an administrator, who checks who they are.
    """

    first_name = forms.CharField(
        label=_("First name"), max_length=150, widget=forms.TextInput({"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=150, widget=forms.TextInput({"autocomplete": "family-name"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = ["first_name", "last_name"]
        self.order_fields(names + [name for name in self.fields if name not in names])

    def save(self, request):
        user = super().save(request)
        if user is not None:
            user.first_name = self.cleaned_data["first_name"].strip()
            user.last_name = self.cleaned_data["last_name"].strip()
            user.save(update_fields=["first_name", "last_name"])
            user.groups.add(Group.objects.get_or_create(name=Role.APPLICANT)[0])
        return user


# --- the wizard -------------------------------------------------------------------------------------


class ProcedureLabelChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Procedure) -> str:
        return obj.name


class ProcedureForm(forms.Form):
    """Step 1: which permit is asked for."""

    procedure = ProcedureLabelChoiceField(
        label=_("Procedure"),
        queryset=Procedure.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": _("Choose a procedure."), "invalid_choice": _("Choose a procedure.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["procedure"].queryset = procedure_list_open()


class ApplicantForm(forms.Form):
    """Step 3, first half: the project owner (a person or a company) and the project's title."""

    kind = forms.ChoiceField(
        label=_("The applicant is"), choices=PartyKind.choices, widget=forms.RadioSelect, initial=PartyKind.PERSON
    )
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    national_id = forms.CharField(label=_("National ID card number (CIN)"), max_length=20, required=False)
    company_name = forms.CharField(label=_("Company name"), max_length=200, required=False)
    company_register = forms.CharField(label=_("Trade register number (RC)"), max_length=40, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "dir": "ltr"}),
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    language = forms.ChoiceField(
        label=_("Language of the notifications"), choices=settings.LANGUAGES, initial=settings.LANGUAGE_CODE
    )
    title = forms.CharField(label=_("Project title"), max_length=200, required=False)

    @classmethod
    def initial_from(cls, applicant: Applicant, title: str) -> dict[str, Any]:
        fields = [name for name in cls.base_fields if name != "title"]
        return {**{name: getattr(applicant, name) for name in fields}, "title": title}

    def applicant_data(self) -> ApplicantData:
        data = self.cleaned_data
        return ApplicantData(**{name: (data.get(name) or "").strip() for name in ApplicantData.__dataclass_fields__})


class FiguresForm(forms.Form):
    """Step 3, second half: the declared figures, one field per entry of ``procedure.form_fields``.

    Nothing is required here so a draft can be saved half-filled; what is missing is listed on the
    review step and checked again when the dossier is submitted.
    """

    prefix = "figures"

    def __init__(self, *args: Any, procedure: Procedure, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.specs = list(procedure.form_fields or [])
        for spec in self.specs:
            self.fields[spec["name"]] = self._field(spec)

    @staticmethod
    def _field(spec: dict[str, Any]) -> forms.Field:
        label = _in_language(spec.get("label"), spec["name"])
        if spec.get("unit"):
            label = f"{label} ({spec['unit']})"
        common: dict[str, Any] = {"label": label, "required": False}
        if spec.get("help"):
            common["help_text"] = _in_language(spec["help"], "")
        kind = spec.get("type", "text")
        bounds = {key: spec[key] for key in ("min", "max") if spec.get(key) is not None}
        limits = {"min_value": bounds.get("min"), "max_value": bounds.get("max")}
        if kind == "int":
            field: forms.Field = forms.IntegerField(**common, **limits)
        elif kind == "decimal":
            field = forms.FloatField(**common, **limits, widget=forms.NumberInput(attrs={"step": "any"}))
        elif kind == "bool":
            field = forms.BooleanField(**common)
        elif kind == "choice":
            choices = [("", "—")] + [
                (str(choice["value"]), _in_language(choice.get("label"), str(choice["value"])))
                for choice in spec.get("choices", [])
            ]
            field = forms.ChoiceField(**common, choices=choices)
        else:
            field = forms.CharField(**common, max_length=int(spec.get("max_length", 300)))
        field.widget.attrs["data-required"] = "true" if spec.get("required") else "false"
        field.legally_required = bool(spec.get("required"))
        return field

    def figures(self) -> dict[str, Any]:
        """The typed values that were given (empty fields are left out)."""
        values = {}
        for name, value in self.cleaned_data.items():
            if value is None or value == "":
                continue
            if isinstance(self.fields[name], forms.BooleanField) and value is False:
                continue
            values[name] = value
        return values


# --- documents and transitions ----------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File"), error_messages={"required": _("Choose a file to upload.")})


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=4000, widget=forms.Textarea)


class ScheduleForm(forms.Form):
    session_date = forms.DateField(
        label=_("Committee date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={"required": _("Give the committee date."), "invalid": _("Give the date as YYYY-MM-DD.")},
    )


# --- the desk ---------------------------------------------------------------------------------------


class CompletenessForm(forms.Form):
    """The desk's check of a submitted dossier: a verdict and a reason for each checklist item."""

    def __init__(self, *args: Any, items: list[ChecklistItem], latest: dict[int, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            previous = latest.get(item.id)
            self.fields[f"verdict-{item.id}"] = forms.ChoiceField(
                label=item.name,
                choices=ChecklistVerdict.choices,
                widget=forms.RadioSelect,
                required=False,
                initial=previous.verdict if previous else None,
            )
            self.fields[f"reason-{item.id}"] = forms.CharField(
                label=_("What is missing or wrong"),
                required=False,
                max_length=2000,
                initial=previous.reason if previous else "",
                widget=forms.TextInput,
            )

    def verdicts(self) -> list[tuple[ChecklistItem, str, str]]:
        """``(item, verdict, reason)`` for every item the agent gave a verdict on."""
        given = []
        for item in self.items:
            verdict = self.cleaned_data.get(f"verdict-{item.id}")
            if verdict:
                given.append((item, verdict, (self.cleaned_data.get(f"reason-{item.id}") or "").strip()))
        return given

    def rows(self) -> list[tuple[ChecklistItem, forms.BoundField, forms.BoundField]]:
        return [(item, self[f"verdict-{item.id}"], self[f"reason-{item.id}"]) for item in self.items]


class ReclassifyForm(forms.Form):
    classification = forms.ChoiceField(label=_("Classification"), choices=Classification.choices)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason for the new classification.")},
    )
