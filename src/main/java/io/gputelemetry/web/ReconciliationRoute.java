package io.gputelemetry.web;

import io.gputelemetry.accounting.Reconciliation;
import io.gputelemetry.accounting.UsageCalculator;
import io.gputelemetry.accounting.UsageService;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.store.Store;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.List;

/**
 * GET /api/v1/reconciliation: per tenant and model, the cost the requests' sender reported against
 * the cost the usage computation allocates, in dollars and percent. Same range rules as
 * /api/v1/usage; a tenant-bound key sees its own tenant only.
 */
public final class ReconciliationRoute {
  static final String PATH = "/api/v1/reconciliation";

  private static final QueryParams PARAMS =
      new QueryParams(QueryParams.instant("from"), QueryParams.instant("to"));

  private final AppConfig.Api config;
  private final Store store;
  private final UsageService usage;

  public ReconciliationRoute(AppConfig.Api config, Store store, UsageService usage) {
    this.config = config;
    this.store = store;
    this.usage = usage;
  }

  public void install(Router router) {
    router.get(PATH).handler(this::reconcile);
  }

  private void reconcile(RoutingContext ctx) {
    QueryParams.Span span;
    try {
      span = QueryParams.span(PARAMS.parse(ctx.queryParams()), config.maxRange());
    } catch (QueryParams.BadParameter e) {
      ApiRoutes.badRequest(ctx, e);
      return;
    }
    String tenant = RouteAccess.caller(ctx).tenant();
    Reconciliation.compute(
            ctx.vertx(), usage, store, span.from(), span.to(), config.maxCells(), tenant)
        .compose(rows -> ctx.vertx().executeBlocking(() -> json(span, tenant, rows), false))
        .onSuccess(
            body -> {
              if (!ctx.response().ended() && !ctx.response().closed()) {
                ctx.response().putHeader("content-type", "application/json").end(body);
              }
            })
        .onFailure(
            e -> {
              if (e instanceof UsageCalculator.TooManyCells c) {
                HttpServerVerticle.json(
                    ctx.response(),
                    400,
                    new JsonObject()
                        .put(
                            "error",
                            "the answer would hold "
                                + c.groups
                                + " tenant and model lines, more than the limit of "
                                + (c.limit - 1)
                                + " (api.max-cells): use a shorter range")
                        .put("code", "too_many_cells")
                        .put("parameter", "to")
                        .put("cells", c.cells)
                        .put("limit", c.limit));
              } else {
                ApiRoutes.unavailable(ctx, e);
              }
            });
  }

  private static Buffer json(QueryParams.Span span, String tenant, List<Reconciliation.Row> rows) {
    JsonArray out = new JsonArray();
    for (Reconciliation.Row r : rows) {
      out.add(
          new JsonObject()
              .put("tenant", r.tenant())
              .put("model", r.model())
              .put("reported_cost_usd", r.reportedCostUsd())
              .put("computed_cost_usd", r.computedCostUsd())
              .put("difference_usd", r.differenceUsd())
              .put("difference_pct", r.differencePct())
              .put("requests_with_reported_cost", r.requestsWithReportedCost())
              .put("requests_without_reported_cost", r.requestsWithoutReportedCost())
              .put("unpriced_tokens", r.unpricedTokens())
              .put("unmetered_tokens", r.unmeteredTokens())
              .put("comparable", r.comparable()));
    }
    JsonObject body =
        new JsonObject()
            .put("from", Instant.ofEpochMilli(span.from()).toString())
            .put("to", Instant.ofEpochMilli(span.to()).toString());
    if (tenant != null) {
      body.put("tenant", tenant);
    }
    return body.put("rows", out).toBuffer();
  }
}
