package io.gputelemetry.support;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** HTTP probes of a running role: /metrics parsed as Prometheus text, /health/ready status. */
public final class Prom {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private Prom() {}

  public static String scrape(int port) {
    return get(port, "/metrics").body();
  }

  /** The HTTP status of /health/ready, or -1 when nothing answers. */
  public static int ready(int port) {
    try {
      return get(port, "/health/ready").statusCode();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  public static HttpResponse<String> get(int port, String path) {
    try {
      return HTTP.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
              .timeout(Duration.ofSeconds(10))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException("GET " + path + " on port " + port + ": " + e, e);
    }
  }

  /**
   * Sum of the samples of {@code name} whose labels contain every {@code label="value"} given (e.g.
   * "kind=\"infrastructure\""); 0 when absent.
   */
  public static double sum(String text, String name, String... labels) {
    double total = 0;
    for (String line : text.split("\n")) {
      if (line.startsWith("#") || !(line.startsWith(name + "{") || line.startsWith(name + " "))) {
        continue;
      }
      boolean match = true;
      for (String l : labels) {
        match &= line.contains(l);
      }
      if (match) {
        total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return total;
  }
}
