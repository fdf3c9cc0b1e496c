package io.gputelemetry.access;

import io.gputelemetry.config.ConfigException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The key file: one key a line, {@code ID:SHA256:SCOPES[:tenant=TENANT|:nodes=NODE,...]}, where
 * SHA256 is the hex SHA-256 of the key (the key itself is never stored) and SCOPES a
 * comma-separated list of {@link Scope} names. Blank lines and lines starting with {@code #} are
 * ignored. A bad line stops start-up with its line number and what is wrong; ids and keys must be
 * unique.
 */
public final class KeyFile {
  /** Key ids: they become the writer of stored samples, so no '/', '@' or ':'. */
  static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  /**
   * Ids no key may take: the writers of the producer's own sources (the simulator, the DCGM
   * scrapes, nvidia-smi), so that no key can write, or pre-empt, samples in their scope.
   */
  public static final Set<String> RESERVED_IDS = Set.of("simulator", "dcgm", "nvidia-smi");

  private static final Pattern HEX = Pattern.compile("[0-9a-fA-F]{64}");
  private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}");
  private static final Pattern NODE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,252}");

  /** The shortest key accepted: 16 characters (128 bits as 32 hex characters is better). */
  public static final int MIN_KEY_LENGTH = 16;

  private KeyFile() {}

  /** The keys of a file's lines; {@code source} names the file in errors. */
  public static List<ApiKey> parse(List<String> lines, String source) {
    List<ApiKey> keys = new ArrayList<>();
    Map<String, Integer> ids = new HashMap<>();
    Map<String, Integer> hashes = new HashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int n = i + 1;
      ApiKey k = parseLine(line, source, n);
      Integer before = ids.putIfAbsent(k.id(), n);
      if (before != null) {
        throw error(source, n, "duplicate id '" + k.id() + "' (first on line " + before + ")");
      }
      String hex = HexFormat.of().formatHex(k.sha256());
      before = hashes.putIfAbsent(hex, n);
      if (before != null) {
        throw error(source, n, "the same key as on line " + before + " (each key once)");
      }
      keys.add(k);
    }
    return keys;
  }

  private static ApiKey parseLine(String line, String source, int n) {
    int c1 = line.indexOf(':');
    int c2 = c1 < 0 ? -1 : line.indexOf(':', c1 + 1);
    if (c2 < 0) {
      throw error(
          source, n, "expected ID:SHA256:SCOPES[:tenant=NAME|:nodes=N1,N2] (fewer than 3 fields)");
    }
    String id = line.substring(0, c1);
    if (!ID.matcher(id).matches()) {
      throw error(
          source, n, "id '" + shorten(id) + "' must be 1-64 letters, digits, '.', '_' or '-'");
    }
    if (RESERVED_IDS.contains(id)) {
      throw error(
          source,
          n,
          "id '" + id + "' is reserved for the producer's own sources (" + RESERVED_IDS + ")");
    }
    String hash = line.substring(c1 + 1, c2);
    if (!HEX.matcher(hash).matches()) {
      throw error(
          source,
          n,
          "key '"
              + id
              + "': the second field must be the 64 hex digits of the key's SHA-256"
              + " (`keys hash` prints it), not the key");
    }
    String rest = line.substring(c2 + 1);
    String binding = null;
    int b = bindingStart(rest);
    if (b >= 0) {
      binding = rest.substring(b + 1);
      rest = rest.substring(0, b);
    }
    Set<Scope> scopes = EnumSet.noneOf(Scope.class);
    for (String s : rest.split(",", -1)) {
      Scope scope = Scope.of(s);
      if (scope == null) {
        throw error(
            source,
            n,
            "key '" + id + "': unknown scope '" + shorten(s) + "' (one of " + Scope.names() + ")");
      }
      scopes.add(scope);
    }
    String tenant = null;
    Set<String> nodes = new LinkedHashSet<>();
    if (binding != null) {
      if (binding.startsWith("tenant=")) {
        tenant = binding.substring(7);
        if (!TENANT.matcher(tenant).matches()) {
          throw error(
              source, n, "key '" + id + "': '" + shorten(tenant) + "' is not a tenant name");
        }
        if (scopes.contains(Scope.INGEST_GPU) || scopes.contains(Scope.METRICS)) {
          throw error(
              source,
              n,
              "key '"
                  + id
                  + "': a tenant binding applies to ingest:tokens and read only (ingest:gpu is"
                  + " bound with nodes=, and metrics carry every tenant)");
        }
      } else {
        for (String node : binding.substring(6).split(",", -1)) {
          if (!NODE.matcher(node).matches()) {
            throw error(source, n, "key '" + id + "': '" + shorten(node) + "' is not a node name");
          }
          nodes.add(node);
        }
        if (!scopes.equals(EnumSet.of(Scope.INGEST_GPU))) {
          throw error(
              source,
              n,
              "key '" + id + "': a nodes binding applies to a key of scope ingest:gpu alone");
        }
      }
    }
    return new ApiKey(id, HexFormat.of().parseHex(hash), scopes, tenant, nodes);
  }

  /** Where ":tenant=" or ":nodes=" starts (scope names hold ':' but never '='), or -1. */
  private static int bindingStart(String rest) {
    int t = rest.indexOf(":tenant=");
    int nd = rest.indexOf(":nodes=");
    if (t < 0) {
      return nd;
    }
    return nd < 0 ? t : Math.min(t, nd);
  }

  /**
   * The shorthand of the {@code ingest.api-keys} setting: {@code KEY} is an ingest key of both
   * streams (a gateway or agent), {@code KEY:TENANT} an ingest:tokens key bound to TENANT. The id
   * is {@code key-} and the first 12 hex digits of the key's SHA-256: stable across restarts and
   * reorderings, since it scopes the samples the key writes.
   */
  public static List<ApiKey> shorthand(Map<String, String> keys) {
    List<ApiKey> out = new ArrayList<>();
    keys.forEach(
        (key, tenant) -> {
          byte[] hash = sha256(key);
          String id = "key-" + HexFormat.of().formatHex(hash).substring(0, 12);
          out.add(
              tenant.isEmpty()
                  ? new ApiKey(
                      id, hash, EnumSet.of(Scope.INGEST_TOKENS, Scope.INGEST_GPU), null, Set.of())
                  : new ApiKey(id, hash, EnumSet.of(Scope.INGEST_TOKENS), tenant, Set.of()));
        });
    return out;
  }

  /** The file line of a key: what {@code keys hash} prints. Checked as the file is. */
  public static String line(String id, String key, String scopes, String binding) {
    if (key.length() < MIN_KEY_LENGTH) {
      throw new ConfigException(
          "the key must have at least "
              + MIN_KEY_LENGTH
              + " characters (got "
              + key.length()
              + ")");
    }
    String line =
        id
            + ":"
            + HexFormat.of().formatHex(sha256(key))
            + ":"
            + scopes
            + (binding == null ? "" : ":" + binding);
    parse(List.of(line), "the key");
    return line;
  }

  /** SHA-256 of a key's UTF-8 bytes. */
  public static byte[] sha256(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String shorten(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "…" : s;
  }

  private static ConfigException error(String source, int line, String what) {
    return new ConfigException(source + " line " + line + ": " + what);
  }
}
