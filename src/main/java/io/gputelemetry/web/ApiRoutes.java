package io.gputelemetry.web;

import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.accounting.UsageCalculator;
import io.gputelemetry.accounting.UsageService;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.config.Settings;
import io.gputelemetry.store.GpuRecord;
import io.gputelemetry.store.Store;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
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

  /** A 400 naming the parameter. */
  static final class BadParameter extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String parameter;

    BadParameter(String parameter, String message) {
      super(message, null, false, false);
      this.parameter = parameter;
    }
  }

  private void usage(RoutingContext ctx) {
    long from;
    long to;
    long step;
    UsageCalculator.GroupBy groupBy;
    try {
      from = instant(ctx, "from", true).toEpochMilli();
      to = instant(ctx, "to", true).toEpochMilli();
      if (to <= from) {
        throw new BadParameter("to", "must be after from");
      }
      if (to - from > config.maxRange().toMillis()) {
        throw new BadParameter(
            "to",
            "range exceeds the maximum of " + config.maxRange().toDays() + " days (api.max-range)");
      }
      String g = ctx.request().getParam("groupBy", "model").toUpperCase(Locale.ROOT);
      try {
        groupBy = UsageCalculator.GroupBy.valueOf(g);
      } catch (IllegalArgumentException e) {
        throw new BadParameter("groupBy", "must be one of model, tenant, gpu_model");
      }
      String s = ctx.request().getParam("step");
      step = 0;
      if (s != null) {
        Duration d = Settings.parseDuration(s);
        if (d == null || d.toMillis() < 1000) {
          throw new BadParameter(
              "step", "must be a duration of at least 1s, such as 30s, 5m, 1h or 1d");
        }
        step = d.toMillis();
        if ((to - from + step - 1) / step > config.maxSteps()) {
          throw new BadParameter(
              "step",
              "too small for the range: more than " + config.maxSteps() + " steps (api.max-steps)");
        }
      }
    } catch (BadParameter e) {
      badRequest(ctx, e);
      return;
    }
    long t0 = System.nanoTime();
    usage
        .usage(from, to, step, groupBy)
        .onSuccess(
            r -> {
              LOG.debug("usage {}..{} in {} ms", from, to, (System.nanoTime() - t0) / 1_000_000);
              HttpServerVerticle.json(ctx.response(), 200, toJson(r));
            })
        .onFailure(e -> unavailable(ctx, e));
  }

  private JsonObject toJson(UsageCalculator.Report r) {
    JsonArray groups = new JsonArray();
    r.groups()
        .forEach(
            (key, t) -> {
              JsonObject g = line(t).put("key", key);
              if (r.groupBy() == UsageCalculator.GroupBy.MODEL) {
                PriceBook.ListPrice lp = prices.listPrice(key);
                if (lp != null) {
                  g.put(
                      "list_price_cost_usd",
                      t.inputTokens * lp.inputUsdPer1m() / 1e6
                          + t.outputTokens * lp.outputUsdPer1m() / 1e6);
                }
              }
              g.put("series", series(r, r.groupSeries().get(key)));
              groups.add(g);
            });
    UsageCalculator.Totals f = r.fleet();
    JsonObject totals =
        line(f)
            .put("fleet_gpu_cost_usd", f.costUsd)
            .put("idle_cost_usd", r.idle().costUsd)
            .put("allocated_cost_usd", f.costUsd - r.idle().costUsd)
            .put("idle_energy_j", r.idle().energyJ);
    return new JsonObject()
        .put("from", Instant.ofEpochMilli(r.from()).toString())
        .put("to", Instant.ofEpochMilli(r.to()).toString())
        .put("step_seconds", r.step() / 1000.0)
        .put("group_by", r.groupBy().name().toLowerCase(Locale.ROOT))
        .put("totals", totals)
        .put("groups", groups)
        .put("idle", line(r.idle()).put("series", series(r, r.idleSeries())));
  }

  private static JsonArray series(UsageCalculator.Report r, UsageCalculator.Totals[] s) {
    JsonArray a = new JsonArray();
    for (int i = 0; i < s.length; i++) {
      a.add(line(s[i]).put("start", Instant.ofEpochMilli(r.from() + i * r.step()).toString()));
    }
    return a;
  }

  private static JsonObject line(UsageCalculator.Totals t) {
    double tokens = t.tokens();
    return new JsonObject()
        .put("input_tokens", t.inputTokens)
        .put("output_tokens", t.outputTokens)
        .put("total_tokens", tokens)
        .put("requests", t.requests)
        .put("cost_usd", t.costUsd)
        .put("energy_j", t.energyJ)
        .put("active_energy_j", t.activeEnergyJ)
        .put("gpu_seconds", t.gpuSeconds)
        .put("unpriced_gpu_seconds", t.unpricedGpuSeconds)
        .put("unmetered_tokens", t.unmeteredTokens)
        .put("cost_per_1m_tokens_usd", tokens > 0 ? t.costUsd / tokens * 1e6 : null)
        .put("joules_per_token", tokens > 0 ? t.energyJ / tokens : null)
        .put("active_joules_per_token", tokens > 0 ? t.activeEnergyJ / tokens : null)
        .put("tokens_per_joule", t.energyJ > 0 ? tokens / t.energyJ : null);
  }

  private void gpus(RoutingContext ctx) {
    int limit;
    int offset;
    String status;
    try {
      limit = intParam(ctx, "limit", 100, 1, 1000);
      offset = intParam(ctx, "offset", 0, 0, 1_000_000);
      status = ctx.request().getParam("status");
      if (status != null && !Map.of("active", 1, "idle", 1, "stale", 1).containsKey(status)) {
        throw new BadParameter("status", "must be one of active, idle, stale");
      }
    } catch (BadParameter e) {
      badRequest(ctx, e);
      return;
    }
    long now = System.currentTimeMillis();
    store
        .gpus(ctx.request().getParam("node"), ctx.request().getParam("model"))
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
      String w = ctx.request().getParam("window", "15m");
      window = Settings.parseDuration(w);
      if (window == null || window.isZero() || window.toDays() > 7) {
        throw new BadParameter("window", "must be a duration from 1s to 7d, such as 15m");
      }
    } catch (BadParameter e) {
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

  private static Instant instant(RoutingContext ctx, String name, boolean required) {
    String v = ctx.request().getParam(name);
    if (v == null) {
      if (required) {
        throw new BadParameter(name, "is required (RFC 3339, e.g. 2026-11-28T12:00:00Z)");
      }
      return null;
    }
    try {
      return OffsetDateTime.parse(v).toInstant();
    } catch (DateTimeParseException e) {
      throw new BadParameter(name, "must be an RFC 3339 date-time such as 2026-11-28T12:00:00Z");
    }
  }

  private static int intParam(RoutingContext ctx, String name, int dflt, int min, int max) {
    String v = ctx.request().getParam(name);
    if (v == null) {
      return dflt;
    }
    try {
      int i = Integer.parseInt(v);
      if (i < min || i > max) {
        throw new NumberFormatException();
      }
      return i;
    } catch (NumberFormatException e) {
      throw new BadParameter(name, "must be an integer from " + min + " to " + max);
    }
  }

  private static void badRequest(RoutingContext ctx, BadParameter e) {
    HttpServerVerticle.json(
        ctx.response(),
        400,
        new JsonObject()
            .put("error", e.parameter + " " + e.getMessage())
            .put("code", "bad_parameter")
            .put("parameter", e.parameter));
  }

  private static void unavailable(RoutingContext ctx, Throwable e) {
    LOG.warn("query failed: {}", e.toString());
    HttpServerVerticle.json(
        ctx.response(),
        503,
        new JsonObject()
            .put("error", "the store is unavailable; retry later")
            .put("code", "unavailable"));
  }
}
