"""Declare a chat-completions call before it is made, bind its answer, verify the pair.

The request is the dict you would send to an OpenAI-style chat-completions endpoint. Instead of
calling the network, `fake_chat_completion` stands in for the provider and returns a response of
the same shape, so the example runs offline:

    python examples/openai_request.py

Keys and the run store go to $RUNID_HOME, else ./.runid.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import vc_runid as runid
from vc_runid.runs import composition_from_chat_request

REQUEST: dict[str, Any] = {
    "model": "gpt-4o-2024-08-06",
    "messages": [
        {"role": "system", "content": "You are a billing assistant. Answer in one sentence."},
        {"role": "user", "content": "What is my balance?"},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_balance",
                "description": "Look up the customer's balance.",
                "parameters": {"type": "object", "properties": {}, "required": []},
            },
        }
    ],
    "temperature": 0.2,
    "max_tokens": 64,
    "seed": 7,
}


def fake_chat_completion(request: dict[str, Any]) -> dict[str, Any]:
    """A stand-in for the provider: same response shape, no network."""
    return {
        "id": "chatcmpl-example",
        "object": "chat.completion",
        "model": request["model"],  # the model id the provider reports having used
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Your balance is 0 EUR."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 31, "completion_tokens": 7, "total_tokens": 38},
    }


def main() -> int:
    home = Path(os.environ.get("RUNID_HOME") or ".runid")
    issuer, _ = runid.init_home(home)  # idempotent: reuses the key if it exists
    store = runid.RunStore.in_home(home)

    # model -> model; system/developer messages -> instructions; the other messages -> input;
    # tools -> tools; every other request field -> configuration.
    composition = composition_from_chat_request(REQUEST, provider="openai")

    # The declaration is issued when the block is entered: before the call is made.
    with runid.run(composition, issuer=issuer, store=store) as run:
        response = fake_chat_completion(REQUEST)
        usage = response["usage"]
        run.record_output(
            response["choices"][0]["message"]["content"],
            observed={"modelId": response["model"], "provider": "openai"},
            usage={
                "inputTokens": usage["prompt_tokens"],
                "outputTokens": usage["completion_tokens"],
                "totalTokens": usage["total_tokens"],
            },
        )

    # An auditor gets the two credentials, the output, and (optionally) one disclosed component.
    system_prompt = run.disclosures.components["instructions[0]"]
    assert system_prompt.content is not None and run.output is not None
    # ... and trusts the issuer by its DID: a pair signed by anyone else would not be valid.
    report = runid.verify_run(
        run.declaration,
        run.binding,
        policy=runid.TrustPolicy.trusting(issuer.did),
        output=run.output,
        disclosures=[(system_prompt, system_prompt.content.encode("utf-8"))],
    )
    print(f"run {run.run_id}: {'VALID' if report.valid else 'INVALID'} ({report.status})")
    for check in report.checks:
        if not check.name.startswith(("declaration.", "binding.")):
            print(f"  {'ok  ' if check.passed else 'FAIL'} {check.name}: {check.message}")
    return 0 if report.valid else 1


if __name__ == "__main__":
    raise SystemExit(main())
