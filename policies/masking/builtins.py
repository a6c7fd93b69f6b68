"""The built-in recognizers by name (:data:`BUILTIN`): cards, IBANs, e-mails, phones, SSNs,
cloud and SaaS secrets, JWTs, PEM private keys and password hashes (precision corpora in
tests/unit/policies/masking/corpus.py). The recognizers themselves live by what they find:
:mod:`.payment`, :mod:`.personal`, :mod:`.credentials`.

Their boundaries are written as "consume the first char, then look behind two chars" instead
of a leading look-behind: a pattern that starts with a character class or literal lets the
regex engine skip ahead quickly, which matters on multi-megabyte values."""

from __future__ import annotations

import re
from collections.abc import Callable

from . import validators
from .credentials import (
    AWS_ACCESS,
    AWS_SECRET,
    GITHUB,
    GITLAB,
    JWT,
    SLACK,
    STRIPE,
    PasswordHashRecognizer,
    PemRecognizer,
    jwt_ok,
)
from .gates import DIGIT_GATE, TOKEN_GATE
from .payment import CardRecognizer, IbanRecognizer
from .personal import SSN, EmailRecognizer, PhoneRecognizer
from .recognizers import Recognizer, RegexRecognizer


def _builtins() -> dict[str, Recognizer]:
    def token(name: str, pattern: re.Pattern[str], triggers: tuple[str, ...], min_len: int,
              validator: Callable[[str], bool] | None = None) -> RegexRecognizer:
        return RegexRecognizer(name, pattern, validator, triggers=triggers, min_len=min_len, gate=TOKEN_GATE,
                               joinable=True)

    recs: list[Recognizer] = [
        # Order matters only for equal-length overlaps (find_all): card before phone.
        CardRecognizer(),
        IbanRecognizer(),
        EmailRecognizer(),
        PhoneRecognizer(),
        RegexRecognizer("ssn", SSN, validators.ssn, needs_digit=True, min_len=11,
                        anchors=("000-00-0000", "000 00 0000"), max_len=11, gate=DIGIT_GATE,
                        joinable=True),
        token("aws_access_key", AWS_ACCESS, ("AKIA", "ASIA", "ABIA", "ACCA"), 20),
        token("aws_secret_key", AWS_SECRET, ("secret", "SECRET", "Secret"), 46, validators.mixed_case),
        token("github_token", GITHUB, ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), 40),
        token("gitlab_token", GITLAB, ("glpat-",), 26),
        token("slack_token", SLACK, ("xox", "hooks.slack.com"), 15),
        token("stripe_key", STRIPE, ("_live_", "_test_"), 24),
        token("jwt", JWT, ("eyJ",), 20, jwt_ok),
        PemRecognizer(),
        PasswordHashRecognizer(),
    ]
    return {rec.name: rec for rec in recs}


BUILTIN: dict[str, Recognizer] = _builtins()
