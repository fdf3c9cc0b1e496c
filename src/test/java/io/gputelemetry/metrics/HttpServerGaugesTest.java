package io.gputelemetry.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class HttpServerGaugesTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final HttpServerGauges gauges = new HttpServerGauges(registry);

  private double requests(String method) {
    return registry
        .get("telemetry.http.server.active.requests")
        .tag("method", method)
        .gauge()
        .value();
  }

  @Test
  void countsOpenConnections() {
    gauges.connectionOpened();
    gauges.connectionOpened();
    gauges.connectionClosed();
    assertEquals(1.0, registry.get("telemetry.http.server.active.connections").gauge().value());
  }

  @Test
  void countsRequestsInFlightPerMethodUntilTheyEnd() {
    Runnable first = gauges.requestStarted("GET");
    Runnable second = gauges.requestStarted("GET");
    Runnable post = gauges.requestStarted("POST");
    assertEquals(2.0, requests("GET"));
    assertEquals(1.0, requests("POST"));
    first.run();
    post.run();
    assertEquals(1.0, requests("GET"));
    assertEquals(0.0, requests("POST"));
    second.run();
    assertEquals(0.0, requests("GET"));
  }

  @Test
  void unknownMethodsShareOneLabelAndEachGaugeIsRegisteredOnce() {
    // Methods are case-sensitive (RFC 9110): "get" is not GET.
    for (String m : new String[] {"PROPFIND", "BREW", "GET", "GET", "MKCOL", "get"}) {
      gauges.requestStarted(m);
    }
    assertEquals(4.0, requests(MeterFilters.OTHER_METHOD));
    assertEquals(2.0, requests("GET"));
    assertEquals(2, registry.find("telemetry.http.server.active.requests").gauges().size());
  }
}
