package io.gputelemetry.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Open HTTP connections and requests in flight on the process's HTTP port, each gauge registered
 * once (Vert.x's own gauges of the same figures are re-registered per connection and per request:
 * see {@link MeterFilters}). One instance serves every event loop of the port.
 */
public final class HttpServerGauges {
  private final MeterRegistry registry;
  private final LongAdder connections = new LongAdder();
  private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();

  public HttpServerGauges(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder("telemetry.http.server.active.connections", connections, LongAdder::sum)
        .description("Open HTTP connections")
        .register(registry);
  }

  public void connectionOpened() {
    connections.increment();
  }

  public void connectionClosed() {
    connections.decrement();
  }

  /**
   * Counts a request in flight; the caller runs the returned action once, when the request ends or
   * its connection closes. Methods outside the standard ones count as {@value
   * MeterFilters#OTHER_METHOD}.
   */
  public Runnable requestStarted(String method) {
    LongAdder inFlight =
        requests.computeIfAbsent(
            MeterFilters.method(method),
            label -> {
              LongAdder a = new LongAdder();
              Gauge.builder("telemetry.http.server.active.requests", a, LongAdder::sum)
                  .description("HTTP requests in flight")
                  .tag("method", label)
                  .register(registry);
              return a;
            });
    inFlight.increment();
    return inFlight::decrement;
  }
}
