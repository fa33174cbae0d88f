"""The Vault nodes' own certificate is watched even when the load balancer serves another ACM certificate."""

from tests.support.mocks import run_program

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
IMPORTED = "aws:acm/certificate:Certificate"
OWN_CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000"


def expiry_alarms(recording):
    return {
        a.name: a
        for a in recording.of_type(ALARM)
        if a.inputs.get("metricName") == "DaysToExpiry"
        or "DaysToExpiry" in str(a.inputs.get("metricQueries"))
    }


def certificate_of(alarm):
    if alarm.inputs.get("dimensions"):
        return alarm.inputs["dimensions"]["CertificateArn"]
    (query,) = [q for q in alarm.inputs["metricQueries"] if q.get("metric")]
    return query["metric"]["dimensions"]["CertificateArn"]


def test_with_the_imported_node_certificate_on_the_listener_one_alarm_covers_both(production):
    imported = production.one(IMPORTED, "vault-tls-acm")
    (alarm,) = expiry_alarms(production).values()
    assert certificate_of(alarm) == imported.outputs["arn"]


def test_with_an_own_acm_certificate_the_node_certificate_has_its_own_expiry_alarm():
    recording = run_program(
        "production",
        overrides={
            "candlefish-secrets:acmCertificateArn": OWN_CERTIFICATE,
            "candlefish-secrets:vaultServerName": "vault.candlefish.ai",
        },
    )
    imported = recording.one(IMPORTED, "vault-tls-acm")
    assert imported.inputs["tags"]["Purpose"] == "expiry-monitoring"
    watched = sorted(certificate_of(alarm) for alarm in expiry_alarms(recording).values())
    assert watched == sorted([OWN_CERTIFICATE, imported.outputs["arn"]])
