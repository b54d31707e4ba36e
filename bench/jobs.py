"""Job protocol throughput against a local moto server: submit rate and end-to-end drain rate.

    .venv/bin/python bench/jobs.py [--jobs 200] [--workers 4]

Moto runs in this process (GIL shared with the workers), so the figures are a floor for the protocol's own
overhead per job (requests per job x moto latency), not AWS throughput.
"""

import argparse
import io
import json
import logging
import os
import threading
import time
import uuid

import boto3
from moto.server import ThreadedMotoServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        }
    )
    from sdk.jobs import JobClient, Worker, WorkerConfig
    from sdk.jobs.schema import HASH_KEY

    name = f"bench-{uuid.uuid4().hex[:8]}"
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})
    queue = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    boto3.client("dynamodb").create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": HASH_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": HASH_KEY, "AttributeType": "S"}],
    )
    boto3.client("s3").create_bucket(Bucket=name)
    client = JobClient(queue, name, name)

    started = time.perf_counter()
    job_ids = [client.submit("bench", {"n": i}) for i in range(args.jobs)]
    submit_s = time.perf_counter() - started

    config = WorkerConfig(
        queue_url=queue, table_name=name, bucket=name, wait_seconds=1, visibility_timeout=30, max_receive_count=3
    )
    workers = [
        Worker(lambda ctx: {"n": ctx.payload["n"]}, config, metrics_stream=io.StringIO()) for _ in range(args.workers)
    ]
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    started = time.perf_counter()
    for t in threads:
        t.start()
    while (
        any(not client.status(j).status.terminal for j in job_ids[-10:])
        or sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        != "0"
    ):
        time.sleep(0.05)
    drain_s = time.perf_counter() - started
    for w in workers:
        w.stop()
    succeeded = sum(client.status(j).status == "SUCCEEDED" for j in job_ids)
    print(f"submit: {args.jobs} jobs in {submit_s:.2f}s = {args.jobs / submit_s:.0f} jobs/s")
    print(
        f"drain:  {args.jobs} jobs, {args.workers} worker threads in {drain_s:.2f}s = "
        f"{args.jobs / drain_s:.0f} jobs/s ({succeeded} SUCCEEDED)"
    )
    server.stop()


if __name__ == "__main__":
    main()
