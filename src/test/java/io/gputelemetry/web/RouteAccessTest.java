package io.gputelemetry.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.access.Scope;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.config.Settings;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.source.CloudEventMapping;
import io.gputelemetry.source.LiteLlmMapping;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The route table: what it says of each route, and that no installed route is missing from it. */
class RouteAccessTest {

  @Test
  void eachRouteNeedsTheScopeTheDocsState() {
    assertNull(RouteAccess.rule(HttpMethod.GET, "/").scope());
    assertNull(RouteAccess.rule(HttpMethod.GET, "/openapi.yaml").scope());
    assertNull(RouteAccess.rule(HttpMethod.GET, "/schemas/gpu.metrics.v1.schema.json").scope());
    assertNull(RouteAccess.rule(HttpMethod.GET, "/health/live").scope());
    assertNull(RouteAccess.rule(HttpMethod.HEAD, "/health/ready").scope(), "HEAD as GET");
    assertEquals(Scope.METRICS, RouteAccess.rule(HttpMethod.GET, "/metrics").scope());
    assertEquals(Scope.INGEST_GPU, RouteAccess.rule(HttpMethod.POST, "/v1/gpu-metrics").scope());
    assertEquals(Scope.INGEST_TOKENS, RouteAccess.rule(HttpMethod.POST, "/v1/token-usage").scope());
    assertEquals(Scope.INGEST_TOKENS, RouteAccess.rule(HttpMethod.POST, "/v1/traces").scope());
    RouteAccess.Rule otlpMetrics = RouteAccess.rule(HttpMethod.POST, "/v1/metrics");
    assertEquals(Scope.INGEST_TOKENS, otlpMetrics.scope());
    assertEquals(Scope.INGEST_GPU, otlpMetrics.alternative());
    java.util.Set<String> none = java.util.Set.of();
    assertTrue(
        otlpMetrics.admits(
            new io.gputelemetry.access.Principal(
                "g", java.util.Set.of(Scope.INGEST_GPU), null, none)),
        "a GPU agent's key may send hw.* metrics");
    assertTrue(
        !otlpMetrics.admits(
            new io.gputelemetry.access.Principal("r", java.util.Set.of(Scope.READ), null, none)),
        "a read key may not");
    assertEquals(Scope.READ, RouteAccess.rule(HttpMethod.GET, "/api/v1/usage").scope());
    assertTrue(RouteAccess.rule(HttpMethod.GET, "/api/v1/usage").tenantBound());
    assertEquals(Scope.READ, RouteAccess.rule(HttpMethod.GET, "/api/v1/reconciliation").scope());
    assertTrue(RouteAccess.rule(HttpMethod.GET, "/api/v1/reconciliation").tenantBound());
    assertEquals(Scope.READ, RouteAccess.rule(HttpMethod.GET, "/api/v1/gpus").scope());
    assertFalse(RouteAccess.rule(HttpMethod.GET, "/api/v1/gpus").tenantBound());
    assertEquals(Scope.READ, RouteAccess.rule(HttpMethod.GET, "/api/v1/latency").scope());
    assertFalse(RouteAccess.rule(HttpMethod.GET, "/api/v1/latency").tenantBound());
    assertEquals(Scope.READ, RouteAccess.rule(HttpMethod.GET, "/api/v1/gpus/GPU-1").scope());
    assertNull(RouteAccess.rule(HttpMethod.GET, "/v1/gpu-metrics"), "GET of an ingest route");
    assertNull(RouteAccess.rule(HttpMethod.GET, "/schemas/"), "the wildcard needs a name");
    assertNull(RouteAccess.rule(HttpMethod.GET, "/api/v1/gpus/a/b"));
    assertNull(RouteAccess.rule(HttpMethod.GET, "/metrics/x"));
    assertNull(RouteAccess.rule(HttpMethod.GET, "/admin"));
    assertNull(RouteAccess.rule(HttpMethod.GET, "/console/app.js").scope());
    assertNull(RouteAccess.rule(HttpMethod.GET, "/api/v1/me").scope());
    assertEquals(Scope.READ, RouteAccess.rule(HttpMethod.GET, "/api/v1/pipeline").scope());
    assertFalse(RouteAccess.rule(HttpMethod.GET, "/api/v1/pipeline").tenantBound());
  }

  @Test
  void theOpenApiDocumentStatesEachRoutesScopeAsTheTableDoes() throws Exception {
    com.fasterxml.jackson.databind.JsonNode paths;
    try (java.io.InputStream in =
        getClass().getClassLoader().getResourceAsStream(OpenApiRoute.RESOURCE)) {
      paths =
          new com.fasterxml.jackson.databind.ObjectMapper(
                  new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
              .readTree(in)
              .get("paths");
    }
    List<String> seen = new ArrayList<>();
    paths
        .fields()
        .forEachRemaining(
            path ->
                path.getValue()
                    .fields()
                    .forEachRemaining(
                        op -> {
                          String p =
                              path.getKey().replace("{uuid}", "GPU-1").replace("{file}", "app.js");
                          RouteAccess.Rule rule =
                              RouteAccess.rule(HttpMethod.valueOf(op.getKey().toUpperCase()), p);
                          assertNotNull(rule, op.getKey() + " " + p);
                          com.fasterxml.jackson.databind.JsonNode scope =
                              op.getValue().get("x-required-scope");
                          assertEquals(
                              rule.scope() == null ? null : rule.scope().text(),
                              scope == null ? null : scope.asText(),
                              p);
                          if (rule.scope() != null) {
                            assertEquals(
                                rule.scope().text(),
                                op.getValue().get("security").get(0).get("apiKey").get(0).asText(),
                                p);
                            assertEquals(
                                rule.tenantBound(),
                                op.getValue().get("x-tenant-bound").asBoolean(),
                                p);
                          } else {
                            assertEquals(0, op.getValue().get("security").size(), p + " is open");
                          }
                          seen.add(p);
                        }));
    assertEquals(22, seen.size(), seen.toString());
  }

  @Test
  void everyRouteTheRolesInstallHasARule() {
    Vertx vertx = Vertx.vertx();
    try {
      Router router = Router.router(vertx);
      AppConfig config = AppConfig.from(Settings.defaults());
      new IngestRoutes(
              config.ingest(),
              config.kafka().topics(),
              null,
              null,
              new Telemetry("test", "0"),
              new LiteLlmMapping(config.liteLlm()),
              new CloudEventMapping(config.cloudEvents()))
          .install(router);
      new ApiRoutes(config.api(), null, null, null).install(router);
      new LatencyRoute(config.api(), null).install(router);
      new ReconciliationRoute(config.api(), null, null).install(router);
      new ExportRoutes(null, null).install(router);
      new OtlpRoutes(
              config.otlp(),
              config.ingest(),
              config.kafka().topics(),
              null,
              null,
              new Telemetry("test", "0"),
              null,
              null)
          .install(router);
      OpenApiRoute.install(router);
      ConsoleRoutes.install(router);
      new PipelineRoute("standalone", null, null, null, null, List.of()).install(router);
      List<String> checked = new ArrayList<>();
      for (Route r : router.getRoutes()) {
        if (r.getPath() == null) {
          continue;
        }
        Set<HttpMethod> methods = r.methods();
        assertNotNull(methods, r.getPath() + " answers one method");
        for (HttpMethod m : methods) {
          String path = r.getPath().replace(":uuid", "GPU-1");
          assertNotNull(RouteAccess.rule(m, path), m + " " + r.getPath() + " has no rule");
          checked.add(m + " " + r.getPath());
        }
      }
      assertTrue(checked.contains("POST /v1/gpu-metrics"), checked.toString());
      assertTrue(checked.contains("POST /api/v1/ingest/litellm"), checked.toString());
      assertTrue(checked.contains("GET /api/v1/gpus/:uuid"), checked.toString());
      assertTrue(checked.contains("GET /openapi.yaml"), checked.toString());
      assertTrue(checked.contains("GET /console/app.js"), checked.toString());
      assertTrue(checked.contains("GET /api/v1/pipeline"), checked.toString());
      assertTrue(checked.contains("GET /api/v1/latency"), checked.toString());
      assertTrue(checked.contains("POST /v1/traces"), checked.toString());
      assertTrue(checked.contains("POST /v1/metrics"), checked.toString());
      assertTrue(checked.contains("GET " + ExportRoutes.FOCUS_ROUTE), checked.toString());
      assertTrue(checked.contains("GET " + ExportRoutes.METADATA_ROUTE), checked.toString());
    } finally {
      vertx.close();
    }
  }
}
