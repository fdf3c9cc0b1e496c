package io.gputelemetry.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The flat map of dotted settings: built-in defaults (conf/gpu-telemetry.properties), then a
 * --config file, then GPUTEL_* environment variables, then command-line overrides. Typed getters
 * fail with a message that names the key and the expected value.
 */
public final class Settings {
  public static final String DEFAULTS_RESOURCE = "conf/gpu-telemetry.properties";
  public static final String ENV_PREFIX = "GPUTEL_";

  /** Keys under these prefixes go to the Kafka clients as they are. */
  public static final List<String> PASSTHROUGH =
      List.of("kafka.client.", "kafka.producer.", "kafka.consumer.");

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  /**
   * Keys whose values are secrets: passwords, secrets, JAAS configurations, credentials, private
   * keys (ssl.keystore.key), API keys and tokens, connection strings (they may carry a password).
   */
  private static final Pattern SECRET =
      Pattern.compile(
          ".*(password|secret|jaas|credential|private|api-keys|connection-string).*"
              + "|.*(^|[.-])(key|keys|token|tokens)$");

  private final Map<String, String> values;

  private Settings(Map<String, String> values) {
    this.values = Collections.unmodifiableMap(new TreeMap<>(values));
  }

  /** Defaults only. */
  public static Settings defaults() {
    return new Settings(loadDefaults());
  }

  /** Defaults, file, environment and overrides, validated against the known keys. */
  public static Settings load(
      Path configFile, Map<String, String> env, Map<String, String> overrides) {
    Map<String, String> defaults = loadDefaults();
    Map<String, String> merged = new LinkedHashMap<>(defaults);
    if (configFile != null) {
      Properties p = new Properties();
      try (Reader r = Files.newBufferedReader(configFile, StandardCharsets.UTF_8)) {
        p.load(r);
      } catch (IOException e) {
        throw new ConfigException(
            "cannot read --config file " + configFile + ": " + e.getMessage());
      }
      for (String k : p.stringPropertyNames()) {
        checkKnown(defaults, k, "in " + configFile);
        merged.put(k, p.getProperty(k).trim());
      }
    }
    for (Map.Entry<String, String> e : env.entrySet()) {
      if (!e.getKey().startsWith(ENV_PREFIX)) {
        continue;
      }
      String key = keyForEnv(defaults, e.getKey());
      if (key == null) {
        throw new ConfigException(
            "unknown environment setting "
                + e.getKey()
                + ": no setting maps to it (see conf/gpu-telemetry.properties for the keys)");
      }
      merged.put(key, e.getValue().trim());
    }
    for (Map.Entry<String, String> e : overrides.entrySet()) {
      checkKnown(defaults, e.getKey(), "on the command line");
      merged.put(e.getKey(), e.getValue().trim());
    }
    return new Settings(merged);
  }

  /**
   * A copy with some keys replaced (used by the standalone role to point clients at embedded
   * services).
   */
  public Settings with(Map<String, String> replacements) {
    Map<String, String> m = new LinkedHashMap<>(values);
    m.putAll(replacements);
    return new Settings(m);
  }

  private static Map<String, String> loadDefaults() {
    Properties p = new Properties();
    try (InputStream in = Settings.class.getClassLoader().getResourceAsStream(DEFAULTS_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(DEFAULTS_RESOURCE + " missing from the classpath");
      }
      p.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    Map<String, String> m = new LinkedHashMap<>();
    for (String k : p.stringPropertyNames()) {
      m.put(k, p.getProperty(k).trim());
    }
    return m;
  }

  private static void checkKnown(Map<String, String> defaults, String key, String where) {
    if (!defaults.containsKey(key) && PASSTHROUGH.stream().noneMatch(key::startsWith)) {
      throw new ConfigException(
          "unknown setting '"
              + key
              + "' "
              + where
              + " (see conf/gpu-telemetry.properties for the keys)");
    }
  }

  /** The environment variable that overrides a key. */
  public static String envName(String key) {
    return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  private static String keyForEnv(Map<String, String> defaults, String envVar) {
    for (String k : defaults.keySet()) {
      if (envName(k).equals(envVar)) {
        return k;
      }
    }
    for (String prefix : PASSTHROUGH) {
      String envPrefix = envName(prefix);
      if (envVar.startsWith(envPrefix) && envVar.length() > envPrefix.length()) {
        return prefix
            + envVar.substring(envPrefix.length()).toLowerCase(Locale.ROOT).replace('_', '.');
      }
    }
    return null;
  }

  public String raw(String key) {
    String v = values.get(key);
    if (v == null) {
      throw new ConfigException("setting '" + key + "' is missing");
    }
    return v;
  }

  public String string(String key) {
    String v = raw(key);
    if (v.isEmpty()) {
      throw ConfigException.bad(key, "a non-empty value", v);
    }
    return v;
  }

  public String optional(String key) {
    String v = values.get(key);
    return v == null || v.isEmpty() ? null : v;
  }

  public int integer(String key, int min, int max) {
    String v = raw(key);
    try {
      int i = Integer.parseInt(v);
      if (i < min || i > max) {
        throw ConfigException.bad(key, "an integer from " + min + " to " + max, v);
      }
      return i;
    } catch (NumberFormatException e) {
      throw ConfigException.bad(key, "an integer from " + min + " to " + max, v);
    }
  }

  public Long optionalLong(String key, long min) {
    String v = optional(key);
    if (v == null) {
      return null;
    }
    try {
      long l = Long.parseLong(v);
      if (l < min) {
        throw ConfigException.bad(key, "an integer of at least " + min + " or empty", v);
      }
      return l;
    } catch (NumberFormatException e) {
      throw ConfigException.bad(key, "an integer of at least " + min + " or empty", v);
    }
  }

  public double number(String key, double min, double max) {
    String v = raw(key);
    try {
      double d = Double.parseDouble(v);
      if (!(d >= min && d <= max)) {
        throw ConfigException.bad(key, "a number from " + min + " to " + max, v);
      }
      return d;
    } catch (NumberFormatException e) {
      throw ConfigException.bad(key, "a number from " + min + " to " + max, v);
    }
  }

  public boolean bool(String key) {
    String v = raw(key).toLowerCase(Locale.ROOT);
    if (v.equals("true") || v.equals("false")) {
      return Boolean.parseBoolean(v);
    }
    throw ConfigException.bad(key, "true or false", raw(key));
  }

  public Duration duration(String key) {
    Duration d = optionalDuration(key);
    if (d == null) {
      throw ConfigException.bad(key, "a duration such as 500ms, 5s, 2m, 1h or 7d", "");
    }
    return d;
  }

  public Duration optionalDuration(String key) {
    String v = optional(key);
    if (v == null) {
      return null;
    }
    Duration d = parseDuration(v);
    if (d == null) {
      throw ConfigException.bad(key, "a duration such as 500ms, 5s, 2m, 1h or 7d", v);
    }
    return d;
  }

  /** Parses 500ms, 5s, 2m, 1h, 7d; null when malformed. */
  public static Duration parseDuration(String v) {
    Matcher m = DURATION.matcher(v.trim());
    if (!m.matches()) {
      return null;
    }
    try {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
    } catch (NumberFormatException | ArithmeticException e) {
      // More digits than a long holds, or more days than a Duration: not a duration we take.
      return null;
    }
  }

  public List<String> list(String key) {
    String v = string(key);
    List<String> out = new java.util.ArrayList<>();
    for (String s : v.split(",", -1)) {
      if (!s.isBlank()) {
        out.add(s.trim());
      }
    }
    if (out.isEmpty()) {
      throw ConfigException.bad(key, "a comma-separated list", v);
    }
    return List.copyOf(out);
  }

  public <E extends Enum<E>> E choice(String key, Class<E> type) {
    String v = raw(key);
    for (E e : type.getEnumConstants()) {
      if (e.name().equalsIgnoreCase(v)) {
        return e;
      }
    }
    StringBuilder sb = new StringBuilder("one of");
    for (E e : type.getEnumConstants()) {
      sb.append(' ').append(e.name().toLowerCase(Locale.ROOT));
    }
    throw ConfigException.bad(key, sb.toString(), v);
  }

  /** Keys under a prefix with the prefix removed (for client passthrough). */
  public Map<String, String> withPrefix(String prefix) {
    Map<String, String> out = new LinkedHashMap<>();
    values.forEach(
        (k, v) -> {
          if (k.startsWith(prefix) && !v.isEmpty()) {
            out.put(k.substring(prefix.length()), v);
          }
        });
    return out;
  }

  /** Secrets masked, for logs and --print-config. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    values.forEach(
        (k, v) ->
            sb.append(k)
                .append('=')
                .append(SECRET.matcher(k).matches() && !v.isEmpty() ? "****" : v)
                .append('\n'));
    return sb.toString();
  }
}
