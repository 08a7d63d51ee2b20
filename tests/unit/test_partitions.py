from orchestration.partitions import contiguous_ranges


def test_one_range_when_wanted_keys_are_consecutive():
    ordered = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]
    assert contiguous_ranges(ordered, ["2026-01-02", "2026-01-03"]) == [("2026-01-02", "2026-01-03")]


def test_all_keys_give_one_range_covering_the_set():
    ordered = ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert contiguous_ranges(ordered, ordered) == [("2026-01-01", "2026-01-03")]


def test_gaps_and_late_registered_dates_split_the_ranges():
    # 2025-12-30 was registered after the January dates (a late file for a day that had none).
    ordered = ["2026-01-01", "2026-01-02", "2026-01-03", "2025-12-30"]
    wanted = ["2026-01-01", "2026-01-03", "2025-12-30"]
    assert contiguous_ranges(ordered, wanted) == [
        ("2026-01-01", "2026-01-01"),
        ("2026-01-03", "2025-12-30"),
    ]


def test_nothing_wanted_gives_no_range():
    assert contiguous_ranges(["2026-01-01"], []) == []
