"""The catalog's Secrets Manager rotation function (handler: `lambdas.rotation.handler.lambda_handler`)."""
