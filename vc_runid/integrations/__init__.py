"""Instrumentation for code that already calls a model: the official OpenAI SDK
(``vc_runid.integrations.openai``, extra ``openai``) and OpenTelemetry linkage
(``vc_runid.integrations.otel``, extra ``otel``)."""
