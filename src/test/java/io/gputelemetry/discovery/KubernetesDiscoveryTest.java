package io.gputelemetry.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.config.AppConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kubernetes discovery against a fake API server that answers with the Kubernetes API's own JSON
 * (src/test/resources/kubernetes, attributed there): ready pods are targets, the others are not,
 * and a refusal or an API that is down is a failure that says why.
 */
class KubernetesDiscoveryTest {
  private static final AppConfig.Template TEMPLATE =
      new AppConfig.Template(Duration.ofSeconds(30), Duration.ofSeconds(10), Map.of());

  @TempDir Path dir;
  private Vertx vertx;
  private HttpServer api;
  private volatile Consumer<HttpServerRequest> answer;
  private final List<HttpServerRequest> requests = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    api =
        get(
            vertx
                .createHttpServer()
                .requestHandler(
                    r -> {
                      requests.add(r);
                      answer.accept(r);
                    })
                .listen(0, "127.0.0.1"));
  }

  @AfterEach
  void stop() throws Exception {
    get(vertx.close());
  }

  private static <T> T get(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  static String fixture(String name) throws Exception {
    return Files.readString(Path.of("src/test/resources/kubernetes", name), StandardCharsets.UTF_8);
  }

  private void serve(int status, String body) {
    answer =
        r ->
            r.response()
                .setStatusCode(status)
                .putHeader("Content-Type", "application/json")
                .end(body);
  }

  private KubernetesDiscovery discovery(String port, boolean podLabels, Path token) {
    return discovery(port, podLabels, token, Duration.ofSeconds(20));
  }

  private KubernetesDiscovery discovery(
      String port, boolean podLabels, Path token, Duration timeout) {
    AppConfig.PodDiscovery d =
        new AppConfig.PodDiscovery(
            "dcgm",
            "gpu-operator",
            "app=nvidia-dcgm-exporter",
            port,
            "http",
            "/metrics",
            podLabels,
            TEMPLATE);
    return new KubernetesDiscovery(
        vertx,
        vertx.createHttpClient(new HttpClientOptions()),
        new AppConfig.KubernetesApi("http://127.0.0.1:" + api.actualPort(), token, null),
        d,
        Map.of(),
        timeout,
        1 << 20);
  }

  @Test
  void theReadyPodsAreTargetsAtTheirNamedPortWithTheirNode() throws Exception {
    serve(200, fixture("podlist-gpu-operator.json"));
    Path token = Files.writeString(dir.resolve("token"), "eyJhbGciOiJSUzI1NiJ9.test\n");
    List<AppConfig.Target> t = get(discovery("metrics", false, token).refresh());
    // -7x2kq and -b9wzt are ready; -kq5mn is not ready, -p4hlv is being deleted.
    assertEquals(
        List.of("http://10.244.1.17:9400/metrics", "http://10.244.2.23:9400/metrics"),
        t.stream().map(AppConfig.Target::url).toList());
    assertEquals(Map.of("node", "gpu-node-01"), t.get(0).labels());
    assertEquals(Map.of("node", "gpu-node-02"), t.get(1).labels());
    assertEquals("dcgm", t.get(0).kind());
    HttpServerRequest r = requests.get(0);
    assertEquals("/api/v1/namespaces/gpu-operator/pods", r.path());
    assertEquals("app=nvidia-dcgm-exporter", r.getParam("labelSelector"));
    assertEquals("500", r.getParam("limit"));
    assertEquals("Bearer eyJhbGciOiJSUzI1NiJ9.test", r.getHeader("Authorization"));
  }

  @Test
  void podLabelsGiveNamespacePodAndContainerAndAPortNumberWorksToo() throws Exception {
    serve(200, fixture("podlist-gpu-operator.json"));
    List<AppConfig.Target> t = get(discovery("9400", true, null).refresh());
    assertEquals(
        Map.of(
            "node", "gpu-node-01",
            "namespace", "gpu-operator",
            "pod", "nvidia-dcgm-exporter-7x2kq",
            "container", "nvidia-dcgm-exporter"),
        t.get(0).labels());
    assertEquals(null, requests.get(0).getHeader("Authorization"));
  }

  @Test
  void aPortNameNoContainerHasLeavesThePodOut() throws Exception {
    serve(200, fixture("podlist-gpu-operator.json"));
    assertEquals(List.of(), get(discovery("http", false, null).refresh()));
  }

  @Test
  void pagesAreFollowedThroughTheirContinueToken() throws Exception {
    String full = fixture("podlist-gpu-operator.json");
    String first =
        full.replace(
            "\"resourceVersion\":\"48391\"",
            "\"resourceVersion\":\"48391\",\"continue\":\"eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ\"");
    answer =
        r ->
            r.response()
                .putHeader("Content-Type", "application/json")
                .end(r.getParam("continue") == null ? first : full);
    assertEquals(4, get(discovery("metrics", false, null).refresh()).size());
    assertEquals("eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ", requests.get(1).getParam("continue"));
  }

  @Test
  void forbiddenAndUnauthorizedAreAuthFailuresWithTheApisMessage() throws Exception {
    serve(403, fixture("status-403.json"));
    DiscoveryException e = failure(discovery("metrics", false, null));
    assertEquals("auth", e.reason());
    assertTrue(
        e.getMessage()
            .startsWith(
                "HTTP 403 listing pods in namespace gpu-operator: pods is forbidden: User"
                    + " \"system:serviceaccount:telemetry:gpu-telemetry-collector\" cannot list"
                    + " resource \"pods\""),
        e.getMessage());
    serve(401, fixture("status-401.json"));
    DiscoveryException u = failure(discovery("metrics", false, null));
    assertEquals("auth", u.reason());
    assertTrue(
        u.getMessage().startsWith("HTTP 401 listing pods in namespace gpu-operator: Unauthorized"));
  }

  @Test
  void anApiThatIsDownOrAnswersGarbageIsAFailure() throws Exception {
    serve(200, "<html>");
    assertEquals("parse", failure(discovery("metrics", false, null)).reason());
    serve(200, "{\"kind\":\"Status\"}");
    assertEquals(
        "expected a PodList, got kind 'Status'",
        failure(discovery("metrics", false, null)).getMessage());
    serve(503, "etcdserver: leader changed");
    assertEquals(
        "HTTP 503: etcdserver: leader changed",
        failure(discovery("metrics", false, null)).getMessage());
    answer = r -> {}; // never answers
    assertEquals(
        "timeout", failure(discovery("metrics", false, null, Duration.ofSeconds(1))).reason());
    KubernetesDiscovery d = discovery("metrics", false, null);
    get(api.close());
    assertEquals("connect", failure(d).reason());
  }

  @Test
  void outsideAPodWithoutAnApiUrlItSaysWhatToSet() throws Exception {
    KubernetesDiscovery d =
        new KubernetesDiscovery(
            vertx,
            vertx.createHttpClient(),
            new AppConfig.KubernetesApi(null, null, null),
            new AppConfig.PodDiscovery(
                "dcgm", "gpu-operator", "", "metrics", "http", "/metrics", false, TEMPLATE),
            Map.of(),
            Duration.ofSeconds(1),
            1024);
    DiscoveryException e = failure(d);
    assertEquals("config", e.reason());
    assertTrue(e.getMessage().contains("set sources.kubernetes.api-url"));
  }

  private static DiscoveryException failure(KubernetesDiscovery d) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> get(d.refresh()));
    return assertInstanceOf(DiscoveryException.class, e.getCause());
  }
}
