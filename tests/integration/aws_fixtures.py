"""AWS resources in moto for the integration tests, made the way a user's account has them."""

import io
import zipfile

import boto3
from botocore.exceptions import ClientError

REGION = "us-east-1"


def create_function(endpoint: str, name: str = "fn") -> str:
    """A function `name` (configuration only: moto never invokes it here); its ARN. Idempotent."""
    kw = {
        "endpoint_url": endpoint,
        "region_name": REGION,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    iam = boto3.client("iam", **kw)
    try:
        role = iam.create_role(RoleName="lambdascope-test", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    except ClientError:
        role = iam.get_role(RoleName="lambdascope-test")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    lam = boto3.client("lambda", **kw)
    try:
        return lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": buf.getvalue()},
        )["FunctionArn"]
    except ClientError:
        return lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
