package io.gputelemetry.access;

import io.gputelemetry.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The configured keys, and who a request's {@code Authorization} header makes its caller. With no
 * key configured every caller is {@link Principal#OPEN} (a laptop); otherwise a caller without a
 * key gets only the anonymous scopes, and a wrong key is refused.
 */
public final class KeyRing {
  /** Keys named in the start-up line; the rest are counted. */
  private static final int MAX_LISTED = 20;

  private final List<ApiKey> keys;
  private final Principal anonymous;

  public KeyRing(List<ApiKey> keys, Set<Scope> anonymousScopes) {
    this.keys = List.copyOf(keys);
    this.anonymous = Principal.anonymous(anonymousScopes);
    for (int i = 0; i < this.keys.size(); i++) {
      for (int j = i + 1; j < this.keys.size(); j++) {
        if (this.keys.get(i).id().equals(this.keys.get(j).id())) {
          throw new ConfigException(
              "API key id '"
                  + this.keys.get(i).id()
                  + "' is given twice (key file and ingest.api-keys)");
        }
        if (this.keys.get(i).matches(this.keys.get(j).sha256())) {
          throw new ConfigException(
              "API keys '"
                  + this.keys.get(i).id()
                  + "' and '"
                  + this.keys.get(j).id()
                  + "' are the same key (key file and ingest.api-keys)");
        }
      }
    }
  }

  /** The keys of a key file (null: none) and of the {@code ingest.api-keys} shorthand. */
  public static KeyRing load(Path file, Map<String, String> shorthand, Set<Scope> anonymous) {
    List<ApiKey> all = new ArrayList<>();
    if (file != null) {
      try {
        all.addAll(
            KeyFile.parse(Files.readAllLines(file, StandardCharsets.UTF_8), file.toString()));
      } catch (IOException e) {
        throw new ConfigException(
            "setting 'auth.keys-file': cannot read " + file + ": " + e.getMessage());
      }
    }
    all.addAll(KeyFile.shorthand(shorthand));
    return new KeyRing(all, anonymous);
  }

  /** No key configured: everything is open. */
  public boolean open() {
    return keys.isEmpty();
  }

  public List<ApiKey> keys() {
    return keys;
  }

  /**
   * The caller of a request with this {@code Authorization} header; null when a key was presented
   * that is not configured (or the header is not a bearer token).
   */
  public Principal authenticate(String authorization) {
    if (keys.isEmpty()) {
      return Principal.OPEN;
    }
    if (authorization == null || authorization.isBlank()) {
      return anonymous;
    }
    if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    byte[] given = KeyFile.sha256(authorization.substring(7).trim());
    ApiKey match = null;
    // Every key is compared, each in constant time, without stopping at a match.
    for (ApiKey k : keys) {
      if (k.matches(given)) {
        match = k;
      }
    }
    return match == null ? null : match.principal();
  }

  /** One line for the start-up log: how many keys of which scopes, never a key or a hash. */
  public String describe() {
    if (keys.isEmpty()) {
      return "no API keys configured: every route is open to anyone who can reach the port"
          + " (set auth.keys-file or ingest.api-keys; see docs/security.md)";
    }
    StringBuilder sb = new StringBuilder();
    sb.append(keys.size()).append(" API keys (");
    int shown = Math.min(keys.size(), MAX_LISTED);
    for (int i = 0; i < shown; i++) {
      sb.append(i == 0 ? "" : ", ").append(keys.get(i));
    }
    if (keys.size() > shown) {
      sb.append(", and ").append(keys.size() - shown).append(" more");
    }
    sb.append("); without a key: ")
        .append(anonymous.scopes().isEmpty() ? "open routes only" : anonymous.scopes());
    return sb.toString();
  }
}
