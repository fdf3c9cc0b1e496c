package io.gputelemetry.config;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads the settings of the sources that are not scrapes: the nvidia-smi child process ({@code
 * sources.nvidia-smi.*}), LiteLLM callbacks ({@code sources.litellm.*}) and CloudEvents on the
 * token-usage route ({@code sources.cloudevents.*}).
 */
final class PushSettings {
  private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}");
  private static final Pattern NODE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,252}");
  private static final Pattern GPU = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");
  private static final Pattern PATH = Pattern.compile("[A-Za-z0-9_$-]+(\\.[A-Za-z0-9_$-]+)*");

  private PushSettings() {}

  /** The nvidia-smi source, or null when sources.nvidia-smi.enabled is false. */
  static AppConfig.NvidiaSmi nvidiaSmi(Settings s) {
    if (!s.bool("sources.nvidia-smi.enabled")) {
      return null;
    }
    Duration interval = AppConfig.positive(s, "sources.nvidia-smi.interval");
    if (interval.toMillis() < 100) {
      throw ConfigException.bad(
          "sources.nvidia-smi.interval", "at least 100ms", s.raw("sources.nvidia-smi.interval"));
    }
    String args = s.optional("sources.nvidia-smi.extra-args");
    List<String> extra = args == null ? List.of() : List.of(args.trim().split("\\s+"));
    for (String a : extra) {
      if (a.startsWith("--query") || a.startsWith("--format") || a.startsWith("-l")) {
        throw ConfigException.bad(
            "sources.nvidia-smi.extra-args",
            "arguments other than --query-*, --format and -l/-lms (the source sets those)",
            a);
      }
    }
    String node = s.optional("sources.nvidia-smi.node");
    if (node != null && !NODE.matcher(node).matches()) {
      throw ConfigException.bad("sources.nvidia-smi.node", "a node name like gpu-node-01", node);
    }
    Duration backoff = AppConfig.positive(s, "sources.nvidia-smi.restart-backoff");
    Duration max = AppConfig.positive(s, "sources.nvidia-smi.max-restart-backoff");
    if (max.compareTo(backoff) < 0) {
      throw ConfigException.bad(
          "sources.nvidia-smi.max-restart-backoff",
          "at least sources.nvidia-smi.restart-backoff",
          s.raw("sources.nvidia-smi.max-restart-backoff"));
    }
    String model = s.optional("sources.nvidia-smi.model");
    if (model != null
        && (model.length() > 256 || model.chars().anyMatch(c -> c < 0x20 || c == 0x7f))) {
      throw ConfigException.bad(
          "sources.nvidia-smi.model", "an LLM name (1-256 printable characters)", model);
    }
    return new AppConfig.NvidiaSmi(
        s.string("sources.nvidia-smi.path"), interval, extra, node, model, backoff, max);
  }

  static AppConfig.LiteLlm liteLlm(Settings s) {
    List<String> from = s.list("sources.litellm.tenant-from");
    for (String f : from) {
      path("sources.litellm.tenant-from", f);
    }
    String fallback = s.optional("sources.litellm.default-tenant");
    if (fallback != null && !TENANT.matcher(fallback).matches()) {
      throw ConfigException.bad("sources.litellm.default-tenant", "a tenant name", fallback);
    }
    ZoneId zone;
    try {
      zone = ZoneId.of(s.string("sources.litellm.naive-timezone"));
    } catch (DateTimeException e) {
      throw ConfigException.bad(
          "sources.litellm.naive-timezone",
          "a time zone such as UTC or Europe/Paris",
          s.raw("sources.litellm.naive-timezone"));
    }
    Map<String, AppConfig.Deployment> deployments = new LinkedHashMap<>();
    String key = "sources.litellm.deployments";
    SourceSettings.pairs(s, key)
        .forEach(
            (base, where) -> {
              int slash = where.indexOf('/');
              String node = slash < 0 ? where : where.substring(0, slash);
              String gpu = slash < 0 ? null : where.substring(slash + 1);
              if (!NODE.matcher(node).matches() || (gpu != null && !GPU.matcher(gpu).matches())) {
                throw ConfigException.bad(
                    key, "API_BASE=NODE[/GPU_UUID] entries", base + "=" + where);
              }
              deployments.put(trimSlash(base), new AppConfig.Deployment(node, gpu));
            });
    return new AppConfig.LiteLlm(
        s.bool("sources.litellm.enabled"),
        from,
        fallback,
        zone,
        Collections.unmodifiableMap(deployments));
  }

  static AppConfig.CloudEvents cloudEvents(Settings s) {
    String p = "sources.cloudevents.";
    return new AppConfig.CloudEvents(
        path(p + "model-field", s.string(p + "model-field")),
        path(p + "provider-field", s.string(p + "provider-field")),
        path(p + "tokens-field", s.string(p + "tokens-field")),
        path(p + "type-field", s.string(p + "type-field")),
        s.list(p + "input-types"),
        s.list(p + "output-types"),
        path(p + "input-tokens-field", s.string(p + "input-tokens-field")),
        path(p + "output-tokens-field", s.string(p + "output-tokens-field")));
  }

  /** An api_base as the key it is looked up by: without its trailing slashes. */
  static String trimSlash(String base) {
    String b = base.trim();
    while (b.endsWith("/")) {
      b = b.substring(0, b.length() - 1);
    }
    return b;
  }

  private static String path(String key, String v) {
    if (!PATH.matcher(v).matches()) {
      throw ConfigException.bad(key, "dotted field paths such as metadata.user_api_key_team_id", v);
    }
    return v;
  }
}
