import gzip
import io
import json
from datetime import UTC, datetime

import pytest

from tagwarden.cli.main import main
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.llm.importers import ImportError_, read_bedrock_logs, read_openai_usage


def invocation_log(
    request_id, *, metadata=None, tokens=(120, 30), arn=None, model="anthropic.claude-3-haiku-20240307-v1:0"
):
    """One record in the documented model invocation log shape."""
    record = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": "2026-11-20T10:15:11Z",
        "accountId": "123456789012",
        "identity": {"arn": arn or "arn:aws:sts::123456789012:assumed-role/agent-42/agent-42-session"},
        "region": "us-east-1",
        "requestId": request_id,
        "operation": "Converse",
        "modelId": model,
        "input": {
            "inputContentType": "application/json",
            "inputBodyJson": {"messages": [{"role": "user", "content": [{"text": "hi"}]}]},
            "inputTokenCount": tokens[0],
        },
        "output": {
            "outputContentType": "application/json",
            "outputBodyJson": {"output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}}},
            "outputTokenCount": tokens[1],
        },
    }
    if metadata is not None:
        record["requestMetadata"] = metadata
    return record


def test_s3_delivered_gzip_json_lines(tmp_path):
    folder = (
        tmp_path
        / "AWSLogs"
        / "123456789012"
        / "BedrockModelInvocationLogs"
        / "us-east-1"
        / "2026"
        / "11"
        / "20"
    )
    folder.mkdir(parents=True)
    lines = [
        invocation_log("r-1", metadata={"agent_id": "42", "task_id": "ticket-7", "cost_center": "cc"}),
        invocation_log("r-2", metadata={"job": "nightly"}, tokens=(10, 5)),
    ]
    with gzip.open(folder / "20261120T1015Z_abc.json.gz", "wt") as fh:
        fh.write("\n".join(json.dumps(x) for x in lines) + "\n")
    first, second = read_bedrock_logs(tmp_path)
    assert first.usage_id == "bedrock:r-1"  # the request id: the SDK hook writes the same
    assert first.attribution == {"Agent-ID": "42", "Outcome-ID": "ticket-7", "CostCenter": "cc"}
    assert first.quantities == {"input_tokens": 120.0, "output_tokens": 30.0, "calls": 1.0}
    assert first.time == datetime(2026, 11, 20, 10, 15, 11, tzinfo=UTC).timestamp()
    assert first.source == "bedrock-invocation-log"
    # no agent in the metadata: the calling role is the attribution (principal tags sit on it)
    assert second.attribution == {"principal": "arn:aws:iam::123456789012:role/agent-42"}


def test_cloudwatch_filter_log_events_output(tmp_path):
    doc = {
        "events": [
            {
                "logStreamName": "aws/bedrock/modelinvocations",
                "timestamp": 1,
                "message": json.dumps(
                    invocation_log(
                        "r-9",
                        metadata={"agent_id": "7"},
                        model="arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/p1",
                    )
                ),
            }
        ],
        "searchedLogStreams": [],
    }
    path = tmp_path / "events.json"
    path.write_text(json.dumps(doc, indent=2))
    [record] = read_bedrock_logs(path)
    assert record.resource.endswith("application-inference-profile/p1")
    assert record.attribution == {"Agent-ID": "7"}


def test_a_bad_line_names_the_file_and_line(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text(json.dumps(invocation_log("r-1")) + "\n{not json\n")
    with pytest.raises(ImportError_, match=r"log.jsonl:2: not valid JSON"):
        list(read_bedrock_logs(path))
    bad = invocation_log("r-1")
    del bad["timestamp"]
    path.write_text(json.dumps(bad) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(ImportError_, match=r"log.jsonl:1: not a model invocation log record: 'timestamp'"):
        list(read_bedrock_logs(path))


USAGE_PAGE = {
    "object": "page",
    "data": [
        {
            "object": "bucket",
            "start_time": 1795219200,
            "end_time": 1795305600,
            "results": [
                {
                    "object": "organization.usage.completions.result",
                    "input_tokens": 1000,
                    "output_tokens": 300,
                    "input_cached_tokens": 400,
                    "input_audio_tokens": 0,
                    "output_audio_tokens": 0,
                    "num_model_requests": 12,
                    "project_id": "proj_support",
                    "user_id": None,
                    "api_key_id": "key_agent42",
                    "model": "gpt-4o-mini-2024-07-18",
                    "batch": False,
                },
                {
                    "object": "organization.usage.completions.result",
                    "input_tokens": 50,
                    "output_tokens": 5,
                    "input_cached_tokens": 0,
                    "num_model_requests": 1,
                    "project_id": "proj_other",
                    "user_id": None,
                    "api_key_id": "key_x",
                    "model": "gpt-4.1",
                    "batch": False,
                },
            ],
        }
    ],
    "has_more": False,
    "next_page": None,
}


def test_openai_usage_buckets_with_a_mapping(tmp_path):
    path = tmp_path / "usage.json"
    path.write_text(json.dumps(USAGE_PAGE))
    mapping = {"api_keys": {"key_agent42": {"Agent-ID": "42", "CostCenter": "cc-support"}}}
    mapped, unmapped = read_openai_usage(path, mapping)
    assert mapped.attribution == {"Agent-ID": "42", "CostCenter": "cc-support"}
    assert mapped.quantities == {
        "input_tokens": 600.0,
        "cached_input_tokens": 400.0,
        "output_tokens": 300.0,
        "calls": 12.0,
    }
    assert mapped.resource == "gpt-4o-mini-2024-07-18"
    assert mapped.time == 1795219200.0
    assert unmapped.attribution == {"openai_project_id": "proj_other", "openai_api_key_id": "key_x"}
    assert mapped.usage_id != unmapped.usage_id


def test_openai_usage_rejects_what_is_not_a_page(tmp_path):
    path = tmp_path / "costs.json"
    path.write_text(json.dumps({"object": "list", "data": []}))
    with pytest.raises(ImportError_, match=r"costs.json:1: not a Usage API page"):
        list(read_openai_usage(path))


def test_cli_imports_into_a_ledger_once(tmp_path):
    logs = tmp_path / "log.jsonl"
    logs.write_text(
        "\n".join(json.dumps(invocation_log(f"r-{i}", metadata={"agent_id": str(i % 2)})) for i in range(4))
    )
    usage = tmp_path / "usage.json"
    usage.write_text(json.dumps(USAGE_PAGE))
    mapping = tmp_path / "map.yaml"
    mapping.write_text("projects:\n  proj_other: {Agent-ID: '9'}\n")
    db = tmp_path / "ledger.db"
    out, err = io.StringIO(), io.StringIO()
    assert (
        main(["llm", "import", "bedrock-logs", str(logs), "--ledger", str(db), "--format", "json"], out, err)
        == 0
    )
    assert json.loads(out.getvalue()) == {
        "read": 4,
        "new": 4,
        "tokens": 600.0,
        "agents": ["0", "1"],
        "ledger": str(db),
    }
    out = io.StringIO()
    assert main(["llm", "import", "bedrock-logs", str(logs), "--ledger", str(db)], out, err) == 0
    assert "4 usage records (0 new" in out.getvalue()
    assert (
        main(
            ["llm", "import", "openai-usage", str(usage), "--ledger", str(db), "--map", str(mapping)],
            out,
            err,
        )
        == 0
    )
    ledger = SqliteLedger(db)
    assert len(list(ledger.usage())) == 6
    assert {"Agent-ID": "9"} in [dict(r.attribution) for r in ledger.usage()]
    ledger.close()


def test_cli_exit_2_on_unreadable_input(tmp_path):
    err = io.StringIO()
    code = main(
        ["llm", "import", "openai-usage", str(tmp_path / "missing.json"), "--ledger", str(tmp_path / "l.db")],
        io.StringIO(),
        err,
    )
    assert code == 2
    assert "missing.json: no such file" in err.getvalue()
