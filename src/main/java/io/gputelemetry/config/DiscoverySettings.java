package io.gputelemetry.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Reads how targets are discovered: {@code sources.KIND.dns.*} and {@code
 * sources.KIND.kubernetes.*} per source kind, {@code sources.discovery.refresh}, {@code
 * sources.dns.server} and {@code sources.kubernetes.*}. A discovery yields targets of the same
 * shape as a static URL, so it serves every source kind alike.
 */
final class DiscoverySettings {
  /** A DNS name as the wire carries it: labels of letters, digits, '-' and '_' (SRV), dots. */
  private static final Pattern DNS_NAME =
      Pattern.compile(
          "(?=.{1,253}\\.?$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\\.)*"
              + "[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\\.?");

  /** A Kubernetes namespace (an RFC 1123 label). */
  private static final Pattern NAMESPACE = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  /** A container port's name (an IANA service name as Kubernetes validates it). */
  private static final Pattern PORT_NAME = Pattern.compile("[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?");

  private DiscoverySettings() {}

  static AppConfig.Discovery discovery(Settings s, List<String> kinds) {
    List<AppConfig.DnsDiscovery> dns = new ArrayList<>();
    List<AppConfig.PodDiscovery> pods = new ArrayList<>();
    for (String kind : kinds) {
      dns.addAll(dns(s, kind));
      pods.addAll(pods(s, kind));
    }
    String apiUrl = s.optional("sources.kubernetes.api-url");
    if (apiUrl != null && !apiUrl.matches("https?://[^/\\s]+/?")) {
      throw ConfigException.bad(
          "sources.kubernetes.api-url", "the API server's http(s)://HOST[:PORT]", apiUrl);
    }
    String token = s.optional("sources.kubernetes.token-file");
    String ca = s.optional("sources.kubernetes.ca-file");
    String server = s.optional("sources.dns.server");
    if (server != null && !server.matches("[^:\\s]+:\\d{1,5}|\\[[0-9A-Fa-f:.]+\\]:\\d{1,5}")) {
      throw ConfigException.bad("sources.dns.server", "HOST:PORT of a DNS server", server);
    }
    return new AppConfig.Discovery(
        List.copyOf(dns),
        List.copyOf(pods),
        AppConfig.positive(s, "sources.discovery.refresh"),
        server,
        new AppConfig.KubernetesApi(
            apiUrl == null ? null : apiUrl.replaceAll("/$", ""),
            token == null ? null : Path.of(token),
            ca == null ? null : Path.of(ca)));
  }

  private static List<AppConfig.DnsDiscovery> dns(Settings s, String kind) {
    String p = "sources." + kind + ".dns.";
    String names = s.optional(p + "names");
    if (names == null) {
      return List.of();
    }
    AppConfig.DnsType type = s.choice(p + "type", AppConfig.DnsType.class);
    int port = s.integer(p + "port", 1, 65535);
    String scheme = scheme(s, p + "scheme");
    String path = path(s, p + "path");
    AppConfig.Template t = template(s, kind, p + "template");
    List<AppConfig.DnsDiscovery> out = new ArrayList<>();
    for (String name : s.list(p + "names")) {
      if (!DNS_NAME.matcher(name).matches()) {
        throw ConfigException.bad(p + "names", "DNS names such as dcgm.example.internal", name);
      }
      if (out.stream().anyMatch(d -> d.name().equals(name))) {
        throw ConfigException.bad(p + "names", "each name once", name);
      }
      out.add(new AppConfig.DnsDiscovery(kind, name, type, port, scheme, path, t));
    }
    return out;
  }

  private static List<AppConfig.PodDiscovery> pods(Settings s, String kind) {
    String p = "sources." + kind + ".kubernetes.";
    String namespaces = s.optional(p + "namespaces");
    if (namespaces == null) {
      return List.of();
    }
    String selector = s.optional(p + "selector");
    String port = s.string(p + "port");
    // A name has a letter (IANA service names as Kubernetes validates them); digits are a number.
    boolean valid =
        port.matches("\\d{1,5}")
            ? Integer.parseInt(port) >= 1 && Integer.parseInt(port) <= 65535
            : PORT_NAME.matcher(port).matches() && port.matches(".*[a-z].*");
    if (!valid) {
      throw ConfigException.bad(p + "port", "a container port's name or number", port);
    }
    String scheme = scheme(s, p + "scheme");
    String path = path(s, p + "path");
    boolean podLabels = s.bool(p + "pod-labels");
    AppConfig.Template t = template(s, kind, p + "template");
    List<AppConfig.PodDiscovery> out = new ArrayList<>();
    for (String ns : s.list(p + "namespaces")) {
      if (!NAMESPACE.matcher(ns).matches()) {
        throw ConfigException.bad(p + "namespaces", "Kubernetes namespace names", ns);
      }
      if (out.stream().anyMatch(d -> d.namespace().equals(ns))) {
        throw ConfigException.bad(p + "namespaces", "each namespace once", ns);
      }
      out.add(
          new AppConfig.PodDiscovery(
              kind, ns, selector == null ? "" : selector, port, scheme, path, podLabels, t));
    }
    return out;
  }

  private static AppConfig.Template template(Settings s, String kind, String key) {
    Duration interval = AppConfig.positive(s, "sources." + kind + ".interval");
    Duration timeout = AppConfig.positive(s, "sources." + kind + ".timeout");
    String v = s.optional(key);
    String[] parts = v == null ? new String[0] : v.trim().split("\\|", -1);
    return SourceSettings.options(key, v == null ? "" : v.trim(), parts, 0, interval, timeout);
  }

  private static String scheme(Settings s, String key) {
    String v = s.string(key);
    if (!v.equals("http") && !v.equals("https")) {
      throw ConfigException.bad(key, "http or https", v);
    }
    return v;
  }

  private static String path(Settings s, String key) {
    String v = s.string(key);
    if (!v.startsWith("/") || v.chars().anyMatch(c -> c <= ' ' || c == '#')) {
      throw ConfigException.bad(key, "a URL path such as /metrics", v);
    }
    return v;
  }
}
