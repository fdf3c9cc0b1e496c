package io.gputelemetry.discovery;

import com.fasterxml.jackson.databind.JsonNode;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.json.Json;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemTrustOptions;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The pods of one namespace that match a label selector, listed through the Kubernetes API with
 * plain HTTP: {@code GET /api/v1/namespaces/NS/pods?labelSelector=...&limit=500}, following {@code
 * continue} tokens, at every refresh.
 *
 * <p>A periodic list rather than list + watch: a watch is a long-lived stream per namespace whose
 * resumption (resourceVersion, bookmarks, 410 Gone and relist) is most of an informer, and a
 * collector that lists every refresh can never drift from the API's state by more than one refresh.
 * The cost is one indexed, paged list per namespace per refresh (30 s by default) — for a few
 * hundred exporter pods, a few hundred kilobytes. The token file is read at every refresh, since
 * projected service-account tokens rotate.
 */
public final class KubernetesDiscovery implements Discovery {
  private static final int PAGE = 500;
  private static final int MAX_PAGES = 200;

  private final Vertx vertx;
  private final HttpClient http;
  private final AppConfig.KubernetesApi api;
  private final AppConfig.PodDiscovery config;
  private final Map<String, String> env;
  private final Duration timeout;
  private final int maxBytes;

  /**
   * @param env the process environment (KUBERNETES_SERVICE_HOST/_PORT when no API URL is set)
   * @param timeout the longest one request may take
   * @param maxBytes the most one page of the list may hold
   */
  public KubernetesDiscovery(
      Vertx vertx,
      HttpClient http,
      AppConfig.KubernetesApi api,
      AppConfig.PodDiscovery config,
      Map<String, String> env,
      Duration timeout,
      int maxBytes) {
    this.vertx = vertx;
    this.http = http;
    this.api = api;
    this.config = config;
    this.env = env;
    this.timeout = timeout;
    this.maxBytes = maxBytes;
  }

  /** The HTTP client options for the API: its CA when the file exists (in a pod it does). */
  public static HttpClientOptions clientOptions(AppConfig.KubernetesApi api) {
    HttpClientOptions o = new HttpClientOptions().setKeepAlive(true);
    if (api.caFile() != null && Files.isReadable(api.caFile())) {
      o.setTrustOptions(new PemTrustOptions().addCertPath(api.caFile().toString()));
    }
    return o;
  }

  @Override
  public String kind() {
    return config.kind();
  }

  @Override
  public String id() {
    return config.id();
  }

  @Override
  public Future<List<AppConfig.Target>> refresh() {
    String base;
    try {
      base = base();
    } catch (DiscoveryException e) {
      return Future.failedFuture(e);
    }
    return token().compose(token -> page(base, token, null, new ArrayList<>(), 0));
  }

  private Future<List<AppConfig.Target>> page(
      String base, String token, String cont, List<AppConfig.Target> acc, int pages) {
    StringBuilder uri =
        new StringBuilder(base)
            .append("/api/v1/namespaces/")
            .append(config.namespace())
            .append("/pods?limit=")
            .append(PAGE);
    if (!config.selector().isEmpty()) {
      uri.append("&labelSelector=")
          .append(URLEncoder.encode(config.selector(), StandardCharsets.UTF_8));
    }
    if (cont != null) {
      uri.append("&continue=").append(URLEncoder.encode(cont, StandardCharsets.UTF_8));
    }
    return get(uri.toString(), token)
        .compose(body -> vertx.executeBlocking(() -> parse(body), false))
        .compose(
            p -> {
              acc.addAll(p.targets());
              if (p.next() == null) {
                return Future.succeededFuture(List.copyOf(acc));
              }
              if (pages + 1 >= MAX_PAGES) {
                return Future.failedFuture(
                    new DiscoveryException(
                        "too_large", "more than " + MAX_PAGES * PAGE + " pods match"));
              }
              return page(base, token, p.next(), acc, pages + 1);
            });
  }

  private PodTargets.Page parse(Buffer body) {
    JsonNode list;
    try {
      list = Json.MAPPER.readTree(body.getBytes());
    } catch (IOException e) {
      throw new DiscoveryException("parse", "the pod list is not JSON: " + e.getMessage());
    }
    return PodTargets.read(list, config);
  }

  private String base() {
    if (api.url() != null) {
      return api.url();
    }
    String host = env.get("KUBERNETES_SERVICE_HOST");
    String port = env.get("KUBERNETES_SERVICE_PORT");
    if (host == null || port == null) {
      throw new DiscoveryException(
          "config",
          "not running in a Kubernetes pod (no KUBERNETES_SERVICE_HOST/_PORT): set"
              + " sources.kubernetes.api-url");
    }
    return "https://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  /** The service-account token, or "" when there is no token file (kubectl proxy, a test). */
  private Future<String> token() {
    if (api.tokenFile() == null) {
      return Future.succeededFuture("");
    }
    String file = api.tokenFile().toString();
    return vertx
        .fileSystem()
        .exists(file)
        .compose(
            exists ->
                exists
                    ? vertx
                        .fileSystem()
                        .readFile(file)
                        .map(b -> b.toString(StandardCharsets.UTF_8).trim())
                    : Future.succeededFuture(""));
  }

  private Future<Buffer> get(String uri, String token) {
    Promise<Buffer> body = Promise.promise();
    long ms = timeout.toMillis();
    long timer =
        vertx.setTimer(
            ms,
            id ->
                body.tryFail(
                    new DiscoveryException(
                        "timeout",
                        "the Kubernetes API gave no complete answer within " + ms + " ms")));
    body.future().onComplete(ar -> vertx.cancelTimer(timer));
    RequestOptions o =
        new RequestOptions()
            .setMethod(HttpMethod.GET)
            .setAbsoluteURI(uri)
            .setConnectTimeout(ms)
            .setIdleTimeout(ms)
            .putHeader("Accept", "application/json");
    if (!token.isEmpty()) {
      o.putHeader("Authorization", "Bearer " + token);
    }
    http.request(o)
        .compose(req -> req.send())
        .onComplete(
            ar -> {
              if (ar.failed()) {
                body.tryFail(
                    new DiscoveryException(
                        "connect",
                        "the Kubernetes API at " + uri + ": " + ar.cause().getMessage()));
              } else {
                read(ar.result(), body);
              }
            });
    return body.future();
  }

  private void read(HttpClientResponse resp, Promise<Buffer> body) {
    Buffer buf = Buffer.buffer();
    resp.handler(
        chunk -> {
          if (buf.length() + chunk.length() > maxBytes) {
            body.tryFail(
                new DiscoveryException(
                    "too_large", "a page of the pod list is over " + maxBytes + " bytes"));
            resp.request().connection().close();
          } else {
            buf.appendBuffer(chunk);
          }
        });
    resp.exceptionHandler(
        e -> body.tryFail(new DiscoveryException("connect", String.valueOf(e.getMessage()))));
    resp.endHandler(
        v -> {
          int code = resp.statusCode();
          if (code == 200) {
            body.tryComplete(buf);
            return;
          }
          String message = message(buf);
          if (code == 401 || code == 403) {
            body.tryFail(
                new DiscoveryException(
                    "auth",
                    "HTTP "
                        + code
                        + " listing pods in namespace "
                        + config.namespace()
                        + ": "
                        + message
                        + " (the service account needs get, list and watch on pods there: the"
                        + " chart's collector role)"));
          } else {
            body.tryFail(new DiscoveryException("http_status", "HTTP " + code + ": " + message));
          }
        });
  }

  /** The message of a Kubernetes Status object, or the start of the body. */
  private static String message(Buffer b) {
    String s = b.toString(StandardCharsets.UTF_8);
    try {
      JsonNode n = Json.MAPPER.readTree(s);
      if (n.hasNonNull("message")) {
        return n.get("message").asText();
      }
    } catch (IOException | RuntimeException e) {
      // not a Status object: show the text itself
    }
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }
}
