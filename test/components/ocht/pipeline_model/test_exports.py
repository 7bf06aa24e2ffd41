import ocht.pipeline_model


def test_public_names_are_pinned():
    assert set(ocht.pipeline_model.__all__) >= {
        "Pipeline",
        "validate",
        "parse_document",
        "read_document",
        "json_schema",
        "issues_from_error",
        "unknown_names",
        "BUILTIN_STEPS",
        "BUILTIN_CONNECTORS",
        "resolve_input",
        "resolve_output_source",
    }
    for name in ocht.pipeline_model.__all__:
        assert hasattr(ocht.pipeline_model, name)
