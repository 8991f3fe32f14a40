"""word_count.py: every word seen comes out as `word => count so far`, words lower-cased
and stripped of punctuation, so the highest count of a word is how often it occurred."""

from pathlib import Path

APP = Path(__file__).parent.parent / "word_count.py"

TEXT = ["The quick brown fox", "jumps over the lazy dog.", "The END, the end!"]
COUNTS = {"the": 4, "quick": 1, "brown": 1, "fox": 1, "jumps": 1, "over": 1, "lazy": 1, "dog": 1, "end": 2}


def test_counts_every_word(roo_runner):
    result = roo_runner.run(APP, TEXT)

    lines = result.output.lines()
    # Each word's counts run 1, 2, ... up to its total, from the core that owns the word.
    assert sorted(lines) == sorted(
        "%s => %d" % (word, n) for word, total in COUNTS.items() for n in range(1, total + 1)
    )
    final = {}
    for line in lines:
        word, count = line.split(" => ")
        final[word] = max(final.get(word, 0), int(count))
    assert final == COUNTS
    assert result.summary.messages_out == sum(COUNTS.values())
