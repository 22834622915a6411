"""The Model card table page's side-B controls: a second server or model, as the CLI's ``-b`` flags."""

from cope_eval.app import SAME_AS_A, SideB
from cope_eval.scoring import ANSWER_MODES, TEMPLATES
from pages import _state


def side_b(container) -> SideB | None:
    """Draw the controls in ``container``; what they hold, or None when side B is off."""
    if not container.checkbox("Side by side with a second server or model (B)", key=_state.SUITE_USE_B):
        return None
    url_col, model_col = container.columns(2)
    url = url_col.text_input("B server URL", key=_state.SUITE_B_URL, placeholder="A's server",
                             help="Empty: A's server (or B's template's own service).")
    model = model_col.text_input("B model", key=_state.SUITE_B_MODEL, placeholder="A's model, or the server's first",
                                 help="Empty: A's model on A's server, else the first model B's server lists.")
    template_col, mode_col, key_col = container.columns(3)
    template = template_col.selectbox("B template", [SAME_AS_A, *TEMPLATES], key=_state.SUITE_B_TEMPLATE)
    mode = mode_col.selectbox("B answer mode", [SAME_AS_A, *ANSWER_MODES], key=_state.SUITE_B_ANSWER_MODE)
    key = key_col.text_input("B API key", key=_state.SUITE_B_KEY, type="password",
                             help="Kept in this session's memory only. Empty: A's key when B is A's server, else "
                                  "the key variable B's template names, else none.")
    return SideB(url or "", model or "", template, mode, key or "")
