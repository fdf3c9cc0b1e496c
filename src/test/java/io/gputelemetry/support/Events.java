package io.gputelemetry.support;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicLong;

/** Valid events for tests, with unique ids. */
public final class Events {
  private static final AtomicLong SEQ = new AtomicLong();

  private Events() {}

  public static JsonObject token(String tenant) {
    return new JsonObject()
        .put("event_id", "t-" + SEQ.incrementAndGet() + "-" + System.nanoTime())
        .put("ts", Instant.now().truncatedTo(ChronoUnit.MILLIS).minusSeconds(1).toString())
        .put("tenant", tenant)
        .put("model", "llama-3.1-8b-instruct")
        .put("input_tokens", 100)
        .put("output_tokens", 20)
        .put("latency_ms", 250.5);
  }

  public static JsonObject sample(String gpu) {
    return new JsonObject()
        .put("event_id", "s-" + SEQ.incrementAndGet() + "-" + System.nanoTime())
        .put("ts", Instant.now().truncatedTo(ChronoUnit.MILLIS).minusSeconds(1).toString())
        .put("node", "node-1")
        .put("gpu_uuid", gpu)
        .put("gpu_model", "H100-SXM-80GB")
        .put("utilization_pct", 50.0)
        .put("memory_used_mib", 1000)
        .put("memory_total_mib", 81559)
        .put("power_w", 350.0)
        .put("temperature_c", 60.0);
  }
}
