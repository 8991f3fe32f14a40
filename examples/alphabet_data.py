"""Writes input for examples/alphabet.py: N binary frames of random letter votes.

Each frame is 9 bytes: a 4-byte big-endian length (= 5), a lowercase ASCII letter and a
big-endian u32 vote count between 1 and --max-votes. The same --seed gives the same file.

    python3 examples/alphabet_data.py votes.bin --count 100000 --seed 1
    roo send --to 127.0.0.1:7010 --binary --msg-size 9 --file votes.bin
"""

import argparse
import random
import string
import struct


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="file to write")
    parser.add_argument("--count", type=int, default=1000, help="number of frames (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--max-votes", type=int, default=10, help="largest vote count of a frame (default 10)"
    )
    args = parser.parse_args()

    rng = random.Random(args.seed)
    with open(args.output, "wb") as out:
        for _ in range(args.count):
            letter = rng.choice(string.ascii_lowercase).encode("ascii")
            votes = rng.randint(1, args.max_votes)
            out.write(struct.pack(">IcI", 5, letter, votes))


if __name__ == "__main__":
    main()
