"""The gateways' signatures against the vendors' documented formulas (pure; runs with -p no:django)."""
import base64
import hashlib
import hmac
from urllib.parse import unquote_plus

from apps.notifications import signing


def test_dingtalk_sign_is_the_urlencoded_base64_hmac_of_timestamp_newline_secret():
    secret, ts = "SEC0123456789abcdef", 1700000000000
    expected = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()).decode()
    sign = signing.dingtalk_sign(secret=secret, timestamp_ms=ts)
    assert unquote_plus(sign) == expected
    assert "+" not in sign and "/" not in sign and "=" not in sign  # url-encoded


def test_tc3_signature_matches_the_documented_derivation():
    req = signing.tc3_sign(secret_id="AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", secret_key="Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
                           host="sms.tencentcloudapi.com", service="sms", action="SendSms", version="2021-01-11",
                           region="ap-guangzhou", payload={"PhoneNumberSet": ["+8613800000000"]}, timestamp_s=1551113065)
    auth = req.headers["Authorization"]
    assert auth.startswith("TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/sms/tc3_request, ")
    assert "SignedHeaders=content-type;host;x-tc-action, " in auth
    canonical = "\n".join(["POST", "/", "", "content-type:application/json; charset=utf-8\nhost:sms.tencentcloudapi.com\nx-tc-action:sendsms\n",
                           "content-type;host;x-tc-action", hashlib.sha256(req.body).hexdigest()])
    to_sign = f"TC3-HMAC-SHA256\n1551113065\n2019-02-25/sms/tc3_request\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    k = hmac.new(("TC3" + "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE").encode(), b"2019-02-25", hashlib.sha256).digest()
    k = hmac.new(k, b"sms", hashlib.sha256).digest()
    k = hmac.new(k, b"tc3_request", hashlib.sha256).digest()
    assert auth.endswith("Signature=" + hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest())
    assert req.headers["X-TC-Timestamp"] == "1551113065" and req.headers["X-TC-Action"] == "SendSms"
