"""The statistics of a sweep: Student's t at any degrees of freedom, intervals that stay at or above 0."""

import pytest

from sim.stats import summarize, t_critical


@pytest.mark.parametrize("df, t", [(1, 12.706), (2, 4.303), (10, 2.228), (30, 2.042), (40, 2.021), (60, 2.000),
                                   (120, 1.980), (1000, 1.962)],
                         ids=["1", "2", "10", "30", "40-past-the-old-table", "60", "120", "1000"])
def test_t_quantiles_match_the_published_table(df, t):
    # two-sided 95%: the 0.975 quantile (NIST/SEMATECH e-Handbook of Statistical Methods, table 1.3.6.7.2)
    assert round(t_critical(df), 3) == t


@pytest.mark.parametrize("values, ci95", [
    ([0.0] * 39 + [400.0], [0.0, 30.227]),  # one bad run in 40: the interval of the mean would dip below 0
    ([5.0] * 40, [5.0, 5.0]),  # every run agrees: no width
    ([1.0, 2.0, 3.0], [0.0, 4.484]),
], ids=["rare-outage-cut-at-0", "no-spread", "three-runs"])
def test_intervals_of_non_negative_metrics_never_go_below_0(values, ci95):
    assert summarize(values)["ci95"] == ci95
