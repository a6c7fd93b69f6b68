"""Precision/recall corpus for the built-in recognizers.

``TRUE_POSITIVES[name]`` holds ``(id, text, expected)``: recognizer ``name`` must find
exactly one match in ``text`` and it must cover exactly ``expected``.
``FALSE_POSITIVES[name]`` holds ``(id, text)``: recognizer ``name`` must find nothing.
All secrets below are synthetic (documentation examples or made-up strings).
"""

from __future__ import annotations

# Synthetic token bodies (never real credentials).
_B36 = "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC2dF4hJ6"  # 36 chars of [A-Za-z0-9]
_PAT22 = "11ABCDEFG0aBcDeFgHiJkL"  # 22
_PAT59 = "mN0pQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz012345678"  # 59
_H_HS = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"  # {"alg":"HS256","typ":"JWT"}
_H_RS = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0"  # {"alg":"RS256","typ":"JWT","kid":"k1"}
_H_ES = "eyJhbGciOiJFUzI1NiJ9"  # {"alg":"ES256"}
_H_NONE = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"  # {"alg":"none","typ":"JWT"}
_H_JWE = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ"  # {"alg":"RSA-OAEP","enc":"A256GCM"}
_H_NOALG = "eyJmb28iOiJiYXIiLCJ0eXAiOiJKV1QifQ"  # {"foo":"bar","typ":"JWT"}
_PAYLOAD = "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
_P42 = "eyJzdWIiOiI0MiIsImV4cCI6MTcwMDAwMDAwMH0"  # {"sub":"42","exp":1700000000}
_SIG = "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
_JWT = f"{_H_HS}.{_PAYLOAD}.{_SIG}"
_AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # AWS documentation example
_AWS_SECRET2 = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"  # AWS documentation example
_AWS_SECRET3 = "Zq8Rt3Lm9Vx2Bn5Kc7Hd1Fg4Js6Pw0Ay+Ue/Oi2T"
_ESCAPED = "MIIBVQ\\nAbC=\\n"  # a key inside a JSON string: newlines are "\\n"
_PEM_BODY = "MIIEpAIBAAKCAQEA7bq2Xo3xFakeFakeFakeKeyMaterialOnly0123456789abcdef\nAbCdEfGh+/==\n"
# Password hashes of "pw" (fake accounts), one per format.
_NATIVE = "*D821809F681A40A6E379B50D0463EFAE20BDD122"
_BCRYPT = "$2b$10$hY4s890YrQHbpuYDgcfof.wbts2FpjqYTYzpWzR1NEsUAsTmlQlhi"
_SHA512 = ("$6$iiTUFlFHZ0V.TuVp$UcQ5Bb33GRNNCHfQW4.1kSSL9FiLcY.16/j4LRW/yaszjAqmoRDuJNWERQpt/Xv3sx"
           ".8sdNJGCCRXCZfvNVA8/")
_SHA512_ROUNDS = "$6$rounds=5000$iiTUFlFHZ0V.TuVp$UcQ5Bb33GRNNCHfQW4.1kSSL9FiLcY.16/j4LRW/yaszjAqmoRDuJ"
_SHA256 = "$5$Bx.OkxQxKoWahnWc$VHEc.uV.yZvcsloiylEr8wziwk0ftKIcFOKjbgi2UrB"
_MD5 = "$1$2Ku4xbUm$G656Ukbm/Ld.M40OHcdZH0"
_YESCRYPT = "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7"
_ARGON2 = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzYWx0$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
_PBKDF2 = "$pbkdf2-sha256$29000$N2bsvTfm3BvDuJfyvtc6Bw$Ne2CqS8Gp9NaNO4PtCgtfa6KJJDtMpNw4xE6v0Cx5Ck"
_DJANGO = "pbkdf2_sha256$260000$kHTZAJ1Gp2y1$Ra6rXzLgd4sm+gT0ZH1q0kS1g9yVvz6c0vDOaMh2o/U="


def _pem(label: str, body: str = _PEM_BODY) -> str:
    return f"-----BEGIN {label}-----\n{body}-----END {label}-----"


TRUE_POSITIVES: dict[str, list[tuple[str, str, str]]] = {
    "card": [
        ("visa-compact", "card=4111111111111111;", "4111111111111111"),
        ("visa-spaces", "Card: 4111 1111 1111 1111 exp 11/29", "4111 1111 1111 1111"),
        ("visa-13", "old visa 4222222222222 on file", "4222222222222"),
        ("visa-19", "pan 4111111111111111110", "4111111111111111110"),
        ("mc-dashes", "5555-5555-5555-4444", "5555-5555-5555-4444"),
        ("mc-2series", "pan:2223003122003222", "2223003122003222"),
        ("amex-4-6-5", "AMEX 3782 822463 10005", "3782 822463 10005"),
        ("amex-compact", "371449635398431", "371449635398431"),
        ("discover-quoted", "'6011111111111117'", "6011111111111117"),
        ("jcb", "JCB:3530111333300000", "3530111333300000"),
        ("diners-14", "diners 30569309025904.", "30569309025904"),
        ("unionpay", "(6200000000000005)", "6200000000000005"),
        ("maestro", "maestro 6759649826438453", "6759649826438453"),
        ("json", '{"pan":"5105105105105100"}', "5105105105105100"),
        ("multibyte-around", "Karte № 4111 1111 1111 1111 — gültig", "4111 1111 1111 1111"),
        ("expiry-after-groups", "4012 8888 8888 1881 11/29", "4012 8888 8888 1881"),
    ],
    "iban": [
        ("de-compact", "IBAN: DE89370400440532013000", "DE89370400440532013000"),
        ("de-grouped", "DE89 3704 0044 0532 0130 00 (EUR)", "DE89 3704 0044 0532 0130 00"),
        ("gb-grouped", "pay GB82 WEST 1234 5698 7654 32.", "GB82 WEST 1234 5698 7654 32"),
        ("fr-grouped", "FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606"),
        ("nl", "NL91ABNA0417164300", "NL91ABNA0417164300"),
        ("es-json", '{"iban":"ES9121000418450200051332"}', "ES9121000418450200051332"),
        ("it", "IT60X0542811101000000123456", "IT60X0542811101000000123456"),
        ("ch", "CH9300762011623852957", "CH9300762011623852957"),
        ("be-then-word", "BE68 5390 0754 7034 2024", "BE68 5390 0754 7034"),
        ("at", "AT611904300234573201", "AT611904300234573201"),
        ("pl", "PL61 1090 1014 0000 0712 1981 2874", "PL61 1090 1014 0000 0712 1981 2874"),
    ],
    "email": [
        ("plain", "alice@example.org", "alice@example.org"),
        ("angle", "From: Bob <bob.smith@mail.example.co.uk>", "bob.smith@mail.example.co.uk"),
        ("mailto", "mailto:carol+tag@example.com", "carol+tag@example.com"),
        ("sql-quoted", "INSERT ... VALUES ('frank@example.de')", "frank@example.de"),
        ("json", '{"email":"eve@example.org"}', "eve@example.org"),
        ("upper", "ADMIN@EXAMPLE.COM", "ADMIN@EXAMPLE.COM"),
        ("percent", "user%relay@example.net", "user%relay@example.net"),
        ("digits-local", "1234@numbers.example.com", "1234@numbers.example.com"),
        ("long-tld", "x@example.museum", "x@example.museum"),
        ("sentence-end", "write to dave_o@example.io.", "dave_o@example.io"),
        # Ambiguous: URL userinfo is address-shaped. Taken as a TP on purpose: it masks the password.
        ("url-userinfo", "https://deploy:hunter2@git.example.com/r", "hunter2@git.example.com"),
        ("idn", "Zoë <zoë@exämple.org>", "zoë@exämple.org"),
        ("idn-cjk", "联系 用户@例子.广告。", "用户@例子.广告"),
    ],
    "phone": [
        ("e164-spaces", "+1 415 555 2671", "+1 415 555 2671"),
        ("e164-compact", "tel=+14155552671", "+14155552671"),
        ("uk", "call +44 20 7946 0958 now", "+44 20 7946 0958"),
        ("nanp-parens", "(555) 123-4567", "(555) 123-4567"),
        ("nanp-dashes", "phone: 555-123-4567", "555-123-4567"),
        ("nanp-dots", "555.123.4567", "555.123.4567"),
        ("de-trunk", "+49 (0)30 901820", "+49 (0)30 901820"),
        ("fr", "+33 1 23 45 67 89", "+33 1 23 45 67 89"),
        ("nanp-tollfree", "1-800-555-0199", "1-800-555-0199"),
        ("jp", "+81 3-1234-5678", "+81 3-1234-5678"),
        ("tel-uri", "tel:+1-212-555-0100", "+1-212-555-0100"),
        ("us-parens-e164", "+1 (212) 555-0100", "+1 (212) 555-0100"),
    ],
    "ssn": [
        ("plain", "536-22-8451", "536-22-8451"),
        ("labelled", "SSN: 219-09-9998", "219-09-9998"),
        ("parens", "(ssn 456-78-9012)", "456-78-9012"),
        ("kv", "ssn=001-01-0001", "001-01-0001"),
        ("area-665", "665-12-3456", "665-12-3456"),
        ("area-899", "899-99-9999", "899-99-9999"),
        ("spaces", "ssn 772 19 5643", "772 19 5643"),
        ("json", '{"ssn":"234-56-7890"}', "234-56-7890"),
        ("then-number", "123-45-6789 42", "123-45-6789"),
    ],
    "aws_access_key": [
        ("akia", "AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
        ("asia", "ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A"),
        ("ini", "aws_access_key_id = AKIAI44QH8DHBEXAMPLE", "AKIAI44QH8DHBEXAMPLE"),
        ("abia", "key ABIA0123456789ABCDEF.", "ABIA0123456789ABCDEF"),
        ("acca", "ACCAZZZZYYYYXXXX9999", "ACCAZZZZYYYYXXXX9999"),
        ("json", '"AccessKeyId": "ASIAJEXAMPLEXEG2JICE"', "ASIAJEXAMPLEXEG2JICE"),
        ("env", "AWS_ACCESS_KEY_ID=AKIA2E0A8F3B244C9986", "AKIA2E0A8F3B244C9986"),
        ("url", "https://s3?AWSAccessKeyId=AKIAJ3BVEXAMPLE12345&x=1", "AKIAJ3BVEXAMPLE12345"),
    ],
    "aws_secret_key": [
        ("ini", f"aws_secret_access_key = {_AWS_SECRET}", _AWS_SECRET),
        ("env-quoted", f'AWS_SECRET_ACCESS_KEY="{_AWS_SECRET2}"', _AWS_SECRET2),
        ("json", f'"SecretAccessKey": "{_AWS_SECRET3}",', _AWS_SECRET3),
        ("env-short-name", f"export AWS_SECRET={_AWS_SECRET}", _AWS_SECRET),
        ("yaml", f"secret: {_AWS_SECRET2}", _AWS_SECRET2),
        ("cli-flag", f"aws configure --secret-access-key {_AWS_SECRET3}", _AWS_SECRET3),
        ("ruby-hash", f"aws_secret_key => '{_AWS_SECRET}'", _AWS_SECRET),
        # Any 40-char mixed-case base64 value behind a "secret" keyword is reported as
        # aws_secret_key: the shape cannot tell AWS from other 40-char secrets, both need masking.
        ("client-secret", f"client_secret={_AWS_SECRET2}&x=1", _AWS_SECRET2),
    ],
    "github_token": [
        ("ghp", f"ghp_{_B36}", f"ghp_{_B36}"),
        ("gho", f"token gho_{_B36}", f"gho_{_B36}"),
        ("ghu", f"ghu_{_B36}\n", f"ghu_{_B36}"),
        ("ghs", f'"ghs_{_B36}"', f"ghs_{_B36}"),
        ("ghr", f"ghr_{_B36}", f"ghr_{_B36}"),
        ("fine-grained", f"github_pat_{_PAT22}_{_PAT59}", f"github_pat_{_PAT22}_{_PAT59}"),
        ("auth-header", f"Authorization: token ghp_{_B36}", f"ghp_{_B36}"),
        ("clone-url", f"https://ghp_{_B36}@github.com/org/repo.git", f"ghp_{_B36}"),
    ],
    "gitlab_token": [
        ("plain", "glpat-aB3dE5gH7jK9mN1pQ3sT", "glpat-aB3dE5gH7jK9mN1pQ3sT"),
        ("dash-underscore", "glpat-x_y-Z0123456789abcde", "glpat-x_y-Z0123456789abcde"),
        ("header", "PRIVATE-TOKEN: glpat-ABCDEFGHIJKLMNOPQRST", "glpat-ABCDEFGHIJKLMNOPQRST"),
        ("env", "GITLAB_TOKEN=glpat-0123456789abcdefghij", "glpat-0123456789abcdefghij"),
        ("url", "https://oauth2:glpat-aB3dE5gH7jK9mN1pQ3sT@gitlab.com/g/p.git", "glpat-aB3dE5gH7jK9mN1pQ3sT"),
        ("json", '{"token":"glpat-Zz9Yy8Xx7Ww6Vv5Uu4Tt"}', "glpat-Zz9Yy8Xx7Ww6Vv5Uu4Tt"),
        ("long", "glpat-" + "a1" * 30, "glpat-" + "a1" * 30),
        ("quoted", "'glpat-QWERTYUIOPASDFGHJKLZ'", "glpat-QWERTYUIOPASDFGHJKLZ"),
    ],
    "slack_token": [
        ("bot", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
         "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
        ("user", "token=xoxp-1234-5678-9012-abcdef0123456789abcdef0123456789",
         "xoxp-1234-5678-9012-abcdef0123456789abcdef0123456789"),
        ("app", "xoxa-2-1234567890-abcdefghijkl", "xoxa-2-1234567890-abcdefghijkl"),
        ("refresh", "xoxr-98765-ZYXWVUTSRQ", "xoxr-98765-ZYXWVUTSRQ"),
        ("legacy", "'xoxs-11111-22222-abcdefgh'", "xoxs-11111-22222-abcdefgh"),
        ("webhook", "url: https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
         "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"),
        ("webhook-json", '{"hook":"https://hooks.slack.com/services/T0A1B2C3D/B9Z8Y7X6W/aBcDeFgHiJkLmNoPqRsTuVwX"}',
         "https://hooks.slack.com/services/T0A1B2C3D/B9Z8Y7X6W/aBcDeFgHiJkLmNoPqRsTuVwX"),
        ("bearer", "Authorization: Bearer xoxb-42-abcdefghij", "xoxb-42-abcdefghij"),
    ],
    "stripe_key": [
        ("sk-live", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        ("sk-test", "STRIPE_KEY=sk_test_4eC39HqLyjWDarjtT1zdp7dc", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
        ("rk-live", "rk_live_51H8abcdEFGH1234ijkl", "rk_live_51H8abcdEFGH1234ijkl"),
        ("rk-test", "'rk_test_0123456789abcdef'", "rk_test_0123456789abcdef"),
        ("basic-auth", "curl -u sk_live_aB3dE5gH7jK9mN1pQ3sT: https://api", "sk_live_aB3dE5gH7jK9mN1pQ3sT"),
        ("json", '{"key":"sk_test_51MzZzZzZzZzZzZzZzZ"}', "sk_test_51MzZzZzZzZzZzZzZzZ"),
        ("long", "sk_live_" + "Ab1" * 33, "sk_live_" + "Ab1" * 33),
        ("bearer", "Bearer rk_live_QWERTYUIOPASDFGH", "rk_live_QWERTYUIOPASDFGH"),
    ],
    "jwt": [
        ("hs256", _JWT, _JWT),
        ("bearer", f"Authorization: Bearer {_JWT}", _JWT),
        ("rs256", f"{_H_RS}.{_P42}.{_SIG}", f"{_H_RS}.{_P42}.{_SIG}"),
        ("es256-json", f'{{"id_token":"{_H_ES}.{_P42}.{_SIG}"}}', f"{_H_ES}.{_P42}.{_SIG}"),
        ("unsecured", f"t={_H_NONE}.{_P42}.", f"{_H_NONE}.{_P42}."),
        ("jwe", f"{_H_JWE}.OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGe."
                "48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6ji.XFBoMYUZodetZdvTiFvSkQ",
         f"{_H_JWE}.OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGe."
         "48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6ji.XFBoMYUZodetZdvTiFvSkQ"),
        ("query-param", f"https://app/cb?token={_JWT}&state=1", _JWT),
        ("sentence-end", f"use {_JWT}.", _JWT),
    ],
    "pem_private_key": [
        ("rsa", _pem("RSA PRIVATE KEY"), _pem("RSA PRIVATE KEY")),
        ("pkcs8", "key:\n" + _pem("PRIVATE KEY") + "\n", _pem("PRIVATE KEY")),
        ("ec", _pem("EC PRIVATE KEY"), _pem("EC PRIVATE KEY")),
        ("openssh", "$ cat id\n" + _pem("OPENSSH PRIVATE KEY") + "\n$ ", _pem("OPENSSH PRIVATE KEY")),
        ("encrypted", _pem("ENCRYPTED PRIVATE KEY"), _pem("ENCRYPTED PRIVATE KEY")),
        ("dsa", _pem("DSA PRIVATE KEY"), _pem("DSA PRIVATE KEY")),
        ("pgp", _pem("PGP PRIVATE KEY BLOCK"), _pem("PGP PRIVATE KEY BLOCK")),
        ("json-escaped", '{"k":"' + _pem("PRIVATE KEY", _ESCAPED) + '"}', _pem("PRIVATE KEY", _ESCAPED)),
        # Truncated output: the base64 body after BEGIN is masked rather than leaking half a key.
        ("unterminated", "x\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7bq2",
         "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7bq2"),
    ],
    "password_hash": [
        ("mysql-native", f"| bob | %      | {_NATIVE} |", _NATIVE),
        ("mysql-grants", f"GRANT USAGE ON *.* TO `bob`@`%` IDENTIFIED BY PASSWORD '{_NATIVE}'", _NATIVE),
        ("bcrypt-2b", f"password_hash={_BCRYPT}", _BCRYPT),
        ("bcrypt-2y-php", f"'{_BCRYPT.replace('$2b$', '$2y$')}'", _BCRYPT.replace("$2b$", "$2y$")),
        ("sha512-crypt", f"alice:{_SHA512}:19700:0:99999:7:::", _SHA512),
        ("sha256-crypt", f"bob:{_SHA256}:19700:0:99999:7:::", _SHA256),
        ("md5-crypt", f"carol:{_MD5}:19700::::::", _MD5),
        ("sha512-rounds", f"x {_SHA512_ROUNDS} y", _SHA512_ROUNDS),
        ("yescrypt", f"dave:{_YESCRYPT}:19700:0:99999:7:::", _YESCRYPT),
        ("argon2id", f'{{"hash": "{_ARGON2}"}}', _ARGON2),
        ("pbkdf2-passlib", f"h={_PBKDF2}", _PBKDF2),
        ("pbkdf2-django", f"| 1 | {_DJANGO} | admin |", _DJANGO),
    ],
}

FALSE_POSITIVES: dict[str, list[tuple[str, str]]] = {
    "card": [
        ("luhn-fail-order", "order 4111111111111112"),
        ("unknown-prefix-9", "ref 9111111111111110"),
        ("unknown-prefix-1", "id 1234567812345670"),
        ("unknown-prefix-7", "7000000000000005"),
        ("amex-prefix-16-digits", "3782822463100000"),
        ("epoch-millis", "ts=1700000000000"),
        ("epoch-micros", "1700000000000000"),
        ("phone-e164", "+1 415 555 2671"),
        ("phone-nanp", "(555) 123-4567"),
        ("iban-grouped", "DE89 3704 0044 0532 0130 00"),
        ("iban-compact", "DE89370400440532013000"),
        ("version", "5.5.5-10.11.19-MariaDB"),
        ("uuid-digits", "41111111-1111-1111-1111-111111111111"),
        ("uuid", "550e8400-e29b-41d4-a716-446655440000"),
        ("isbn-13", "ISBN 978-3-16-148410-0"),
        ("isbn-compact", "9780306406157"),
        ("longer-run", "41111111111111111111"),
        ("glued-to-letters", "tok4111111111111111x"),
        # A grouped run never starts right after "<digit><sep>": sub-windows of long grouped
        # digit runs (IBAN BBANs, tables) would otherwise hit brand + Luhn 1 time in ~30.
        ("inside-grouped-run", "1234 4111 1111 1111 1111"),
        ("datetime", "2024-01-15 12:34:56"),
    ],
    "iban": [
        ("bad-checksum", "DE89370400440532013001"),
        ("short", "DE8937040044053201300"),
        ("long", "DE893704004405320130000"),
        ("unknown-country", "XX89370400440532013000"),
        ("lowercase", "de89370400440532013000"),
        ("glued", "ACCTDE89370400440532013000"),
        ("grouped-short", "GB82 WEST 1234 5698 7654 3"),
        ("nl-bad-checksum", "NL91ABNA0417164301"),
        ("bic", "DEUTDEFF500"),
        ("hex-upper", "DE12A4F0C9B8E7D6A5F4C3B2"),
        ("aws-key", "AKIAIOSFODNN7EXAMPLE"),
        ("grouped-broken", "DE89 3704 0044 0532 0130 0012"),
    ],
    "email": [
        ("no-dot", "a@b"),
        ("localhost", "user@localhost"),
        ("retina-asset", "icon@2x.png"),
        ("npm-version", "lodash@4.17.21"),
        ("no-local", "@example.com"),
        ("no-tld", "alice@example"),
        ("double-dot-local", "alice..bob@example.com"),
        ("double-at", "user@@example.com"),
        ("label-hyphen", "foo@-bar.com"),
        ("one-letter-tld", "me@example.c"),
        ("ssh-target", "ssh deploy@web01"),
        ("image-digest", "nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31"),
        ("decorator", "@app.route('/x')"),
        ("numeric-tld", "x@10.0.0.1"),
        ("underscore-domain", "me@my_host.example.com"),
        ("local-too-long", "a" * 65 + "@example.com"),
    ],
    "phone": [
        ("iso-date", "2024-01-15"),
        ("ipv4", "192.168.100.200"),
        ("short", "call 911"),
        ("digits-5", "12345"),
        ("card", "4111 1111 1111 1111"),
        ("price", "$1,234,567.89"),
        ("signed-decimal", "+1234567.89"),
        ("version", "version 10.15.7"),
        ("iso-datetime-offset", "2024-01-15T10:00:00+01:00"),
        ("local-7-digit", "555-1234"),
        ("trailing-digit", "555-123-45678"),
        ("plus-date", "+2024-01-15"),
        ("isbn", "ISBN 978-3-16-148410-0"),
        ("ssn", "123-45-6789"),
        ("pi", "3.14159265358979"),
        ("epoch", "1700000000"),
        ("e164-too-long", "+1234567890123456"),
        ("nanp-area-1", "123-456-7890"),
        ("mixed-separators", "555-123.4567"),
        ("arithmetic", "x=3+14155552671"),
    ],
    "ssn": [
        ("area-000", "000-12-3456"),
        ("area-666", "666-12-3456"),
        ("area-9xx", "912-34-5678"),
        ("group-00", "123-00-4567"),
        ("serial-0000", "123-45-0000"),
        ("unseparated", "123456789"),
        ("long-serial", "123-45-67890"),
        ("long-area", "1123-45-6789"),
        ("iso-date", "2024-01-15"),
        ("phone", "555-123-4567"),
        ("mixed-separators", "123-45 6789"),
        ("published-woolworth", "078-05-1120"),
        ("row-of-numbers", "1 123 45 6789 0"),
        ("isbn-10", "ISBN 0-306-40615-2"),
        ("dashed-chain", "123-45-6789-1"),
    ],
    "aws_access_key": [
        ("too-short", "AKIAIOSFODNN7EXAMPL"),
        ("too-long", "AKIAIOSFODNN7EXAMPLEX"),
        ("lowercase", "akiaiosfodnn7example"),
        ("wrong-prefix", "AKIBIOSFODNN7EXAMPLE"),
        ("glued", "XAKIAIOSFODNN7EXAMPLE"),
        ("dash", "AKIA-IOSFODNN7EXAMPLE"),
        ("mixed-case-tail", "AKIAIOSFODNN7example"),
        ("user-id", "AIDAIOSFODNN7EXAMPLE"),
        ("role-id", "AROAIOSFODNN7EXAMPLE"),
    ],
    "aws_secret_key": [
        ("no-keyword", f"token {_AWS_SECRET}"),
        ("keyword-39", f"aws_secret_access_key = {_AWS_SECRET[:-1]}"),
        ("keyword-41", f"aws_secret_access_key = {_AWS_SECRET}A"),
        ("git-sha", "secret: da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("secretary", f"secretary: {_AWS_SECRET}"),
        ("keyword-far", f"the secret is stored elsewhere, see {_AWS_SECRET}"),
        ("env-reference", "AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}"),
        ("placeholder", "secret = 'changeme'"),
        ("longer-base64", f"secret: {_AWS_SECRET}=="),
        ("upper-hex", "SECRET=DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"),
    ],
    "github_token": [
        ("ghp-35", f"ghp_{_B36[:-1]}"),
        ("bad-type", f"ghx_{_B36}"),
        ("glued", f"myghp_{_B36}"),
        ("underscore-inside", f"ghp_{_B36[:10]}_{_B36[10:]}"),
        ("uppercase-prefix", f"GHP_{_B36}"),
        ("pat-short", "github_pat_11ABCDEFG0aBcDeFgHiJkL"),
        ("pat-identifier", "github_pat_token_placeholder_value_for_config_documentation"),
        ("gh-pat", f"gh_pat_{_B36}"),
        ("doc-prefix-only", "tokens start with ghp_ or github_pat_"),
    ],
    "gitlab_token": [
        ("19-chars", "glpat-aB3dE5gH7jK9mN1pQ3s"),
        ("uppercase", "GLPAT-aB3dE5gH7jK9mN1pQ3sT"),
        ("glued", "myglpat-aB3dE5gH7jK9mN1pQ3sT"),
        ("underscore", "glpat_aB3dE5gH7jK9mN1pQ3sT"),
        ("prefix-only", "glpat-"),
        ("deploy-token", "gldt-aB3dE5gH7jK9mN1pQ3sT"),
        ("short", "glpat-short"),
        ("dotted", "glpat-aB3dE5gH7.jK9mN1pQ3sT"),
    ],
    "slack_token": [
        ("placeholder", "xoxb-your-token-here"),
        ("bad-type", "xoxz-1234-abcdefghijkl"),
        ("short", "xoxb-123"),
        ("webhook-base", "https://hooks.slack.com/services/"),
        ("webhook-placeholder", "https://hooks.slack.com/services/T000/B000/XXXX"),
        ("prefix-only", "xoxb"),
        ("glued", "myxoxb-123456-abcdefghij"),
        ("api-url", "https://slack.com/api/chat.postMessage"),
        ("no-digits-segment", "xoxp-abcdef-ghijklmnop"),
    ],
    "stripe_key": [
        ("publishable-live", "pk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        ("publishable-test", "pk_test_4eC39HqLyjWDarjtT1zdp7dc"),
        ("short", "sk_live_short"),
        ("bad-mode", "sk_prod_4eC39HqLyjWDarjtT1zdp7dc"),
        ("glued", "mysk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        ("identifier", "sk_live_api_key_name_setting"),
        ("uppercase", "SK_LIVE_4eC39HqLyjWDarjtT1zdp7dc"),
        ("prefix-only", "keys look like sk_live_..."),
    ],
    "jwt": [
        ("header-only", _H_HS),
        ("two-segments", f"{_H_HS}.{_PAYLOAD}"),
        ("no-alg", f"{_H_NOALG}.{_P42}.{_SIG}"),
        ("garbage-header", "eyJxxxxxxxxxxxxxxxxx.yyyyyyyy.zzzzzzzz"),
        ("glued", f"x{_JWT}"),
        ("header-dots", f"{_H_HS}.."),
        ("java-ish", "eyJava.util.concurrent.Future"),
        ("short", "eyJ.a.b"),
        ("payload-header", f"{_P42}.{_PAYLOAD}.{_SIG}"),
    ],
    "pem_private_key": [
        ("public", _pem("PUBLIC KEY")),
        ("certificate", _pem("CERTIFICATE")),
        ("rsa-public", _pem("RSA PUBLIC KEY")),
        ("csr", _pem("CERTIFICATE REQUEST")),
        ("prose", "paste the BEGIN PRIVATE KEY block here"),
        ("end-only", "-----END RSA PRIVATE KEY-----"),
        ("pgp-public", _pem("PGP PUBLIC KEY BLOCK")),
        ("pgp-signature", _pem("PGP SIGNATURE")),
        ("ssh-public", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl u@h"),
        ("grep", "grep -l 'PRIVATE KEY-----' ~/.ssh/*"),
        # Markers around shell commands are not a key: masking must not hide the command.
        ("markers-around-commands",
         "echo -----BEGIN RSA PRIVATE KEY-----; touch ~/x; echo -----END RSA PRIVATE KEY-----"),
        ("marker-lines-around-a-command",
         "echo -----BEGIN RSA PRIVATE KEY-----\n/sbin/reboot\n-----END RSA PRIVATE KEY-----"),
        ("marker-line-then-commands", "echo -----BEGIN RSA PRIVATE KEY-----\ntouch ~/x\nid"),
        ("words-of-several-widths", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN\nrm\nMIIEvQIBADANBgkq\n"
                                    "-----END PRIVATE KEY-----"),
    ],
    "password_hash": [
        ("sha1-hex-lower", "*d821809f681a40a6e379b50d0463efae20bdd122"),
        ("hex-41", "*D821809F681A40A6E379B50D0463EFAE20BDD1220"),
        ("glued-star", "x*D821809F681A40A6E379B50D0463EFAE20BDD122"),
        ("shell-var", "echo $1$2 and $5 $6"),
        ("bcrypt-short", "$2b$10$tooShort"),
        ("price", "costs $5$ or $6$ each"),
        ("argon2-no-params", "$argon2id$ is the algorithm"),
        ("perl", "my ($1, $y) = @_;"),
        ("git-sha", "commit d821809f681a40a6e379b50d0463efae20bdd122"),
    ],
}
