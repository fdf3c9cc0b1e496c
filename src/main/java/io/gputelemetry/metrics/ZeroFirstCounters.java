package io.gputelemetry.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.PrometheusScrapeRequest;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.Predicate;

/**
 * Counter series that show 0 on the first scrape that sees them, and their total from the next one.
 *
 * <p>Prometheus' {@code rate()} and {@code increase()} see only the difference between samples of a
 * series. A counter created on its first use appears with that first increment already in it, so
 * the increment is never counted: 25 rejected events showed as an increase of 24, and a one-off
 * burst of dead letters as none at all. A series registered here appears at 0 and shows its real
 * total one scrape later, so every increment is counted, for label values known up front (which are
 * registered at start-up) and for those seen only at run time (a new model or GPU model) alike.
 *
 * <p>Scrapes are counted by a collector registered on the Prometheus registry before any meter, so
 * it runs first in every scrape. A second, independent scraper (a Prometheus HA pair) may see a new
 * series at its total the first time: the first increment is then lost to that scraper only, as it
 * was before.
 */
final class ZeroFirstCounters {
  private final PrometheusMeterRegistry registry;
  private final AtomicLong scrapes = new AtomicLong();

  ZeroFirstCounters(PrometheusMeterRegistry registry) {
    this.registry = registry;
    registry.getPrometheusRegistry().register(new ScrapeCounter(scrapes));
  }

  /** A new series, at zero; the caller keeps it (the registry holds it weakly). */
  Series register(String name, String description, String... tags) {
    Series s = new Series(scrapes);
    FunctionCounter.builder(name, s, Series::exposed)
        .description(description)
        .tags(tags)
        .register(registry);
    return s;
  }

  /** One counter series: its total, and what a scrape shows of it. */
  static final class Series {
    private final AtomicLong scrapes;
    private final long bornAt;
    private final DoubleAdder total = new DoubleAdder();

    Series(AtomicLong scrapes) {
      this.scrapes = scrapes;
      this.bornAt = scrapes.get();
    }

    void increment(double n) {
      total.add(n);
    }

    void increment() {
      total.add(1);
    }

    /** What the series has counted, exposed or not yet. */
    double total() {
      return total.sum();
    }

    /** 0 during the first scrape after the series was created, the total afterwards. */
    double exposed() {
      return scrapes.get() > bornAt + 1 ? total.sum() : 0;
    }
  }

  /** Counts scrapes; contributes no metric. */
  private record ScrapeCounter(AtomicLong scrapes) implements Collector {
    @Override
    public MetricSnapshot collect() {
      scrapes.incrementAndGet();
      return null;
    }

    @Override
    public MetricSnapshot collect(PrometheusScrapeRequest request) {
      return collect();
    }

    @Override
    public MetricSnapshot collect(Predicate<String> includedNames) {
      return collect();
    }

    @Override
    public MetricSnapshot collect(
        Predicate<String> includedNames, PrometheusScrapeRequest request) {
      return collect();
    }
  }
}
