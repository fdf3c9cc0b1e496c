package io.gputelemetry.security;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.access.KeyFile;
import io.gputelemetry.support.Events;
import io.gputelemetry.support.JarProcess;
import io.gputelemetry.support.MongoQueries;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built jar with keys of every scope: each route's rule proven both ways, tenants kept apart,
 * and a key that tries to pre-empt another writer's GPU sample failing.
 */
class SecurityIT {
  private static final Pattern HTTP = Pattern.compile("http://127\\.0\\.0\\.1:(\\d+)/");
  private static final Pattern MONGO = Pattern.compile("store at (mongodb://\\S+) ");

  /** Key id -> the key itself; the file holds only their hashes. */
  private static final Map<String, String> KEYS =
      Map.of(
          "tokens-acme", "tokens-acme-key-0123456789",
          "tokens-globex", "tokens-globex-key-0123456789",
          "gateway", "gateway-key-0123456789abcdef",
          "agent-a", "agent-a-key-0123456789abcdef",
          "read-acme", "read-acme-key-0123456789",
          "read-globex", "read-globex-key-0123456789",
          "reader", "reader-key-0123456789abcdef",
          "prometheus", "prometheus-key-0123456789");

  private static final String ROUTE_GPU = "/v1/gpu-metrics";
  private static final String ROUTE_TOKENS = "/v1/token-usage";

  @TempDir static Path dir;
  private static JarProcess jar;
  private static String base;
  private static MongoQueries mongo;
  private static final HttpClient HTTP_CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @BeforeAll
  static void start() throws Exception {
    Path file = dir.resolve("keys");
    Files.write(
        file,
        List.of(
            "# every scope, some bound",
            KeyFile.line("tokens-acme", KEYS.get("tokens-acme"), "ingest:tokens", "tenant=acme"),
            KeyFile.line(
                "tokens-globex", KEYS.get("tokens-globex"), "ingest:tokens", "tenant=globex"),
            KeyFile.line("gateway", KEYS.get("gateway"), "ingest:tokens,ingest:gpu", null),
            KeyFile.line("agent-a", KEYS.get("agent-a"), "ingest:gpu", "nodes=node-a"),
            KeyFile.line("read-acme", KEYS.get("read-acme"), "read", "tenant=acme"),
            KeyFile.line("read-globex", KEYS.get("read-globex"), "read", "tenant=globex"),
            KeyFile.line("reader", KEYS.get("reader"), "read", null),
            KeyFile.line("prometheus", KEYS.get("prometheus"), "metrics", null)));
    jar =
        JarProcess.start(
            "--no-simulator",
            "--http-port",
            "0",
            "--set",
            "auth.keys-file=" + file,
            "--set",
            "standalone.progress-interval=0s");
    await().atMost(Duration.ofSeconds(60)).until(() -> jar.find(HTTP) != null || !jar.alive());
    assertNotNull(jar.find(HTTP), jar.output());
    base = "http://127.0.0.1:" + jar.find(HTTP);
    mongo = new MongoQueries(jar.find(MONGO));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> get("/health/ready", null).statusCode() == 200);
  }

  @AfterAll
  static void stop() throws Exception {
    if (mongo != null) {
      mongo.close();
    }
    if (jar != null) {
      jar.stopAndDrain(20);
      jar.close();
    }
  }

  @Test
  void theStartUpLogNamesTheKeysByIdAndNeverAKeyNorItsHash() {
    String out = jar.output();
    assertTrue(out.contains("8 API keys"), out);
    for (Map.Entry<String, String> k : KEYS.entrySet()) {
      assertTrue(out.contains(k.getKey()), "id " + k.getKey() + " logged");
      assertFalse(out.contains(k.getValue()), "key of " + k.getKey() + " never logged");
      assertFalse(
          out.contains(java.util.HexFormat.of().formatHex(KeyFile.sha256(k.getValue()))),
          "hash of " + k.getKey() + " never logged");
    }
  }

  @Test
  void theConsoleIsOpenButItsFiguresNeedAReadKey() throws Exception {
    HttpResponse<String> page = get("/", null);
    assertEquals(200, page.statusCode());
    assertTrue(
        page.headers()
            .firstValue("Content-Security-Policy")
            .orElse("")
            .contains("default-src 'self'"),
        "the console runs scripts of its own origin only");
    assertEquals(200, get("/console/app.js", null).statusCode());
    assertEquals(404, get("/console/nothing.js", null).statusCode(), "only the shipped files");
    // What an anonymous caller may do: nothing here, so the console asks for a key.
    JsonObject anonymous = new JsonObject(get("/api/v1/me", null).body());
    assertFalse(anonymous.getBoolean("identified"));
    assertEquals(new JsonArray(), anonymous.getJsonArray("scopes"));
    HttpResponse<String> acme = get("/api/v1/me", "read-acme");
    assertEquals("acme", new JsonObject(acme.body()).getString("tenant"));
    assertEquals(new JsonArray().add("read"), new JsonObject(acme.body()).getJsonArray("scopes"));
    assertFalse(acme.body().contains(KEYS.get("read-acme")), "the key is never echoed");
    // The pipeline view is the fleet's: read, not bound to a tenant.
    assertEquals(401, get("/api/v1/pipeline", null).statusCode());
    assertForbidden(get("/api/v1/pipeline", "read-acme"), "read");
    assertForbidden(get("/api/v1/pipeline", "prometheus"), "read");
    assertEquals(200, get("/api/v1/pipeline", "reader").statusCode());
  }

  @Test
  void openRoutesStayOpenAndSayNoMoreThanTheStatus() throws Exception {
    assertEquals(200, get("/openapi.yaml", null).statusCode());
    assertEquals(200, get("/schemas/gpu.metrics.v1.schema.json", null).statusCode());
    assertEquals(200, get("/health/live", null).statusCode());
    HttpResponse<String> ready = get("/health/ready", null);
    assertEquals(new JsonObject().put("status", "UP"), new JsonObject(ready.body()));
    assertEquals(
        new JsonObject().put("status", "UP"),
        new JsonObject(get("/health/ready", "not-a-key-0123456789").body()),
        "a wrong key on an open route: still open, no detail");
    assertEquals(
        new JsonObject().put("status", "UP"),
        new JsonObject(get("/health/ready", "read-acme").body()),
        "a tenant-bound key gets no detail");
    for (String id : List.of("prometheus", "reader")) {
      JsonObject detail = new JsonObject(get("/health/ready", id).body());
      assertNotNull(detail.getJsonObject("checks"), id + " sees the checks: " + detail);
    }
  }

  @Test
  void withoutAKeyEveryOtherRouteAnswers401WithWwwAuthenticate() throws Exception {
    List<HttpResponse<String>> answers =
        List.of(
            get("/metrics", null),
            get("/api/v1/usage?from=2026-01-01T00:00:00Z&to=2026-01-01T01:00:00Z", null),
            get("/api/v1/reconciliation?from=2026-01-01T00:00:00Z&to=2026-01-01T01:00:00Z", null),
            get("/api/v1/gpus", null),
            get("/api/v1/export/focus?from=2026-01-01T00:00:00Z&to=2026-01-01T01:00:00Z", null),
            get("/api/v1/gpus/GPU-1", null),
            post(ROUTE_GPU, null, new JsonArray().add(Events.sample("GPU-1"))),
            post(ROUTE_TOKENS, null, new JsonArray().add(Events.token("acme"))),
            get("/no-such-route", null));
    for (HttpResponse<String> r : answers) {
      assertEquals(401, r.statusCode(), r.uri() + " " + r.body());
      assertTrue(
          r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"),
          r.uri() + " names the scheme");
      assertEquals("unauthorized", new JsonObject(r.body()).getString("code"));
    }
    assertEquals(
        "metrics",
        new JsonObject(get("/metrics", null).body()).getString("scope"),
        "names the scope needed");
    HttpResponse<String> wrong = get("/metrics", "wrong-key-0123456789abcdef");
    assertEquals(401, wrong.statusCode(), "a wrong key");
    assertEquals(
        "Bearer realm=\"gpu-telemetry\", scope=\"metrics\", error=\"invalid_token\"",
        wrong.headers().firstValue("WWW-Authenticate").orElse(null));
    assertEquals(
        "Bearer realm=\"gpu-telemetry\", scope=\"read\"",
        get("/api/v1/gpus", null).headers().firstValue("WWW-Authenticate").orElse(null));
  }

  @Test
  void aKeyWithoutTheRoutesScopeAnswers403NamingTheScope() throws Exception {
    assertForbidden(get("/metrics", "reader"), "metrics");
    assertForbidden(get("/metrics", "gateway"), "metrics");
    assertForbidden(
        get("/api/v1/usage?from=2026-01-01T00:00:00Z&to=2026-01-01T01:00:00Z", "gateway"), "read");
    assertForbidden(
        get("/api/v1/reconciliation?from=2026-01-01T00:00:00Z&to=2026-01-01T01:00:00Z", "gateway"),
        "read");
    assertForbidden(
        get("/api/v1/export/focus?from=2026-01-01T00:00:00Z&to=2026-01-01T01:00:00Z", "gateway"),
        "read");
    assertForbidden(get("/api/v1/gpus", "tokens-acme"), "read");
    assertForbidden(get("/api/v1/gpus", "prometheus"), "read");
    assertForbidden(get("/api/v1/gpus", "read-acme"), "read");
    assertForbidden(get("/api/v1/gpus/GPU-1", "read-acme"), "read");
    assertForbidden(
        post(ROUTE_GPU, "tokens-acme", new JsonArray().add(Events.sample("GPU-1"))), "ingest:gpu");
    assertForbidden(
        post(ROUTE_GPU, "reader", new JsonArray().add(Events.sample("GPU-1"))), "ingest:gpu");
    assertForbidden(
        post(ROUTE_TOKENS, "agent-a", new JsonArray().add(Events.token("acme"))), "ingest:tokens");
    assertForbidden(
        post(ROUTE_TOKENS, "read-acme", new JsonArray().add(Events.token("acme"))),
        "ingest:tokens");
    // And the other way: each of them has its own route.
    assertEquals(200, get("/metrics", "prometheus").statusCode());
    assertEquals(200, get("/api/v1/gpus", "reader").statusCode());
    assertEquals(
        200,
        get("/api/v1/export/focus?from=2026-01-01T00:00:00Z&to=2026-01-01T01:00:00Z", "read-acme")
            .statusCode(),
        "a tenant-bound read key exports its own rows");
    assertEquals(
        202,
        post(ROUTE_TOKENS, "tokens-acme", new JsonArray().add(Events.token("acme"))).statusCode());
    JsonObject onNodeA = Events.sample("GPU-A1").put("node", "node-a");
    assertEquals(202, post(ROUTE_GPU, "agent-a", new JsonArray().add(onNodeA)).statusCode());
  }

  @Test
  void aKeyBoundToNodesPostsOnlyTheirSamplesAndIsToldWhichFieldIsRefused() throws Exception {
    JsonObject ok = Events.sample("GPU-A2").put("node", "node-a");
    JsonObject foreign = Events.sample("GPU-B2").put("node", "node-b");
    HttpResponse<String> r = post(ROUTE_GPU, "agent-a", new JsonArray().add(ok).add(foreign));
    assertEquals(207, r.statusCode(), r.body());
    JsonObject body = new JsonObject(r.body());
    assertEquals(1, body.getInteger("accepted"));
    JsonObject error = body.getJsonArray("errors").getJsonObject(0);
    assertEquals(1, error.getInteger("index"));
    assertEquals("node", error.getString("field"));
    assertEquals("forbidden", error.getString("code"));
    assertTrue(error.getString("reason").contains("node-a"), error.encode());
    HttpResponse<String> none = post(ROUTE_GPU, "agent-a", new JsonArray().add(foreign));
    assertEquals(400, none.statusCode(), none.body());
  }

  @Test
  void aTenantsReadKeySeesItsOwnUsageOnlyAndNoOtherTenantsName() throws Exception {
    Instant ts = Instant.now().truncatedTo(ChronoUnit.MINUTES).minusSeconds(120);
    // A tokens key bound to acme writes acme's events, whatever tenant they name.
    JsonObject claimsGlobex = Events.token("globex").put("ts", ts.toString());
    assertEquals(
        202, post(ROUTE_TOKENS, "tokens-acme", new JsonArray().add(claimsGlobex)).statusCode());
    JsonObject globex =
        Events.token("globex").put("ts", ts.plusSeconds(1).toString()).put("input_tokens", 7000);
    assertEquals(
        202, post(ROUTE_TOKENS, "tokens-globex", new JsonArray().add(globex)).statusCode());
    String q =
        "/api/v1/usage?groupBy=tenant&from=" + ts.minusSeconds(60) + "&to=" + ts.plusSeconds(60);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> get(q, "reader").body().contains("\"key\":\"globex\""));
    JsonObject all = new JsonObject(get(q, "reader").body());
    assertEquals(2, all.getJsonArray("groups").size(), all.encode());
    assertEquals(7000 + 100 + 40, all.getJsonObject("totals").getDouble("total_tokens"), 0.001);

    HttpResponse<String> acme = get(q, "read-acme");
    assertEquals(200, acme.statusCode());
    assertFalse(acme.body().contains("globex"), acme.body());
    JsonObject a = new JsonObject(acme.body());
    assertEquals("acme", a.getString("tenant"));
    assertEquals(1, a.getJsonArray("groups").size());
    assertEquals("acme", a.getJsonArray("groups").getJsonObject(0).getString("key"));
    assertEquals(
        120, a.getJsonObject("totals").getDouble("total_tokens"), 0.001, "100 in + 20 out");
    assertFalse(a.containsKey("idle"), "nothing of the fleet");

    JsonObject byModel =
        new JsonObject(get(q.replace("groupBy=tenant", "groupBy=model"), "read-globex").body());
    assertFalse(byModel.encode().contains("acme"), byModel.encode());
    assertEquals(
        7020, byModel.getJsonObject("totals").getDouble("total_tokens"), 0.001, "globex only");

    // Its reconciliation: its own rows only.
    HttpResponse<String> rec =
        get(q.replace("/api/v1/usage?groupBy=tenant&", "/api/v1/reconciliation?"), "read-acme");
    assertEquals(200, rec.statusCode(), rec.body());
    assertFalse(rec.body().contains("globex"), rec.body());
    JsonObject own = new JsonObject(rec.body());
    assertEquals("acme", own.getString("tenant"));
    assertEquals(1, own.getJsonArray("rows").size(), rec.body());
    assertEquals("acme", own.getJsonArray("rows").getJsonObject(0).getString("tenant"));
  }

  @Test
  void aKeyCannotPreEmptAnotherWritersSampleWhileARetryStillStoresOnce() throws Exception {
    Instant ts = Instant.now().truncatedTo(ChronoUnit.MILLIS).minusSeconds(5);
    JsonObject real =
        Events.sample("GPU-VICTIM")
            .put("ts", ts.toString())
            .put("power_w", 640.0)
            .put("event_id", "victim-1");
    // The attacker knows (or guesses) the id and posts first, with made-up values, claiming a node
    // of its own and a writer it is not.
    JsonObject fake =
        real.copy().put("node", "node-a").put("power_w", 1.0).put("writer", "gateway");
    assertEquals(202, post(ROUTE_GPU, "agent-a", new JsonArray().add(fake)).statusCode());
    for (int attempt = 0; attempt < 2; attempt++) {
      assertEquals(202, post(ROUTE_GPU, "gateway", new JsonArray().add(real)).statusCode());
    }
    JsonObject query = new JsonObject().put("event_id", "victim-1");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> mongo.find("gpu_metrics", query).size() >= 2);
    // Both writers' samples are stored, each once, each under its own writer.
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(10))
        .until(() -> mongo.find("gpu_metrics", query).size() == 2);
    Map<String, Double> byId = new java.util.TreeMap<>();
    for (JsonObject d : mongo.find("gpu_metrics", query)) {
      byId.put(d.getString("_id"), d.getDouble("power_w"));
    }
    assertEquals(
        Map.of("GPU-VICTIM@gateway/victim-1", 640.0, "GPU-VICTIM@agent-a/victim-1", 1.0), byId);
  }

  private static void assertForbidden(HttpResponse<String> r, String scope) {
    assertEquals(403, r.statusCode(), r.uri() + " " + r.body());
    JsonObject body = new JsonObject(r.body());
    assertEquals("forbidden", body.getString("code"));
    assertEquals(scope, body.getString("scope"), r.body());
    assertTrue(body.getString("error").contains("'" + scope + "'"), r.body());
  }

  private static HttpRequest.Builder request(String path, String keyId) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20));
    if (keyId != null) {
      b.header("Authorization", "Bearer " + KEYS.getOrDefault(keyId, keyId));
    }
    return b;
  }

  private static HttpResponse<String> get(String path, String keyId) throws Exception {
    return HTTP_CLIENT.send(
        request(path, keyId).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> post(String path, String keyId, JsonArray events)
      throws Exception {
    return HTTP_CLIENT.send(
        request(path, keyId)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(events.encode()))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
