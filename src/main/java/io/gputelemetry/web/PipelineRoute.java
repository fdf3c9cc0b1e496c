package io.gputelemetry.web;

import io.gputelemetry.config.AppConfig;
import io.gputelemetry.health.Health;
import io.gputelemetry.metrics.SourceMeters;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.processor.ProcessorStats;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * {@code GET /api/v1/pipeline}: this process's running totals (produced, consumed, stored,
 * duplicates, dead-lettered, rejected at ingest), consumer lag, readiness with its checks, the most
 * recent dead letters and the configured sources' health, as JSON for the console's pipeline page.
 * Totals, not rates: the page takes rates from two readings. They are this process's own (a
 * processor's cover its partitions only), unlike the store's figures of the usage API.
 */
public final class PipelineRoute {
  private final String role;
  private final ProcessorStats processor;
  private final LongSupplier produced;
  private final Health health;
  private final Telemetry telemetry;
  private final List<AppConfig.Target> targets;

  /**
   * {@code processor} null where this process runs none, {@code produced} null where it runs no
   * producer.
   */
  public PipelineRoute(
      String role,
      ProcessorStats processor,
      LongSupplier produced,
      Health health,
      Telemetry telemetry,
      List<AppConfig.Target> targets) {
    this.role = role;
    this.processor = processor;
    this.produced = produced;
    this.health = health;
    this.telemetry = telemetry;
    this.targets = targets;
  }

  public void install(Router router) {
    router.get("/api/v1/pipeline").handler(this::answer);
  }

  private void answer(RoutingContext ctx) {
    HttpServerVerticle.json(ctx.response(), 200, snapshot(System.currentTimeMillis()));
  }

  JsonObject snapshot(long now) {
    JsonObject status = health.status();
    JsonObject totals = new JsonObject();
    totals.put("produced", produced == null ? null : produced.getAsLong());
    totals.put("rejected_at_ingest", produced == null ? null : (long) telemetry.rejectedTotal());
    JsonArray dead = new JsonArray();
    Long lag = null;
    if (processor != null) {
      totals
          .put("consumed", processor.consumed.get())
          .put("stored", processor.stored.get())
          .put("duplicates", processor.duplicates.get())
          .put("dead_lettered", processor.dlq.get())
          .put("tokens", processor.tokens.get());
      lag = processor.lag.get();
      for (ProcessorStats.DeadLetterNote n : processor.recentDeadLetters()) {
        dead.add(
            new JsonObject()
                .put("at", Instant.ofEpochMilli(n.atMillis()).toString())
                .put("topic", n.topic())
                .put("partition", n.partition())
                .put("offset", n.offset())
                .put("reason", n.reason()));
      }
    }
    JsonArray sources = new JsonArray();
    for (AppConfig.Target t : targets) {
      SourceMeters.Target m = telemetry.sources().target(t.kind(), t.url());
      long last = m.lastSuccessMillis();
      sources.add(
          new JsonObject()
              .put("kind", t.kind())
              .put("target", withoutUserInfo(t.url()))
              .put("interval_seconds", t.interval().toMillis() / 1000.0)
              .put("up", m.up())
              .put("last_success", last == 0 ? null : Instant.ofEpochMilli(last).toString()));
    }
    return new JsonObject()
        .put("role", role)
        .put("at", Instant.ofEpochMilli(now).toString())
        .put("status", status.getString("status"))
        .put("checks", status.getJsonObject("checks"))
        .put("totals", totals)
        .put("consumer_lag", lag)
        .put("recent_dead_letters", dead)
        .put("sources", sources);
  }

  /** A target's URL without credentials, should one carry them. */
  static String withoutUserInfo(String url) {
    try {
      URI u = URI.create(url);
      if (u.getUserInfo() == null) {
        return url;
      }
      return new URI(u.getScheme(), null, u.getHost(), u.getPort(), u.getPath(), u.getQuery(), null)
          .toString();
    } catch (IllegalArgumentException | java.net.URISyntaxException e) {
      return "(unreadable URL)";
    }
  }
}
