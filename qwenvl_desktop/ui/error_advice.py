"""What to do about an error, in the window's terms: its panels and controls.

The core records what went wrong as facts (`core.error_facts`); the window words the
advice here, so these sentences are the ones to translate. `MainWindow` makes this the
voice of `errors.explain` while it runs.
"""

from __future__ import annotations

from qwenvl_desktop.core.error_facts import ErrorFacts, generic_advice

from ..core.i18n import _

__all__ = ["explain_in_window", "window_advice"]


def window_advice(f: ErrorFacts) -> str:
    """Advice naming the window's panels (Settings › Keys, the parameter panel, …)."""
    kind = f.kind
    if kind == "missing_key":
        env = _(" or set the {env_var} environment variable").format(
            env_var=f.env_var) if f.env_var else ""
        return _("Add one in Settings › Keys{env}.").format(env=env)
    if kind == "auth":
        if f.region_locked:
            return (_("Check the key. DashScope keys are tied to a region: a Singapore key "
                      "does not work in Virginia or Beijing. Pick the region the key was made "
                      "in, or replace the key in Settings › Keys."))
        return _("Check or replace the key in Settings › Keys.")
    if kind == "bad_request":
        return _("The provider refused the request; check the parameters in the panel.")
    if kind == "timeout":
        return (_("The provider took too long; retry, or raise the idle read timeout in "
                  "Settings › General."))
    if kind == "model_not_found":
        return (_("This provider does not know the model; pick another (Refresh models next to "
                  "the model list shows what it serves today)."))
    if kind == "not_found":
        return (_("The model or endpoint was not found; check the model and the region, or the "
                  "base URL in Settings › Endpoints."))
    if kind == "model_retired":
        charged = _(" Nothing was charged.") if not f.billed else ""
        return _("This model was retired; pick another in the model list.{charged}").format(
            charged=charged)
    return generic_advice(f)


def explain_in_window(exc: BaseException) -> str:
    """`errors.explain` in the window's voice, whichever voice is current."""
    from qwenvl_desktop.core.errors import explain

    return explain(exc, window_advice)
