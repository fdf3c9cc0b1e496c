package io.gputelemetry.web;

import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.accounting.UsageCalculator;
import io.gputelemetry.accounting.UsageService;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.store.GpuRecord;
import io.gputelemetry.store.Store;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The query API: GPU inventory and authoritative usage (tokens, cost, energy) computed from stored
 * events. Bad parameters answer 400 naming the parameter.
 */
public final class ApiRoutes {
  private static final Logger LOG = LogManager.getLogger(ApiRoutes.class);

  private final AppConfig.Api config;

  /** The fields of a GPU's series, newest {@value #MAX_SERIES} samples of the window at most. */
  private static final List<String> SERIES_FIELDS =
      List.of(
          "utilization_pct",
          "memory_used_mib",
          "power_w",
          "temperature_c",
          "sm_clock_mhz",
          "energy_mj");

  private static final int MAX_SERIES = 2000;

  private final Store store;
  private final UsageService usage;
  private final PriceBook prices;

  public ApiRoutes(AppConfig.Api config, Store store, UsageService usage, PriceBook prices) {
    this.config = config;
    this.store = store;
    this.usage = usage;
    this.prices = prices;
  }

  public void install(Router router) {
    router.get("/api/v1/usage").handler(this::usage);
    router.get("/api/v1/gpus").handler(this::gpus);
    router.get("/api/v1/gpus/:uuid").handler(this::gpu);
  }

  private static final QueryParams USAGE_PARAMS =
      new QueryParams(
          QueryParams.instant("from"),
          QueryParams.instant("to"),
          QueryParams.choice("groupBy", "model", List.of("model", "tenant", "gpu_model")),
          QueryParams.duration(
              "step",
              null,
              Duration.ofSeconds(1),
              Duration.ofDays(36_500),
              "must be a duration of at least 1s, such as 30s, 5m, 1h or 1d"));
  private static final QueryParams GPUS_PARAMS =
      new QueryParams(
          QueryParams.text("node"),
          QueryParams.text("model"),
          QueryParams.choice("status", null, List.of("active", "idle", "stale")),
          QueryParams.integer("limit", 100, 1, 1000),
          QueryParams.integer("offset", 0, 0, 1_000_000));
  private static final QueryParams GPU_PARAMS =
      new QueryParams(
          QueryParams.duration(
              "window",
              "15m",
              Duration.ofSeconds(1),
              Duration.ofDays(7),
              "must be a duration from 1s to 7d, such as 15m"));

  private void usage(RoutingContext ctx) {
    long from;
    long to;
    long step;
    UsageCalculator.GroupBy groupBy;
    try {
      QueryParams.Values q = USAGE_PARAMS.parse(ctx.queryParams());
      from = q.instant("from").toEpochMilli();
      to = q.instant("to").toEpochMilli();
      if (to <= from) {
        throw new QueryParams.BadParameter("to", "must be after from");
      }
      if (to - from > config.maxRange().toMillis()) {
        throw new QueryParams.BadParameter(
            "to",
            "range exceeds the maximum of " + config.maxRange().toDays() + " days (api.max-range)");
      }
      groupBy = UsageCalculator.GroupBy.valueOf(q.text("groupBy").toUpperCase(Locale.ROOT));
      step = q.duration("step") == null ? 0 : q.duration("step").toMillis();
      long grid = usage.allocationMillis();
      if (step % grid != 0) {
        // Tokens are matched to GPU time per allocation interval: a step across the grid would
        // cut intervals and change the figures with the step.
        throw new QueryParams.BadParameter(
            "step",
            "must be a multiple of the allocation interval "
                + (grid % 1000 == 0 ? grid / 1000 + "s" : grid + "ms")
                + " (accounting.allocation-interval), so that the figures do not depend on the"
                + " step");
      }
      if (step > 0 && (to - from + step - 1) / step > config.maxSteps()) {
        throw new QueryParams.BadParameter(
            "step",
            "too small for the range: more than " + config.maxSteps() + " steps (api.max-steps)");
      }
      long steps = step > 0 ? (to - from + step - 1) / step : 1;
      if (steps > config.maxCells()) {
        throw new QueryParams.BadParameter(
            "step",
            "too small for the range: "
                + steps
                + " steps, more than the "
                + config.maxCells()
                + " cells an answer may hold (api.max-cells)");
      }
    } catch (QueryParams.BadParameter e) {
      badRequest(ctx, e);
      return;
    }
    long t0 = System.nanoTime();
    // A tenant-bound key sees its own tenant's lines only, whatever it groups by.
    String tenant = RouteAccess.caller(ctx).tenant();
    usage
        .usage(from, to, step, groupBy, config.maxCells(), tenant)
        // Serialising an answer of thousands of cells is CPU work: on a worker, into one buffer.
        .compose(r -> ctx.vertx().executeBlocking(() -> UsageJson.write(r, prices, tenant), false))
        .onSuccess(
            body -> {
              LOG.debug("usage {}..{} in {} ms", from, to, (System.nanoTime() - t0) / 1_000_000);
              if (!ctx.response().ended() && !ctx.response().closed()) {
                ctx.response().putHeader("content-type", "application/json").end(body);
              }
            })
        .onFailure(
            e -> {
              if (e instanceof UsageCalculator.TooManyCells c) {
                tooManyCells(ctx, c);
              } else {
                unavailable(ctx, e);
              }
            });
  }

  /** 400: the answer would exceed api.max-cells; names the limit and the count asked for. */
  private static void tooManyCells(RoutingContext ctx, UsageCalculator.TooManyCells c) {
    HttpServerVerticle.json(
        ctx.response(),
        400,
        new JsonObject()
            .put(
                "error",
                "the answer would hold "
                    + c.cells
                    + " cells ("
                    + c.groups
                    + " groups and the idle line x "
                    + c.steps
                    + " steps), more than the limit of "
                    + c.limit
                    + " (api.max-cells): use a larger step, a shorter range or another groupBy")
            .put("code", "too_many_cells")
            .put("parameter", "step")
            .put("cells", c.cells)
            .put("limit", c.limit));
  }

  private void gpus(RoutingContext ctx) {
    QueryParams.Values q;
    try {
      q = GPUS_PARAMS.parse(ctx.queryParams());
    } catch (QueryParams.BadParameter e) {
      badRequest(ctx, e);
      return;
    }
    int limit = q.integer("limit");
    int offset = q.integer("offset");
    String status = q.text("status");
    long now = System.currentTimeMillis();
    store
        .gpus(q.text("node"), q.text("model"))
        .onSuccess(
            gpus -> {
              JsonArray out = new JsonArray();
              int matched = 0;
              for (GpuRecord d : gpus) {
                JsonObject g = gpuJson(d, now);
                if (status != null && !status.equals(g.getString("status"))) {
                  continue;
                }
                if (matched++ >= offset && out.size() < limit) {
                  out.add(g);
                }
              }
              HttpServerVerticle.json(
                  ctx.response(),
                  200,
                  new JsonObject()
                      .put("total", matched)
                      .put("offset", offset)
                      .put("limit", limit)
                      .put("gpus", out));
            })
        .onFailure(e -> unavailable(ctx, e));
  }

  private JsonObject gpuJson(GpuRecord d, long now) {
    long lastSeen = d.seen().lastMillis();
    JsonObject last = json(d.last());
    last.remove("event_id");
    Number util = d.lastNumber("utilization_pct");
    String status =
        now - lastSeen > config.gpuStaleAfter().toMillis()
            ? "stale"
            : (util == null ? 0 : util.doubleValue()) < config.gpuIdleBelowPct()
                ? "idle"
                : "active";
    return new JsonObject()
        .put("gpu_uuid", d.gpuUuid())
        .put("node", d.node())
        .put("gpu_model", d.gpuModel())
        .put("model", d.model())
        .put("status", status)
        .put("first_seen", Instant.ofEpochMilli(d.seen().firstMillis()).toString())
        .put("last_seen", Instant.ofEpochMilli(lastSeen).toString())
        .put("last", last);
  }

  /** A stored document as JSON: instants as RFC 3339 strings. */
  private static JsonObject json(Map<String, Object> doc) {
    JsonObject o = new JsonObject();
    doc.forEach((k, v) -> o.put(k, v instanceof Instant i ? i.toString() : v));
    return o;
  }

  private void gpu(RoutingContext ctx) {
    String uuid = ctx.pathParam("uuid");
    Duration window;
    try {
      window = GPU_PARAMS.parse(ctx.queryParams()).duration("window");
    } catch (QueryParams.BadParameter e) {
      badRequest(ctx, e);
      return;
    }
    long now = System.currentTimeMillis();
    store
        .gpu(uuid)
        .compose(
            gpu -> {
              if (gpu == null) {
                HttpServerVerticle.json(
                    ctx.response(),
                    404,
                    new JsonObject().put("error", "no GPU " + uuid).put("code", "not_found"));
                return Future.succeededFuture();
              }
              return store
                  .samples(
                      uuid,
                      Instant.ofEpochMilli(now - window.toMillis()),
                      MAX_SERIES,
                      SERIES_FIELDS)
                  .onSuccess(
                      samples -> {
                        JsonArray series = new JsonArray();
                        samples.forEach(sample -> series.add(json(sample)));
                        JsonObject g = gpuJson(gpu, now);
                        g.put("latest_sample", g.getJsonObject("last"));
                        g.put("window_seconds", window.toSeconds()).put("series", series);
                        HttpServerVerticle.json(ctx.response(), 200, g);
                      })
                  .mapEmpty();
            })
        .onFailure(e -> unavailable(ctx, e));
  }

  static void badRequest(RoutingContext ctx, QueryParams.BadParameter e) {
    HttpServerVerticle.json(
        ctx.response(),
        400,
        new JsonObject()
            .put("error", e.parameter + " " + e.getMessage())
            .put("code", "bad_parameter")
            .put("parameter", e.parameter));
  }

  static void unavailable(RoutingContext ctx, Throwable e) {
    LOG.warn("query failed: {}", e.toString());
    HttpServerVerticle.json(
        ctx.response(),
        503,
        new JsonObject()
            .put("error", "the store is unavailable; retry later")
            .put("code", "unavailable"));
  }
}
