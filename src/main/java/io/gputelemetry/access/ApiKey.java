package io.gputelemetry.access;

import java.util.Set;

/**
 * One configured key: its id (not secret: it names the writer of stored samples and appears in
 * logs), the SHA-256 of the key itself, its scopes and its binding. The key is never held.
 */
public final class ApiKey {
  private final String id;
  private final byte[] sha256;
  private final Principal principal;

  public ApiKey(String id, byte[] sha256, Set<Scope> scopes, String tenant, Set<String> nodes) {
    this.id = id;
    this.sha256 = sha256.clone();
    this.principal = new Principal(id, scopes, tenant, nodes);
  }

  public String id() {
    return id;
  }

  /** A copy of the key's SHA-256. */
  public byte[] sha256() {
    return sha256.clone();
  }

  /** Whether this is the key of that SHA-256, compared in constant time. */
  boolean matches(byte[] digest) {
    return java.security.MessageDigest.isEqual(digest, sha256);
  }

  /** The caller this key makes. */
  public Principal principal() {
    return principal;
  }

  /** Without the hash: what may appear in a log line. */
  @Override
  public String toString() {
    return id
        + " "
        + principal.scopes()
        + (principal.tenant() != null ? " tenant=" + principal.tenant() : "")
        + (principal.nodes().isEmpty() ? "" : " nodes=" + principal.nodes());
  }
}
