"""Posts alert-topic notifications to Slack (handler: `lambdas.slack_forwarder.handler.lambda_handler`)."""
