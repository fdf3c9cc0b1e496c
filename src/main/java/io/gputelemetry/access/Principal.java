package io.gputelemetry.access;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * Who is calling: the id of the key presented (null without one), its scopes and its binding. A key
 * is bound to a tenant (ingest:tokens, read) or to nodes (ingest:gpu), or to nothing.
 */
public record Principal(String id, Set<Scope> scopes, String tenant, Set<String> nodes) {

  /** Every scope, no binding: what any caller is when no key is configured. */
  public static final Principal OPEN =
      new Principal(null, Collections.unmodifiableSet(EnumSet.allOf(Scope.class)), null, Set.of());

  public Principal {
    scopes = scopes.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(scopes));
    nodes = Set.copyOf(nodes);
  }

  /** A caller without a key, given the anonymous scopes (often none). */
  static Principal anonymous(Set<Scope> scopes) {
    return new Principal(null, scopes, null, Set.of());
  }

  public boolean has(Scope s) {
    return scopes.contains(s);
  }

  /** Whether a key was presented (and matched). */
  public boolean identified() {
    return id != null;
  }

  /** Whether this caller may write samples of that node: unbound, or the node is one of its own. */
  public boolean mayWriteNode(String node) {
    return nodes.isEmpty() || nodes.contains(node);
  }
}
