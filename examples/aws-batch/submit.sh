#!/bin/sh
# Runs one lambdafan run as an AWS Batch array job of 4 children: child K
# (AWS_BATCH_JOB_ARRAY_INDEX=K) invokes its shard of the input and writes
# part-K.jsonl; a failed child is retried and resumes its shard.
#   aws batch register-job-definition --cli-input-json file://job-definition.json
#   ./submit.sh my-queue s3://my-bucket/run1
# then:
#   lambdafan summary --input s3://my-bucket/run1/requests.jsonl --shards 4 s3://my-bucket/run1/results/
set -eu
queue=$1
run=$2
aws batch submit-job \
  --job-name lambdafan-run \
  --job-queue "$queue" \
  --job-definition lambdafan \
  --array-properties size=4 \
  --parameters "shards=4,concurrency=200,input=$run/requests.jsonl,output=$run/results/part-{shard}.jsonl,summary=$run/results/summary-{shard}.json"
