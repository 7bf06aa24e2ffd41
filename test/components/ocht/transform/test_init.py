import ocht.transform


def test_public_names_are_pinned() -> None:
    assert sorted(ocht.transform.__all__) == sorted(
        [
            "DEAD_LETTER",
            "DEAD_LETTER_SCHEMA",
            "Duration",
            "MAIN",
            "STEP_KINDS",
            "BuildContext",
            "CompiledStep",
            "Mode",
            "OperatorOutput",
            "NOT_STREAMABLE",
            "Partials",
            "UNPARTITIONED",
            "pack_state",
            "unpack_state",
            "SqlColumn",
            "StepFn",
            "StepKind",
            "StreamOperator",
            "WindowPlan",
            "bind",
            "build_step",
            "cast_expr",
            "check_columns",
            "check_schema",
            "compile_column",
            "compile_condition",
            "compile_expr",
            "invalid_expression",
            "nearest",
            "parse_dtype",
            "plan_window",
            "step_error",
            "stream_operator",
            "unknown_column",
        ]
    )


def test_every_public_name_exists() -> None:
    for name in ocht.transform.__all__:
        assert getattr(ocht.transform, name) is not None
