"""moto_server, completed where moto 5.2.1 stops short of what the tests of
lambdafan invoke --via stepfunctions need. Run as moto_server is run:

    MOTO_PORT=<proxy port> python moto_shim.py -H 127.0.0.1 -p <port>

What it changes, and why (see docs/SCALE-OUT.md, "Testing without AWS"):

- ResultWriter: moto writes a manifest.json that lists no result files
  (moto/stepfunctions/parser/.../result_writer/resource_eval/resource_eval_s3.py:
  "TODO: generate result files"). The shim writes the Map's results as the
  Step Functions guide documents them: SUCCEEDED_n.json as JSON arrays of
  child-execution records (at most SHIM_RESULTS_PER_FILE each, so that a
  run has several files) and a manifest that lists them. moto keeps no
  child input, so records carry "Input": "" with Included false, a form
  real result files take too.
- JSONL item reader: moto reads CSV and JSON only.
- Speed: moto builds a PLY parser for every JSONPath it evaluates and a
  boto3 client for every task, ~0.15 s of CPU per item; both are cached.

It changes nothing else: the ASL is parsed and run by moto, tasks call
Lambda at localhost:$MOTO_PORT (where the test routes them to its
emulator), S3 calls go to moto's S3.
"""
import datetime, functools, json, os, sys, uuid

try:
    import moto
    from moto.stepfunctions.parser.asl.utils import boto_client as _bc
    from moto.stepfunctions.parser.asl.utils import json_path as _jp
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.reader_config import input_type as _it
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_output_transformer import transformer_json as _tj
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import resource_eval_s3 as _rw
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils as _leu
    _targets = (_bc.boto_client_for, _jp.parse, _it.InputType.__init__,
                _tj.ResourceOutputTransformerJson._eval_body, _rw.ResourceEvalS3._handle_put_object)
except (ImportError, AttributeError) as e:
    print(f"moto shim: this moto ({getattr(sys.modules.get('moto'), '__version__', 'not installed')}) is not the one the shim was written for (5.2.1): {e}", file=sys.stderr)
    sys.exit(3)

_jp.parse = functools.lru_cache(maxsize=4096)(_jp.parse)
_client = functools.lru_cache(maxsize=None)(lambda region, service: _bc.boto_client_for(region=region, service=service))


def _boto_client_for(region, service, state_credentials=None):
    return _client(region, service)


_leu.boto_client_for = _boto_client_for
_rw.boto_client_for = _boto_client_for

_orig_input_type_init = _it.InputType.__init__


def _input_type_init(self, input_type):
    _orig_input_type_init(self, "JSON" if input_type == "JSONL" else input_type)


_it.InputType.__init__ = _input_type_init
_orig_json_eval = _tj.ResourceOutputTransformerJson._eval_body


def _json_eval(self, env):
    text = env.stack[-2]
    try:
        json.loads(text)
    except ValueError:  # JSON Lines: one item per line
        env.stack[-2] = json.dumps([json.loads(l) for l in text.splitlines() if l.strip()])
    _orig_json_eval(self, env)


_tj.ResourceOutputTransformerJson._eval_body = _json_eval

PER_FILE = int(os.environ.get("SHIM_RESULTS_PER_FILE", "400"))


def _put_object(env, resource_runtime_part, state_credentials):
    params = env.stack.pop()
    results = env.stack.pop()
    s3 = _boto_client_for(resource_runtime_part.region, "s3")
    record = env.map_run_record_pool_manager.get_all().pop()
    run_id = record.map_run_arn.split(":")[-1]
    prefix = params.get("Prefix", "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    sm_arn = record.map_run_arn.replace(":mapRun:", ":stateMachine:").rsplit(":", 1)[0]
    by_status = {"SUCCEEDED": [], "FAILED": []}
    for out in results:
        name = str(uuid.uuid4())
        rec = {"ExecutionArn": sm_arn.replace(":stateMachine:", ":execution:") + ":" + name,
               "Input": "", "InputDetails": {"Included": False}, "Name": name, "RedriveCount": 0}
        if out is None:  # moto keeps neither the error nor the cause of a failed child
            rec.update({"Error": "States.TaskFailed", "Cause": "the child failed in moto, which keeps no cause",
                        "OutputDetails": {"Included": True}, "RedriveStatus": "REDRIVABLE_BY_MAP_RUN",
                        "StartDate": now, "StateMachineArn": sm_arn, "Status": "FAILED", "StopDate": now})
            by_status["FAILED"].append(rec)
        else:
            rec.update({"Output": json.dumps(out, separators=(",", ":")), "OutputDetails": {"Included": True},
                        "RedriveStatus": "NOT_REDRIVABLE",
                        "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
                        "StartDate": now, "StateMachineArn": sm_arn, "Status": "SUCCEEDED", "StopDate": now})
            by_status["SUCCEEDED"].append(rec)
    files = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for status, recs in by_status.items():
        for n, i in enumerate(range(0, len(recs), PER_FILE)):
            key = f"{prefix}{run_id}/{status}_{n}.json"
            body = json.dumps(recs[i:i + PER_FILE], indent=2).encode()
            s3.put_object(Bucket=params["Bucket"], Key=key, Body=body)
            files[status].append({"Key": key, "Size": len(body)})
    key = f"{prefix}{run_id}/manifest.json"
    manifest = {"DestinationBucket": params["Bucket"], "MapRunArn": record.map_run_arn, "ResultFiles": files}
    s3.put_object(Bucket=params["Bucket"], Key=key, Body=json.dumps(manifest, indent=2).encode())
    env.stack.append({"MapRunArn": record.map_run_arn, "ResultWriterDetails": {"Bucket": params["Bucket"], "Key": key}})


_rw.ResourceEvalS3._handle_put_object = staticmethod(_put_object)

if __name__ == "__main__":
    print(f"moto shim: moto {moto.__version__}", file=sys.stderr, flush=True)
    from moto.server import main
    sys.exit(main(sys.argv[1:]))
