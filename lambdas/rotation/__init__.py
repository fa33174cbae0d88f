"""The catalog's Secrets Manager rotation function (handler: `lambdas.rotation.handler.lambda_handler`)."""

# The CloudWatch namespace the function publishes to; its IAM policy allows exactly this one.
METRIC_NAMESPACE = "Candlefish/Secrets"
