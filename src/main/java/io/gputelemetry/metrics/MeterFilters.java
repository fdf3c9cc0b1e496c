package io.gputelemetry.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The meter filters of the process's registry, installed before its first meter. They keep each
 * scrape of /metrics small:
 *
 * <ul>
 *   <li>No meter publishes Micrometer's percentile histogram (69 buckets a timer, 276 a byte-size
 *       summary). A timer that names no buckets of its own (Vert.x's HTTP and pool timers, the
 *       JVM's GC pauses) gets the {@link #LATENCY_BUCKETS latency ladder}, which is also the ladder
 *       of our own timers; a byte-size summary that names none (Vert.x's request and response
 *       sizes) gets the {@link #SIZE_BUCKETS_BYTES size ladder}; any other summary stays a summary
 *       (count, sum, max). Meters that name their buckets keep them.
 *   <li>Vert.x's gauges of open HTTP connections and requests in flight are not registered: Vert.x
 *       registers them anew for every connection and every request, and Micrometer warns about each
 *       re-registration (once per JVM, then at debug level, so a real double registration of one of
 *       our own gauges would go unseen). {@link HttpServerGauges} exports the same figures,
 *       registered once.
 *   <li>An HTTP method outside the standard ones, in any meter's {@code method} label, shows as
 *       {@value #OTHER_METHOD}: a client may send any token as a method, and each would otherwise
 *       be a series of its own. (Vert.x's own HTTP meters get the bounded method from {@link
 *       #method} before Micrometer sees them; this filter is the backstop for any other meter.)
 * </ul>
 */
public final class MeterFilters {
  /**
   * Bucket bounds of every latency histogram: SLO-friendly, with 30 s exactly (the freshness SLO
   * reads the {@code le="30"} bucket) and bounds above 60 s (the p99 latency alert).
   */
  public static final List<Duration> LATENCY_BUCKETS =
      List.of(
          Duration.ofMillis(5),
          Duration.ofMillis(10),
          Duration.ofMillis(25),
          Duration.ofMillis(50),
          Duration.ofMillis(100),
          Duration.ofMillis(250),
          Duration.ofMillis(500),
          Duration.ofSeconds(1),
          Duration.ofMillis(2500),
          Duration.ofSeconds(5),
          Duration.ofSeconds(10),
          Duration.ofSeconds(30),
          Duration.ofSeconds(60),
          Duration.ofMinutes(5));

  /** Bucket bounds of byte-size histograms: decades from 100 B to 10 MB. */
  public static final List<Long> SIZE_BUCKETS_BYTES =
      List.of(100L, 1_000L, 10_000L, 100_000L, 1_000_000L, 10_000_000L);

  /** The label value of every HTTP method outside {@link #STANDARD_METHODS}. */
  public static final String OTHER_METHOD = "OTHER";

  /** The methods of RFC 9110 and PATCH (RFC 5789): the only values of a {@code method} label. */
  public static final Set<String> STANDARD_METHODS =
      Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH");

  /** Vert.x's gauges that Vert.x registers per connection and per request. */
  static final Set<String> REREGISTERED_VERTX_GAUGES =
      Set.of("vertx.http.server.active.connections", "vertx.http.server.active.requests");

  // Timer bounds are nanoseconds in a DistributionStatisticConfig.
  private static final double[] LATENCY_NANOS =
      LATENCY_BUCKETS.stream().mapToDouble(Duration::toNanos).toArray();
  private static final double[] SIZE_BYTES =
      SIZE_BUCKETS_BYTES.stream().mapToDouble(Long::doubleValue).toArray();

  private static final MeterFilter BUCKETS =
      new MeterFilter() {
        @Override
        public DistributionStatisticConfig configure(
            Meter.Id id, DistributionStatisticConfig config) {
          DistributionStatisticConfig.Builder budget =
              DistributionStatisticConfig.builder().percentilesHistogram(false);
          double[] own = config.getServiceLevelObjectiveBoundaries();
          if (own == null || own.length == 0) {
            double[] ladder = ladder(id);
            if (ladder != null) {
              budget.serviceLevelObjectives(ladder.clone());
            }
          }
          // Values set here win; the rest (the meter's own buckets, expiry...) is kept.
          return budget.build().merge(config);
        }
      };

  private MeterFilters() {}

  /** Adds the filters; call before the first meter is registered (Micrometer's rule). */
  public static void install(MeterRegistry registry) {
    registry
        .config()
        .meterFilter(
            MeterFilter.deny(
                id ->
                    id.getType() == Meter.Type.GAUGE
                        && REREGISTERED_VERTX_GAUGES.contains(id.getName())))
        .meterFilter(MeterFilter.replaceTagValues("method", MeterFilters::method))
        .meterFilter(BUCKETS);
  }

  /** The label value of an HTTP method: itself when standard (exact case), else "OTHER". */
  public static String method(String method) {
    return method != null && STANDARD_METHODS.contains(method) ? method : OTHER_METHOD;
  }

  private static double[] ladder(Meter.Id id) {
    if (id.getType() == Meter.Type.TIMER) {
      return LATENCY_NANOS;
    }
    if (id.getType() == Meter.Type.DISTRIBUTION_SUMMARY
        && ("bytes".equals(id.getBaseUnit()) || id.getName().endsWith(".bytes"))) {
      return SIZE_BYTES;
    }
    return null;
  }
}
