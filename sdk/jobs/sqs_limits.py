"""SQS's limits, one home for the job protocol (client, worker, config), the queue construct and the blueprints.

Ranges from botocore's SQS service model (SetQueueAttributes, ReceiveMessage, ChangeMessageVisibility) and the SQS
Developer Guide (docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
"""

# SQS has accepted up to 1 MiB since 2025 (botocore's model: MaximumMessageSize 1,024 to 1,048,576); the protocol
# keeps the old 256 KiB ceiling, which every region, existing queue and moto accept.
MAX_MESSAGE_BYTES = 256 * 1024
MAX_VISIBILITY_SECONDS = 12 * 3600  # queue attribute and ChangeMessageVisibility: 0 to 43,200
MAX_WAIT_SECONDS = 20  # ReceiveMessage WaitTimeSeconds / ReceiveMessageWaitTimeSeconds: 0 to 20 (long poll)
MAX_RECEIVE_BATCH = 10  # ReceiveMessage MaxNumberOfMessages: 1 to 10
MAX_RETENTION_SECONDS = 14 * 24 * 3600  # MessageRetentionPeriod: 60 to 1,209,600
DEFAULT_RETENTION_SECONDS = 4 * 24 * 3600  # MessageRetentionPeriod's default, 345,600
