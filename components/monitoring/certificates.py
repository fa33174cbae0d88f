"""Certificate expiry: an alarm while the load balancer's certificate has fewer than 30 days left.

Without `acmCertificateArn` the load balancer serves the Vault nodes' own certificate, imported into ACM
(components/vault/tls.py), so ACM's `DaysToExpiry` for it is also the nodes' expiry: one alarm covers both.
With `acmCertificateArn`, the node certificate is imported into ACM only to be watched, and has its own alarm.
`pulumi up` re-issues that certificate 30 days before it expires; this alarm says when no one has run it.
"""

from __future__ import annotations

import pulumi

from components.monitoring.alarm_spec import AlarmSpec
from components.monitoring.targets import Metric

EXPIRY_WARNING_DAYS = 30
DAY_SECONDS = 86400
DAILY_METRIC_REASON = (
    "ACM publishes DaysToExpiry once a day; a day without a datapoint (a new certificate before its first "
    "publication) says nothing about expiry, so it does not breach."
)


def _expiry(key: str, certificate_arn: pulumi.Input[str], meaning: str, first_step: str) -> AlarmSpec:
    """Fewer than EXPIRY_WARNING_DAYS left on one ACM certificate (DaysToExpiry, published daily)."""
    return AlarmSpec(
        key=key,
        page=False,
        meaning=meaning,
        first_step=first_step,
        metrics=(Metric("AWS/CertificateManager", "DaysToExpiry", {"CertificateArn": certificate_arn}),),
        statistic="Minimum",
        period=DAY_SECONDS,
        comparison="LessThanThreshold",
        threshold=EXPIRY_WARNING_DAYS,
        treat_missing_data="notBreaching",
        missing_data_reason=DAILY_METRIC_REASON,
    )


def certificate_alarms(
    certificate_arn: pulumi.Input[str], node_certificate_arn: pulumi.Input[str] | None = None
) -> list[AlarmSpec]:
    """The TLS certificates' expiry alarms: the listener's, and the nodes' own when it is another one."""
    specs = [
        _expiry(
            "tls-certificate-expiry",
            certificate_arn,
            f"The Vault TLS certificate (load balancer, and the nodes when ACM holds the imported node "
            f"certificate) expires in fewer than {EXPIRY_WARNING_DAYS} days.",
            "run `pulumi up`: it re-issues the node certificate and re-imports it; with your own ACM "
            "certificate (acmCertificateArn), renew or replace it in ACM.",
        )
    ]
    if node_certificate_arn is not None:
        specs.append(
            _expiry(
                "vault-node-certificate-expiry",
                node_certificate_arn,
                f"The Vault nodes' own TLS certificate (behind the load balancer's ACM certificate) expires "
                f"in fewer than {EXPIRY_WARNING_DAYS} days: the load balancer would then fail its TLS "
                "connections to the nodes, and clients inside the VPC theirs.",
                "run `pulumi up`: it re-issues the node certificate, stores it for the nodes and re-imports "
                "it into ACM; then replace the nodes one at a time (instance refresh).",
            )
        )
    return specs
