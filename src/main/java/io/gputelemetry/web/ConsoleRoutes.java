package io.gputelemetry.web;

import io.gputelemetry.access.Principal;
import io.gputelemetry.access.Scope;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The web console: its page at {@code /}, its scripts and styles under {@code /console/} (a fixed
 * set of files shipped in the jar, read once at start; uPlot from its webjar), and {@code
 * /api/v1/me}, which tells the page what the caller's key may see. The producer role, which has no
 * console, answers {@code /} with where the console lives ({@link #installPointer}).
 */
public final class ConsoleRoutes {
  /** The console's files in the jar, under {@code console/}, and what each is. */
  static final Map<String, String> FILES = new LinkedHashMap<>();

  /** uPlot's files in its webjar (the version the pom declares), served under /console/vendor/. */
  static final String UPLOT = "META-INF/resources/webjars/uplot/1.6.30/dist/";

  static {
    FILES.put("index.html", "text/html; charset=utf-8");
    FILES.put("console.css", "text/css; charset=utf-8");
    for (String js :
        new String[] {"app.js", "api.js", "format.js", "chart.js", "fleet.js", "models.js"}) {
      FILES.put(js, "text/javascript; charset=utf-8");
    }
    FILES.put("usage.js", "text/javascript; charset=utf-8");
    FILES.put("pipeline.js", "text/javascript; charset=utf-8");
    FILES.put("favicon.svg", "image/svg+xml");
  }

  /**
   * Scripts and styles from this origin only; inline style attributes allowed (uPlot sizes its
   * canvas through them); nothing may frame the console.
   */
  static final String CSP =
      "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:;"
          + " connect-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action"
          + " 'self'";

  private ConsoleRoutes() {}

  public static void install(Router router) {
    Map<String, Buffer> bodies = new LinkedHashMap<>();
    Map<String, String> types = new LinkedHashMap<>();
    FILES.forEach(
        (name, type) -> {
          bodies.put(name, OpenApiRoute.load("console/" + name));
          types.put(name, type);
        });
    bodies.put("vendor/uPlot.iife.min.js", OpenApiRoute.load(UPLOT + "uPlot.iife.min.js"));
    types.put("vendor/uPlot.iife.min.js", "text/javascript; charset=utf-8");
    bodies.put("vendor/uPlot.min.css", OpenApiRoute.load(UPLOT + "uPlot.min.css"));
    types.put("vendor/uPlot.min.css", "text/css; charset=utf-8");
    router.get("/").handler(ctx -> send(ctx, bodies.get("index.html"), types.get("index.html")));
    // One route per file: a name not shipped falls through to the 404 of every unknown path.
    bodies.forEach(
        (name, body) -> {
          if (!name.equals("index.html")) {
            String type = types.get(name);
            router.get("/console/" + name).handler(ctx -> send(ctx, body, type));
          }
        });
    router.get("/api/v1/me").handler(ConsoleRoutes::me);
  }

  /** The producer role's answer at {@code /}: it serves no console, and says which role does. */
  public static void installPointer(Router router) {
    router
        .get("/")
        .handler(
            ctx ->
                HttpServerVerticle.json(
                    ctx.response(),
                    200,
                    new JsonObject()
                        .put("role", "producer")
                        .put(
                            "console",
                            "the web console is served at / by the processor and standalone"
                                + " roles; this producer serves ingest, /metrics and /health")
                        .put("openapi", "/openapi.yaml")));
  }

  private static void send(RoutingContext ctx, Buffer body, String type) {
    ctx.response()
        .putHeader("Content-Type", type)
        .putHeader("Cache-Control", "no-cache")
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Referrer-Policy", "no-referrer")
        .putHeader("Content-Security-Policy", CSP)
        // A copy per answer: one buffer is not written by several event loops at once.
        .end(body.copy());
  }

  /**
   * Who the caller is, for the console: whether keys are required, the key's scopes and tenant. The
   * key itself is never echoed.
   */
  private static void me(RoutingContext ctx) {
    Principal caller = RouteAccess.caller(ctx);
    if (caller == null) {
      // An open route lets an invalid key through without a caller: say it is not valid.
      HttpServerVerticle.json(
          ctx.response(),
          401,
          new JsonObject().put("error", "the API key is not valid").put("code", "unauthorized"));
      return;
    }
    JsonArray scopes = new JsonArray();
    for (Scope s : Scope.values()) {
      if (caller.has(s)) {
        scopes.add(s.text());
      }
    }
    HttpServerVerticle.json(
        ctx.response(),
        200,
        new JsonObject()
            .put("identified", caller.identified())
            .put("key_id", caller.id())
            .put("scopes", scopes)
            .put("tenant", caller.tenant()));
  }
}
