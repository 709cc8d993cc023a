"""Figures of the chapter "Scaling up"."""

import matplotlib.patches as mpatches
import pytest

from introdl.experiments.scaling_up import DDPComparison, sampler_shards
from introdl.figures.scaling_up import draw_sampler_shards, plot_ddp_losses
from introdl.figures.style import new_figure


def test_plot_ddp_losses_draws_every_curve_on_the_given_axes():
    single = [2.3, 2.1, 1.9]
    ranks = [[2.4, 2.0, 1.8], [2.2, 2.2, 2.0]]
    result = DDPComparison(2, {}, [{}, {}], single, ranks, 1.0, 0.0)
    fig, ax = new_figure()
    assert plot_ddp_losses(result, ax=ax) is fig
    assert len(ax.lines) == 4  # two processes, one process, the mean
    mean = ax.lines[-1].get_ydata()
    assert list(mean) == pytest.approx(single)


def test_draw_sampler_shards_one_cell_per_example():
    shards = sampler_shards(32, 2, 8, num_steps=2)
    fig, ax = new_figure()
    assert draw_sampler_shards(shards, ax=ax) is fig
    cells = [p for p in ax.patches if isinstance(p, mpatches.Rectangle)
             and p.get_width() > 0]
    assert len(cells) == 16
    labels = {t.get_text() for t in ax.texts}
    assert {str(i) for step in shards for rank in step for i in rank} <= labels
    assert len(ax.get_legend().get_texts()) == 2
    with pytest.raises(ValueError):
        draw_sampler_shards([])
