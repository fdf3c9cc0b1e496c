package io.gputelemetry.discovery;

import com.fasterxml.jackson.databind.JsonNode;
import io.gputelemetry.config.AppConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The targets in one page of a Kubernetes PodList (the JSON of {@code GET
 * /api/v1/namespaces/NS/pods}): each running, ready pod that is not being deleted and has an IP, at
 * the first container port that matches the configured name or number. Pure: no I/O.
 */
final class PodTargets {
  private PodTargets() {}

  /** One page: its targets, the pods left out (not ready, no such port), the continue token. */
  record Page(List<AppConfig.Target> targets, int skipped, String next) {}

  static Page read(JsonNode list, AppConfig.PodDiscovery d) {
    if (!"PodList".equals(list.path("kind").asText())) {
      throw new DiscoveryException(
          "parse", "expected a PodList, got kind '" + list.path("kind").asText() + "'");
    }
    List<AppConfig.Target> out = new ArrayList<>();
    int skipped = 0;
    for (JsonNode pod : list.path("items")) {
      AppConfig.Target t = target(pod, d);
      if (t == null) {
        skipped++;
      } else {
        out.add(t);
      }
    }
    String next = list.path("metadata").path("continue").asText("");
    return new Page(out, skipped, next.isEmpty() ? null : next);
  }

  private static AppConfig.Target target(JsonNode pod, AppConfig.PodDiscovery d) {
    JsonNode meta = pod.path("metadata");
    JsonNode status = pod.path("status");
    String ip = status.path("podIP").asText("");
    if (meta.hasNonNull("deletionTimestamp")
        || !"Running".equals(status.path("phase").asText())
        || ip.isEmpty()
        || !ready(status)) {
      return null;
    }
    String container = null;
    int port = -1;
    boolean number = d.port().chars().allMatch(Character::isDigit);
    for (JsonNode c : pod.path("spec").path("containers")) {
      for (JsonNode p : c.path("ports")) {
        boolean match =
            number
                ? p.path("containerPort").asInt() == Integer.parseInt(d.port())
                : d.port().equals(p.path("name").asText());
        if (match && port < 0) {
          container = c.path("name").asText(null);
          port = p.path("containerPort").asInt();
        }
      }
    }
    if (port < 0 && number) {
      port = Integer.parseInt(d.port()); // a number need not be declared, as in Prometheus
    }
    if (port <= 0 || port > 65535) {
      return null;
    }
    Map<String, String> labels = new LinkedHashMap<>();
    String node = pod.path("spec").path("nodeName").asText("");
    if (!node.isEmpty()) {
      labels.put("node", node);
    }
    if (d.podLabels()) {
      labels.put("namespace", meta.path("namespace").asText(d.namespace()));
      labels.put("pod", meta.path("name").asText());
      if (container != null) {
        labels.put("container", container);
      }
    }
    AppConfig.Template t = d.target();
    labels.putAll(t.labels());
    return new AppConfig.Target(
        d.kind(),
        Urls.of(d.scheme(), ip, port, d.path()),
        t.interval(),
        t.timeout(),
        java.util.Collections.unmodifiableMap(labels));
  }

  private static boolean ready(JsonNode status) {
    for (JsonNode c : status.path("conditions")) {
      if ("Ready".equals(c.path("type").asText())) {
        return "True".equals(c.path("status").asText());
      }
    }
    return false;
  }
}
