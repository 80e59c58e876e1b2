from core.api.errors import flatten_errors


def test_flatten_nested_dicts_lists_and_non_field_errors():
    assert flatten_errors(
        {
            "name": ["Required."],
            "config": {"session": {"minutes": ["Too small.", "Not even."]}},
            "roles": [{}, {"role": ["Blank."]}],
            "non_field_errors": ["Bad combination."],
        }
    ) == {
        "name": "Required.",
        "config/session/minutes": "Too small. Not even.",
        "roles/1/role": "Blank.",
        "non_field_errors": "Bad combination.",
    }


def test_flatten_plain_string_and_top_level_list():
    assert flatten_errors("Oops.") == {"non_field_errors": "Oops."}
    assert flatten_errors(["One.", "Two."]) == {"non_field_errors": "One. Two."}
