package io.gputelemetry.web;

import io.gputelemetry.access.KeyRing;
import io.gputelemetry.access.Principal;
import io.gputelemetry.access.Scope;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/**
 * Which scope every route needs, in one table ({@link #RULES}), and the handler that enforces it
 * before any other: no key where one is needed answers 401 with {@code WWW-Authenticate}, a key
 * without the scope 403 naming the scope. A path the table does not know needs a valid key (of any
 * scope) when keys are configured, so a route added without a rule is never open by mistake.
 */
final class RouteAccess implements Handler<RoutingContext> {
  /** Where the caller is kept in the routing context. */
  static final String PRINCIPAL = "principal";

  /**
   * One route's rule: its method, its path ({@code *} as the last segment matches any rest, a
   * {@code :name} segment any one segment), the scope it needs (null: open to anyone), and whether
   * a key bound to a tenant may use it (its answers are then limited to that tenant).
   */
  record Rule(
      HttpMethod method,
      String path,
      Scope scope,
      boolean tenantBound,
      String why,
      Scope alternative) {
    Rule(HttpMethod method, String path, Scope scope, boolean tenantBound, String why) {
      this(method, path, scope, tenantBound, why, null);
    }

    boolean matches(HttpMethod m, String p) {
      return method.equals(m) && pathMatches(path, p);
    }

    /**
     * Whether a caller may use the route: it has the scope, or the alternative one (a route that
     * carries two kinds of events checks each event's own scope in its handler).
     */
    boolean admits(Principal caller) {
      return scope == null || caller.has(scope) || (alternative != null && caller.has(alternative));
    }
  }

  /** Every route of every role. The docs (docs/security.md, openapi.yaml) repeat this table. */
  static final List<Rule> RULES =
      List.of(
          open("/", "the console's page (the producer: where the console lives)"),
          open("/console/*", "the console's scripts, styles and charts library"),
          open(
              "/api/v1/me", "what the presented key may do (its scopes and tenant), never the key"),
          open("/openapi.yaml", "the API description"),
          open("/schemas/*", "the event schemas"),
          open("/health/live", "liveness probe; says UP only"),
          open(
              "/health/ready",
              "readiness probe; status only, the checks' detail with read or metrics"),
          new Rule(HttpMethod.GET, "/metrics", Scope.METRICS, false, "Prometheus scrape"),
          new Rule(HttpMethod.POST, IngestRoutes.GPU_ROUTE, Scope.INGEST_GPU, false, "GPU samples"),
          new Rule(
              HttpMethod.POST,
              IngestRoutes.TOKEN_ROUTE,
              Scope.INGEST_TOKENS,
              true,
              "token usage (and CloudEvents); a tenant-bound key sets the events' tenant"),
          new Rule(
              HttpMethod.POST,
              IngestRoutes.LITELLM_ROUTE,
              Scope.INGEST_TOKENS,
              true,
              "LiteLLM callback payloads; a tenant-bound key sets the events' tenant"),
          new Rule(
              HttpMethod.POST,
              OtlpRoutes.TRACES_ROUTE,
              Scope.INGEST_TOKENS,
              true,
              "OTLP spans with token usage; a tenant-bound key sets the events' tenant"),
          new Rule(
              HttpMethod.POST,
              OtlpRoutes.METRICS_ROUTE,
              Scope.INGEST_TOKENS,
              true,
              "OTLP metrics: token usage needs ingest:tokens, GPU samples ingest:gpu (each data"
                  + " point is checked against its own kind's scope; the others are rejected in"
                  + " the partial success)",
              Scope.INGEST_GPU),
          new Rule(
              HttpMethod.GET,
              "/api/v1/usage",
              Scope.READ,
              true,
              "usage and cost; a tenant-bound key sees its own tenant only"),
          new Rule(
              HttpMethod.GET,
              ReconciliationRoute.PATH,
              Scope.READ,
              true,
              "reported against computed cost; a tenant-bound key sees its own tenant only"),
          new Rule(
              HttpMethod.GET,
              ExportRoutes.FOCUS_ROUTE,
              Scope.READ,
              true,
              "FOCUS 1.2 CSV of the ledger; a tenant-bound key gets its own tenant's rows only"),
          new Rule(HttpMethod.GET, "/api/v1/gpus", Scope.READ, false, "the fleet's GPU inventory"),
          new Rule(HttpMethod.GET, "/api/v1/gpus/:uuid", Scope.READ, false, "one GPU's series"),
          new Rule(
              HttpMethod.GET,
              "/api/v1/latency",
              Scope.READ,
              false,
              "per model, the latency of the stored requests of a range (fleet-wide)"),
          new Rule(
              HttpMethod.GET,
              "/api/v1/pipeline",
              Scope.READ,
              false,
              "this process's pipeline totals, readiness, recent dead letters, sources"));

  private final KeyRing keys;

  RouteAccess(KeyRing keys) {
    this.keys = keys;
  }

  private static Rule open(String path, String why) {
    return new Rule(HttpMethod.GET, path, null, true, why);
  }

  /** The rule of a request, or null when the table has none. */
  static Rule rule(HttpMethod method, String path) {
    HttpMethod m = method.equals(HttpMethod.HEAD) ? HttpMethod.GET : method;
    for (Rule r : RULES) {
      if (r.matches(m, path)) {
        return r;
      }
    }
    return null;
  }

  static boolean pathMatches(String pattern, String path) {
    String[] want = pattern.split("/", -1);
    String[] got = path.split("/", -1);
    for (int i = 0; i < want.length; i++) {
      if (want[i].equals("*") && i == want.length - 1) {
        return got.length > i && !got[i].isEmpty();
      }
      if (i >= got.length) {
        return false;
      }
      if (want[i].startsWith(":") ? got[i].isEmpty() : !want[i].equals(got[i])) {
        return false;
      }
    }
    return want.length == got.length;
  }

  @Override
  public void handle(RoutingContext ctx) {
    Principal caller = keys.authenticate(ctx.request().getHeader("Authorization"));
    Rule rule = rule(ctx.request().method(), ctx.normalizedPath());
    if (caller == null) {
      if (rule != null && rule.scope() == null) {
        // An open route stays open whatever key comes with it; it just gets no detail.
        ctx.next();
        return;
      }
      refuse(
          ctx, 401, "the API key is not valid", "unauthorized", rule == null ? null : rule.scope());
      return;
    }
    ctx.put(PRINCIPAL, caller);
    if (rule == null) {
      if (!keys.open() && !caller.identified()) {
        refuse(
            ctx, 401, "an API key is required (Authorization: Bearer <key>)", "unauthorized", null);
        return;
      }
      ctx.next();
      return;
    }
    if (rule.admits(caller)) {
      if (caller.tenant() != null && !rule.tenantBound()) {
        refuse(
            ctx,
            403,
            "this route needs a key of scope '"
                + rule.scope()
                + "' not bound to a tenant; this key is bound to a tenant",
            "forbidden",
            rule.scope());
        return;
      }
      ctx.next();
      return;
    }
    if (!caller.identified()) {
      refuse(
          ctx,
          401,
          "an API key of scope '" + rule.scope() + "' is required (Authorization: Bearer <key>)",
          "unauthorized",
          rule.scope());
      return;
    }
    refuse(
        ctx,
        403,
        "this API key lacks the scope '"
            + rule.scope()
            + (rule.alternative() == null ? "" : "' or '" + rule.alternative())
            + "' this route needs",
        "forbidden",
        rule.scope());
  }

  /** The caller of a request this handler let through. */
  static Principal caller(RoutingContext ctx) {
    return ctx.get(PRINCIPAL);
  }

  private static void refuse(
      RoutingContext ctx, int status, String message, String code, Scope needed) {
    if (status == 401) {
      // RFC 6750: a presented token that is not valid is "invalid_token"; none at all, no error.
      boolean presented = ctx.request().getHeader("Authorization") != null;
      ctx.response()
          .putHeader(
              "WWW-Authenticate",
              "Bearer realm=\"gpu-telemetry\""
                  + (needed == null ? "" : ", scope=\"" + needed + "\"")
                  + (presented ? ", error=\"invalid_token\"" : ""));
    }
    JsonObject body = new JsonObject().put("error", message).put("code", code);
    if (needed != null) {
      body.put("scope", needed.text());
    }
    HttpServerVerticle.json(ctx.response(), status, body);
  }
}
