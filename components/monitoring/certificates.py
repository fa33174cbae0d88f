"""Certificate expiry: an alarm while the load balancer's certificate has fewer than 30 days left.

Without `acmCertificateArn` the load balancer serves the Vault nodes' own certificate, imported into ACM
(components/vault/tls.py), so ACM's `DaysToExpiry` for it is also the nodes' expiry: one alarm covers both.
With `acmCertificateArn`, the node certificate is imported into ACM only to be watched, and has its own alarm.
`pulumi up` re-issues that certificate 30 days before it expires; this alarm says when no one has run it.
"""

from __future__ import annotations

import pulumi

from components.monitoring.alarms import AlarmSpec, Metric

EXPIRY_WARNING_DAYS = 30
DAY_SECONDS = 86400
DAILY_METRIC_REASON = (
    "ACM publishes DaysToExpiry once a day; a day without a datapoint (a new certificate before its first "
    "publication) says nothing about expiry, so it does not breach."
)


def certificate_alarms(
    certificate_arn: pulumi.Input[str], node_certificate_arn: pulumi.Input[str] | None = None
) -> list[AlarmSpec]:
    """The TLS certificates' expiry alarms (ACM publishes DaysToExpiry once a day per certificate)."""
    node = (
        [
            AlarmSpec(
                key="vault-node-certificate-expiry",
                page=False,
                meaning=f"The Vault nodes' own TLS certificate (behind the load balancer's ACM certificate) "
                f"expires in fewer than {EXPIRY_WARNING_DAYS} days: the load balancer would then fail "
                "its TLS connections to the nodes, and clients inside the VPC theirs.",
                first_step="run `pulumi up`: it re-issues the node certificate, stores it for the nodes and "
                "re-imports it into ACM; then replace the nodes one at a time (instance refresh).",
                metrics=(
                    Metric(
                        "AWS/CertificateManager", "DaysToExpiry", {"CertificateArn": node_certificate_arn}
                    ),
                ),
                statistic="Minimum",
                period=DAY_SECONDS,
                comparison="LessThanThreshold",
                threshold=EXPIRY_WARNING_DAYS,
                treat_missing_data="notBreaching",
                missing_data_reason=DAILY_METRIC_REASON,
            )
        ]
        if node_certificate_arn is not None
        else []
    )
    return [
        *node,
        AlarmSpec(
            key="tls-certificate-expiry",
            page=False,
            meaning=f"The Vault TLS certificate (load balancer, and the nodes when ACM holds the imported "
            f"node certificate) expires in fewer than {EXPIRY_WARNING_DAYS} days.",
            first_step="run `pulumi up`: it re-issues the node certificate and re-imports it; with your own "
            "ACM certificate (acmCertificateArn), renew or replace it in ACM.",
            metrics=(Metric("AWS/CertificateManager", "DaysToExpiry", {"CertificateArn": certificate_arn}),),
            statistic="Minimum",
            period=DAY_SECONDS,
            comparison="LessThanThreshold",
            threshold=EXPIRY_WARNING_DAYS,
            treat_missing_data="notBreaching",
            missing_data_reason=DAILY_METRIC_REASON,
        ),
    ]
