package io.gputelemetry.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.gputelemetry.Application;
import io.gputelemetry.support.Events;
import io.gputelemetry.support.RunningPipeline;
import io.gputelemetry.support.TestConfigs;
import io.vertx.core.json.JsonArray;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Every route and status the OpenAPI document promises is answered, and nothing else is. */
class OpenApiIT {
  private static final String KEY = "openapi-test-key-0123456789";
  private static final String READER = "openapi-reader-key-0123456789";
  private static final String SCRAPER = "openapi-metrics-key-0123456789";
  private final Set<String> observed = new TreeSet<>();

  /** The key the GETs present (null: none). */
  private String key;

  @Test
  void everyDocumentedRouteAndStatusIsServed(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path keys = dir.resolve("keys");
    java.nio.file.Files.write(
        keys,
        java.util.List.of(
            io.gputelemetry.access.KeyFile.line("reader", READER, "read", null),
            io.gputelemetry.access.KeyFile.line("scraper", SCRAPER, "metrics", null)));
    try (RunningPipeline p =
        new RunningPipeline(
            Map.of(
                "auth.keys-file",
                keys.toString(),
                "ingest.api-keys",
                KEY,
                "ingest.max-events",
                "5",
                "ingest.max-body-bytes",
                "4096",
                "ingest.max-pending",
                "3",
                "otlp.max-body-bytes",
                "4096"))) {
      String served = p.get(p.baseUrl() + "/openapi.yaml").body();
      JsonNode doc = new ObjectMapper(new YAMLFactory()).readTree(served);
      Set<String> documented = new TreeSet<>();
      for (Iterator<Map.Entry<String, JsonNode>> paths = doc.get("paths").fields();
          paths.hasNext(); ) {
        Map.Entry<String, JsonNode> path = paths.next();
        for (Iterator<Map.Entry<String, JsonNode>> ops = path.getValue().fields();
            ops.hasNext(); ) {
          Map.Entry<String, JsonNode> op = ops.next();
          op.getValue()
              .get("responses")
              .fieldNames()
              .forEachRemaining(
                  s -> documented.add(op.getKey().toUpperCase() + " " + path.getKey() + " " + s));
        }
      }
      for (String route :
          new String[] {
            IngestRoutes.GPU_ROUTE, IngestRoutes.TOKEN_ROUTE, IngestRoutes.LITELLM_ROUTE
          }) {
        boolean gpu = route.equals(IngestRoutes.GPU_ROUTE);
        boolean liteLlm = route.equals(IngestRoutes.LITELLM_ROUTE);
        String valid =
            (gpu ? Events.sample("GPU-x") : liteLlm ? liteLlm(1) : Events.token("acme")).encode();
        String invalid =
            (gpu
                    ? Events.sample("GPU-x").put("power_w", -1)
                    : liteLlm ? liteLlm(-1) : Events.token("acme").put("tenant", "a/b"))
                .encode();
        post(p, route, "application/json", valid, KEY);
        post(p, route, "application/json", "[" + valid + "," + invalid + "]", KEY);
        post(p, route, "application/json", invalid, KEY);
        post(p, route, "application/json", valid, null);
        post(p, route, "application/json", valid, READER);
        post(
            p,
            route,
            "application/json",
            "[" + String.join(",", valid, valid, valid, valid, valid, valid) + "]",
            KEY);
        post(p, route, "text/csv", "a,b", KEY);
        JsonArray four = new JsonArray();
        for (int i = 0; i < 4; i++) {
          four.add(gpu ? Events.sample("GPU-" + i) : liteLlm ? liteLlm(i) : Events.token("acme"));
        }
        post(
            p,
            route,
            "application/x-ndjson",
            four.stream().map(Object::toString).reduce((a, b) -> a + "\n" + b).get(),
            KEY);
      }
      otlp(p);
      String api = p.processorUrl();
      post(p, IngestRoutes.GPU_ROUTE, "application/json", Events.sample("GPU-api").encode(), KEY);
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(30))
          // Other samples were posted before: wait for this GPU's own inventory document.
          .until(
              () ->
                  !p.store()
                      .find("gpus", new io.vertx.core.json.JsonObject().put("_id", "GPU-api"))
                      .isEmpty());
      String range = "?from=2026-01-01T00:00:00Z&to=2026-01-01T01:00:00Z";
      key = null;
      get(p, api, "/api/v1/usage" + range, "/api/v1/usage");
      get(p, api, "/api/v1/reconciliation" + range, "/api/v1/reconciliation");
      get(p, api, ExportRoutes.FOCUS_ROUTE + range, ExportRoutes.FOCUS_ROUTE);
      get(p, api, "/api/v1/gpus", "/api/v1/gpus");
      get(p, api, "/api/v1/gpus/GPU-api", "/api/v1/gpus/{uuid}");
      get(p, api, "/api/v1/latency" + range, "/api/v1/latency");
      get(p, p.baseUrl(), "/metrics");
      key = KEY;
      get(p, api, "/api/v1/usage" + range, "/api/v1/usage");
      get(p, api, "/api/v1/reconciliation" + range, "/api/v1/reconciliation");
      get(p, api, ExportRoutes.FOCUS_ROUTE + range, ExportRoutes.FOCUS_ROUTE);
      get(p, api, "/api/v1/gpus", "/api/v1/gpus");
      get(p, api, "/api/v1/gpus/GPU-api", "/api/v1/gpus/{uuid}");
      get(p, api, "/api/v1/latency" + range, "/api/v1/latency");
      get(p, p.baseUrl(), "/metrics");
      key = READER;
      get(p, api, "/api/v1/usage" + range + "&groupBy=tenant&step=5m", "/api/v1/usage");
      get(p, api, "/api/v1/usage?from=2026-01-01T00:00:00Z", "/api/v1/usage");
      get(p, api, "/api/v1/reconciliation" + range, "/api/v1/reconciliation");
      get(p, api, "/api/v1/reconciliation" + range + "&groupBy=tenant", "/api/v1/reconciliation");
      get(p, api, ExportRoutes.FOCUS_ROUTE + range, ExportRoutes.FOCUS_ROUTE);
      get(p, api, ExportRoutes.FOCUS_ROUTE + range + "&step=1h", ExportRoutes.FOCUS_ROUTE);
      get(p, api, "/api/v1/gpus?status=active", "/api/v1/gpus");
      get(p, api, "/api/v1/gpus?limit=-1", "/api/v1/gpus");
      get(p, api, "/api/v1/gpus/GPU-api", "/api/v1/gpus/{uuid}");
      get(p, api, "/api/v1/gpus/GPU-api?window=forever", "/api/v1/gpus/{uuid}");
      get(p, api, "/api/v1/gpus/GPU-nowhere", "/api/v1/gpus/{uuid}");
      get(p, api, "/api/v1/latency" + range, "/api/v1/latency");
      get(p, api, "/api/v1/latency?from=2026-01-01T00:00:00Z", "/api/v1/latency");
      get(p, p.baseUrl(), "/health/live");
      get(p, p.baseUrl(), "/health/ready");
      get(p, api, "/api/v1/pipeline");
      get(p, api, "/api/v1/me");
      key = SCRAPER;
      get(p, p.baseUrl(), "/metrics");
      get(p, api, "/api/v1/pipeline");
      key = "not-a-key";
      get(p, api, "/api/v1/me");
      key = null;
      get(p, api, "/api/v1/pipeline");
      // The console: its page and files are open (its data routes ask for a key).
      get(p, api, "/");
      get(p, api, "/console/app.js", "/console/{file}");
      get(p, api, "/console/no-such-file.js", "/console/{file}");
      key = null;
      get(p, p.baseUrl(), "/openapi.yaml");
      get(p, p.baseUrl(), "/schemas/gpu.metrics.v1.schema.json");
      get(p, p.baseUrl(), "/schemas/token.usage.v1.schema.json");
      get(p, api, ExportRoutes.METADATA_ROUTE);
      // A processor whose store cannot be reached is not ready.
      Map<String, String> dead =
          TestConfigs.base("processor", "mongodb://127.0.0.1:1", TestConfigs.unique());
      dead.put("mongo.timeout", "1s");
      Application notReady = new Application(TestConfigs.of(dead)).start();
      try {
        String dead1 = "http://127.0.0.1:" + notReady.httpPort();
        get(p, dead1, "/health/ready");
        get(p, dead1, "/api/v1/usage" + range, "/api/v1/usage");
        get(p, dead1, "/api/v1/reconciliation" + range, "/api/v1/reconciliation");
        get(p, dead1, ExportRoutes.FOCUS_ROUTE + range, ExportRoutes.FOCUS_ROUTE);
        get(p, dead1, "/api/v1/gpus", "/api/v1/gpus");
        get(p, dead1, "/api/v1/gpus/GPU-api", "/api/v1/gpus/{uuid}");
        get(p, dead1, "/api/v1/latency" + range, "/api/v1/latency");
      } finally {
        notReady.close();
      }
      assertEquals(documented, observed);
    }
  }

  /**
   * Every answer of the OTLP routes: 200, 400, 401, 403, 413 (4096 bytes), 415, 503 (3 pending).
   */
  private void otlp(RunningPipeline p) throws Exception {
    java.time.Instant now = java.time.Instant.now();
    long end = now.getEpochSecond() * 1_000_000_000L;
    java.util.function.IntFunction<String> spans =
        n -> {
          StringBuilder sb = new StringBuilder();
          for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",")
                .append(
                    "{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"spanId\":\"00f067aa0ba902b")
                .append(i)
                .append("\",\"endTimeUnixNano\":\"")
                .append(end)
                .append(
                    "\",\"attributes\":[{\"key\":\"tenant.id\",\"value\":{\"stringValue\":\"acme\"}},")
                .append("{\"key\":\"gen_ai.request.model\",\"value\":{\"stringValue\":\"m\"}},")
                .append("{\"key\":\"gen_ai.usage.input_tokens\",\"value\":{\"intValue\":\"5\"}}]}");
          }
          return "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[" + sb + "]}]}]}";
        };
    java.util.function.IntFunction<String> windows =
        n -> {
          StringBuilder sb = new StringBuilder();
          for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",")
                .append("{\"timeUnixNano\":\"")
                .append(end)
                .append(
                    "\",\"sum\":10,\"attributes\":[{\"key\":\"gen_ai.token.type\",\"value\":{\"stringValue\":\"input\"}},")
                .append("{\"key\":\"tenant.id\",\"value\":{\"stringValue\":\"t")
                .append(i)
                .append(
                    "\"}},{\"key\":\"gen_ai.request.model\",\"value\":{\"stringValue\":\"m\"}}]}");
          }
          return "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"gen_ai.client.token.usage\","
                     + "\"histogram\":{\"aggregationTemporality\":1,\"dataPoints\":["
              + sb
              + "]}}]}]}]}";
        };
    for (String route : new String[] {OtlpRoutes.TRACES_ROUTE, OtlpRoutes.METRICS_ROUTE}) {
      boolean traces = route.equals(OtlpRoutes.TRACES_ROUTE);
      String one = traces ? spans.apply(1) : windows.apply(1);
      post(p, route, "application/json", one, KEY);
      post(p, route, "application/json", "{\"resourceSpans\": [", KEY);
      post(p, route, "application/json", one, null);
      post(p, route, "application/json", one, READER);
      post(p, route, "application/json", one + " ".repeat(5000), KEY);
      post(p, route, "text/csv", "a,b", KEY);
      post(p, route, "application/json", traces ? spans.apply(4) : windows.apply(4), KEY);
    }
  }

  private void post(RunningPipeline p, String route, String ct, String body, String key)
      throws Exception {
    HttpResponse<String> r = p.post(route, ct, body.getBytes(StandardCharsets.UTF_8), key);
    observed.add("POST " + route + " " + r.statusCode());
  }

  private void get(RunningPipeline p, String base, String path) throws Exception {
    get(p, base, path, path);
  }

  /** Requests {@code url} and records the answer under the documented path template. */
  private void get(RunningPipeline p, String base, String url, String documentedPath)
      throws Exception {
    observed.add("GET " + documentedPath + " " + p.get(base + url, key).statusCode());
  }

  /** A LiteLLM StandardLoggingPayload with the fields the route reads (prompt_tokens as given). */
  private static io.vertx.core.json.JsonObject liteLlm(int promptTokens) {
    return new io.vertx.core.json.JsonObject()
        .put("id", "litellm-" + promptTokens)
        .put("model", "gpt-4o")
        .put("prompt_tokens", promptTokens)
        .put("completion_tokens", 2)
        .put("endTime", java.time.Instant.now().getEpochSecond() + 0.25)
        .put(
            "metadata", new io.vertx.core.json.JsonObject().put("user_api_key_team_alias", "acme"));
  }
}
