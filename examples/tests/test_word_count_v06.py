"""word_count_v06.py: the word count with Wallaroo 0.6's API. Its source is named on the
command line (`--in "Split and Count"@host:port`): the inputs are given by that name."""

from collections import Counter
from pathlib import Path

APP = Path(__file__).parent.parent / "word_count_v06.py"


def test_counts_every_word(roo_runner):
    result = roo_runner.run(APP, {"Split and Count": ["Hello, world!", "hello roo", "ROO ROO"]})

    counts = Counter()
    for line in result.output.lines():
        word, count = line.split(" => ")
        counts[word] += 1
        # A word's running counts come out in order: the n-th output of a word says n.
        assert int(count) == counts[word]
    assert counts == {"hello": 2, "world": 1, "roo": 3}
