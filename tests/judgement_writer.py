"""A separate process that writes judgements and says so after each one is stored (for durability tests)."""

import sys

from ranklens.corpus.corpus import Document
from ranklens.labelling.labels import LabelStore

db, rater, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = LabelStore(db)
for i in range(count):
    store.judge(
        "durability",
        f"q{i % 7}",
        f"query {i % 7}",
        Document(id=f"{rater}-d{i}", text=f"document {i}" * 20),
        i % 4,
        rater,
    )
    print(f"saved {i}", flush=True)
