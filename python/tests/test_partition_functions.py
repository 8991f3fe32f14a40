"""Key and partition functions in every form Wallaroo apps give them."""

from roo.topology import partition_callable


class ByFirstLetter:
    def partition(self, data):
        return data[0]


def test_functions_objects_and_classes_with_partition_are_accepted():
    assert partition_callable(lambda data: data[-1])("roo") == "o"
    assert partition_callable(ByFirstLetter())("roo") == "r"
    assert partition_callable(ByFirstLetter)("roo") == "r"


def test_a_built_in_type_is_called_not_its_partition_method():
    assert partition_callable(str)(42) == "42"
    assert partition_callable(int)("7") == 7
