"""Certificate expiry: an alarm while the load balancer's certificate has fewer than 30 days left.

Without `acmCertificateArn` the load balancer serves the Vault nodes' own certificate, imported into ACM
(components/vault/tls.py), so ACM's `DaysToExpiry` for it is also the nodes' expiry: one alarm covers both.
`pulumi up` re-issues that certificate 30 days before it expires; this alarm says when no one has run it.
"""

from __future__ import annotations

import pulumi

from components.monitoring.alarms import AlarmSpec, Metric

EXPIRY_WARNING_DAYS = 30
DAY_SECONDS = 86400


def certificate_alarms(certificate_arn: pulumi.Input[str]) -> list[AlarmSpec]:
    """The TLS certificate's expiry alarm (ACM publishes DaysToExpiry once a day per certificate)."""
    return [
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
            # A day without a datapoint (a new certificate before ACM's first daily publication) says
            # nothing about expiry.
            treat_missing_data="notBreaching",
        )
    ]
