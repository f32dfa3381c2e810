#!/usr/bin/env python3
"""Seeds AxiomCore in a running moto (for the benchmarks): cluster, services, topic, ledger."""
import sys

import boto3

endpoint = sys.argv[1]
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
ecs = boto3.client("ecs", **kw)
ecs.create_cluster(clusterName="axiomcore-production")
for svc, n in (("api", 3), ("frontend", 2)):
    ecs.register_task_definition(family=f"axiomcore-{svc}", containerDefinitions=[{"name": svc, "image": f"axiomcore/{svc}:1.0", "memory": 512}])
    ecs.create_service(cluster="axiomcore-production", serviceName=svc, taskDefinition=f"axiomcore-{svc}", desiredCount=n)
boto3.client("sns", **kw).create_topic(Name="axiomcore-ops")
boto3.client("dynamodb", **kw).create_table(
    TableName="axiomcore-ops-ledger",
    BillingMode="PAY_PER_REQUEST",
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
)
