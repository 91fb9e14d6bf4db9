"""Reading template.yaml: CloudFormation's short tags load as their long forms."""

from tools import samtemplate


def test_ref_and_condition_keep_their_names_and_the_other_tags_get_fn():
    loaded = samtemplate.loads("a: !Ref Api\nb: !Condition IsProduction\nc: !Sub '${Api}:live'\n")
    assert loaded == {"a": {"Ref": "Api"}, "b": {"Condition": "IsProduction"}, "c": {"Fn::Sub": "${Api}:live"}}


def test_a_dotted_getatt_is_split_into_resource_and_attribute():
    assert samtemplate.loads("x: !GetAtt MeFunction.Version.Version") == {
        "x": {"Fn::GetAtt": ["MeFunction", "Version.Version"]}
    }


def test_nested_short_tags_load_inside_lists_and_mappings():
    loaded = samtemplate.loads("x: !If [IsProduction, !Ref A, !Join ['', [!Ref B, c]]]")
    assert loaded == {"x": {"Fn::If": ["IsProduction", {"Ref": "A"}, {"Fn::Join": ["", [{"Ref": "B"}, "c"]]}]}}
