package io.gputelemetry.web;

import io.gputelemetry.accounting.RequestLatencies;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.store.Store;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.Locale;

/**
 * {@code GET /api/v1/latency}: per model, the latency and the time to first token of the requests
 * stored over a range, from the {@code latency_ms} and {@code ttft_ms} of their token events (the
 * simulator, LiteLLM, OTLP spans, HTTP ingest). Read from the store, so fleet-wide: every
 * processor's requests. The inference servers' latency histograms (vLLM, NIM) are not stored: their
 * quantiles are each producer's own gauges on /metrics.
 */
public final class LatencyRoute {
  private static final QueryParams PARAMS =
      new QueryParams(QueryParams.instant("from"), QueryParams.instant("to"));

  private final AppConfig.Api config;
  private final Store store;

  public LatencyRoute(AppConfig.Api config, Store store) {
    this.config = config;
    this.store = store;
  }

  public void install(Router router) {
    router.get("/api/v1/latency").handler(this::answer);
  }

  private void answer(RoutingContext ctx) {
    long from;
    long to;
    try {
      QueryParams.Values q = PARAMS.parse(ctx.queryParams());
      QueryParams.Span span = QueryParams.span(q, config.maxRange());
      from = span.from();
      to = span.to();
    } catch (QueryParams.BadParameter e) {
      ApiRoutes.badRequest(ctx, e);
      return;
    }
    RequestLatencies figures = new RequestLatencies();
    store
        .latencies(from, to, figures)
        .onSuccess(v -> HttpServerVerticle.json(ctx.response(), 200, json(figures, from, to)))
        .onFailure(e -> ApiRoutes.unavailable(ctx, e));
  }

  static JsonObject json(RequestLatencies figures, long from, long to) {
    JsonArray models = new JsonArray();
    for (RequestLatencies.Model m : figures.models()) {
      models.add(
          new JsonObject()
              .put("model", m.model())
              .put("latency_ms", summary(m.latency()))
              .put("ttft_ms", summary(m.ttft())));
    }
    return new JsonObject()
        .put("from", Instant.ofEpochMilli(from).toString())
        .put("to", Instant.ofEpochMilli(to).toString())
        .put("scope", "fleet")
        .put("models", models)
        .put("left_out_requests", figures.leftOut());
  }

  private static JsonObject summary(RequestLatencies.Summary s) {
    if (s == null) {
      return null;
    }
    JsonObject o = new JsonObject().put("requests", s.count()).put("mean", s.mean());
    for (int i = 0; i < RequestLatencies.QUANTILES.size(); i++) {
      o.put(
          String.format(Locale.ROOT, "p%.0f", RequestLatencies.QUANTILES.get(i) * 100),
          s.quantiles().get(i));
    }
    return o.put("max", s.max());
  }
}
