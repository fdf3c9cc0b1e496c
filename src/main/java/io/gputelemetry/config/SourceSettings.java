package io.gputelemetry.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Reads the {@code sources.*} settings: target specs and NAME=VALUE lists. */
final class SourceSettings {
  private static final Pattern LABEL = Pattern.compile("[a-z_][a-z0-9_]{0,63}");

  private SourceSettings() {}

  /**
   * The targets of one kind: {@code sources.KIND.targets}, comma-separated {@code URL[|k=v...]},
   * with the kind's default interval and timeout.
   */
  static List<AppConfig.Target> targets(Settings s, String kind) {
    String key = "sources." + kind + ".targets";
    String v = s.optional(key);
    if (v == null) {
      return List.of();
    }
    Duration interval = AppConfig.positive(s, "sources." + kind + ".interval");
    Duration timeout = AppConfig.positive(s, "sources." + kind + ".timeout");
    List<AppConfig.Target> out = new ArrayList<>();
    List<String> seen = new ArrayList<>();
    for (String spec : v.split(",", -1)) {
      if (spec.isBlank()) {
        continue;
      }
      String[] parts = spec.trim().split("\\|", -1);
      String url = parts[0].trim();
      check(key, url);
      if (seen.contains(url)) {
        throw ConfigException.bad(key, "each URL once", url);
      }
      seen.add(url);
      AppConfig.Template o = options(key, spec.trim(), parts, 1, interval, timeout);
      out.add(new AppConfig.Target(kind, url, o.interval(), o.timeout(), o.labels()));
    }
    return List.copyOf(out);
  }

  /**
   * The key=value options of a target spec from {@code parts[from]} on: interval=, timeout=, and
   * static labels; the interval and timeout default to the kind's.
   */
  static AppConfig.Template options(
      String key, String spec, String[] parts, int from, Duration interval, Duration timeout) {
    Duration ti = interval;
    Duration to = timeout;
    Map<String, String> labels = new LinkedHashMap<>();
    for (int i = from; i < parts.length; i++) {
      String p = parts[i].trim();
      int eq = p.indexOf('=');
      if (eq <= 0 || eq == p.length() - 1) {
        throw ConfigException.bad(
            key, from == 0 ? "key=value options separated by |" : "URL|key=value entries", spec);
      }
      String k = p.substring(0, eq).trim();
      String val = p.substring(eq + 1).trim();
      switch (k) {
        case "interval" -> ti = duration(key, val);
        case "timeout" -> to = duration(key, val);
        default -> {
          if (!LABEL.matcher(k).matches()) {
            throw ConfigException.bad(key, "label names like node or gpu_model", k);
          }
          labels.put(k, val);
        }
      }
    }
    if (to.compareTo(ti) > 0) {
      throw ConfigException.bad(key, "a timeout no longer than the interval", spec);
    }
    return new AppConfig.Template(ti, to, Collections.unmodifiableMap(labels));
  }

  /** Comma-separated NAME=VALUE pairs (names may hold spaces). */
  static Map<String, String> pairs(Settings s, String key) {
    String v = s.optional(key);
    Map<String, String> out = new LinkedHashMap<>();
    if (v == null) {
      return out;
    }
    for (String e : v.split(",", -1)) {
      if (e.isBlank()) {
        continue;
      }
      int eq = e.lastIndexOf('=');
      if (eq <= 0 || e.substring(eq + 1).isBlank() || e.substring(0, eq).isBlank()) {
        throw ConfigException.bad(key, "comma-separated NAME=VALUE entries", e.trim());
      }
      out.put(e.substring(0, eq).trim(), e.substring(eq + 1).trim());
    }
    return Collections.unmodifiableMap(out);
  }

  private static Duration duration(String key, String v) {
    Duration d = Settings.parseDuration(v);
    if (d != null && !d.isZero()) {
      return d;
    }
    throw ConfigException.bad(key, "positive durations such as 15s", v);
  }

  private static void check(String key, String url) {
    try {
      URI u = new URI(url);
      if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
        throw ConfigException.bad(key, "http:// or https:// URLs", url);
      }
    } catch (URISyntaxException e) {
      throw ConfigException.bad(key, "http:// or https:// URLs", url);
    }
  }
}
