"""Code that runs in AWS Lambda. Each function depends only on what the Lambda Python runtime ships."""
