"""The run day by day: the world moves on, then its CDC and event files are delivered."""

from __future__ import annotations

from collections.abc import Iterator

from jobs.generator.audience import build_audience
from jobs.generator.catalog import advance_catalog, build_backlog, catalog_snapshot_lines
from jobs.generator.delivery import DISCOVERY_FEED, ENGAGEMENT_FEED, EventRouter, cdc_file_name
from jobs.generator.draws import (
    STREAM_AUDIENCE,
    STREAM_CONTENT,
    STREAM_DISCOVERY,
    STREAM_DISCOVERY_DELIVERY,
    STREAM_ENGAGEMENT_DELIVERY,
    STREAM_ENGAGEMENTS,
    STREAM_USERS,
    STREAM_WORLD,
    stream_rng,
)
from jobs.generator.events import draw_engagements, draw_impressions
from jobs.generator.formatting import day_start_ms
from jobs.generator.population import advance_users, build_population, user_snapshot_lines
from jobs.generator.spec import Delivery, GenerationStats, GeneratorSpec


def iter_deliveries(spec: GeneratorSpec, stats: GenerationStats) -> Iterator[Delivery]:
    """Every landing file of the run, in delivery order, with its lines (no I/O)."""
    world_rng = stream_rng(spec, STREAM_WORLD)
    start_ms = day_start_ms(spec.start_date)
    pop = build_population(spec, world_rng)
    catalog = build_backlog(pop, start_ms, world_rng)
    routers = (
        (
            EventRouter(ENGAGEMENT_FEED, spec, stats),
            draw_engagements,
            STREAM_ENGAGEMENTS,
            STREAM_ENGAGEMENT_DELIVERY,
        ),
        (
            EventRouter(DISCOVERY_FEED, spec, stats),
            draw_impressions,
            STREAM_DISCOVERY,
            STREAM_DISCOVERY_DELIVERY,
        ),
    )
    stats.users = pop.size
    for day_index in range(spec.days):
        day_start = day_start_ms(spec.day(day_index))
        user_lines = user_snapshot_lines(pop, start_ms, world_rng) if day_index == 0 else []
        user_lines += advance_users(pop, day_start, stream_rng(spec, STREAM_USERS, day_index))
        content_lines = catalog_snapshot_lines(catalog, pop, world_rng) if day_index == 0 else []
        catalog, changes = advance_catalog(
            catalog, pop, day_start, stream_rng(spec, STREAM_CONTENT, day_index)
        )
        content_lines += changes
        stats.user_changes += len(user_lines)
        stats.content_changes += len(content_lines)
        yield Delivery("users", cdc_file_name(spec, day_index), user_lines)
        yield Delivery("content", cdc_file_name(spec, day_index), content_lines)

        audience = build_audience(
            pop, catalog, day_start, stream_rng(spec, STREAM_AUDIENCE, day_index)
        )
        for router, draw, draw_stream, delivery_stream in routers:
            batch = draw(
                audience, pop, catalog, spec, day_index, stream_rng(spec, draw_stream, day_index)
            )
            yield from router.deliver(batch, stream_rng(spec, delivery_stream, day_index))
    stats.content = catalog.size
