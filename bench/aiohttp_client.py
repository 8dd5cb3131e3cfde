"""The bench's python-aiohttp client: the approach that motivated lambdafan.

An asyncio loop of aiohttp POSTs to the Invoke API, each signed with
botocore's SigV4Auth on an AWSRequest, at most C in flight (a semaphore),
all N gathered at once. Run by the bench harness (bench/pyclient.go) as

    python3 aiohttp_client.py URL N C PAYLOAD_BYTES

with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and, for https,
AWS_CA_BUNDLE in the environment. It prints one JSON line: the wall time of
the invocations (not of start-up) and how many failed.
"""

import asyncio
import json
import os
import ssl
import sys
import time

import aiohttp
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def make_payload(size):
    """A JSON object of exactly size bytes, as the Go harness makes it."""
    head, tail = b'{"data":"', b'"}'
    return head + b"x" * max(0, size - len(head) - len(tail)) + tail


async def invoke(session, sem, url, payload, creds, region):
    async with sem:
        request = AWSRequest(method="POST", url=url, data=payload,
                             headers={"Content-Type": "application/json"})
        SigV4Auth(creds, "lambda", region).add_auth(request)
        try:
            async with session.post(url, data=payload, headers=dict(request.headers)) as resp:
                body = await resp.read()
                return resp.status == 200 and body == payload
        except aiohttp.ClientError:
            return False


async def main(endpoint, n, c, size):
    creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    region = os.environ.get("AWS_REGION", "us-east-1")
    url = endpoint + "/2015-03-31/functions/bench/invocations"
    payload = make_payload(size)
    ctx = None
    if endpoint.startswith("https") and os.environ.get("AWS_CA_BUNDLE"):
        ctx = ssl.create_default_context(cafile=os.environ["AWS_CA_BUNDLE"])
    sem = asyncio.Semaphore(c)
    connector = aiohttp.TCPConnector(limit=c, ssl=ctx)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        results = await asyncio.gather(*(invoke(session, sem, url, payload, creds, region) for _ in range(n)))
        wall = time.perf_counter() - start
    return wall, sum(1 for ok in results if not ok)


if __name__ == "__main__":
    url, n, c, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    wall, failed = asyncio.run(main(url, n, c, size))
    print(json.dumps({"wall_s": wall, "allocs": 0, "alloc_bytes": 0, "failed": failed}))
