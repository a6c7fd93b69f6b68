"""Personal-data recognizers: the e-mail local-part search."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from policies.masking.personal import _EMAIL_LOCAL, local_start


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab1_.%+-@ é\u0663", max_size=90), st.data())
def test_email_local_start_equals_the_regex_search(text, data):
    at = data.draw(st.integers(0, len(text)))
    lo = data.draw(st.integers(0, at))
    m = _EMAIL_LOCAL.search(text, lo, at)
    assert local_start(text, lo, at) == (m.start() if m else -1)
